# SPDX-License-Identifier: BSD-2-Clause
"""vireo exec, libvireo and the Python module vireo: a program in a fresh Linux VM.

Every test runs in both modes: "vireo" (the program in a VM under the Vireo
hypervisor, the channel through Vireo's host driver and its guest
virtio-console) and "bare" (the same kernel and initramfs on plain QEMU, the
agent's port straight on QEMU's virtio-serial: the reference the benchmarks
compare with). The CLI is tested as a user would run it, the C library
through tests/integration/exec_driver.c (linked against libvireo.so), the
Python module in-process.
"""
import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pexpect
import pytest

from conftest import BUILD, ROOT, VIREO

sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import vireo  # noqa: E402  (the module under test, from the source tree)

DRIVER = os.path.join(BUILD, "tests", "exec_driver")
MODES = ["vireo", "bare"]
TIMEOUT = 240


@pytest.fixture(params=MODES)
def mode(request):
    for f in (os.path.join(BUILD, "linux", "Image"), os.path.join(BUILD, "linux", "initramfs.cpio"),
              VIREO):
        if not os.path.exists(f):
            pytest.fail(f"{f} missing: run make all linux")
    return request.param


def argv(mode, *program, opts=()):
    return [VIREO, "exec", *(["--bare"] if mode == "bare" else []), *opts, "--", *program]


def vexec(mode, *program, opts=(), input=None, timeout=TIMEOUT, **kw):
    kw.setdefault("capture_output", True)
    return subprocess.run(argv(mode, *program, opts=opts), input=input, timeout=timeout, **kw)


def bare(mode):
    return mode == "bare"


def children(pid):
    """Direct children of a process (all its threads')."""
    out = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def ours_in_tmp(private):
    """What a run could leave in the temporary directories: anything in its own TMPDIR,
    names like ours or QEMU's in the shared ones (less `vireo run`'s bundles and unit
    tests' directories: other people's runs on a shared machine)."""
    found = {os.path.join(private, n) for n in os.listdir(private)}
    for d in ("/tmp", "/dev/shm"):
        try:
            found |= {os.path.join(d, n) for n in os.listdir(d)
                      if re.search(r"vireo|qemu|bundle", n)
                      and not re.match(r"vireo-(unit|bundle|bench|plot)", n)}
        except OSError:
            pass
    return found


# ---------------------------------------------------------------- the command line

def test_stdout_and_stderr_apart_and_nothing_else(mode):
    r = vexec(mode, "sh", "-c", "echo out; echo err >&2; printf 'no newline'")
    assert r.returncode == 0, r
    assert r.stdout == b"out\nno newline"
    assert r.stderr == b"err\n"


@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exit_codes(mode, code):
    r = vexec(mode, "sh", "-c", f"exit {code}")
    assert r.returncode == code, r
    assert r.stdout == r.stderr == b""


def test_death_by_signal(mode):
    r = vexec(mode, "sh", "-c", "kill -TERM $$")
    assert r.returncode == 128 + signal.SIGTERM, r
    r = vexec(mode, "sh", "-c", "kill -KILL $$")
    assert r.returncode == 128 + signal.SIGKILL, r


def test_stdin_and_its_end(mode):
    r = vexec(mode, "sort", input=b"b\na\n")
    assert (r.returncode, r.stdout) == (0, b"a\nb\n"), r
    r = vexec(mode, "wc", "-c", stdin=subprocess.DEVNULL)
    assert r.stdout.split() == [b"0"], r


def test_not_found_and_not_executable(mode):
    r = vexec(mode, "no-such-program")
    assert r.returncode == 127, r
    assert b"no-such-program" in r.stderr and r.stdout == b""
    r = vexec(mode, "/etc/passwd")
    assert r.returncode == 126, r
    assert b"/etc/passwd" in r.stderr


def test_environment_and_working_directory(mode):
    r = vexec(mode, "sh", "-c", 'echo "$GREETING"; pwd',
              opts=["-e", "GREETING=hello world", "-w", "/tmp/work/dir"])
    assert r.stdout == b"hello world\n/tmp/work/dir\n", r


@pytest.fixture(scope="module")
def random_file(tmp_path_factory):
    """100 MiB of random bytes, and their SHA-256."""
    path = tmp_path_factory.mktemp("big") / "random.bin"
    h = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(100):
            chunk = os.urandom(1 << 20)
            h.update(chunk)
            f.write(chunk)
    return path, h.hexdigest()


