# SPDX-License-Identifier: BSD-2-Clause
"""Sandboxes on the wire (docs/sandbox.md, vireo/ctl_sandbox.h): one boot,
two sandboxes of the sbtest program on two harts and the same program in an
ordinary VM. Calls, host calls, every kind of catch and what a handler may
do about it, the time budget, reset, lazily mapped memory, isolation, and
the errors of ops in the wrong state."""
import struct
import subprocess
import time

import pytest

from conftest import BUILD, VIREO
from link_client import LINK_EVENT, LINK_VM_EXIT, OP_MEM_READ, OP_VM_STOP, Link, spawn_vireo, \
    wait_console

PROGRAM = BUILD + "/sandbox/sbtest.elf"
OPEN, CALL, ANSWER, CONTINUE, RESET, MAP, READ, WRITE = range(0x401, 0x409)
EV_READY, EV_RETURN, EV_HOSTCALL, EV_CAUGHT, EV_EXIT = range(0x401, 0x406)
FAULT, BREAKPOINT, ILLEGAL, TIMEOUT = 1, 2, 4, 8
EINVAL, ENOENT, EFAULT, EBUSY, EEXIST = -22, -2, -14, -16, -17
RAM = 0x80000000
EXTRA = 0x40000000
IDLE, RUNNING, HOSTCALL, CAUGHT = 1, 2, 3, 4


def symbols():
    out = subprocess.run(["riscv64-linux-gnu-nm", PROGRAM], capture_output=True, text=True,
                         check=True).stdout
    return {name: int(addr, 16) for addr, _, name in (l.split() for l in out.splitlines())}


class Sandbox:
    """One sandbox VM on the link, driven by hand."""

    def __init__(self, link, vm, syms):
        self.link, self.vm, self.syms = link, vm, syms

    def event(self, timeout=30):
        _, _, p = self.link.wait_for(
            lambda t, c, p: t == LINK_EVENT and struct.unpack("<I", p[4:8])[0] == self.vm,
            timeout)
        return struct.unpack("<H", p[:2])[0], p[8:]

    def request(self, op, fmt, *args, data=b""):
        return self.link.request(op, struct.pack(fmt, self.vm, *args) + data)

    def call(self, fn, *args, budget_us=0, reset=False):
        a = list(args) + [0] * (6 - len(args))
        r, _ = self.request(CALL, "<IIQQ6Q", 1 if reset else 0, self.syms[fn], budget_us, *a)
        assert r == 0, r
        return self.event()

    def result(self, ev):
        kind, data = ev
        assert kind == EV_RETURN, (hex(kind), data[:48].hex())
        return struct.unpack("<q", data[:8])[0]

    def caught(self, ev):
        kind, data = ev
        assert kind == EV_CAUGHT, hex(kind)
        why, insn, cause, pc, tval, gpa = struct.unpack("<IIQQQQ", data[:40])
        regs = struct.unpack("<32Q", data[40:296])
        return dict(why=why, insn=insn, cause=cause, pc=pc, tval=tval, gpa=gpa, x=regs)

    def answer(self, value, error=0):
        r, _ = self.request(ANSWER, "<IIqQ", 0, error, value)
        assert r == 0, r
        return self.event()

    def cont(self, pc=None, regs=None, budget_us=None):
        flags = (1 if pc is not None else 0) | (2 if regs is not None else 0) | \
            (4 if budget_us is not None else 0)
        extra = struct.pack("<31Q", *regs[1:]) if regs is not None else b""
        r, _ = self.request(CONTINUE, "<IIQQ", flags, pc or 0, budget_us or 0, data=extra)
        assert r == 0, r
        return self.event()

    def reset(self, full=False):
        r, data = self.request(RESET, "<II", 1 if full else 0)
        assert r >= 0, r
        return struct.unpack("<II", data)

    def write(self, gpa, data):
        return self.request(WRITE, "<IIQ", len(data), gpa, data=data)[0]

    def read(self, gpa, n):
        return self.request(READ, "<IIQ", n, gpa)


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    log = str(tmp_path_factory.mktemp("sandbox") / "console.log")
    link = Link()
    vms = ["name=sb1,kernel=%s,memory=4M,sandbox=yes,harts=0" % PROGRAM,
           "name=sb2,kernel=%s,memory=4M,sandbox=yes,harts=1" % PROGRAM,
           "name=plain,kernel=%s,memory=4M" % PROGRAM]
    proc = spawn_vireo(VIREO, link, vms, smp=2, log=log)
    try:
        link.hello()
        syms = symbols()
        boxes = [Sandbox(link, vm, syms) for vm in (1, 2)]
        for sb in boxes:
            kind, data = sb.event()
            assert kind == EV_READY
            base, size, ret, version, _ = struct.unpack("<QQQII", data)
            assert (base, size, ret, version) == (RAM, 4 << 20, syms["vsb_return_stub"], 1)
            r, info = sb.request(OPEN, "<I")
            assert r == 0, r
            vm, state, base, size, ret, version, hz = struct.unpack("<IIQQQII", info)
            assert (vm, state, base, size, ret) == (sb.vm, IDLE, RAM, 4 << 20, ret)
            assert hz == 10_000_000
        yield link, boxes, log, proc
    finally:
        link.close()
        try:
            proc.wait(30)
        except Exception:
            proc.kill()
            proc.wait()


