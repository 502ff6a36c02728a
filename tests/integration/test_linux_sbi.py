# SPDX-License-Identifier: BSD-2-Clause
"""Issue 12 item 6, SBI beyond v2.0: a Linux guest detects the new extensions.

What Linux 6.12 prints when it finds them (arch/riscv/kernel/sbi.c, suspend.c,
paravirt.c, drivers/perf/riscv_pmu_sbi.c): the SBI version, SUSP, STA ("riscv-pv:"),
the PMU and its counters ("riscv-pmu-sbi:"). 6.12 has no FWFT, SSE or DBTR driver
yet: those three are exercised by the bare-metal guests (test_sbi.py). Older kernels
(the 6.1 guest) lack STA and SUSP support entirely, so the module is skipped for them.
"""
import os
import re
import time

import pytest

from linux_vm import LINUX_IMAGE, LinuxVM, linux_spec

NEEDED = (6, 12)


def linux_version(path=LINUX_IMAGE):
    """(major, minor) from the banner inside an uncompressed Image, or None."""
    try:
        with open(path, "rb") as f:
            m = re.search(rb"Linux version (\d+)\.(\d+)", f.read())
    except OSError:
        return None
    return (int(m.group(1)), int(m.group(2))) if m else None


VERSION = linux_version()
pytestmark = pytest.mark.skipif(
    VERSION is None or VERSION < NEEDED,
    reason=f"needs a Linux {NEEDED[0]}.{NEEDED[1]}+ guest (STA, SUSP and the SBI v3.0 "
    f"banner); build/linux/Image is {'%d.%d' % VERSION if VERSION else 'missing'}")


@pytest.fixture(scope="module")
def vm():
    v = LinuxVM(smp=2, log_name="linux-sbi3")
    v.wait_prompt()
    yield v
    v.close()


def test_boot_log_names_the_new_extensions(vm):
    out = vm.run("dmesg")
    assert "SBI specification v3.0 detected" in out, out[-3000:]
    assert "SBI SUSP extension detected" in out, out[-3000:]
    assert "riscv-pv: SBI STA extension detected" in out, out[-3000:]
    assert "riscv-pv: Computing paravirt steal-time" in out, out[-3000:]
    assert "riscv-pmu-sbi: SBI PMU extension is available" in out, out[-3000:]
    # Counters 0 (cycle) and 2 (instret) are hardware ones; 1 and 3..8 firmware ones.
    assert "riscv-pmu-sbi: 7 firmware and 2 hardware counters" in out, out[-3000:]
    for bad in ("Failed to set steal-time shmem", "pmu snapshot setup failed",
                "Starting counter idx", "Stopping counter idx"):
        assert bad not in out, out[-3000:]


def test_pmu_and_suspend_to_ram_are_offered_to_userspace(vm):
    assert "cpu" in vm.run("ls /sys/bus/event_source/devices"), "no perf PMU"
    assert "mem" in vm.run("cat /sys/power/state"), "no suspend to RAM"


def test_perf_counts_cycles_instructions_and_firmware_events(vm):
    """What perf stat counts, through the SBI PMU (vireo-perfcount: perf_event_open)."""
    out = vm.run("vireo-perfcount; echo status=$?", timeout=120)
    counts = dict(re.findall(r"perfcount: (\w+)=(\d+)", out))
    assert "status=0" in out, out
    # A loop of 20 million additions retires at least that many instructions.
    assert int(counts["instructions"]) >= 20000000, out
    assert int(counts["cycles"]) > 0, out
    # Firmware events open and count; with Sstc Linux sets its timer itself (0 calls).
    assert "sbi_set_timer" in counts and "sbi_ipi_sent" in counts, out


def steal_ticks(stat):
    """The steal column (the 8th number) of /proc/stat's aggregate cpu line."""
    for line in stat.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu":
            return int(fields[8])
    raise AssertionError(f"no cpu line in {stat!r}")


def test_steal_time_shows_in_proc_stat_when_vcpus_share_a_hart():
    """Two vCPUs, one hart, both busy: each waits for the other, and Linux counts it."""
    v = LinuxVM(smp=1, vms=[linux_spec(vcpus=2)], log_name="linux-steal")
    try:
        v.wait_prompt()
        before = steal_ticks(v.run("cat /proc/stat"))
        v.run("yes > /dev/null & P1=$!; yes > /dev/null & P2=$!")
        time.sleep(5)
        v.run("sleep 2")
        after = steal_ticks(v.run("cat /proc/stat"))
        v.run("kill $P1 $P2")
        # USER_HZ ticks (100 a second): a shared hart for seconds steals well over 10.
        assert after - before >= 10, (before, after)
        v.child.sendline("poweroff")
        assert v.exit_status() == 0
    finally:
        v.close()
