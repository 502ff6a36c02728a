# SPDX-License-Identifier: BSD-2-Clause
"""libvireo's sandbox API (include/vireo.h, "sandboxes") end to end, from C
and from Python: sbtest.elf booted under Vireo on QEMU, called by name, host
functions, every kind of catch and each of the handler's choices. One boot
per language (a sandbox boots in well under a second)."""
import os
import subprocess
import sys

import pytest

from conftest import BUILD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRAM = os.path.join(ROOT, BUILD, "sandbox", "sbtest.elf")
HYPERVISOR = os.path.join(ROOT, BUILD, "vireo.bin")
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))


def test_c_api(tmp_path):
    exe = str(tmp_path / "sandbox_host")
    subprocess.run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-I" + os.path.join(ROOT, "tools/libvireo/include"),
                    os.path.join(ROOT, "tests/integration/sandbox_host.c"),
                    os.path.join(ROOT, BUILD, "libvireo.a"), "-lpthread", "-lnettle", "-o", exe],
                   check=True)
    env = dict(os.environ, VIREO_HYPERVISOR=HYPERVISOR)
    r = subprocess.run([exe, PROGRAM], capture_output=True, text=True, timeout=120, env=env)
    print(r.stdout)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("all ok")
    for check in ("lazy map", "breakpoint", "registers", "restart", "budget", "unknown host fn"):
        assert "ok %s\n" % check in r.stdout


@pytest.fixture(scope="module")
def vireo_mod():
    os.environ.setdefault("VIREO_HYPERVISOR", HYPERVISOR)
    import vireo
    return vireo


@pytest.fixture(scope="module")
def sb(vireo_mod):
    with vireo_mod.Sandbox(PROGRAM, memory="4M") as s:
        yield s


@pytest.fixture(autouse=True)
def clean(request):
    yield
    if "sb" in request.fixturenames:
        s = request.getfixturevalue("sb")
        s.on_catch = None
        s.set_budget(None)
        s.reset()


def test_py_calls_and_buffers(sb):
    assert sb.call("add", 2, 40) == 42
    assert sb.call("add", -5, 2) == -3
    assert sb.call("six", 1, 2, 3, 4, 5, 6) == 91
    assert [sb.call("count") for _ in range(2)] == [1, 2]
    assert sb.reset() >= 1 and sb.call("count") == 1
    sb.write_buffer("inbox", bytes(range(1, 101)))
    assert sb.call("sum_inbox", 100) == 5050
    assert sb.read_buffer("inbox", 4) == b"\1\2\3\4"
    addr, size = sb.symbol("inbox")
    assert size == 8192 and sb.read(addr + 99, 1) == b"d"
    with pytest.raises(OSError) as e:
        sb.write_buffer("inbox", b"x" * 10, offset=8190)
    assert e.value.errno == 34  # ERANGE: past the buffer's end
    with pytest.raises(OSError) as e:
        sb.call("no_such_function")
    assert e.value.errno == 2


def test_py_host_functions(sb):
    seen = []

    @sb.host_function("mul")
    def mul(a, b, c, d):
        seen.append((a, b))
        return a * b

    assert sb.call("mul_on_host", 6, 7) == 43 and seen == [(6, 7)]

    def broken(a, b, c, d):
        raise KeyError("from the host function")
    sb.host_function("mul", broken)
    with pytest.raises(KeyError):
        sb.call("mul_on_host", 1, 1)
    assert sb.call("add", 1, 1) == 2  # still usable