def test_calls(machine):
    link, (sb, sb2), log, _ = machine
    assert sb.result(sb.call("add", 2, 40)) == 42
    assert sb.result(sb.call("add", 2**63 - 1, 1)) == -2**63
    assert sb.result(sb.call("six", 1, 2, 3, 4, 5, 6)) == 91
    assert sb.result(sb.call("was_initialised")) == 42
    # Every call starts on the same stack.
    sp = sb.result(sb.call("stack_pointer"))
    assert sb.result(sb.call("stack_pointer")) == sp and RAM < sp < RAM + (4 << 20)
    # Memory persists from call to call, until a reset.
    assert [sb.result(sb.call("count")) for _ in range(3)] == [1, 2, 3]
    restored, unmapped = sb.reset()
    assert restored >= 1 and unmapped == 0
    assert sb.result(sb.call("count")) == 1
    assert sb.result(sb.call("count", reset=True)) == 1
    assert sb.result(sb.call("hello", 5)) == 5
    wait_console(log, "[sb1] sbtest: hello 5")
    # The other sandbox has its own memory.
    assert sb2.result(sb2.call("count")) == 1


def test_buffers_and_reset(machine):
    link, (sb, _), log, _ = machine
    inbox = sb.syms["inbox"]
    assert sb.write(inbox, bytes(range(1, 101))) == 0
    assert sb.result(sb.call("sum_inbox", 100)) == 5050
    assert sb.read(inbox, 4) == (0, bytes([1, 2, 3, 4]))
    # Dirty pages: the 8 pages of `pages` (a leaf function: no stack).
    sb.reset()
    assert sb.result(sb.call("dirty", 8, 7)) == 7
    restored, _ = sb.reset()
    assert restored == 8, restored
    assert sb.read(sb.syms["pages"], 1) == (0, b"\0")
    assert sb.result(sb.call("sum_inbox", 100)) == 0
    restored, _ = sb.reset()
    assert restored <= 2, restored  # the stack
    restored, _ = sb.reset(full=True)
    assert restored == 1024
    # Bounds: outside RAM and any mapping.
    assert sb.read(RAM + (4 << 20) - 2, 4)[0] == EFAULT
    assert sb.write(0x1000, b"x") == EFAULT


def test_host_calls(machine):
    link, (sb, _), log, _ = machine
    kind, data = sb.call("mul_on_host", 6, 7)
    assert kind == EV_HOSTCALL
    a0, a1, a2, a3, n, _ = struct.unpack("<4QII", data[:40])
    assert data[40:40 + n] == b"mul" and (a0, a1) == (6, 7)
    assert sb.result(sb.answer(a0 * a1)) == 43
    # A host call no host function serves: the host answers an error.
    kind, data = sb.call("call_nobody")
    assert kind == EV_HOSTCALL and data[40:] == b"nobody"
    assert sb.result(sb.answer(0, error=-2)) == -2
    # A name that is not in RAM never reaches the host.
    assert sb.result(sb.call("bad_name")) == -5
    # Answers only to host calls.
    assert sb.request(ANSWER, "<IIqQ", 0, 0, 0)[0] == EBUSY


