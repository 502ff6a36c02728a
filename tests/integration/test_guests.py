# SPDX-License-Identifier: BSD-2-Clause
"""Issue: Run guests. Bare-metal test guests in VMs: console, paging, MMIO, faults, traps."""
import re

import pytest

from conftest import boot_vms, test_vm as vm_spec

SMPS = [1, 4]


def assert_passed(r, name):
    assert f"TEST {name}: PASS" in r.output, r
    assert "FAIL" not in r.output, r
    assert f"GUEST {name} DONE status=0" in r.output, r
    assert f"VM '{name}': shutdown, exit status 0" in r.output, r
    assert r.status == 0, r


@pytest.mark.parametrize("smp", SMPS)
def test_hello_prints_through_the_sbi_console(smp):
    r = boot_vms([vm_spec("hello")], smp=smp)
    assert "Hello from a Vireo guest (hart 0)" in r.output, r
    assert "hello: DTB at 0x" in r.output and "magic ok" in r.output, r
    assert r.status == 0, r


@pytest.mark.parametrize("smp", SMPS)
def test_guest_runs_its_own_sv39_paging_at_a_high_address(smp):
    r = boot_vms([vm_spec("paging")], smp=smp)
    assert re.search(r"running at pc 0xffffffc0", r.output), r
    for step in ("enable", "high-pc", "alias", "load-fault", "store-fault", "disable"):
        assert f"TEST paging.{step}: PASS" in r.output, r
    assert_passed(r, "paging")


@pytest.mark.parametrize("smp", SMPS)
def test_mmio_of_every_width_and_sign(smp):
    r = boot_vms([vm_spec("mmio", testdev=True)], smp=smp)
    for step in ("byte", "half", "word", "double", "compressed", "compressed-sp",
                 "other-registers", "x0"):
        assert f"TEST mmio.{step}: PASS" in r.output, r
        assert f"TEST mmio.paged.{step}: PASS" in r.output, r
    assert_passed(r, "mmio")


@pytest.mark.parametrize("smp", SMPS)
def test_illegal_instruction_and_ebreak_reach_the_guest(smp):
    r = boot_vms([vm_spec("traps")], smp=smp)
    for step in ("illegal-c", "illegal", "ebreak", "c-ebreak"):
        assert f"TEST traps.{step}: PASS" in r.output, r
    assert_passed(r, "traps")


@pytest.mark.parametrize("smp", SMPS)
def test_unmapped_access_stops_only_that_vm(smp):
    r = boot_vms([vm_spec("unmapped"), vm_spec("paging")], smp=smp)
    out = r.output
    assert "[unmapped] unmapped: touching 0x40000000" in out, r
    diag = re.search(r"vireo: VM 'unmapped' vCPU 0: access to unmapped guest-physical address "
                     r"\(load guest-page fault, scause 21\) at sepc (0x[0-9a-f]+), "
                     r"stval 0x40000000, GPA 0x40000000, htval 0x10000000, htinst", out)
    assert diag, r
    assert re.search(r"\n  a5\s+0000000040000000|\ba5\s+0000000040000000", out), r  # GPRs dumped
    assert "still running" not in out, r
    assert "VM 'unmapped': access to unmapped guest-physical address, exit status 3" in out, r
    # The other VM runs on to the end and the hypervisor reports it.
    assert "[paging] TEST paging: PASS" in out, r
    assert "VM 'paging': shutdown, exit status 0" in out, r
    assert "PANIC" not in out, r
    # The run's status is the failed VM's.
    assert r.status == 3, r


@pytest.mark.parametrize("smp", SMPS)
def test_two_guests_in_one_boot(smp):
    r = boot_vms([vm_spec("hello"), vm_spec("traps")], smp=smp)
    assert "[hello] Hello from a Vireo guest (hart 0)" in r.output, r
    assert "[traps] TEST traps: PASS" in r.output, r
    assert "all VMs have ended; powering off (status 0)" in r.output, r
    assert r.status == 0, r


@pytest.mark.parametrize("smp", SMPS)
def test_four_vcpus_start_through_hsm(smp):
    r = boot_vms([vm_spec("smp", vcpus=4)], smp=smp)
    for hart in (1, 2, 3):
        assert f"smp: hart {hart} is up" in r.output, r
    assert_passed(r, "smp")


def test_guest_exit_status_becomes_the_run_status():
    r = boot_vms([vm_spec("unmapped")], smp=1)
    assert r.status == 3, r


def test_a_bad_linux_image_is_refused_with_the_reason(tmp_path):
    bad = tmp_path / "Image"
    header = bytearray(64)
    header[8:16] = (0x200000).to_bytes(8, "little")   # text_offset
    header[16:24] = (0x1000).to_bytes(8, "little")    # image_size: smaller than the file
    header[48:53] = b"RISCV"
    header[56:60] = b"RSC\x05"
    bad.write_bytes(bytes(header) + bytes(8192))
    r = boot_vms([f"name=broken,kernel={bad}", vm_spec("hello")], smp=1)
    assert ("VM 'broken': bad Linux Image header: image_size is smaller than the file"
            in r.output), r
    assert "VM 'broken': not created" in r.output, r
    # The good VM still runs.
    assert "[hello] Hello from a Vireo guest" in r.output or "Hello from a Vireo guest" in r.output
    header[56:60] = b"XXXX"
    bad.write_bytes(bytes(header) + bytes(8192))
    r = boot_vms([f"name=broken,kernel={bad}"], smp=1)
    assert 'bad Linux Image header: magic2 is not "RSC\\x05"' in r.output, r
    assert "no VM could be created" in r.output and r.status == 1, r
