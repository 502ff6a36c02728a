# SPDX-License-Identifier: BSD-2-Clause
"""Snapshots over the raw link (docs/machine.md "Snapshots", docs/channel.md
0x0201/0x0202): a bare-metal guest that ticks on timer interrupts in wfi,
with a RAM pattern and an FP register, is paused and saved; the state and
RAM go into a new VM, in the same machine and in a fresh one, and it ticks
on from where it was with its clock, RAM and registers intact. A state that
is truncated, corrupted or of another VM shape is refused with the reason,
and the VMs that run go on. The RAM travels through a shared view of QEMU's
RAM (a memory-backend file), as the machine daemon's does."""
import mmap
import os
import re
import struct

import pytest

from conftest import VIREO, guest
from link_client import (start_machine, stop_machine, LINK_VM_EXIT, OP_BLOB_ALLOC, OP_BLOB_FREE,
                         OP_BLOB_READ, OP_VM_CREATE, OP_VM_DESTROY, OP_VM_PAUSE, OP_VM_RAM,
                         OP_VM_RESTORE, OP_VM_RESUME, OP_VM_SNAPSHOT, OP_VM_START, VMC_START,
                         blob_upload, machine_info, vm_create_args)

EINVAL, ENOENT, EBUSY = -22, -2, -16
RAM_BASE = 0x80000000
MACHINE_MEM = 256 << 20
VM_MEM = 8 << 20


class Machine:
    """A machine-mode Vireo whose RAM this process maps too."""

    def __init__(self, tmp, name):
        self.log = str(tmp / (name + ".log"))
        self.ram_path = str(tmp / (name + ".ram"))
        with open(self.ram_path, "wb") as f:
            f.truncate(MACHINE_MEM)
        args = []
        for a in ("-object", "memory-backend-file,id=vireo-ram,size=%dM,mem-path=%s,share=on"
                  % (MACHINE_MEM >> 20, self.ram_path), "-machine", "memory-backend=vireo-ram"):
            args += ["--qemu-arg", a]
        self.link, self.proc = start_machine(VIREO, self.log, mem="%dM" % (MACHINE_MEM >> 20),
                                             extra_args=args)
        self.fd = os.open(self.ram_path, os.O_RDWR)
        self.ram = mmap.mmap(self.fd, MACHINE_MEM)
        self.kernel = blob_upload(self.link, open(guest("snap"), "rb").read())

    def close(self):
        stop_machine(self.link, self.proc)
        self.ram.close()
        os.close(self.fd)

    def req(self, op, args=b"", ok=True):
        r, d = self.link.request(op, args)
        if ok:
            assert r >= 0, (op, r, d)
        return r, d

    def create(self, name, memory=VM_MEM, flags=VMC_START, vcpus=1):
        r, _ = self.req(OP_VM_CREATE, vm_create_args(name, self.kernel, memory=memory,
                                                     flags=flags, vcpus=vcpus))
        return r

    def ram_runs(self, vm):
        r, d = self.req(OP_VM_RAM, struct.pack("<I", vm))
        return [struct.unpack("<QQQ", d[24 * i:24 * i + 24]) for i in range(r)]

    def read_ram(self, vm):
        out = bytearray()
        for _, hpa, size in self.ram_runs(vm):
            out += self.ram[hpa - RAM_BASE:hpa - RAM_BASE + size]
        return bytes(out)

    def write_ram(self, vm, data):
        off = 0
        for _, hpa, size in self.ram_runs(vm):
            self.ram[hpa - RAM_BASE:hpa - RAM_BASE + size] = data[off:off + size]
            off += size
        assert off == len(data)

    def snapshot(self, vm):
        """Pause vm, save its state and RAM, let it run on."""
        self.req(OP_VM_PAUSE, struct.pack("<I", vm))
        _, d = self.req(OP_VM_SNAPSHOT, struct.pack("<I", vm))
        blob, _, size = struct.unpack("<IIQ", d[:16])
        state = bytearray()
        while len(state) < size:
            n = min(4096, size - len(state))
            _, piece = self.req(OP_BLOB_READ, struct.pack("<IIQ", blob, n, len(state)))
            state += piece
        self.req(OP_BLOB_FREE, struct.pack("<I", blob))
        ram = self.read_ram(vm)
        self.req(OP_VM_RESUME, struct.pack("<I", vm))
        return bytes(state), ram

    def state_blob(self, state):
        _, d = self.req(OP_BLOB_ALLOC, struct.pack("<Q", len(state)))
        blob, _, hpa, _ = struct.unpack("<IIQQ", d[:24])
        self.ram[hpa - RAM_BASE:hpa - RAM_BASE + len(state)] = state
        return blob

    def restore(self, name, state, ram, memory=VM_MEM, vcpus=1):
        """A VM made from the state and RAM: (result of VM_START, its reason, its id)."""
        blob = self.state_blob(state)
        r, d = self.req(OP_VM_RESTORE, vm_create_args(name, blob, memory=memory, vcpus=vcpus),
                        ok=False)
        self.req(OP_BLOB_FREE, struct.pack("<I", blob))
        if r < 0:
            return r, d, None
        self.write_ram(r, ram)
        rs, d = self.req(OP_VM_START, struct.pack("<I", r), ok=False)
        return rs, d, r

    def ticks(self, name, after=0, timeout=30):
        """The tick lines of VM `name` once one past `after` is there."""
        pat = re.compile(r"\[?%s\]?[: ].*snap: tick (\d+) time (\S+) pattern (\S+) fp (\S+)"
                         % re.escape(name))
        data = ""
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = open(self.log, "rb").read().decode(errors="replace")
            found = [(int(m.group(1)), m.group(2), m.group(3), m.group(4))
                     for m in pat.finditer(data)]
            if found and found[-1][0] > after:
                return found
            time.sleep(0.1)
        raise AssertionError("VM %s: no tick past %d:\n%s" % (name, after, data[-3000:]))


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    m = Machine(tmp_path_factory.mktemp("snap"), "m1")
    yield m
    m.close()


