# SPDX-License-Identifier: BSD-2-Clause
"""Issue: Many VMs on many harts: scheduler, SMP guests, consoles, isolation."""
import os
import re
import time

import pytest

from conftest import ROOT, boot_vms, guest, test_vm as vm_spec
from linux_vm import LinuxVM, linux_spec


def test_linux_with_4_vcpus_brings_them_all_up_and_survives_a_parallel_workload():
    vm = LinuxVM(smp=4, mem="2G", vms=[linux_spec(vcpus=4, memory="512M")], log_name="smp4")
    try:
        vm.wait_prompt()
        assert "smp: Brought up 1 node, 4 CPUs" in vm.run("dmesg")
        out = vm.run("vireo-memstress -p 4 -m 8 -s 5", timeout=120)
        m = re.search(r"vireo-memstress: 4 processes, (\d+) passes, (\d+) errors", out)
        assert m and int(m.group(1)) > 0 and int(m.group(2)) == 0, out
        vm.child.sendline("poweroff")
        assert vm.exit_status() == 0
    finally:
        vm.close()


def test_more_vcpus_than_harts_two_smp_linux_vms_on_two_harts():
    vms = [linux_spec(name="one", vcpus=2), linux_spec(name="two", vcpus=2)]
    vm = LinuxVM(smp=2, vms=vms, log_name="overcommit")
    try:
        vm.wait_prompts(["one", "two"])
        for number, name in ((1, "one"), (2, "two")):
            assert "smp: Brought up 1 node, 2 CPUs" in vm.run_in(number, name, "dmesg")
            out = vm.run_in(number, name, "vireo-memstress -p 2 -m 4 -s 3", timeout=120)
            assert re.search(r"vireo-memstress: 2 processes, [1-9]\d* passes, 0 errors", out), out
        vm.poweroff_in(1, "one")
        vm.poweroff_in(2, "two")
        assert vm.exit_status() == 0
    finally:
        vm.close()


def test_two_linux_vms_side_by_side_from_the_shipped_config():
    vm = LinuxVM(smp=4, mem="2G", config=os.path.join(ROOT, "configs", "two-linux.conf"),
                 log_name="two-linux")
    try:
        vm.wait_prompts(["alpha", "beta"])
        out_a = vm.run_in(1, "alpha", "uname -n; cat /proc/meminfo")
        out_b = vm.run_in(2, "beta", "echo beta-here")
        assert "MemTotal" in out_a and "beta-here" in out_b
        # Each VM sees only its own memory: 256 MiB, not the machine's 2 GiB.
        total_kb = int(re.search(r"MemTotal:\s+(\d+) kB", out_a).group(1))
        assert 200_000 < total_kb <= 262_144, out_a
        # The hypervisor's own lines are told apart from the guests' tagged ones.
        log = open(vm.log_path).read()
        assert re.search(r"^\[alpha\] ", log, re.M) and re.search(r"^\[beta\] ", log, re.M)
        assert re.search(r"^vireo: VM 'beta': starting", log, re.M)
        vm.poweroff_in(1, "alpha")
        vm.poweroff_in(2, "beta")
        assert vm.exit_status() == 0
    finally:
        vm.close()


def test_console_tags_have_colour_when_asked():
    r = boot_vms([vm_spec("hello"), vm_spec("traps")], smp=2, extra_args=["--color=always"])
    assert "\x1b[32m[hello]\x1b[0m Hello from a Vireo guest" in r.output, r
    assert "\x1b[33m[traps]\x1b[0m" in r.output, r
    assert "\x1b[1mvireo:\x1b[0m" in r.output, r


def test_hostile_guest_does_not_keep_linux_from_answering():
    hostile = f"name=hostile,kernel={guest('hostile')},memory=64M,vcpus=2,bootargs=seconds=25"
    vm = LinuxVM(smp=4, mem="2G", vms=[linux_spec(name="linux", vcpus=2), hostile],
                 log_name="hostile")
    try:
        vm.wait_prompts(["linux"])
        vm.expect(r"\[hostile\] hostile: phase")
        # While the hostile VM scans, pokes, floods and spins, Linux answers in time.
        for i in range(5):
            start = time.monotonic()
            out = vm.run_in(1, "linux", f"echo still-here-{i}", timeout=30)
            assert f"still-here-{i}" in out
            assert time.monotonic() - start < 15
            time.sleep(1)
        out = vm.run_in(1, "linux", "vireo-memstress -p 2 -m 4 -s 3", timeout=120)
        assert re.search(r"vireo-memstress: 2 processes, [1-9]\d* passes, 0 errors", out), out
        vm.expect(r"\[hostile\] hostile: done", timeout=120)
        vm.expect("VM 'hostile': shutdown, exit status 0", timeout=30)
        # Linux is still fine after it, and ends the machine as the last VM.
        assert "after-hostile" in vm.run_in(1, "linux", "echo after-hostile")
        vm.poweroff_in(1, "linux")
        assert vm.exit_status() == 0
        assert "PANIC" not in open(vm.log_path).read()
    finally:
        vm.close()


def test_a_faulting_vm_leaves_linux_running_and_its_status_is_reported():
    unmapped = f"name=unmapped,kernel={guest('unmapped')},memory=64M"
    vm = LinuxVM(smp=2, vms=[linux_spec(name="linux", vcpus=2), unmapped], log_name="fault")
    try:
        vm.expect("VM 'unmapped': access to unmapped guest-physical address, exit status 3")
        vm.wait_prompts(["linux"])
        assert "alive" in vm.run_in(1, "linux", "echo alive")
        vm.poweroff_in(1, "linux")
        vm.expect(re.escape("all VMs have ended; powering off (status 3)"))
        assert vm.exit_status() == 3
    finally:
        vm.close()


def test_pinned_vms_stay_on_their_harts():
    vms = [vm_spec("smp", vcpus=2) + ",harts=1", vm_spec("hsm", vcpus=4) + ",harts=2-3"]
    r = boot_vms(vms, smp=4)
    assert "TEST smp: PASS" in r.output and "TEST hsm: PASS" in r.output, r
    assert r.status == 0, r


def test_a_vm_never_sees_memory_another_vm_left_behind():
    # ramcheck fills its RAM with a pattern and reboots; the VM rebuilt from the same
    # freed pages must find them all zero, every time.
    vm = LinuxVM(smp=1, vms=[f"name=ramcheck,kernel={guest('ramcheck')},memory=32M"],
                 log_name="ramcheck")
    try:
        for _ in range(3):
            vm.expect(r"ramcheck: (\d+) of (\d+) words non-zero")
            nonzero, words = (int(x) for x in vm.child.match.groups())
            assert words > 4_000_000 and nonzero == 0, (nonzero, words)
            vm.expect("VM 'ramcheck': rebooting")
    finally:
        vm.close()


def test_four_linux_vms_all_show_their_prompt():
    # Each VM's prompt is a partial line: it must go out after its quiet time even
    # when four consoles keep starting and finishing lines at once.
    vms = [linux_spec(name=f"vm{i}", vcpus=1) for i in range(4)]
    vm = LinuxVM(smp=4, mem="2G", vms=vms, log_name="four-vms")
    try:
        vm.wait_prompts([f"vm{i}" for i in range(4)], timeout=120)
        for i in range(4):
            assert f"answer-{i}" in vm.run_in(i + 1, f"vm{i}", f"echo answer-{i}")
    finally:
        vm.close()
