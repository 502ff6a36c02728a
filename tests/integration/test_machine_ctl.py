# SPDX-License-Identifier: BSD-2-Clause
"""A long-lived machine over the raw link (docs/machine.md, docs/channel.md
"Control requests", 0x01xx): one boot with no VM, then VMs made from blobs,
started, listed, ended and made again; the machine stays up with none left;
bad requests are refused with their reasons; 1000 create/destroy cycles end
with the memory they started with."""
import struct
import time

import pytest

from conftest import VIREO, guest
from link_client import (start_machine, stop_machine, LINK_OPEN, LINK_VM_EXIT, OP_BLOB_ALLOC,
                         OP_BLOB_FREE, OP_BLOB_READ, OP_BLOB_WRITE, OP_MACHINE_INFO, OP_VM_CREATE,
                         OP_VM_DESTROY, OP_VM_LIST, OP_VM_RAM, OP_VM_START, VMC_START, blob_upload,
                         machine_info, vm_create_args, wait_console)

EINVAL, ENOENT, EFAULT, EBUSY, ENOMEM = -22, -2, -14, -16, -12


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    log = str(tmp_path_factory.mktemp("machine") / "console.log")
    link, proc = start_machine(VIREO, log)
    try:
        yield link, proc, log
    finally:
        stop_machine(link, proc)


def vm_exit(link, vm, timeout=30):
    _, _, p = link.wait_for(lambda t, c, p: t == LINK_VM_EXIT and c == vm, timeout)
    return struct.unpack("<i", p[:4])[0]


def vm_ids(link):
    r, d = link.request(OP_VM_LIST)
    assert r >= 0
    return [struct.unpack("<I", d[56 * i:56 * i + 4])[0] for i in range(r)]


def test_machine_info(machine):
    link, _, _ = machine
    info = machine_info(link)
    assert info["version"] == 1 and info["flags"] & 1
    assert info["ram_base"] == 0x80000000 and info["ram_bytes"] > 500 << 20
    assert 0 < info["limit"] < info["free"] <= info["ram_bytes"]
    assert info["vms"] == 0 and info["max_vms"] == 31


def test_blobs(machine):
    link, _, _ = machine
    blob = blob_upload(link, bytes(range(256)) * 10)
    r, d = link.request(OP_BLOB_READ, struct.pack("<IIQ", blob, 16, 250))
    assert r == 0 and d == bytes(range(250, 256)) + bytes(range(10))
    # Past the end, an unknown blob, nothing asked for: refused, nothing changed.
    assert link.request(OP_BLOB_READ, struct.pack("<IIQ", blob, 16, 2550))[0] == EFAULT
    assert link.request(OP_BLOB_WRITE, struct.pack("<IIQ", blob, 1, 2560) + b"x")[0] == EFAULT
    assert link.request(OP_BLOB_READ, struct.pack("<IIQ", 99, 1, 0))[0] == ENOENT
    assert link.request(OP_BLOB_WRITE, struct.pack("<IIQ", blob, 2, 0) + b"x")[0] == EINVAL
    r, d = link.request(OP_BLOB_ALLOC, struct.pack("<Q", 0))
    assert r == EINVAL and b"blob" in d
    r, d = link.request(OP_BLOB_ALLOC, struct.pack("<Q", 1 << 40))
    assert r == EINVAL
    assert link.request(OP_BLOB_FREE, struct.pack("<I", blob))[0] == 0
    assert link.request(OP_BLOB_FREE, struct.pack("<I", blob))[0] == ENOENT


def test_vm_runs_and_machine_stays(machine):
    link, proc, log = machine
    kernel = blob_upload(link, open(guest("hello"), "rb").read())
    r, d = link.request(OP_VM_CREATE, vm_create_args("hi-1", kernel, flags=VMC_START))
    assert r > 0, d
    assert vm_exit(link, r) == 0
    wait_console(log, "GUEST hello DONE")
    # No VM left, and the machine is still there.
    assert proc.poll() is None
    assert machine_info(link)["vms"] == 0
    # Made, not started: listed as created; then started.
    r2, d = link.request(OP_VM_CREATE, vm_create_args("hi-2", kernel))
    assert r2 > 0 and r2 != r, d
    r, d = link.request(OP_VM_LIST)
    assert r == 1 and struct.unpack("<II", d[:8]) == (r2, 0)
    assert link.request(OP_VM_START, struct.pack("<I", r2))[0] == 0
    assert vm_exit(link, r2) == 0
    assert link.request(OP_VM_START, struct.pack("<I", r2))[0] == ENOENT
    assert link.request(OP_BLOB_FREE, struct.pack("<I", kernel))[0] == 0


