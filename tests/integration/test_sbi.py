# SPDX-License-Identifier: BSD-2-Clause
"""Issues: SBI v2.0 for guests, virtual timers and interrupts; SBI beyond v2.0 (issue 12,
item 6: STA, SUSP, PMU, SSE, FWFT, DBTR -- SBI v3.0)."""
import re

import pytest

from conftest import boot_vms, test_vm as vm_spec

SMPS = [1, 2, 4]


def assert_passed(r, name):
    assert "FAIL" not in r.output, r
    assert f"TEST {name}: PASS" in r.output, r
    assert f"GUEST {name} DONE status=0" in r.output, r
    assert r.status == 0, r


@pytest.mark.parametrize("smp", SMPS)
def test_every_sbi_function_and_error_code(smp):
    r = boot_vms([vm_spec("sbi", vcpus=4)], smp=smp)
    for check in ("base.ids", "base.probe", "unknown", "time", "ipi", "rfence", "hsm.start",
                  "hsm.status", "hsm.suspend", "dbcn.write", "dbcn.read", "dbcn.write-byte",
                  "srst", "legacy.console", "legacy.ipi", "legacy.fences", "legacy.faults",
                  "fwft", "dbtr"):
        assert f"TEST sbi.{check}: PASS" in r.output, (check, r)
    assert "sbi: this line came through DBCN console_write" in r.output, r
    # QEMU 7.2 under OpenSBI v1.1 gives HS-mode none of the FWFT features (no Svadu,
    # Ssnpm, Zicfilp/ss, Ssdbltrp; misaligned accesses never reach HS-mode).
    for feature in range(6):
        assert f"sbi: FWFT feature {feature} not supported" in r.output, (feature, r)
    assert_passed(r, "sbi")


@pytest.mark.parametrize("smp,expect", [(1, "contended"), (2, "alone")])
def test_steal_time_when_vcpus_share_a_hart(smp, expect):
    """Two vCPUs on one hart see each other's time as stolen; on a hart each, none."""
    r = boot_vms([vm_spec("sta", vcpus=2) + f",bootargs={expect}"], smp=smp)
    for check in ("errors", "zeroed", "shared", "disable", "alone"):
        assert f"TEST sta.{check}: PASS" in r.output, (check, r)
    m = re.search(r"sta: steal in (\d+) ms of spinning: hart 0 (\d+) ms, hart 1 (\d+) ms",
                  r.output)
    assert m, r
    spin, steal0, steal1 = (int(g) for g in m.groups())
    if expect == "contended":
        # Round-robin on one hart: each vCPU waits about half the time.
        assert spin // 5 <= steal0 <= spin and spin // 5 <= steal1 <= spin, r
    else:
        assert steal0 <= 5 and steal1 <= 5, r
    assert_passed(r, "sta")


@pytest.mark.parametrize("sstc", [True, False], ids=["sstc", "no-sstc"])
@pytest.mark.parametrize("smp", [1, 2])
def test_system_suspend_to_ram_and_resume(smp, sstc):
    cpu = "rv64,h=true" if sstc else "rv64,h=true,sstc=false"
    r = boot_vms([vm_spec("susp", vcpus=2)], smp=smp, cpu=cpu)
    for check in ("bad-args", "denied", "suspend", "resume"):
        assert f"TEST susp.{check}: PASS" in r.output, (check, r)
    out = r.output
    suspended = out.find("VM 'susp': suspended to RAM by vCPU 0")
    resumed = out.find("VM 'susp': resumed from suspend to RAM")
    assert 0 <= suspended < resumed < out.find("susp: resumed at the resume address"), r
    assert_passed(r, "susp")


@pytest.mark.parametrize("smp", [1, 2])
def test_pmu_counters_and_firmware_events(smp):
    r = boot_vms([vm_spec("pmu")], smp=smp)
    for check in ("counters", "set-timer", "ipi-fence", "access-fault", "unsupported", "errors",
                  "cycle", "instret", "event-info"):
        assert f"TEST pmu.{check}: PASS" in r.output, (check, r)
    assert_passed(r, "pmu")


@pytest.mark.parametrize("smp", SMPS)
def test_software_events_are_delivered_and_completed(smp):
    r = boot_vms([vm_spec("sse", vcpus=2)], smp=smp)
    for check in ("ids", "states", "attrs", "local", "masked", "oneshot", "priority", "global",
                  "cleanup"):
        assert f"TEST sse.{check}: PASS" in r.output, (check, r)
    assert_passed(r, "sse")


def test_new_extensions_side_by_side():
    """The new extensions' guests in one boot, sharing two harts: state is per VM."""
    r = boot_vms([vm_spec("sse", vcpus=2), vm_spec("pmu"), vm_spec("susp", vcpus=2)], smp=2)
    for name in ("sse", "pmu", "susp"):
        assert f"[{name}] TEST {name}: PASS" in r.output, (name, r)
        assert f"VM '{name}': shutdown, exit status 0" in r.output, (name, r)
    assert "FAIL" not in r.output, r
    assert r.status == 0, r


@pytest.mark.parametrize("sstc", [True, False], ids=["sstc", "no-sstc"])
@pytest.mark.parametrize("smp", SMPS)
def test_timer_fires_after_the_deadline_not_before(smp, sstc):
    cpu = "rv64,h=true" if sstc else "rv64,h=true,sstc=false"
    r = boot_vms([vm_spec("timer", vcpus=2)], smp=smp, cpu=cpu)
    for check in ("irq", "wfi", "wfi-masked", "clear", "none"):
        assert f"TEST timer.{check}: PASS" in r.output, (check, r)
    if sstc:
        assert "TEST timer.stimecmp: PASS" in r.output, r
    assert_passed(r, "timer")


@pytest.mark.parametrize("smp", SMPS)
def test_hsm_start_suspend_resume_stop(smp):
    r = boot_vms([vm_spec("hsm", vcpus=4)], smp=smp)
    for check in ("start", "retentive", "nonretentive", "stop", "restart"):
        assert f"TEST hsm.{check}: PASS" in r.output, (check, r)
    assert_passed(r, "hsm")


@pytest.mark.parametrize("status", [0, 1, 42, 255])
def test_srst_reason_becomes_the_exit_status(status):
    spec = vm_spec("exitcode") + f",bootargs=status={status}"
    r = boot_vms([spec], smp=1)
    assert f"exiting with status {status}" in r.output, r
    assert f"VM 'exitcode': shutdown, exit status {status}" in r.output, r
    assert r.status == status, r