def test_100_mib_through_cat(mode, random_file):
    path, digest = random_file
    with open(path, "rb") as f:
        p = subprocess.Popen(argv(mode, "cat"), stdin=f, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    h, n = hashlib.sha256(), 0
    while True:
        chunk = p.stdout.read(1 << 20)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    assert p.wait(timeout=TIMEOUT) == 0, p.stderr.read()
    assert n == 100 << 20
    assert h.hexdigest() == digest


def test_copies_in_and_out(mode, tmp_path):
    src = tmp_path / "project"
    (src / "sub").mkdir(parents=True)
    (src / "notes.txt").write_text("alpha\n")
    (src / "sub" / "run.sh").write_text("echo beta\n")
    (src / "sub" / "run.sh").chmod(0o755)
    (tmp_path / "single.txt").write_text("gamma\n")
    out = tmp_path / "results"
    out.mkdir()
    script = ("cat /work/notes.txt && /work/sub/run.sh && cat /tmp/single.txt && "
              "echo made > /work/made.txt && mkdir -p /root/out && echo result > /root/out/r.txt")
    r = vexec(mode, "sh", "-c", script,
              opts=["--copy-in", f"{src}:/work", "-i", f"{tmp_path}/single.txt:/tmp/",
                    "--copy-out", f"/work:{out}", "-o", f"out/r.txt:{out}/r.txt"])
    assert r.returncode == 0, r
    assert r.stdout == b"alpha\nbeta\ngamma\n"
    assert (out / "work" / "made.txt").read_text() == "made\n"
    assert (out / "work" / "sub" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (out / "r.txt").read_text() == "result\n"
    r = vexec(mode, "true", opts=["-o", f"/no/such:{out}/x"])
    assert r.returncode == 125 and b"/no/such" in r.stderr, r


def test_disk_written_and_flushed(mode, tmp_path):
    """A writable disk: the VM powers off cleanly (AG_SHUTDOWN) so that what the program
    wrote is in the image; read-only, it cannot be written."""
    img = tmp_path / "disk.img"
    subprocess.run(["mke2fs", "-q", "-t", "ext2", str(img), "16M"], check=True)
    r = vexec(mode, "sh", "-c", "mount /dev/vda /mnt && echo kept > /mnt/f",
              opts=["--disk", str(img)])
    assert r.returncode == 0, r
    r = vexec(mode, "sh", "-c", "mount -o ro /dev/vda /mnt && cat /mnt/f && ! touch /mnt/g",
              opts=["--disk", f"{img},ro"])
    assert (r.returncode, r.stdout) == (0, b"kept\n"), r


def test_net_fetches_from_the_hosts_loopback(mode, tmp_path):
    """--net: a card on the default network, eth0 up by DHCP before the program starts;
    the host's loopback is 10.0.2.2 (QEMU's user network). Without --net, no eth0."""
    import functools
    import http.server

    body = os.urandom(3000).hex().encode()
    (tmp_path / "file").write_bytes(body)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://10.0.2.2:{server.server_address[1]}/file"
        r = vexec(mode, "wget", "-q", "-O-", url, opts=["--net"])
        assert (r.returncode, r.stdout) == (0, body), r
    finally:
        server.shutdown()
        server.server_close()
    r = vexec(mode, "cat", "/sys/class/net/eth0/address")
    assert r.returncode != 0, r


def vm_memory_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_flood_with_a_slow_reader(mode):
    """The guest writes 256 MiB as fast as it can; the host reads slowly at first. The
    host process must not grow (and the guest is simply held back in its write())."""
    p = subprocess.Popen(argv(mode, "dd", "if=/dev/zero", "bs=64k", "count=4096"),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    got, peak, start = 0, 0, vm_memory_kib(p.pid)
    while True:
        slow = got < (16 << 20)
        chunk = p.stdout.read1(4096 if slow else 1 << 20)
        if not chunk:
            break
        got += len(chunk)
        if slow:
            time.sleep(0.001)
        if got % (1 << 20) < len(chunk):
            peak = max(peak, vm_memory_kib(p.pid))
    assert p.wait(timeout=TIMEOUT) == 0
    assert got == 256 << 20
    assert peak - start < 16 * 1024, f"grew from {start} KiB to {peak} KiB"


def test_sigkill_leaves_nothing_behind(mode, tmp_path):
    private = str(tmp_path)
    before = ours_in_tmp(private)
    p = subprocess.Popen(argv(mode, "sh", "-c", "echo ready; sleep 600"), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True,
                         env=dict(os.environ, TMPDIR=private))
    assert p.stdout.readline() == b"ready\n"
    qemus = children(p.pid)
    assert len(qemus) == 1, qemus
    qemu = qemus[0]
    # QEMU holds no file of ours: the bundle is a memfd, the channel a socketpair.
    for fd in os.listdir(f"/proc/{qemu}/fd"):
        target = os.readlink(f"/proc/{qemu}/fd/{fd}")
        assert not target.startswith("/tmp"), target
        if "memfd" in target:
            assert "(deleted)" in target, target
    p.kill()
    p.wait()
    deadline = time.monotonic() + 10
    while alive(qemu) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(qemu), "QEMU outlived vireo exec"
    assert ours_in_tmp(private) <= before


def test_hostile_agent_gets_a_clean_125(mode):
    for how in ("garbage", "noise"):
        r = vexec(mode, "true", opts=["--append", f"vireo.test={how}"])
        assert r.returncode == 125, r
        assert b"broke the protocol" in r.stderr, r
        assert b"PANIC" not in r.stderr
    # ... and Vireo is none the worse: the next VM runs.
    assert vexec(mode, "true").returncode == 0


def test_vm_that_dies_is_125_with_its_console(mode):
    r = vexec(mode, "poweroff", "-f")
    assert r.returncode == 125, r
    assert b"before the program ended" in r.stderr, r


def test_time_limit(mode):
    t = time.monotonic()
    r = vexec(mode, "sleep", "600", opts=["--timeout", "3"])
    assert r.returncode == 124, r
    assert time.monotonic() - t < 120


def interruptible(mode, script):
    """vireo exec in its own session, with SIGINT at its default (not ignored as a
    background job's would be)."""
    def restore():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    p = subprocess.Popen(argv(mode, "sh", "-c", script), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, preexec_fn=restore, start_new_session=True)
    assert p.stdout.readline() == b"ready\n"
    return p


def test_ctrl_c_and_sigterm_reach_the_program(mode):
    p = interruptible(mode, "trap 'echo got INT; exit 3' INT; echo ready; "
                            "while :; do sleep 1; done")
    p.send_signal(signal.SIGINT)
    assert p.stdout.read() == b"got INT\n"
    assert p.wait(timeout=60) == 3
    p = interruptible(mode, "trap 'echo got TERM; exit 4' TERM; echo ready; "
                            "while :; do sleep 1; done")
    p.send_signal(signal.SIGTERM)
    assert p.stdout.read() == b"got TERM\n"
    assert p.wait(timeout=60) == 4


def test_second_ctrl_c_ends_the_vm(mode):
    p = interruptible(mode, "trap '' INT; echo ready; sleep 600")
    p.send_signal(signal.SIGINT)
    time.sleep(1)
    assert p.poll() is None  # ignored by the program
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=30) == 128 + signal.SIGINT


def test_several_at_once(mode):
    results = {}

    def one(i):
        results[i] = vexec(mode, "sh", "-c", f"echo vm {i}; exit {i}")

    threads = [threading.Thread(target=one, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(3):
        assert (results[i].returncode, results[i].stdout) == (i, b"vm %d\n" % i), results[i]


def test_tty_is_an_interactive_shell(mode):
    c = pexpect.spawn(VIREO, argv(mode, "sh", opts=["-t"])[1:], encoding="utf-8",
                      codec_errors="replace", timeout=TIMEOUT, dimensions=(40, 120))
    try:
        c.expect(r"# ")
        c.sendline("tty; stty size; echo $TERM")
        c.expect(r"/dev/pts/\d+")
        c.expect("40 120")
        c.setwinsize(30, 100)  # SIGWINCH here, TIOCSWINSZ there
        time.sleep(0.5)
        c.sendline("stty size")
        c.expect("30 100")
        c.sendline("sleep 600")
        time.sleep(1)
        c.sendcontrol("c")  # a byte on the terminal: the guest's line discipline sends SIGINT
        c.expect(r"# ")
        c.sendline("sleep 500 &")
        c.expect(r"# ")
        c.sendline("jobs")
        c.expect(r"Running\s+sleep 500")
        c.sendline("exit 3")
        c.expect(pexpect.EOF, timeout=60)
    finally:
        c.close()
    assert c.exitstatus == 3


def test_tty_terminal_restored(mode):
    cmd = " ".join(argv(mode, "sh", "-c", "exit 0", opts=["-t"]))
    c = pexpect.spawn("sh", ["-c", f"stty -g; {cmd}; stty -g"], encoding="utf-8", timeout=TIMEOUT)
    c.expect(pexpect.EOF)
    lines = [x for x in c.before.split("\r\n") if re.fullmatch(r"[0-9a-f:]{20,}", x.strip())]
    assert len(lines) == 2 and lines[0] == lines[1], c.before


# ---------------------------------------------------------------- the C library

@pytest.mark.parametrize("scenario", ["apart", "codes", "signal", "eof", "notfound", "cat 100",
                                      "flood 128", "copies", "hostile garbage"])
def test_c_library(mode, scenario, tmp_path):
    args = [DRIVER] + (["--bare"] if bare(mode) else []) + scenario.split()
    if scenario == "copies":
        args.append(str(tmp_path))
    r = subprocess.run(args, capture_output=True, text=True, timeout=2 * TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr


# ---------------------------------------------------------------- the Python module

def test_python_run(mode):
    r = vireo.run(["sh", "-c", "cat; echo err >&2; exit 5"], input=b"in\n", capture_output=True,
                  bare=bare(mode))
    assert (r.returncode, r.stdout, r.stderr) == (5, b"in\n", b"err\n")
    r = vireo.run(["sh", "-c", "kill -TERM $$"], bare=bare(mode))
    assert r.returncode == -signal.SIGTERM and r.exit_status == 143
    r = vireo.run(["no-such-program"], capture_output=True, bare=bare(mode))
    assert r.returncode == 127 and "no-such-program" in r.error
    with pytest.raises(vireo.CalledProcessError):
        vireo.run(["false"], check=True, bare=bare(mode))


def test_python_popen_and_signals(mode):
    with vireo.Popen(["sh", "-c", "trap 'exit 9' TERM; echo ready; while :; do sleep 1; done"],
                     stdout=vireo.PIPE, text=True, bare=bare(mode)) as p:
        assert p.stdout.readline() == "ready\n"
        assert p.pid > 0 and p.poll() is None
        with pytest.raises(vireo.TimeoutExpired):
            p.wait(timeout=0.5)
        p.terminate()
        assert p.wait(timeout=60) == 9


def test_python_communicate_megabytes(mode):
    data = os.urandom(8 << 20)
    p = vireo.Popen(["cat"], stdin=vireo.PIPE, stdout=vireo.PIPE, bare=bare(mode))
    out, err = p.communicate(data, timeout=TIMEOUT)
    assert p.returncode == 0 and out == data and err is None


def test_python_copies_time_limit_and_stop(mode, tmp_path):
    (tmp_path / "in.txt").write_text("from the host\n")
    r = vireo.run(["sh", "-c", "tr a-z A-Z < /tmp/in.txt > /tmp/out.txt"], bare=bare(mode),
                  copy_in=[(tmp_path / "in.txt", "/tmp/in.txt")],
                  copy_out=[("/tmp/out.txt", tmp_path / "out.txt")])
    assert r.returncode == 0
    assert (tmp_path / "out.txt").read_text() == "FROM THE HOST\n"
    with pytest.raises(vireo.TimeoutExpired):
        vireo.run(["sleep", "600"], timeout=3, bare=bare(mode))
    r = vireo.run(["sleep", "600"], time_limit=3, bare=bare(mode))
    assert r.returncode == 124
    p = vireo.Popen(["sleep", "600"], bare=bare(mode))
    p.stop()
    assert p.wait(timeout=60) == 137


def test_python_tty_and_hostile_agent(mode):
    r = vireo.run(["sh", "-c", "stty size; tty"], tty=True, rows=33, cols=77, capture_output=True,
                  text=True, bare=bare(mode))
    assert r.stdout.startswith("33 77\n/dev/pts/"), r
    r = vireo.run(["true"], bootargs="vireo.test=garbage", capture_output=True, bare=bare(mode))
    assert r.returncode == 125 and "broke the protocol" in r.error