@pytest.fixture(scope="module")
def saved(machine):
    """A ticking VM 'orig', and a snapshot of it taken after its 20th tick."""
    vm = machine.create("orig")
    machine.ticks("orig", after=19)
    state, ram = machine.snapshot(vm)
    taken = machine.ticks("orig")[-1][0]
    return vm, state, ram, taken


def test_restore_goes_on(machine, saved):
    _, state, ram, taken = saved
    r, d, _ = machine.restore("copy", state, ram)
    assert r == 0, d
    ticks = machine.ticks("copy", after=taken + 20)
    assert ticks[0][0] >= taken, ticks[:3]  # on from the snapshot, not from 0
    assert all(t[1:] == ("ok", "ok", "ok") for t in ticks), ticks
    # The original runs on beside its copy.
    assert machine.ticks("orig")[-1][0] > taken


def test_restore_two_vcpus(machine):
    """A second vCPU that never started stays stopped; the first goes on."""
    vm = machine.create("duo", vcpus=2)
    machine.ticks("duo", after=9)
    state, ram = machine.snapshot(vm)
    taken = machine.ticks("duo")[-1][0]
    machine.req(OP_VM_DESTROY, struct.pack("<Ii", vm, 0))
    r, d, _ = machine.restore("duo2", state, ram, vcpus=2)
    assert r == 0, d
    ticks = machine.ticks("duo2", after=taken + 10)
    assert all(t[1:] == ("ok", "ok", "ok") for t in ticks), ticks
    r, d, _ = machine.restore("solo", state, ram, vcpus=1)
    assert r == EINVAL and b"with 2 vCPUs" in d, d


def test_restore_in_a_fresh_machine(tmp_path, saved):
    _, state, ram, taken = saved
    other = Machine(tmp_path, "m2")
    try:
        r, d, _ = other.restore("moved", state, ram)
        assert r == 0, d
        ticks = other.ticks("moved", after=taken + 20)
        assert all(t[1:] == ("ok", "ok", "ok") for t in ticks), ticks
    finally:
        other.close()


@pytest.mark.parametrize("how, reason", [
    ("truncated", b"are left"),
    ("magic", b"not a Vireo VM state"),
    ("version", b"version"),
    ("section", b"section"),
    ("trailing", b"after the state's end"),
    ("vcpu_value", b"vcpu section does not hold up"),
])
def test_bad_state_refused(machine, saved, how, reason):
    _, state, ram, _ = saved
    bad = bytearray(state)
    if how == "truncated":
        bad = bad[:len(bad) // 2]
    elif how == "magic":
        bad[0] ^= 0xff
    elif how == "version":
        bad[8] = 99
    elif how == "section":
        bad[48] = 0x7f  # the first section's tag
    elif how == "trailing":
        bad += b"\0" * 8
    elif how == "vcpu_value":
        # The first vCPU section: tag, length, id, hsm state -> an HSM state that is none.
        at = state.index(struct.pack("<I", 2), 56)
        bad[at + 12:at + 16] = struct.pack("<I", 77)
    before = machine_info(machine.link)["vms"]
    r, d, vm = machine.restore("bad", bytes(bad), ram)
    assert r == EINVAL and reason in d, (r, d)
    # The VM it was to become is gone; the others tick on.
    _, _, p = machine.link.wait_for(lambda t, c, p: t == LINK_VM_EXIT and c == vm, 10)
    assert machine_info(machine.link)["vms"] == before
    last = machine.ticks("orig")[-1][0]
    machine.ticks("orig", after=last)


def test_state_of_another_shape_refused(machine, saved):
    _, state, ram, _ = saved
    r, d, _ = machine.restore("big", state, ram + bytes(VM_MEM), memory=2 * VM_MEM)
    assert r == EINVAL and b"this one has 1, 16 MiB" in d, d


def test_snapshot_refusals(machine, saved):
    vm = saved[0]
    r, d = machine.req(OP_VM_SNAPSHOT, struct.pack("<I", vm), ok=False)
    assert r == EBUSY and b"not paused" in d
    r, d = machine.req(OP_VM_SNAPSHOT, struct.pack("<I", 29), ok=False)
    assert r == ENOENT
    r, d = machine.req(OP_VM_RESTORE, vm_create_args("x", 999), ok=False)
    assert r == ENOENT and b"no blob" in d
    r, d = machine.req(OP_VM_RESTORE, vm_create_args("x", machine.kernel, flags=VMC_START),
                       ok=False)
    assert r == EINVAL and b"VM_START" in d
