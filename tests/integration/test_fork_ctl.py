# SPDX-License-Identifier: BSD-2-Clause
"""Forks over the raw link (docs/channel.md, VM_FORK 0x0203; hv/core/vm_cow.c): a
bare-metal guest fills RAM with a pattern and loops; paused, it is forked twice.
Each fork runs on from the loop; a store in one fork (the guest's, or the host's
MEM_WRITE) is seen neither by its sibling nor by the template; the template's RAM
can no longer be written; a fork that copies more than its memory limit stops with
status 4 while the other goes on; and once template and forks are gone the
machine's free memory is back where it was."""
import struct
import time

import pytest

from conftest import VIREO, guest
from link_client import (start_machine, stop_machine, OP_VM_FORK, OP_VM_SNAPSHOT,
                         OP_BLOB_READ, LINK_VM_EXIT, OP_BLOB_FREE,
                         OP_MEM_READ, OP_MEM_WRITE, OP_VM_CREATE, OP_VM_DESTROY, OP_VM_PAUSE,
                         OP_VM_RESUME, VMC_START, blob_upload, machine_info, vm_create_args,
                         wait_console)

EINVAL, EFAULT, EBUSY = -22, -14, -16
VM_STATUS_MEMORY = 4

# The cow guest's fixed addresses (guests/tests/cow.c).
BOX, PATTERN, SCRATCH = 0x80380000, 0x80400000, 0x80800000
MARK = 0xc0ffee00c0ffee00
CMD_MARK, CMD_FILL = 1, 2
FORK_LIMIT = 4 << 20  # fork B's limit: less than the 16 MiB its fill command touches


def pattern(i):
    return (0x9e3779b97f4a7c15 * (i + 1)) & (2**64 - 1)


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    log = str(tmp_path_factory.mktemp("fork") / "console.log")
    link, proc = start_machine(VIREO, log)
    try:
        yield link, proc, log
    finally:
        stop_machine(link, proc)


def read64(link, vm, gpa):
    r, d = link.request(OP_MEM_READ, struct.pack("<IIQ", vm, 8, gpa))
    assert r == 0, (vm, hex(gpa), r, d)
    return struct.unpack("<Q", d[:8])[0]


def write64(link, vm, gpa, value):
    return link.request(OP_MEM_WRITE, struct.pack("<IIQ", vm, 8, gpa) + struct.pack("<Q", value))[0]


def vm_exit(link, vm, timeout=30):
    _, _, p = link.wait_for(lambda t, c, p: t == LINK_VM_EXIT and c == vm, timeout)
    return struct.unpack("<i", p[:4])[0]


def wait_until(what, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.02)
    return False


def runs_on(link, vm):
    """Its loop turns (the counter in the mailbox grows)."""
    first = read64(link, vm, BOX + 8)
    return wait_until(lambda: read64(link, vm, BOX + 8) > first)


def fork(link, tmpl, name, mem_limit=0, harts=0):
    r, d = link.request(OP_VM_FORK, vm_create_args(name, 0, flags=VMC_START, mem_limit=mem_limit,
                                                   harts=harts, from_vm=tmpl))
    assert r > 0, (r, d)
    return r


def command(link, vm, cmd):
    assert write64(link, vm, BOX, cmd) == 0
    assert wait_until(lambda: read64(link, vm, BOX + 16) == cmd), "fork %d did not do %d" % (vm, cmd)


def template(link, log, kernel, name):
    r, d = link.request(OP_VM_CREATE, vm_create_args(name, kernel, flags=VMC_START))
    assert r > 0, d
    assert wait_until(lambda: read64(link, r, BOX + 8) > 0, 30)
    assert link.request(OP_VM_PAUSE, struct.pack("<I", r))[0] == 0
    return r