def test_py_catches(sb, vireo_mod):
    from vireo.sandbox import ABORT, BREAKPOINT, CONTINUE, FAULT, HOSTCALL, ILLEGAL, RESTART, \
        TIMEOUT
    catches = []

    def handler(c):
        catches.append((c.why, c.pc, c.gpa, c.name))
        if c.why == FAULT and c.gpa >= 0x40000000:
            sb.map(c.gpa & ~0xfff, 4096)  # lazily, then go on
            return CONTINUE
        if c.why in (BREAKPOINT, ILLEGAL):
            c.pc += 4
            if c.why == BREAKPOINT:
                c.x[10] = 10  # a0: breakpoint(a) returns a * 3
            return CONTINUE
        if c.why == HOSTCALL:
            c.hostcall_error = -42
            return CONTINUE
        if c.why == TIMEOUT and c.count == 1:
            return RESTART
        return ABORT
    sb.on_catch = handler
    assert sb.call("store", 0x40020000, 77) == 77 and catches[-1][:1] == (FAULT,)
    assert sb.read(0x40020000, 1) == b"M"
    assert sb.call("breakpoint", 1) == 30
    assert sb.call("illegal") == 7
    assert sb.call("call_nobody") == -42 and catches[-1][3] == "nobody"
    with pytest.raises(vireo_mod.SandboxAborted):
        sb.call("load", 0x1000)  # outside everything: aborted
    assert catches[-1][2] == 0x1000
    sb.set_budget(0.02)
    n = len(catches)
    with pytest.raises(vireo_mod.SandboxAborted):
        sb.call("spin")  # restarted once, aborted the second time
    assert [c[0] for c in catches[n:]] == [TIMEOUT, TIMEOUT]
    sb.set_budget(None)

    def fails(c):
        raise RuntimeError("in the handler")
    sb.on_catch = fails
    with pytest.raises(RuntimeError):
        sb.call("load", 0x1000)
    assert sb.call("add", 3, 4) == 7
    st = sb.stats()
    assert st["catches"] >= 7 and st["hostcalls"] >= 3 and st["calls"] >= 10


def test_py_isolation(vireo_mod, sb):
    # A second sandbox: its own VM and memory; a crash in one leaves the other be.
    with vireo_mod.Sandbox(PROGRAM, reset_each_call=True) as other:
        assert other.call("count") == 1 and other.call("count") == 1
        with pytest.raises(vireo_mod.SandboxAborted):
            other.call("jump", 0x2000)
        assert sb.call("count") == 1
        assert other.call("add", 1, 1) == 2


def test_examples():
    """make examples' sandbox part: every hostile input caught, pages mapped on demand."""
    ex = os.path.join(BUILD, "examples")
    env = dict(os.environ, VIREO_HYPERVISOR=HYPERVISOR)
    r = subprocess.run([os.path.join(ex, "sandbox_fuzz")], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "15 inputs, 6 returned, 9 crashes caught" in lines[-1]
    for what in ("null pointer): caught fault", "pointer past RAM): caught fault",
                 "assert fails): caught breakpoint", "count by 0): caught time budget",
                 "call into data): caught illegal instruction", "host double): 42"):
        assert any(what in line for line in lines), what
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "lazy_pages.py"),
                        os.path.join(ex, "lazy.elf")], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "touch(8) = 28, 8 pages mapped on demand" in r.stdout
    assert r.stdout.strip().endswith("lazy_pages: ok")


def test_py_vm_ends(vireo_mod):
    """A program that powers its VM off: the call fails with EPIPE at once, and so does
    every call after it; nothing hangs and close() still works."""
    sb = vireo_mod.Sandbox(PROGRAM)
    try:
        with pytest.raises(OSError) as e:
            sb.call("power_off")
        assert e.value.errno == 32 and "stopped the sandbox" in str(e.value)
        with pytest.raises(OSError) as e:
            sb.call("add", 1, 2)
        assert e.value.errno == 32
    finally:
        sb.close()


def test_py_refused_programs(vireo_mod, tmp_path):
    """What is no sandbox program is refused before any QEMU starts."""
    junk = tmp_path / "junk.elf"
    junk.write_bytes(b"\x7fELF" + bytes(200))
    for path, errno_, words in ((str(junk), 8, "RISC-V"),
                                (os.path.join(BUILD, "vireo.elf"), 8, "guest SDK"),
                                (str(tmp_path / "missing.elf"), 2, "No such file")):
        with pytest.raises(OSError) as e:
            vireo_mod.Sandbox(path)
        assert e.value.errno == errno_ and words in str(e.value), str(e.value)
