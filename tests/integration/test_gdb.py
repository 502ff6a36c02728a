# SPDX-License-Identifier: BSD-2-Clause
"""Issue #19: a gdb remote stub per VM. `vireo run --gdb VM=PORT,wait`, then
gdb-multiarch -batch drives the session, as a developer would.

One boot of the bare-metal gdb guest (guests/tests/gdb.c) serves every test of
the first group: gdb's transcript is recorded once and each test checks one
thing it shows. Markers (`echo @@name\\n`) cut the transcript into the answers
to each command group. The Linux guest gets a boot of its own."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import BUILD, HYPERVISOR, ROOT, VIREO, guest
from linux_vm import LINUX_IMAGE, PROMPT, linux_spec

GDB = shutil.which("gdb-multiarch")
GUEST_ELF = os.path.join(BUILD, "guests", "gdb.elf")
VMLINUX = os.path.join(BUILD, "linux", "vmlinux")
RAM = 0x80000000
HIGH = 0xffffffc000000000  # guests/tests/lib/sv39.h: SV39_HIGH_BASE
POKE_OK = 0x600dcafe



class Vireo:
    """`vireo run` in a session of its own; its console collected by a thread."""

    def __init__(self, vms, gdb, smp=2, mem="1G"):
        args = [VIREO, "run", "--color=never", "--smp", str(smp), "--mem", mem,
                "--hypervisor", HYPERVISOR, "--gdb", gdb]
        for vm in vms:
            args += ["--vm", vm]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, start_new_session=True)
        self.chunks = []
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        # Chunks, not lines: a shell's prompt ends without one.
        for chunk in iter(lambda: os.read(self.p.stdout.fileno(), 4096), b""):
            with self.lock:
                self.chunks.append(chunk)

    @property
    def output(self):
        with self.lock:
            return b"".join(self.chunks).decode(errors="replace").replace("\r\n", "\n")

    def wait_for(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.output)
            if m:
                return m
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"waiting for {pattern!r}\n--- console ---\n{self.output[-4000:]}")

    def type(self, line):
        """A line for the console (the VM's input)."""
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def port(self, vm):
        m = self.wait_for(rf"gdb server for VM '{vm}' on 127\.0\.0\.1:(\d+)", 60)
        return int(m.group(1))

    def finish(self, timeout):
        try:
            status = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"vireo still running after {timeout}s\n{self.output[-4000:]}")
        self.reader.join(5)
        return status

    def kill(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, 9)
            self.p.wait()


def run_gdb(elf, port, commands, timeout, ctrl_c_after=None):
    """gdb-multiarch -batch with these commands; returns its transcript. ctrl_c_after:
    seconds after which gdb gets a SIGINT, as from Ctrl-C at its terminal."""
    # A failure, not a skip: make test must not pass with the debugger untested.
    if GDB is None:
        pytest.fail("gdb-multiarch missing: make deps (scripts/deps.sh) installs it")
    script = ["set pagination off", "set confirm off", "set width 0",
              f"target remote 127.0.0.1:{port}", *commands]
    args = [GDB, "-nx", "-batch"]
    for c in script:
        args += ["-ex", c]
    args.append(elf)
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if ctrl_c_after is not None:
            time.sleep(ctrl_c_after)
            p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        pytest.fail(f"gdb timed out after {timeout}s\n{out.decode(errors='replace')[-4000:]}")
    return out.decode(errors="replace")