def scenario(link, log, kernel, tag):
    """Template, two forks, isolation and the limit; everything ended at the end."""
    tmpl = template(link, log, kernel, "tmpl" + tag)
    for i in (0, 1, 4095, 131071):
        assert read64(link, tmpl, PATTERN + 8 * i) == pattern(i)
    turns = read64(link, tmpl, BOX + 8)
    # One fork on each hart: the control plane's writes reach a vCPU on the other one.
    a = fork(link, tmpl, "fork-a" + tag, harts=1)
    b = fork(link, tmpl, "fork-b" + tag, mem_limit=FORK_LIMIT, harts=2)
    # Both run on from where the template was; the template does not.
    assert runs_on(link, a) and runs_on(link, b)
    assert read64(link, a, BOX + 8) > turns and read64(link, b, BOX + 8) > turns
    assert read64(link, tmpl, BOX + 8) == turns
    # The template was forked: it cannot run or be written any more.
    assert write64(link, tmpl, PATTERN, 1) == EFAULT
    assert link.request(OP_VM_RESUME, struct.pack("<I", tmpl))[0] < 0
    # A's guest marks the pattern: only A sees it.
    command(link, a, CMD_MARK)
    assert read64(link, a, PATTERN) == MARK
    assert read64(link, b, PATTERN) == pattern(0)
    assert read64(link, tmpl, PATTERN) == pattern(0)
    # The host writes a page B shares (a device's write): only B sees it.
    assert write64(link, b, PATTERN + 8 * 4096, 0x5eed) == 0
    assert read64(link, b, PATTERN + 8 * 4096) == 0x5eed
    assert read64(link, a, PATTERN + 8 * 4096) == pattern(4096)
    assert read64(link, tmpl, PATTERN + 8 * 4096) == pattern(4096)
    # B copies more than its limit: it stops, alone.
    assert write64(link, b, BOX, CMD_FILL) == 0
    assert vm_exit(link, b) == VM_STATUS_MEMORY
    assert runs_on(link, a)
    assert read64(link, a, PATTERN) == MARK and read64(link, a, SCRATCH) == 0
    assert read64(link, tmpl, SCRATCH) == 0
    for i in (1, 4097, 131071):
        assert read64(link, a, PATTERN + 8 * i) == pattern(i)
    # The template goes first; A still reads the RAM they shared.
    assert link.request(OP_VM_DESTROY, struct.pack("<Ii", tmpl, 0))[0] == 0
    assert vm_exit(link, tmpl) == 0
    assert runs_on(link, a) and read64(link, a, PATTERN + 8 * 7) == pattern(7)
    assert link.request(OP_VM_DESTROY, struct.pack("<Ii", a, 0))[0] == 0
    assert vm_exit(link, a) == 0


def settled(link):
    """Machine info once the last VM's memory has gone back (a VM's LINK_VM_EXIT comes
    before it is freed): the same twice, 50 ms apart."""
    last = machine_info(link)
    for _ in range(100):
        time.sleep(0.05)
        now = machine_info(link)
        if now == last:
            return now
        last = now
    return last


def state_of(link, vm):
    """The VM's state (VM_SNAPSHOT), read back and its blob freed."""
    r, d = link.request(OP_VM_SNAPSHOT, struct.pack("<I", vm))
    assert r == 0, d
    blob, _, size = struct.unpack("<IIQ", d[:16])
    out = b""
    while len(out) < size:
        r, piece = link.request(OP_BLOB_READ, struct.pack("<IIQ", blob, min(4096, size - len(out)),
                                                          len(out)))
        assert r == 0
        out += piece
    assert link.request(OP_BLOB_FREE, struct.pack("<I", blob))[0] == 0
    return out


def test_fork(machine):
    link, _, log = machine
    kernel = blob_upload(link, open(guest("cow"), "rb").read())
    # The first rounds let Vireo's heap grow to what it needs (it keeps those pages), and
    # what a fresh machine sets up the first time settle.
    scenario(link, log, kernel, "1")
    scenario(link, log, kernel, "2")
    before = settled(link)
    t0 = time.monotonic()
    scenario(link, log, kernel, "3")
    print("template, two forks, limit and teardown: %.1f s" % (time.monotonic() - t0))
    after = settled(link)
    assert after["vms"] == 0
    assert after["free"] == before["free"], (before, after)
    assert after["committed"] == before["committed"]
    assert link.request(OP_BLOB_FREE, struct.pack("<I", kernel))[0] == 0
    wait_console(log, "copy-on-write:")


def test_cannot_fork(machine):
    link, _, log = machine
    kernel = blob_upload(link, open(guest("cow"), "rb").read())
    r, d = link.request(OP_VM_CREATE, vm_create_args("running", kernel, flags=VMC_START))
    assert r > 0, d
    # Not paused: busy. A fork of a fork: refused.
    rr, d = link.request(OP_VM_FORK, vm_create_args("f", 0, from_vm=r))
    assert rr == EBUSY, (rr, d)
    assert link.request(OP_VM_PAUSE, struct.pack("<I", r))[0] == 0
    before = state_of(link, r)
    f = fork(link, r, "f")
    # The template's devices stop at its first fork; its state is kept as it was (but the
    # header's clock, which says when it was saved).
    after = state_of(link, r)
    assert after[:32] + after[40:] == before[:32] + before[40:]
    assert struct.unpack("<Q", after[32:40]) > struct.unpack("<Q", before[32:40])
    assert link.request(OP_VM_PAUSE, struct.pack("<I", f))[0] == 0
    rr, d = link.request(OP_VM_FORK, vm_create_args("ff", 0, from_vm=f))
    assert rr == EINVAL and b"'f' is itself a fork" in d, (rr, d)
    # Limits the machine's accounts could not hold, or too small for the fork's own state.
    for limit, why in ((1 << 64) - 1, b"at most 64 GiB"), (4096, b"below the least"):
        rr, d = link.request(OP_VM_FORK, vm_create_args("fl", 0, from_vm=r, mem_limit=limit))
        assert rr == EINVAL and why in d, (limit, rr, d)
    for vm in (f, r):
        assert link.request(OP_VM_DESTROY, struct.pack("<Ii", vm, 0))[0] == 0
        assert vm_exit(link, vm) == 0
    assert link.request(OP_BLOB_FREE, struct.pack("<I", kernel))[0] == 0
