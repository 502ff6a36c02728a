# SPDX-License-Identifier: BSD-2-Clause
"""The control plane over the host link (docs/channel.md, "Control requests"):
one boot, two VMs of the ctl guest; VM 1 is paused, inspected, changed and
resumed while VM 2 runs on; bad requests get their errors; VM 2 is stopped."""
import os
import re
import struct
import time

import pytest

from conftest import BUILD, VIREO, guest
from link_client import (LINK_EVENT, LINK_VM_EXIT, OP_GET_REGS, OP_VM_CATCH, OP_INFO, OP_MEM_READ, OP_MEM_WRITE,
                         OP_SET_REGS, OP_VM_LIST, OP_VM_PAUSE, OP_VM_RESUME, OP_VM_STOP, Link,
                         pack_regs, spawn_vireo, unpack_regs, wait_console)

MAGIC = 0x5eed0ff1ce5eed00
EINVAL, ENOENT, EFAULT, EBUSY, ENOSYS = -22, -2, -14, -16, -38
VM_RUNNING, VM_PAUSED = 1, 2


def vm_args(vm):
    return struct.pack("<I", vm)


def regs_of(link, vm, vcpu=0):
    r, data = link.request(OP_GET_REGS, struct.pack("<II", vm, vcpu))
    assert r == 0, r
    return unpack_regs(data)


CATCH_FAULT, CATCH_BREAKPOINT = 1, 2


def caught(link, vm):
    """The next CTL_EVENT_CAUGHT of the VM (it is paused)."""
    _, _, p = link.wait_for(lambda t, c, p: t == LINK_EVENT and
                            struct.unpack("<HHI", p[:8]) == (1, 0, vm))
    names = ("vcpu", "why", "cause", "pc", "tval", "gpa", "insn", "kind")
    return dict(zip(names, struct.unpack("<IIQQQQII", p[8:56])))


def step_over(link, vm, pc, **set_regs):
    """Wait until the caught VM is parked, move its vCPU 0 past the 4-byte
    instruction at pc and set registers; the new registers."""
    assert link.request(OP_VM_PAUSE, vm_args(vm))[0] == 0
    regs = regs_of(link, vm)
    assert regs["x0"] == pc
    regs["x0"] = pc + 4
    for name, value in set_regs.items():
        regs["x%d" % {"a5": 15}[name]] = value
    assert link.request(OP_SET_REGS, struct.pack("<II", vm, 0) + pack_regs(regs))[0] == 0
    return regs


def vm_list(link):
    r, data = link.request(OP_VM_LIST)
    assert r == len(data) // 56, (r, len(data))
    out = {}
    for i in range(r):
        vid, state, vcpus, _, ram, name = struct.unpack("<IIIIQ32s", data[56 * i:56 * (i + 1)])
        out[vid] = (state, vcpus, ram, name.rstrip(b"\0").decode())
    return out


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    log = str(tmp_path_factory.mktemp("ctl") / "console.log")
    link = Link()
    vms = ["name=ctl-a,kernel=%s,memory=32M" % guest("ctl"),
           "name=ctl-b,kernel=%s,memory=32M" % guest("ctl")]
    proc = spawn_vireo(VIREO, link, vms, log=log)
    try:
        link.hello()
        wait_console(log, "[ctl-a] ctl: mailbox at")
        text = wait_console(log, "[ctl-b] ctl: mailbox at")
        yield link, proc, log, text
    finally:
        link.close()
        try:
            proc.wait(30)
        except Exception:
            proc.kill()
            proc.wait()


def mailbox_of(text, vm_name):
    m = re.search(r"\[%s\] ctl: mailbox at (0x[0-9a-f]+), spinning" % vm_name, text)
    assert m, text[-2000:]
    return int(m.group(1), 16)


