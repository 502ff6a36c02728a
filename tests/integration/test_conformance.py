# SPDX-License-Identifier: BSD-2-Clause
"""What a guest's hart promises must hold (bare-metal guests in guests/tests)."""
import pytest

from conftest import boot_vms, guest

VECTOR_CPU = "rv64,h=true,v=true"


def cpustate(name, pattern):
    return (f"name={name},kernel={guest('cpustate')},memory=64M,"
            f"bootargs=pattern={pattern}")


@pytest.mark.parametrize("cpu", ["rv64,h=true", VECTOR_CPU])
def test_cpu_state_is_per_vcpu_on_a_shared_hart(cpu):
    """Two VMs on one hart: scounteren, senvcfg, FP and V state stay each VM's own."""
    r = boot_vms([cpustate("a", 1), cpustate("b", 2)], smp=1, cpu=cpu, timeout=120)
    for vm in ("a", "b"):
        assert f"[{vm}] TEST cpustate_kept: PASS" in r.output, r
        assert f"[{vm}] TEST cpustate_user_counters: PASS" in r.output, r
    if cpu == VECTOR_CPU:
        assert "state held over" in r.output and "(with V)" in r.output, r
    assert r.status == 0, r


def test_walk_into_a_device_is_an_access_fault_and_user_wfi_is_illegal():
    spec = f"name=conform,kernel={guest('conform')},memory=64M,testdev"
    r = boot_vms([spec], smp=1, timeout=60)
    assert "TEST conform_walk_into_device: PASS" in r.output, r
    assert "TEST conform_user_wfi: PASS" in r.output, r
    assert r.status == 0, r
