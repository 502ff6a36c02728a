# SPDX-License-Identifier: BSD-2-Clause
"""Snapshots, restores and forks of a machine's VMs (docs/machine.md, "Snapshots
and forks"), through the CLI, and exec from the machine's template: a running
Linux saved to a file and restored as a new VM in the same machine and in a
fresh one goes on (its agent answers, its timers tick, its disk reads);
damaged files are refused with the reason while the other VMs run on; forks
of a paused Linux see neither each other's writes nor change their template;
`exec --machine M` forks the template and `--fresh` boots. One machine is
shared; test_machine.py covers the rest of the machine."""
import os
import re
import subprocess
import time

import sys

import pytest

from conftest import ROOT, VIREO

sys.path.insert(0, os.path.join(ROOT, "tools", "python"))
import vireo as pyvireo  # noqa: E402  (the module under test, from the source tree)

TIMEOUT = 120
NAME = "t-snap"
DISK_TEXT = b"VIREO-DISK-OK\n"
VM_SPEC = "memory=128M,disk=0,ro"


def vireo(env, *args, check=True, timeout=TIMEOUT):
    r = subprocess.run([VIREO, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert r.returncode == 0, f"vireo {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}"
    return r


def vms(env, machine=NAME):
    """name -> (id, state, origin, agent) from `vireo vm ls`."""
    out = vireo(env, "vm", "ls", "--machine", machine).stdout.splitlines()
    assert out[0].split() == ["NAME", "ID", "STATE", "ORIGIN", "VCPUS", "MEMORY", "AGENT",
                              "STATUS"]
    return {f[0]: (int(f[1]), f[2], f[3], f[6]) for f in (line.split() for line in out[1:])}


def wait_agent(env, name, machine=NAME, timeout=60):
    """Until the VM's agent has said hello (it waits for a client then)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = vms(env, machine).get(name)
        if v and v[3] == "yes":
            return
        time.sleep(0.1)
    pytest.fail(f"VM {name}'s agent never said hello: {vms(env, machine)}")


def log_of(env, machine=NAME):
    with open(os.path.join(env["VIREO_RUNTIME_DIR"], machine, "console.log")) as f:
        return f.read()


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("snap")
    disk = tmp / "disk.img"
    disk.write_bytes(DISK_TEXT + bytes(1024 * 1024 - len(DISK_TEXT)))
    env = dict(os.environ, VIREO_RUNTIME_DIR=str(tmp / "rt"))
    os.makedirs(env["VIREO_RUNTIME_DIR"])
    rw = tmp / "rw.img"
    rw.write_bytes(bytes(1024 * 1024))
    vireo(env, "machine", "start", "--name", NAME, "--memory", "1G", "--disk", f"{disk},ro",
          "--disk", str(rw))
    try:
        yield env, tmp, disk
    finally:
        vireo(env, "machine", "stop", NAME, check=False)


@pytest.fixture(scope="module")
def saved(m):
    """A running Linux VM with a disk, 'a', saved to a file while it runs on."""
    env, tmp, _ = m
    path = tmp / "a.snap"
    vireo(env, "vm", "create", "a", VM_SPEC, "--start", "--machine", NAME)
    wait_agent(env, "a")
    t = time.time()
    vireo(env, "vm", "snapshot", "a", str(path), "--machine", NAME)
    print(f"snapshot of a 128 MiB Linux VM: {(time.time() - t) * 1000:.0f} ms, "
          f"{path.stat().st_size >> 10} KiB")
    assert vms(env)["a"][1] == "running"
    assert not [f for f in os.listdir(tmp) if ".tmp-" in f]  # the temporary file was renamed
    return path


def check_restored(env, name, machine=NAME):
    """The restored Linux goes on: its agent answers, timers tick, its disk reads."""
    t = time.time()
    r = vireo(env, "exec", "--machine", machine, "--vm", name, "--", "sh", "-c",
              "echo alive; sleep 1; echo slept; head -c 14 /dev/vda", check=False)
    took = time.time() - t
    assert r.returncode == 0 and r.stdout == "alive\nslept\n" + DISK_TEXT.decode(), r
    assert 1 <= took < 30, took


def test_restore_in_the_same_machine(m, saved):
    env, _, _ = m
    t = time.time()
    vireo(env, "vm", "restore", "r", str(saved), "--start", "--machine", NAME)
    print(f"restore of a 128 MiB Linux VM: {(time.time() - t) * 1000:.0f} ms")
    assert vms(env)["r"][1:3] == ("running", "restore")
    check_restored(env, "r")
    # The original went on all along; the restored one is another VM.
    assert vms(env)["a"][1] == "running"


def test_restore_in_a_fresh_machine(m, saved, monkeypatch):
    """...through the Python module this time: a machine with the same disk, no template."""
    env, tmp, disk = m
    other = "t-snap2"
    monkeypatch.setenv("VIREO_RUNTIME_DIR", env["VIREO_RUNTIME_DIR"])
    pyvireo.machine_start(other, memory="512M", disks=[(str(disk), True)], template=False)
    try:
        pyvireo.vm_restore(other, "r2", str(saved), start=True)
        (v,) = pyvireo.vms(other)
        assert (v["name"], v["state"], v["origin"], v["agent"]) == ("r2", "running", "restore",
                                                                    True)
        # A restored VM is saved again as any other.
        pyvireo.vm_snapshot(other, "r2", str(tmp / "r2.snap"))
        check_restored(env, "r2", machine=other)
        with pytest.raises(pyvireo.VireoError, match="r2-bad.snap: damaged: the header.s checksum"):
            bad = damaged(tmp / "r2.snap", tmp, "r2-bad.snap", flip(100))
            pyvireo.vm_restore(other, "r3", str(bad))
    finally:
        pyvireo.machine_stop(other)


def damaged(saved, tmp, name, change):
    data = bytearray(saved.read_bytes())
    data = change(data)
    path = tmp / name
    path.write_bytes(bytes(data))
    return path


def flip(off):
    def change(data):
        data[off] ^= 0x40
        return data
    return change


def test_damaged_files_are_refused(m, saved):
    env, tmp, _ = m
    size = saved.stat().st_size
    cases = [
        ("truncated.snap", lambda d: d[:size // 2], r"truncated: RAM section says \d+ bytes"),
        ("header.snap", flip(40), "damaged: the header's checksum does not match"),
        ("state.snap", flip(160 + 48 + 64), "damaged: the state section's checksum"),
        ("ram.snap", flip(size - 100), "damaged: the RAM section's checksum"),
        ("version.snap", lambda d: d[:8] + b"\x07" + d[9:], "format version 7"),
    ]
    for fname, change, reason in cases:
        path = damaged(saved, tmp, fname, change)
        r = vireo(env, "vm", "restore", "bad", str(path), "--start", "--machine", NAME,
                  check=False)
        assert r.returncode == 1, r
        assert str(path) in r.stderr and re.search(reason, r.stderr), (fname, r.stderr)
        assert "bad" not in vms(env)
    # Nothing else was harmed: the machine's VM runs on and answers.
    assert vms(env)["a"][1] == "running"
    vireo(env, "exec", "--machine", NAME, "--vm", "a", "--", "true")


def test_fork_isolation(m):
    env, _, _ = m
    vireo(env, "vm", "create", "tmpl", VM_SPEC, "--start", "--machine", NAME)
    wait_agent(env, "tmpl")
    vireo(env, "vm", "pause", "tmpl", "--machine", NAME)
    time.sleep(3)  # the forks' clocks go on from here: their wall clocks must catch up
    for f in ("fa", "fb", "fc"):
        t = time.time()
        vireo(env, "vm", "fork", "tmpl", f, "--start", "--machine", NAME)
        print(f"fork {f}: {(time.time() - t) * 1000:.0f} ms")
    ls = vms(env)
    assert ls["tmpl"][1] == "template"
    assert all(ls[f][1:3] == ("running", "fork") for f in ("fa", "fb", "fc")), ls
    # Each fork reseeded its random number generator: Vireo told its Linux (the VM
    # Generation ID's interrupt) that it is a copy, and Linux says so. Their draws differ.
    for f in ("fa", "fb"):
        r = vireo(env, "exec", "--machine", NAME, "--vm", f, "--", "sh", "-c",
                  "dmesg | grep -c 'crng reseeded due to virtual machine fork'; "
                  "grep -c vmgenid /proc/interrupts; cat /proc/sys/kernel/random/uuid")
        reseeds, irq_lines, uuid = r.stdout.split()
        assert (reseeds, irq_lines) == ("1", "1"), r.stdout
        uuids = uuids + [uuid] if f == "fb" else [uuid]
    assert uuids[0] != uuids[1], uuids
    # The agent set the wall clock from the RTC: the fork's date is the host's.
    when = int(vireo(env, "exec", "--machine", NAME, "--vm", "fc", "--", "date", "+%s").stdout)
    assert abs(when - time.time()) < 2.5, when - time.time()
    r = vireo(env, "exec", "--machine", NAME, "--vm", "fa", "--", "sh", "-c",
              "echo x > /tmp/f && cat /tmp/f && head -c 14 /dev/vda")
    assert r.stdout == "x\n" + DISK_TEXT.decode()
    # Neither a sibling nor the template (a fork made of it now) sees the write.
    vireo(env, "exec", "--machine", NAME, "--vm", "fb", "--", "test", "!", "-e", "/tmp/f")
    vireo(env, "vm", "fork", "tmpl", "fd", "--start", "--machine", NAME)
    # A template may go while its forks live.
    vireo(env, "vm", "rm", "tmpl", "--machine", NAME)
    vireo(env, "exec", "--machine", NAME, "--vm", "fd", "--", "test", "!", "-e", "/tmp/f")
    vireo(env, "exec", "--machine", NAME, "--vm", "fc", "--", "sh", "-c", "sleep 1; echo ok")
    for f in ("fa", "fb", "fc", "fd"):
        vireo(env, "vm", "rm", f, "--machine", NAME)


def test_fork_of_a_writable_disk_is_refused(m):
    """Forks would share the template's disk: a writable one is refused, with the reason."""
    env, _, _ = m
    vireo(env, "vm", "create", "w", "memory=128M,disk=1", "--start", "--machine", NAME)
    wait_agent(env, "w")
    vireo(env, "vm", "pause", "w", "--machine", NAME)
    r = vireo(env, "vm", "fork", "w", "wf", "--start", "--machine", NAME, check=False)
    assert r.returncode != 0 and "writable disk" in r.stderr, r
    assert "wf" not in vms(env)
    # The VM is still itself: not a template, and it runs on.
    vireo(env, "vm", "resume", "w", "--machine", NAME)
    vireo(env, "exec", "--machine", NAME, "--vm", "w", "--", "true")
    vireo(env, "vm", "rm", "w", "--machine", NAME)


def test_exec_forks_the_template(m):
    env, _, _ = m
    info = dict(line.split(" ", 1) for line in
                vireo(env, "machine", "info", NAME).stdout.splitlines())
    assert info["template"] == "template", (info, log_of(env)[-2000:])
    assert vms(env)["template"][1] == "template"
    t = time.time()
    r = vireo(env, "exec", "--machine", NAME, "--", "sh", "-c", "echo forked")
    took = time.time() - t
    assert r.stdout == "forked\n"
    assert re.search(r"exec: VM 'exec-\d+' is a fork of the template", log_of(env))
    print(f"exec --machine with the template: {took * 1000:.0f} ms")
    before = len(re.findall(r"VM 'exec-\d+': starting", log_of(env)))
    vireo(env, "exec", "--machine", NAME, "--fresh", "--", "true")
    assert len(re.findall(r"VM 'exec-\d+': starting", log_of(env))) == before + 1