def test_ctl_whole_story(machine):
    link, proc, log, text = machine
    box = mailbox_of(text, "ctl-a")

    r, info = link.request(OP_INFO)
    assert r == 0
    version, harts, vms, max_vcpus, free, total = struct.unpack("<IIIIQQ", info)
    assert (version, harts, vms) == (1, 2, 2)
    assert 0 < free < total and max_vcpus >= 1

    listed = vm_list(link)
    assert listed[1][0] == VM_RUNNING and listed[1][3] == "ctl-a"
    assert listed[2][0] == VM_RUNNING and listed[2][3] == "ctl-b"
    assert listed[1][2] == 32 << 20

    # Registers only of a paused VM.
    assert link.request(OP_GET_REGS, struct.pack("<II", 1, 0))[0] == EBUSY

    assert link.request(OP_VM_PAUSE, vm_args(1))[0] == 0
    assert vm_list(link)[1][0] == VM_PAUSED
    regs = regs_of(link, 1)
    assert regs["x27"] == MAGIC
    assert regs["priv"] == 1 and 0x80000000 <= regs["x0"] < 0x80000000 + (32 << 20)
    turns = regs["x25"]
    assert regs_of(link, 1)["x25"] == turns, "a paused vCPU ran"

    # VM 2 runs on while VM 1 is paused.
    assert link.request(OP_VM_PAUSE, vm_args(2))[0] == 0
    before = regs_of(link, 2)["x25"]
    assert link.request(OP_VM_RESUME, vm_args(2))[0] == 0
    time.sleep(0.5)
    assert link.request(OP_VM_PAUSE, vm_args(2))[0] == 0
    assert regs_of(link, 2)["x25"] > before
    assert regs_of(link, 1)["x25"] == turns
    assert link.request(OP_VM_RESUME, vm_args(2))[0] == 0

    # Memory by guest-physical address.
    r, data = link.request(OP_MEM_READ, struct.pack("<IIQ", 1, 8, box))
    assert (r, data) == (0, bytes(8))
    regs["x26"] = 0x1234
    assert link.request(OP_SET_REGS, struct.pack("<II", 1, 0) + pack_regs(regs))[0] == 0
    assert regs_of(link, 1)["x26"] == 0x1234
    assert link.request(OP_MEM_WRITE, struct.pack("<IIQ", 1, 8, box) + struct.pack("<Q", 1))[0] == 0
    r, data = link.request(OP_MEM_READ, struct.pack("<IIQ", 1, 8, box))
    assert (r, data) == (0, struct.pack("<Q", 1))

    # Catch its breakpoint and its wild load; move it past each, give the load a value.
    assert link.request(OP_VM_CATCH, struct.pack("<II", 1, CATCH_FAULT | CATCH_BREAKPOINT))[0] == 0
    assert link.request(OP_VM_RESUME, vm_args(1))[0] == 0
    ev = caught(link, 1)
    assert ev["why"] == CATCH_BREAKPOINT and ev["vcpu"] == 0 and ev["cause"] == 3
    assert link.request(OP_MEM_READ, struct.pack("<IIQ", 1, 4, ev["pc"])) == \
        (0, struct.pack("<I", 0x00100073))  # ebreak
    regs = step_over(link, 1, ev["pc"])
    assert link.request(OP_VM_RESUME, vm_args(1))[0] == 0
    ev = caught(link, 1)
    assert ev["why"] == CATCH_FAULT and ev["gpa"] == 0x40000000 and ev["cause"] == 21  # load guest-page fault
    assert ev["pc"] > regs["x0"]
    step_over(link, 1, ev["pc"], a5=0xfeed)
    assert link.request(OP_VM_RESUME, vm_args(1))[0] == 0
    _, _, p = link.wait_for(lambda t, c, p: t == LINK_VM_EXIT and c == 1)
    assert struct.unpack("<i", p[:4])[0] == 0
    out = wait_console(log, "ctl: loaded")
    assert "[ctl-a] ctl: mailbox 0x1, s10 0x1234" in out
    assert "[ctl-a] ctl: past the breakpoint" in out and "[ctl-a] ctl: loaded 0xfeed" in out
    assert 1 not in vm_list(link)


def test_ctl_bad_requests(machine):
    link, proc, log, text = machine
    assert link.request(0x7777)[0] == ENOSYS
    assert link.request(OP_INFO, flags=1)[0] == EINVAL
    assert link.request(OP_VM_PAUSE, b"\1\0")[0] == EINVAL
    assert link.request(OP_VM_PAUSE, vm_args(9))[0] == ENOENT
    assert link.request(OP_MEM_READ, struct.pack("<IIQ", 2, 0, 0x80000000))[0] == EINVAL
    assert link.request(OP_MEM_READ, struct.pack("<IIQ", 2, 4097, 0x80000000))[0] == EINVAL
    assert link.request(OP_MEM_READ, struct.pack("<IIQ", 2, 8, 0x10000000))[0] == EFAULT
    assert link.request(OP_MEM_READ, struct.pack("<IIQ", 2, 16, 0x80000000 + (32 << 20) - 8))[0] == EFAULT
    assert link.request(OP_MEM_READ, struct.pack("<IIQ", 2, 8, 2**64 - 4))[0] == EFAULT
    assert link.request(OP_MEM_WRITE, struct.pack("<IIQ", 2, 9, 0x80000000) + bytes(8))[0] == EINVAL
    assert link.request(OP_VM_PAUSE, vm_args(2))[0] == 0
    assert link.request(OP_GET_REGS, struct.pack("<II", 2, 1))[0] == ENOENT
    assert link.request(OP_SET_REGS, struct.pack("<II", 2, 0) + bytes(10))[0] == EINVAL
    assert link.request(OP_VM_RESUME, vm_args(2))[0] == 0


def test_ctl_stop(machine):
    link, proc, log, text = machine
    assert link.request(OP_VM_STOP, struct.pack("<Ii", 2, 7))[0] == 0
    _, _, p = link.wait_for(lambda t, c, p: t == LINK_VM_EXIT and c == 2)
    assert struct.unpack("<i", p[:4])[0] == 7
    assert proc.wait(30) == 7