def test_catches(machine):
    link, (sb, sb2), log, _ = machine
    # A load from an address nothing maps, then the same after mapping it there.
    c = sb.caught(sb.call("load", 0x1000))
    assert (c["why"], c["cause"], c["gpa"], c["x"][10]) == (FAULT, 21, 0x1000, 0x1000)
    assert c["x"][0] == c["pc"] and RAM <= c["pc"] < RAM + 0x10000
    sb.reset()
    c = sb.caught(sb.call("load", EXTRA + 8))
    assert c["gpa"] == EXTRA + 8
    assert sb.request(MAP, "<IIQQ", 3, EXTRA, 4096)[0] == 0
    assert sb.write(EXTRA + 8, struct.pack("<q", 1234)) == 0
    assert sb.result(sb.cont()) == 1234
    # Store, caught, mapped by the handler, continued.
    c = sb.caught(sb.call("store", EXTRA + 0x10000, 99))
    assert c["cause"] == 23
    assert sb.request(MAP, "<IIQQ", 3, EXTRA + 0x10000, 4096)[0] == 0
    assert sb.result(sb.cont()) == 99
    assert sb.read(EXTRA + 0x10000, 8) == (0, struct.pack("<q", 99))
    # Over RAM, over another mapping, misaligned: refused.
    assert sb.request(MAP, "<IIQQ", 3, RAM, 4096)[0] == EEXIST
    assert sb.request(MAP, "<IIQQ", 3, EXTRA, 4096)[0] == EEXIST
    assert sb.request(MAP, "<IIQQ", 3, EXTRA + 0x800, 4096)[0] == EINVAL
    # The reset takes the mappings away.
    restored, unmapped = sb.reset()
    assert unmapped == 2
    assert sb.read(EXTRA, 8)[0] == EFAULT
    assert sb.caught(sb.call("load", EXTRA))["gpa"] == EXTRA
    sb.reset()

    # An ebreak: continued past it.
    c = sb.caught(sb.call("breakpoint", 5))
    assert (c["why"], c["cause"]) == (BREAKPOINT, 3)
    assert sb.read(c["pc"], 4) == (0, struct.pack("<I", 0x00100073))
    assert sb.result(sb.cont(pc=c["pc"] + 4)) == 15
    # An illegal instruction, its registers changed before it goes on.
    c = sb.caught(sb.call("illegal"))
    assert (c["why"], c["cause"], c["insn"]) == (ILLEGAL, 2, 0)
    regs = list(c["x"])
    regs[10] = 1  # a0, though `illegal` returns its own 7
    assert sb.result(sb.cont(pc=c["pc"] + 4, regs=regs)) == 7
    # A jump to nowhere.
    c = sb.caught(sb.call("jump", 0x2000))
    assert (c["why"], c["cause"], c["pc"]) == (FAULT, 20, 0x2000)
    sb.reset()
    # Its own memory only: just past its RAM is nothing.
    c = sb.caught(sb.call("load", RAM + (4 << 20)))
    assert c["gpa"] == RAM + (4 << 20)
    # While one sandbox is caught, the other runs.
    assert sb2.result(sb2.call("add", 1, 1)) == 2
    # Aborted: reset from the catch, then called afresh.
    sb.reset()
    assert sb.result(sb.call("add", 1, 2)) == 3


def test_budget(machine):
    link, (sb, _), log, _ = machine
    t0 = time.monotonic()
    c = sb.caught(sb.call("spin", budget_us=20000))
    assert c["why"] == TIMEOUT and c["cause"] == 0
    assert c["pc"] == sb.syms["spin"]
    assert time.monotonic() - t0 < 5
    # Continued with a fresh budget: caught again.
    c = sb.caught(sb.cont(budget_us=20000))
    assert c["why"] == TIMEOUT
    sb.reset()
    # Waiting in wfi is no way out.
    c = sb.caught(sb.call("sleep_forever", budget_us=20000))
    assert c["why"] == TIMEOUT
    sb.reset()
    # Time spent in the host does not count: a host call that takes 300 ms in a call
    # with a budget of 100 ms.
    kind, data = sb.call("spin_then_call", 1000, budget_us=100000)
    assert kind == EV_HOSTCALL
    time.sleep(0.3)
    assert sb.result(sb.answer(6)) == 6
    # And a call without a budget is not stopped, however long it spins.
    kind, data = sb.call("spin_then_call", 3000000)
    assert kind == EV_HOSTCALL
    assert sb.result(sb.answer(6)) == 6


def test_wrong_states(machine):
    link, (sb, _), log, _ = machine
    assert sb.request(CONTINUE, "<IIQQ", 0, 0, 0)[0] == EBUSY
    assert sb.request(ANSWER, "<IIqQ", 0, 0, 0)[0] == EBUSY
    assert sb.request(CALL, "<IIQQ6Q", 2, RAM, 0, 0, 0, 0, 0, 0, 0)[0] == EINVAL
    assert sb.request(RESET, "<II", 2)[0] == EINVAL
    assert link.request(CALL, struct.pack("<IIQQ6Q", 9, 0, RAM, 0, 0, 0, 0, 0, 0, 0))[0] == ENOENT
    assert link.request(CALL, b"\1\0\0\0")[0] == EINVAL
    # The ordinary VM is no sandbox: no ops, and no SBI extension (its program says so).
    assert link.request(OPEN, struct.pack("<I", 3))[0] == ENOENT
    out = wait_console(log, "vsb: not in a Vireo sandbox")
    assert "[plain] vsb: not in a Vireo sandbox" in out


def test_stop(machine):
    link, (sb, sb2), log, proc = machine
    assert link.request(OP_VM_STOP, struct.pack("<Ii", 2, 5))[0] == 0
    kind, data = sb2.event()
    assert kind == EV_EXIT and struct.unpack("<i", data) == (5,)
    assert link.request(OPEN, struct.pack("<I", 2))[0] == ENOENT
    assert link.request(OP_VM_STOP, struct.pack("<Ii", 1, 0))[0] == 0
    kind, data = sb.event()
    assert kind == EV_EXIT
    assert proc.wait(30) != 0  # the ordinary VM failed (it is no sandbox)
