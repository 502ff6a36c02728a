# SPDX-License-Identifier: BSD-2-Clause
"""A long-lived machine through its daemon (docs/machine.md): `vireo machine
start/ls/info/stop`, VMs made, started, listed, stopped and removed at run time
with `vireo vm ... --machine M`, and `vireo exec --machine M` (a VM booted for
each command: these machines have no template; forks, snapshots and the
template are test_snapshot.py's). One machine is shared by
the tests; each leaves it with no VM of its own. The raw-link side of the same
requests (and 1000 cycles straight on Vireo) is test_machine_ctl.py."""
import os
import re
import socket
import sys
import struct
import subprocess
import threading
import time

import pytest

from conftest import ROOT, VIREO, guest

sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import vireo as pyvireo  # noqa: E402  (the module under test, from the source tree)

TIMEOUT = 120
NAME = "t-machine"


def vireo(*args, check=True, timeout=TIMEOUT, env=None):
    r = subprocess.run([VIREO, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert r.returncode == 0, f"vireo {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}"
    return r


def info(env):
    out = vireo("machine", "info", NAME, env=env).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def vms(env):
    """name -> (id, state, origin, status) from `vireo vm ls`."""
    out = vireo("vm", "ls", "--machine", NAME, env=env).stdout.splitlines()
    assert out[0].split()[:3] == ["NAME", "ID", "STATE"]
    return {f[0]: (int(f[1]), f[2], f[3], f[-1]) for f in (line.split() for line in out[1:])}


def wait_state(env, name, state, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = vms(env).get(name)
        if v and v[1] == state:
            return v
        time.sleep(0.1)
    pytest.fail(f"VM {name} never {state}: {vms(env)}")


@pytest.fixture(scope="module")
def machine(tmp_path_factory):
    env = dict(os.environ, VIREO_RUNTIME_DIR=str(tmp_path_factory.mktemp("rt")))
    vireo("machine", "start", "--name", NAME, "--memory", "768M", "--no-template", env=env)
    try:
        yield env
    finally:
        vireo("machine", "stop", NAME, check=False, env=env)


def test_start_ls_info(machine):
    ls = vireo("machine", "ls", env=machine).stdout.splitlines()
    assert ls[0].split()[0] == "NAME" and [line.split()[0] for line in ls[1:]] == [NAME]
    i = info(machine)
    assert i["name"] == NAME and i["harts"] == "2" and int(i["memory"]) == 768 << 20
    assert 0 < int(i["limit"]) < int(i["free"]) < 768 << 20
    assert i["template"] == "-"
    # A second machine of the same name is refused; the first goes on.
    r = vireo("machine", "start", "--name", NAME, check=False, env=machine)
    assert r.returncode != 0 and "running" in (r.stderr + r.stdout).lower()
    assert info(machine)["pid"] == i["pid"]


def test_exec_in_machine(machine):
    r = vireo("exec", "--machine", NAME, "--", "sh", "-c", "echo hi from $(uname -m); exit 7",
              check=False, env=machine)
    assert r.returncode == 7 and r.stdout == "hi from riscv64\n", r
    # The exec's VM is gone with it; the machine is still up.
    deadline = time.time() + 10
    while vms(machine) and time.time() < deadline:
        time.sleep(0.1)
    assert vms(machine) == {}
    r = subprocess.run([VIREO, "exec", "--machine", NAME, "--", "tr", "a-z", "A-Z"],
                       input="stdin works\n", capture_output=True, text=True, timeout=TIMEOUT,
                       env=machine)
    assert r.returncode == 0 and r.stdout == "STDIN WORKS\n", r


def test_vm_lifecycle(machine):
    # A Linux with its agent, made and started at run time; exec --vm runs in it.
    vireo("vm", "create", "lx", "memory=128M", "--start", "--machine", NAME, env=machine)
    assert vms(machine)["lx"][1:3] == ("running", "boot")
    # Paused and resumed on the way: the agent still answers after.
    vireo("vm", "pause", "lx", "--machine", NAME, env=machine)
    assert vms(machine)["lx"][1] == "paused"
    vireo("vm", "resume", "lx", "--machine", NAME, env=machine)
    assert vms(machine)["lx"][1] == "running"
    r = vireo("exec", "--machine", NAME, "--vm", "lx", "--", "cat", "/proc/meminfo",
              env=machine)
    total_kb = int(r.stdout.split()[1])
    assert 100 << 10 < total_kb <= 128 << 10
    # The VM was there before the command: it stays for the next one.
    assert vms(machine)["lx"][1] == "running"
    r = vireo("exec", "--machine", NAME, "--vm", "lx", "--", "echo", "again", env=machine)
    assert r.stdout == "again\n"
    # It powers off: it stays listed, stopped, and starts again.
    vireo("exec", "--machine", NAME, "--vm", "lx", "--", "poweroff", env=machine, check=False)
    wait_state(machine, "lx", "stopped")
    vireo("vm", "start", "lx", "--machine", NAME, env=machine)
    assert vms(machine)["lx"][1] == "running"
    # stop ends a running VM; rm forgets it.
    vireo("vm", "stop", "lx", "--machine", NAME, env=machine)
    assert vms(machine)["lx"][1] == "stopped"
    vireo("vm", "rm", "lx", "--machine", NAME, env=machine)
    assert "lx" not in vms(machine)


def test_vm_created_then_started(machine):
    kernel = guest("exitcode")
    vireo("vm", "create", "ex", f"kernel={kernel},memory=16M,bootargs=status=42", "--machine", NAME,
          env=machine)
    v = vms(machine)["ex"]
    assert v[0] > 0 and v[1] == "created"
    vireo("vm", "start", "ex", "--machine", NAME, env=machine)
    assert wait_state(machine, "ex", "stopped")[3] == "42"
    vireo("vm", "rm", "ex", "--machine", NAME, env=machine)


def test_refusals(machine):
    r = vireo("vm", "start", "nosuch", "--machine", NAME, check=False, env=machine)
    assert r.returncode != 0 and "nosuch" in r.stderr
    r = vireo("vm", "create", "big", "memory=4G", "--machine", NAME, check=False, env=machine)
    assert r.returncode != 0 and "does not fit" in r.stderr, r
    assert "big" not in vms(machine)
    r = vireo("vm", "fork", "a", "b", "--machine", NAME, check=False, env=machine)
    assert r.returncode != 0 and "no VM 'a' in this machine to fork" in r.stderr
    r = vireo("machine", "info", "no-such-machine", check=False, env=machine)
    assert r.returncode != 0


def test_clients_at_once(machine):
    """Three execs at once, each in its own VM, each with its own output and code;
    one that asks for more memory than is left is refused while they run."""
    results = {}

    def one(i):
        results[i] = subprocess.run(
            [VIREO, "exec", "--machine", NAME, "-m", "128M", "--", "sh", "-c",
             f"sleep 1; echo client {i}; exit {i}"],
            capture_output=True, text=True, timeout=TIMEOUT, env=machine)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(1, 4)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while len(vms(machine)) < 3 and time.time() < deadline:
        time.sleep(0.05)
    assert len(vms(machine)) == 3
    r = vireo("exec", "--machine", NAME, "-m", "700M", "--", "true", check=False, env=machine)
    for t in threads:
        t.join()
    assert r.returncode != 0 and "does not fit" in r.stderr, r
    for i in range(1, 4):
        assert results[i].returncode == i and results[i].stdout == f"client {i}\n", results[i]


def test_hostile_clients(machine):
    """Garbage on the machine's socket ends that connection only."""
    path = os.path.join(machine["VIREO_RUNTIME_DIR"], NAME, "ctl.sock")

    def frame(ftype, payload, length=None):
        n = len(payload) if length is None else length
        return struct.pack("<IHH", n, ftype, 0) + payload

    for junk in (b"\xff" * 64,                          # nonsense
                 frame(1, b"", length=1 << 30),          # a frame over the limit
                 frame(2, b"ok=1\n"),                    # a reply, from a client
                 frame(1, b"op=vm-start\nname=../../x\n"),
                 frame(1, b"no equals sign\n"),
                 frame(1, b"op=" + b"x" * 5000 + b"\n"),
                 frame(1, b"op=exec\nmemory=-1\n", length=100)):  # cut short
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(junk)
        s.settimeout(1)
        try:
            s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
    assert info(machine)["name"] == NAME and vms(machine) == {}


def test_create_destroy_cycles_leave_memory(machine):
    """VMs made, started and removed through the daemon, over and over: the
    machine's free memory and commitments end where they started."""
    kernel = guest("hello")
    spec = f"kernel={kernel},memory=16M,testdev"

    def cycles(first, n):
        for i in range(first, first + n):
            args = ["vm", "create", f"c{i}", spec, "--machine", NAME]
            vireo(*(args + ["--start"] if i % 2 else args), env=machine)
            vireo("vm", "rm", f"c{i}", "--machine", NAME, env=machine)

    # Warm up: the daemon keeps the kernel's blob for the next VM, and Vireo takes
    # some memory once, on the first VMs it makes (then never again).
    cycles(0, 4)
    before = info(machine)
    t0 = time.time()
    n = 1000
    cycles(4, n)
    took = time.time() - t0
    after = info(machine)
    print(f"{n} create/destroy cycles through the daemon: {took:.1f} s")
    assert vms(machine) == {}
    for k in ("free", "committed", "vms"):
        assert after[k] == before[k], (k, before, after)


def test_python_module(machine, monkeypatch):
    """The same operations from Python (libvireo underneath)."""
    monkeypatch.setenv("VIREO_RUNTIME_DIR", machine["VIREO_RUNTIME_DIR"])
    st = pyvireo.machine_status(NAME)
    assert st["name"] == NAME and st["memory"] == 768 << 20 and st["template"] is None
    assert [m["name"] for m in pyvireo.machines()] == [NAME]
    pyvireo.vm_create(NAME, "py", f"kernel={guest('exitcode')},memory=16M,bootargs=status=5")
    (v,) = pyvireo.vms(NAME)
    assert v["name"] == "py" and v["state"] == "created" and v["memory"] == 16 << 20
    pyvireo.vm_start(NAME, "py")
    deadline = time.time() + 30
    while pyvireo.vms(NAME)[0]["state"] != "stopped" and time.time() < deadline:
        time.sleep(0.1)
    assert pyvireo.vms(NAME)[0]["exit_status"] == 5
    pyvireo.vm_remove(NAME, "py")
    assert pyvireo.vms(NAME) == []
    with pytest.raises(pyvireo.VireoError) as e:
        pyvireo.vm_start(NAME, "py")
    assert "py" in str(e.value)
    r = pyvireo.run(["sh", "-c", "read x; echo got $x; exit 3"], input=b"it\n",
                    capture_output=True, machine=NAME, timeout=TIMEOUT)
    assert r.returncode == 3 and r.stdout == b"got it\n", r
    with pytest.raises(pyvireo.VireoError):
        pyvireo.machine_status("no-such-machine")


def test_spares(machine, monkeypatch):
    """A machine with a spare VM: an exec with the defaults runs in the spare (no boot),
    a new spare is booted after it, and an exec that asks for other memory boots."""
    name = "t-spare"
    monkeypatch.setenv("VIREO_RUNTIME_DIR", machine["VIREO_RUNTIME_DIR"])
    log = os.path.join(machine["VIREO_RUNTIME_DIR"], name, "console.log")

    def wait_ready(n):
        deadline = time.time() + 60
        while pyvireo.machine_status(name)["spares_ready"] != n and time.time() < deadline:
            time.sleep(0.1)
        assert pyvireo.machine_status(name)["spares_ready"] == n

    pyvireo.machine_start(name, memory="640M", spares=1, template=False)
    try:
        st = pyvireo.machine_status(name)
        assert st["spares"] == 1
        wait_ready(1)
        assert [(v["name"], v["origin"]) for v in pyvireo.vms(name)] == [("spare-1", "spare")]
        t = time.time()
        r = vireo("exec", "--machine", name, "--", "echo", "from a spare", env=machine)
        took = time.time() - t
        assert r.stdout == "from a spare\n"
        print(f"exec --machine with a spare ready: {took * 1000:.0f} ms")
        wait_ready(1)  # spare-2, booted once exec-1 ended
        text = open(log).read()
        assert "VM 'spare-1': ended by the host" in text and "VM 'exec-1' ended" in text
        assert "VM 'exec-1': starting" not in text  # ...it did not boot
        r = vireo("exec", "--machine", name, "-m", "128M", "--", "true", env=machine)
        assert "VM 'exec-2': starting (1 vCPU, 128 MiB" in open(log).read()
        # A spare that ends without an exec is replaced too.
        wait_ready(1)
        (old,) = [v["name"] for v in pyvireo.vms(name) if v["origin"] == "spare"]
        pyvireo.vm_stop(name, old)
        wait_ready(1)
        assert [v["name"] for v in pyvireo.vms(name) if v["origin"] == "spare"] != [old]
        # A VM that fits only without the spare ends it; the spare comes back after.
        pyvireo.vm_create(name, "big", "memory=400M", start=False)
        assert [v["name"] for v in pyvireo.vms(name)] == ["big"]
        assert "ends to make room" in open(log).read()
        pyvireo.vm_remove(name, "big")
        wait_ready(1)
    finally:
        pyvireo.machine_stop(name)


def refused_port(port, timeout=15):
    """True once nothing listens on 127.0.0.1:port any more."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return True
        time.sleep(0.2)
    return False


def test_gdb_on_a_machines_vm(machine, monkeypatch, tmp_path):
    """`vireo vm gdb`: the daemon serves gdb for a running VM over its own link. gdb
    attaches (the VM stops), lists its vCPUs, breaks in the kernel on the execve of an
    exec started meanwhile, backtraces, detaches; the exec then runs to its end, and the
    server goes with the VM. Refusals: a second server, a VM not running, no such VM."""
    from test_gdb import VMLINUX, mark, run_gdb, sections
    vireo("vm", "create", "dbg", "memory=128M", "--start", "--machine", NAME, env=machine)
    vireo("vm", "create", "idle", "memory=64M", "--machine", NAME, env=machine)
    try:
        r = vireo("vm", "gdb", "dbg", "--machine", NAME, env=machine)
        port = int(r.stdout)
        assert f"target remote 127.0.0.1:{port}" in r.stderr, r
        again = vireo("vm", "gdb", "dbg", "--machine", NAME, check=False, env=machine)
        assert again.returncode == 1, again
        assert f"has a gdb server already, on port {port}" in again.stderr, again
        r = vireo("vm", "gdb", "idle", "--machine", NAME, check=False, env=machine)
        assert r.returncode == 1 and "only a running VM can be debugged" in r.stderr, r
        monkeypatch.setenv("VIREO_RUNTIME_DIR", machine["VIREO_RUNTIME_DIR"])
        with pytest.raises(pyvireo.VireoError, match="no VM 'nosuch'"):
            pyvireo.vm_gdb(NAME, "nosuch")
        # The exec starts while gdb holds the VM: it runs once gdb continues.
        log = tmp_path / "exec.log"
        exec_cmd = (f"shell (VIREO_RUNTIME_DIR={machine['VIREO_RUNTIME_DIR']} {VIREO} exec "
                    f"--machine {NAME} --vm dbg -- echo hi-exec; echo rc=$?) >{log} 2>&1 &")
        out = run_gdb(VMLINUX, port, [
            mark("threads"), "info threads",
            "break do_execveat_common", exec_cmd,
            mark("break"), "continue", "bt",
            mark("detach"), "delete", "detach"], 180)
        s = sections(out)
        assert re.search(r"Thread 1 \(vCPU 0\)", s["threads"]), out
        assert re.search(r"Breakpoint 1, 0x[0-9a-f]+ in do_execveat_common \(\)", s["break"]), out
        assert re.search(r"#1 .* in \w*sys_execve \(\)", s["break"]), out
        assert "detached" in s["detach"], out
        deadline = time.time() + 60
        while "rc=" not in (log.read_text() if log.exists() else "") and time.time() < deadline:
            time.sleep(0.2)
        assert log.read_text() == "hi-exec\nrc=0\n", log.read_text()
        # The VM stays after the exec; stopped, its gdb server goes with it.
        assert vms(machine)["dbg"][1] == "running"
        vireo("vm", "stop", "dbg", "--machine", NAME, env=machine)
        wait_state(machine, "dbg", "stopped")
        assert refused_port(port), f"port {port} still open after the VM ended"
    finally:
        vireo("vm", "rm", "dbg", "--machine", NAME, check=False, env=machine)
        vireo("vm", "rm", "idle", "--machine", NAME, check=False, env=machine)


def test_exec_in_a_vm_that_ends(machine):
    """A client of a VM whose agent is gone (a second exec --vm while the VM powers off
    after the first) hears that the VM ended; it does not wait forever."""
    vireo("vm", "create", "once", "memory=128M", "--start", "--machine", NAME, env=machine)
    deadline = time.time() + 60
    while time.time() < deadline:
        out = vireo("vm", "ls", "--machine", NAME, env=machine).stdout.splitlines()[1:]
        if any(f[0] == "once" and f[-2] == "yes" for f in (line.split() for line in out)):
            break
        time.sleep(0.1)
    r = vireo("exec", "--machine", NAME, "--vm", "once", "--", "sh", "-c",
              "echo one; (sleep 2; poweroff) >/dev/null 2>&1 &", env=machine)
    assert r.stdout == "one\n"
    t = time.time()
    r = vireo("exec", "--machine", NAME, "--vm", "once", "--", "sleep", "20", check=False,
              timeout=60, env=machine)
    assert r.returncode != 0 and time.time() - t < 30, r
    vireo("vm", "rm", "once", "--machine", NAME, env=machine)


def test_daemon_killed(machine):
    """A daemon killed with SIGKILL takes its QEMU with it; its files are cleaned up by
    the next ls, and the name can be started again."""
    name = "t-killed"
    vireo("machine", "start", "--name", name, "--memory", "256M", env=machine)
    pid = int(vireo("machine", "info", name, env=machine).stdout.split("pid ")[1].split()[0])
    qemus = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    assert qemus, "no QEMU under the daemon"
    os.kill(pid, 9)
    deadline = time.time() + 10
    while time.time() < deadline and any(os.path.exists(f"/proc/{q}") for q in qemus):
        time.sleep(0.1)
    assert not any(os.path.exists(f"/proc/{q}") for q in qemus), "QEMU outlived its daemon"
    ls = vireo("machine", "ls", env=machine).stdout.splitlines()
    assert all(line.split()[0] != name for line in ls[1:])
    vireo("machine", "start", "--name", name, "--memory", "256M", env=machine)
    vireo("machine", "stop", name, env=machine)


def test_stop(machine):
    # Last: a VM left running ends with the machine, and the name is free again.
    vireo("vm", "create", "left", "memory=64M", "--start", "--machine", NAME, env=machine)
    port = int(vireo("vm", "gdb", "left", "--machine", NAME, env=machine).stdout)
    vireo("machine", "stop", NAME, env=machine)
    assert refused_port(port, 5), f"gdb's port {port} still open after the machine stopped"
    ls = vireo("machine", "ls", env=machine).stdout.splitlines()
    assert all(line.split()[0] != NAME for line in ls[1:])
    assert not os.path.exists(os.path.join(machine["VIREO_RUNTIME_DIR"], NAME, "ctl.sock"))