def sections(transcript):
    """The transcript cut at `@@name` markers: {name: what came after it}."""
    parts = re.split(r"^@@(\S+)\n", transcript, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def mark(name):
    return f"echo @@{name}\\n"


# ------------------------------------------------------------ the bare-metal guest

HIGH_GDB_HIGH = f"((unsigned long)&gdb_high - {RAM:#x} + {HIGH:#x})"
HIGH_POKE = f"((unsigned long)&gdb_poke - {RAM:#x} + {HIGH:#x})"

BARE_SESSION = [
    mark("attach"), "info threads", "print/x $pc",
    mark("guest_main"), "break guest_main", "continue", "print/x $pc",
    # Stopped here a while: the other VM (hello) runs to its end meanwhile.
    "shell sleep 2",
    # Registers: read, write one and read it back, restore it; FP and CSRs.
    mark("regs"), "info registers ra sp a0 a1",
    "set $s11_saved = $s11", "set $s11 = 0x1122334455667788",
    "maint flush register-cache", "print/x $s11",   # read back from Vireo, not gdb's cache
    "set $s11 = $s11_saved",
    "set $ft11 = 2.5", "maint flush register-cache", "print $ft11", "print/x $fcsr",
    "print/x $sstatus", "print/x $satp", "print/x $sepc",
    "set $ss_saved = $sscratch", "set $sscratch = 0x5ca7c4",
    "maint flush register-cache", "print/x $sscratch",
    "set $sscratch = $ss_saved",
    # Steps: a source line over the printf, a stepi, then into gdb_add.
    mark("next"), "next", "print/x $pc",
    mark("stepi"), "print/x $pc", "stepi", "print/x $pc",
    mark("step_into"), "break gdb_add", "continue", "bt", "delete",
    "finish",
    # Each vCPU is a thread: the second one spins in gdb_spin.
    mark("threads"), "info threads", "thread 2", "bt", "thread 1",
    # Memory by guest-virtual address (MMU off: the same as physical), then physical.
    mark("poke"), f"set var gdb_poke = {POKE_OK:#x}", "print/x gdb_poke",
    "monitor gpa 0x80204030 8",
    "monitor memory physical", "print/x *(unsigned long *)0x80204030",
    "set var *(unsigned int *)0x80204034 = 0", "monitor memory virtual",
    # A breakpoint at the high alias, through the guest's own Sv39 tables.
    mark("high"), f"break *{HIGH_GDB_HIGH}", "continue", "print/x $pc", "print/x $satp",
    f"print/x *(unsigned long *){HIGH_POKE}", "eval \"monitor translate %#lx\", $pc",
    "delete",
    # Run to the end.
    mark("end"), "continue",
]


@pytest.fixture(scope="module")
def bare():
    vm = f"name=gdb,kernel={guest('gdb')},memory=64M,vcpus=2"
    v = Vireo([vm, f"name=hello,kernel={guest('hello')},memory=64M"], "gdb=0,wait")
    try:
        port = v.port("gdb")
        v.wait_for(r"VM 'gdb': waiting for a debugger", 60)
        out = run_gdb(GUEST_ELF, port, BARE_SESSION, 180)
        status = v.finish(60)
    finally:
        v.kill()
    return out, sections(out), v.output, status


def test_wait_holds_the_vm_at_its_first_instruction(bare):
    out, s, console, _ = bare
    assert "$1 = 0x80200000" in s["attach"], out
    # Nothing of the guest ran before the debugger attached.
    attached = console.index("debugger attached")
    assert "gdb: guest_main" not in console[:attached], console


def test_each_vcpu_is_a_thread(bare):
    out, s, _, _ = bare
    assert re.search(r"Thread 1 \(vCPU 0\)", s["attach"]), out
    assert re.search(r"Thread 2 \(vCPU 1\)", s["attach"]), out
    # Thread 2 has registers of its own: it is somewhere on the second vCPU's way.
    m = re.search(r"Switching to thread 2 \(Thread 2\)\]\n#0\s+(.*)", s["threads"])
    assert m and "guest_main" not in m.group(1), out
    assert re.search(r"Switching to thread 1 \(Thread 1\)\]\n#0 .* guest_main", s["threads"]), out


def test_break_at_guest_main(bare):
    out, s, _, _ = bare
    assert re.search(r"Breakpoint 1, guest_main \(hartid=0", s["guest_main"]), out


def test_registers_read_and_write(bare):
    out, s, _, _ = bare
    r = s["regs"]
    assert re.search(r"^sp\s+0x8021", r, re.M), out
    assert "= 0x1122334455667788" in r, out
    assert "= 2.5" in r, out                       # an FP register written, read back
    assert re.search(r"= 0x[0-9a-f]+\n", r), out   # CSRs read
    assert "= 0x5ca7c4" in r, out                  # and one written
    assert "$satp" not in r and "Invalid" not in r, out


def test_next_stepi_and_step_into_a_function(bare):
    out, s, _, _ = bare
    assert re.search(r"^59\s+printf", s["next"], re.M), out
    pcs = [int(x, 16) for x in re.findall(r"= (0x[0-9a-f]+)", s["stepi"])]
    # One instruction: the next one, or the first of the function it calls.
    assert len(pcs) == 2 and (pcs[1] - pcs[0] in (2, 4) or "printf (" in s["stepi"]), out
    assert re.search(r"Breakpoint \d+, gdb_add \(a=(a@entry=)?0, b=(b@entry=)?0\)", s["step_into"]), out
    assert re.search(r"#1 .* guest_main", s["step_into"]), out
    assert re.search(r"Value returned is \$\d+ = 0", s["step_into"]), out  # finish


def test_memory_by_virtual_and_physical_address(bare):
    out, s, console, _ = bare
    assert f"= {POKE_OK:#x}" in s["poke"], out
    m = re.search(r"gdb_poke at (0x[0-9a-f]+)", console)
    assert m and int(m.group(1), 16) == 0x80204030, console  # where monitor gpa looked
    assert "0x80204030: fe ca 0d 60 00 00 00 00" in s["poke"], out
    assert "memory packets are by guest-physical address" in s["poke"], out
    assert s["poke"].count(f"= {POKE_OK:#x}") == 2, out


def test_the_other_vm_runs_while_one_is_stopped(bare):
    out, _, console, _ = bare
    # gdb's VM sat at guest_main for 2 s before its first printf; hello ran to its end.
    assert "[hello] Hello from a Vireo guest" in console, console
    assert console.index("VM 'hello': shutdown, exit status 0") < console.index(
        "gdb: guest_main at"), console


def test_breakpoint_through_the_guests_page_tables(bare):
    out, s, _, _ = bare
    h = s["high"]
    assert re.search(r"Breakpoint \d+, 0xffffffc0002[0-9a-f]+ in \?\? \(\)", h), out
    assert re.search(r"= 0x8[0-9a-f]{15}\n", h), out           # satp: Sv39 on
    assert f"= {POKE_OK:#x}" in h, out                        # gdb_poke through its alias
    assert re.search(r"0xffffffc0002([0-9a-f]{5}) -> guest-physical 0x802\1 ", h), out


def test_continue_to_a_clean_exit(bare):
    out, s, console, status = bare
    assert "exited normally" in s["end"], out
    assert f"poke {POKE_OK:#x}" in console and "high calls 1" in console, console
    assert "VM 'gdb': shutdown, exit status 0" in console, console
    assert status == 0, console


# ------------------------------------------------------------ the Linux guest

LINUX_FIRST = [
    mark("attach"), "print/x $pc",
    # Kernel addresses while the MMU is still off: the breakpoint waits for the tables.
    mark("start_kernel"), "break start_kernel", "continue", "bt", "print/x $satp",
    mark("init"), "break run_init_process", "continue", "bt", "x/s $a0",
    mark("detach"), "delete", "detach",
]
# A second debugger on the running VM: attach, continue, Ctrl-C, backtrace, go.
LINUX_SECOND = ["info threads", "continue", mark("interrupted"), "bt", "info threads", "detach"]


@pytest.fixture(scope="module")
def linux():
    if not os.path.exists(LINUX_IMAGE) or not os.path.exists(VMLINUX):
        pytest.fail("the Linux guest is missing: make linux")
    v = Vireo([linux_spec(vcpus=2)], "linux=0,wait")
    try:
        port = v.port("linux")
        v.wait_for(r"VM 'linux': waiting for a debugger", 60)
        first = run_gdb(VMLINUX, port, LINUX_FIRST, 300)
        v.wait_for(PROMPT, 240)
        second = run_gdb(VMLINUX, port, LINUX_SECOND, 60, ctrl_c_after=2)
        rude = rude_debugger(port)
        v.type("echo gdb-$((6 * 7))")
        v.wait_for(r"\ngdb-42", 60)
        v.type("poweroff")
        status = v.finish(120)
    finally:
        v.kill()
    return first, sections(first), second, sections(second), v.output, status, rude


def rude_debugger(port):
    """Connect (which stops the VM), ask why it stopped, hang up without a word (no
    detach): the VM must run on."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
        c.sendall(b"$?#3f")
        got = b""
        while b"#" not in got:
            chunk = c.recv(256)
            if not chunk:
                break
            got += chunk
    return got.decode(errors="replace")


def test_linux_break_at_a_kernel_function_and_backtrace(linux):
    out, s, _, _, console, _, _ = linux
    assert "$1 = 0x80200000" in s["attach"], out                # held at its first instruction
    sk = s["start_kernel"]
    assert re.search(r"Breakpoint 1, 0xffffffff8[0-9a-f]+ in start_kernel \(\)", sk), out
    assert re.search(r"#1 .* in _start_kernel \(\)", sk), out
    assert re.search(r"= 0x[89a][0-9a-f]{15}\n", sk), out         # its tables are on (Sv39/48/57)
    assert "waiting breakpoints planted" in console, console
    init = s["init"]
    assert re.search(r"Breakpoint 2, 0xffffffff8[0-9a-f]+ in run_init_process \(\)", init), out
    assert re.search(r"#1 .* in kernel_init \(\)", init), out
    assert "Run %s as init process" in init, out                # memory read through its tables


def test_linux_boots_on_after_the_debugger_detaches(linux):
    out, s, _, _, console, status, _ = linux
    assert "detached" in s["detach"], out
    assert "Run /init as init process" in console, console
    assert "\ngdb-42" in console, console
    assert "VM 'linux': shutdown, exit status 0" in console, console
    assert status == 0, console


def test_linux_ctrl_c_stops_a_running_vm_and_detach_lets_it_go(linux):
    _, _, out, s, console, _, _ = linux
    assert re.search(r"Thread 2 \(vCPU 1\)", out), out
    assert "received signal SIGINT" in out, out
    assert re.search(r"#0 .* in \w+ \(\)", s["interrupted"]), out
    assert "detached" in s["interrupted"], out
    # Both sessions ended with the VM running on; the shell answered after them.
    assert console.count("debugger detached") == 3, console
    assert console.rindex("debugger detached") < console.index("\ngdb-42"), console


# ------------------------------------------------------------ a fault, caught by the debugger

def test_a_fault_stops_the_vm_in_the_debugger():
    """The gdb guest's `fault` loads from where nothing is mapped: with no debugger that
    ends the VM (status 3, test_guests.py); with one it stops there as a SIGSEGV, and
    the developer can point the register elsewhere and let the guest go on."""
    vm = f"name=gdb,kernel={guest('gdb')},memory=64M,vcpus=1,bootargs=fault"
    v = Vireo([vm], "gdb=0,wait", smp=1)
    session = ["break guest_main", "continue", f"set var gdb_poke = {POKE_OK:#x}", "delete",
               mark("fault"), "continue", "bt", "x/i $pc", "print/x $a5",
               mark("fixed"), "set $a5 = &gdb_poke", "continue"]
    try:
        out = sections(run_gdb(GUEST_ELF, v.port("gdb"), session, 120))
        status = v.finish(60)
    finally:
        v.kill()
    console = v.output
    assert "received signal SIGSEGV" in out["fault"], out
    assert re.search(r"#0 .* in guest_main .* at guests/tests/gdb\.c:\d+", out["fault"]), out
    assert "= 0x40000000" in out["fault"], out   # the address the load went to
    assert "access to unmapped guest-physical address" not in console, console
    assert f"gdb: loaded {POKE_OK:#x}" in console, console
    assert "exited normally" in out["fixed"], out
    assert status == 0, console


def test_linux_runs_on_after_a_debugger_hangs_up(linux):
    *_, console, _, rude = linux
    assert re.search(r"\$T[0-9a-f]{2}thread:[12];", rude), rude  # stopped for it
    assert console.rindex("debugger detached") < console.index("\ngdb-42"), console


# ------------------------------------------------------------ vireo exec --gdb

sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import vireo  # noqa: E402  (the module, from the source tree)

EXEC_SESSION = [
    mark("attach"), "print/x $pc",
    mark("init"), "break run_init_process", "continue", "bt", "x/s $a0",
    mark("end"), "delete", "continue",
]


def exec_gdb_port(stderr_line):
    m = re.match(r"vireo: gdb server for the VM on 127\.0\.0\.1:(\d+)( \(it waits at its "
                 r"first instruction\))?\n$", stderr_line)
    assert m, stderr_line
    return int(m.group(1)), bool(m.group(2))


def test_exec_gdb_wait_holds_the_vm_for_a_kernel_breakpoint_then_the_program_runs():
    """`vireo exec --gdb 0,wait`: the port on stderr, the VM held at its first instruction
    until gdb continues; a breakpoint in the kernel, a backtrace, continue; the program's
    stdout and exit status are exec's as ever, and gdb hears that status."""
    if not os.path.exists(LINUX_IMAGE) or not os.path.exists(VMLINUX):
        pytest.fail("the Linux guest is missing: make linux")
    p = subprocess.Popen([VIREO, "exec", "--gdb", "0,wait", "--hypervisor", HYPERVISOR, "--",
                          "sh", "-c", "echo hi; exit 5"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        port, waits = exec_gdb_port(p.stderr.readline().decode())
        assert waits
        time.sleep(3)  # unheld, the whole run takes about a second here
        assert p.poll() is None, "the VM did not wait for the debugger"
        out = run_gdb(VMLINUX, port, EXEC_SESSION, 300)
        stdout, stderr = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 9)
            p.wait()
    s = sections(out)
    assert "$1 = 0x80200000" in s["attach"], out
    assert re.search(r"Breakpoint 1, 0xffffffff8[0-9a-f]+ in run_init_process \(\)", s["init"]), out
    assert re.search(r"#1 .* in kernel_init \(\)", s["init"]), out
    assert '"/init"' in s["init"], out               # its argument, read through its tables
    assert "exited with code 05" in s["end"], out
    assert stdout == b"hi\n", (stdout, stderr)
    assert stderr == b"", stderr
    assert p.returncode == 5


def test_exec_gdb_attach_to_a_running_program_and_detach():
    """The Python module's gdb keyword, no wait: a debugger attaches while the program
    waits for its stdin (the VM stops), looks, detaches; the program goes on with its
    stdin, stdout and status untouched."""
    p = vireo.Popen(["sh", "-c", "echo ready; read line; echo got $line; exit 3"],
                    stdin=vireo.PIPE, stdout=vireo.PIPE, gdb=0)
    try:
        assert p.gdb_port
        assert p.stdout.readline() == b"ready\n"
        out = run_gdb(VMLINUX, p.gdb_port,
                      ["info threads", mark("bt"), "bt", mark("detach"), "detach"], 120)
        stdout, _ = p.communicate(b"x\n", timeout=120)
    finally:
        p.stop()
        p.wait()
    s = sections(out)
    assert re.search(r"Thread 1 \(vCPU 0\)", out), out
    assert re.search(r"#0 .* in \w+ \(\)", s["bt"]), out
    assert "detached" in s["detach"], out
    assert stdout == b"got x\n"
    assert p.returncode == 3


def test_exec_gdb_refusals():
    """No server where there is no Vireo VM of exec's own, or no port: code 125, a reason,
    no VM."""
    def refused(*opts):
        r = subprocess.run([VIREO, "exec", *opts, "--", "true"], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60)
        assert r.returncode == 125 and r.stdout == b"", r
        return r.stderr.decode()

    assert "a gdb server needs a VM under Vireo" in refused("--gdb", "0", "--bare")
    assert "the port must be 0..65535" in refused("--gdb", "70000")
    assert "the port must be 0..65535" in refused("--gdb", "0,later")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        err = refused("--gdb", str(taken.getsockname()[1]))
    assert "Address already in use" in err, err
    with pytest.raises(vireo.VireoError):
        vireo.Popen(["true"], gdb=0, bare=True)