def test_bad_creates(machine):
    link, _, _ = machine
    kernel = blob_upload(link, open(guest("hello"), "rb").read())
    cases = [
        (vm_create_args("", kernel), b"name"),
        (vm_create_args("x" * 32, kernel), b"name"),
        (vm_create_args("v", kernel, vcpus=0), b"vCPUs"),
        (vm_create_args("v", kernel, vcpus=17), b"vCPUs"),
        (vm_create_args("v", kernel, memory=3 << 20), b"RAM"),
        (vm_create_args("v", kernel, memory=(32 << 20) + 4096), b"RAM"),
        (vm_create_args("v", kernel, flags=1 << 20), b"flags"),
        (vm_create_args("v", 63), b"blob"),
        (vm_create_args("v", kernel, initrd_blob=63), b"blob"),
        (vm_create_args("v", kernel, bootargs=b"a\0b"), b"NUL"),
        (vm_create_args("v", kernel)[:-1], b"bytes"),
        (vm_create_args("v", kernel, from_vm=1), b"VM_FORK"),
        (vm_create_args("v", kernel, memory=4 << 30), b"does not fit"),
    ]
    for args, why in cases:
        r, d = link.request(OP_VM_CREATE, args)
        assert r < 0 and why in d, (r, d, why)
    assert machine_info(link)["vms"] == 0
    assert link.request(OP_BLOB_FREE, struct.pack("<I", kernel))[0] == 0


def test_ids_and_ram(machine):
    link, _, log = machine
    kernel = blob_upload(link, open(guest("ctl"), "rb").read())
    ids = []
    for i in range(3):
        r, d = link.request(OP_VM_CREATE, vm_create_args("spin-%d" % i, kernel, flags=VMC_START))
        assert r > 0, d
        ids.append(r)
    assert len(set(ids)) == 3 and sorted(vm_ids(link)) == sorted(ids)
    r, d = link.request(OP_VM_RAM, struct.pack("<I", ids[0]))
    assert r >= 1
    gpa, hpa, size = struct.unpack("<QQQ", d[:24])
    assert gpa == 0x80000000 and hpa >= 0x80000000 and size == 32 << 20
    for vm in ids:
        assert link.request(OP_VM_DESTROY, struct.pack("<Ii", vm, 9))[0] == 0
    assert sorted(vm_exit(link, vm) for vm in ids) == [9, 9, 9]
    assert vm_ids(link) == []
    assert link.request(OP_VM_DESTROY, struct.pack("<Ii", ids[0], 9))[0] == ENOENT
    assert link.request(OP_BLOB_FREE, struct.pack("<I", kernel))[0] == 0


def test_create_destroy_leaves_nothing(machine):
    """1000 cycles of a VM made, started (for some) and ended: memory, blobs and ids
    all come back. (Vireo's heap keeps the pages it grew by: a few cycles first let it
    reach the size that one VM at a time needs.)"""
    link, _, _ = machine

    def cycles(n, kernel):
        for i in range(n):
            flags = VMC_START if i % 2 else 0
            r, d = link.request(OP_VM_CREATE, vm_create_args("cycle", kernel, flags=flags))
            assert r > 0, (i, d)
            assert link.request(OP_VM_DESTROY, struct.pack("<Ii", r, 0))[0] == 0
            vm_exit(link, r)

    kernel = blob_upload(link, open(guest("ctl"), "rb").read())
    cycles(4, kernel)
    before = machine_info(link)
    t0 = time.monotonic()
    cycles(1000, kernel)
    took = time.monotonic() - t0
    after = machine_info(link)
    assert link.request(OP_BLOB_FREE, struct.pack("<I", kernel))[0] == 0
    print("1000 create/destroy cycles: %.1f s" % took)
    assert after["free"] == before["free"]
    assert after["committed"] == before["committed"]
    assert after["blobs"] == before["blobs"] == 1 and after["vms"] == 0
    assert machine_info(link)["blobs"] == 0
