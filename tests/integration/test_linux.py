# SPDX-License-Identifier: BSD-2-Clause
"""Issue: Boot Linux to an interactive shell under Vireo."""
import re
import time

import pytest

from linux_vm import LinuxVM


@pytest.fixture(scope="module")
def vm():
    v = LinuxVM(smp=2, log_name="linux-shell")
    v.wait_prompt()
    yield v
    v.close()


def test_boots_with_sbi_v2_and_brings_up_secondary_cpus_through_hsm(vm):
    out = vm.run("dmesg")
    assert "SBI specification v2.0 detected" in out
    assert "SBI HSM extension detected" in out
    assert re.search(r"smp: Brought up 1 node, 2 CPUs", out), out[-2000:]


def test_uname(vm):
    out = vm.run("uname -a")
    assert re.search(r"Linux \S+ 6\.1\.\d+ .* riscv64", out), out


def interrupt_counts(vm):
    counts = {}
    for line in vm.run("cat /proc/interrupts").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0].endswith(":") and fields[0][:-1].isdigit():
            name = fields[-1]
            counts[name] = sum(int(f) for f in fields[1:3] if f.isdigit())
    return counts


def test_timer_and_uart_interrupts_count(vm):
    before = interrupt_counts(vm)
    vm.run("sleep 1")
    after = interrupt_counts(vm)
    assert after.get("riscv-timer", 0) > before.get("riscv-timer", 0), (before, after)
    # Every command typed arrives by UART RX interrupts through the virtual PLIC.
    assert after.get("ttyS0", 0) > before.get("ttyS0", 0), (before, after)


def test_sleep_takes_about_a_second_of_guest_time(vm):
    # Guest time is host time (htimedelta = 0): compare the guest's clock around sleep.
    out = vm.run("cat /proc/uptime; sleep 1; cat /proc/uptime")
    stamps = [float(l.split()[0]) for l in out.splitlines() if re.match(r"^\d+\.\d+ ", l)]
    assert len(stamps) == 2, out
    assert 0.95 <= stamps[1] - stamps[0] < 3.0, out


def test_dmesg_is_clean(vm):
    out = vm.run("dmesg")
    for bad in ("Oops", "BUG", "WARNING", "Unable to handle", "Call Trace"):
        assert bad not in out, out


def test_typed_input_reaches_the_guest(vm):
    text = "vireo-typed-" + "x" * 40  # longer than the UART FIFO
    out = vm.run(f"echo {text}")
    assert text in out


def test_exit_status_reported(vm):
    out = vm.run("false; echo status=$?")
    assert "status=1" in out


def test_poweroff_ends_qemu_with_status_0():
    v = LinuxVM(smp=2, log_name="linux-poweroff")
    try:
        v.wait_prompt()
        v.child.sendline("poweroff")
        v.expect("VM 'linux': shutdown, exit status 0")
        assert v.exit_status() == 0
    finally:
        v.close()


def test_reboot_comes_back_to_a_prompt():
    v = LinuxVM(smp=2, log_name="linux-reboot")
    try:
        v.wait_prompt()
        v.child.sendline("reboot")
        v.expect("VM 'linux': rebooting")
        v.wait_prompt()
        out = v.run("uname -r")
        assert "6.1" in out
        v.child.sendline("poweroff")
        assert v.exit_status() == 0
    finally:
        v.close()
