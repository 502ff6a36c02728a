# SPDX-License-Identifier: BSD-2-Clause
"""What a guest's hart promises must hold (bare-metal guests in guests/tests)."""
import re

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


@pytest.fixture(scope="module")
def big_vector_linux():
    """One Linux VM with V, its RAM larger than any single free block of a 3 GiB
    machine (the boot bundle sits inside RAM), shared by the tests below."""
    from linux_vm import LinuxVM, linux_spec
    vm = LinuxVM(smp=2, mem="3G", cpu=VECTOR_CPU, log_name="big-vector",
                 vms=[linux_spec(memory="2560M")])
    vm.wait_prompt()
    yield vm
    vm.close()


def test_linux_runs_vector_code(big_vector_linux):
    """The guest's riscv,isa lists v: Linux uses it and user programs keep their V state."""
    out = big_vector_linux.run("vireo-vectest 2")
    assert "vectest: ok vlenb=" in out, out
    isa = big_vector_linux.run("grep -m1 isa /proc/cpuinfo")
    assert "rv64imafdcv_" in isa, isa


def test_linux_gets_ram_from_several_host_runs(big_vector_linux):
    out = big_vector_linux.run("grep MemTotal /proc/meminfo")
    kib = int(out.split()[1])
    assert kib > 2400 * 1024, out  # 2560 MiB, less the kernel's own
    with open(big_vector_linux.log_path) as f:
        pieces = re.search(r"VM 'linux': RAM in (\d+) pieces of host memory", f.read())
    assert pieces and int(pieces.group(1)) >= 2, "the RAM came in one block: nothing was tested"
