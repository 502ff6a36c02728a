# SPDX-License-Identifier: BSD-2-Clause
"""Issue: Foundation. Vireo boots in HS-mode, reports the machine, refuses a CPU without H."""
import re

import pytest

from conftest import HYPERVISOR, VIREO, boot_bare, guest, run


@pytest.mark.parametrize("smp", [1, 4])
@pytest.mark.parametrize("mem,mib", [("512M", 512), ("2G", 2048)])
def test_banner_reports_the_machine(smp, mem, mib):
    r = boot_bare(smp=smp, mem=mem)
    out = r.output
    assert "Vireo 0.1.0" in out, r
    assert re.search(rf"vireo: boot hart \d+, {smp} harts?\b", out), r
    assert f"vireo: RAM {mib} MiB at 0x80000000" in out, r
    assert "vireo: H extension: present" in out, r
    # QEMU 7.2's rv64 offers all three x4 modes and Sstc.
    assert re.search(r"G-stage modes: Sv39x4 Sv48x4 Sv57x4, VMID bits: \d+", out), r
    assert "vireo: Sstc: present" in out, r
    assert f"vireo: {smp} harts online" in out, r
    # Without a boot bundle Vireo powers the machine off cleanly.
    assert "no boot bundle" in out and r.status == 0, r


def test_sstc_absent_is_reported():
    r = boot_bare(smp=1, cpu="rv64,h=true,sstc=false")
    assert "vireo: Sstc: absent" in r.output, r


@pytest.mark.parametrize("smp", [2, 8])
def test_all_harts_come_online(smp):
    r = boot_bare(smp=smp)
    assert f"vireo: {smp} harts online" in r.output, r
    assert "is not online" not in r.output and "did not start" not in r.output, r


def test_refuses_a_cpu_without_h():
    r = boot_bare(smp=2, cpu="rv64,h=false")
    lines = [l for l in r.lines() if l.startswith("vireo:")]
    assert lines == ["vireo: this CPU has no H extension (QEMU: -cpu rv64,h=true)"], r
    assert r.status == 1, r
    # A clean stop, not a trap storm or a panic.
    assert "PANIC" not in r.output and "trap" not in r.output, r


def test_free_memory_excludes_firmware_and_image():
    r = boot_bare(smp=1, mem="512M")
    m = re.search(r"memory: (\d+) MiB free", r.output)
    assert m, r
    free = int(m.group(1))
    # OpenSBI's reserved region, Vireo's image and the DTB are not free; the rest is.
    assert 490 <= free < 512, r


def test_panic_dumps_registers_and_stops_every_hart():
    r = run([VIREO, "run", "--smp", "4", "--hypervisor", HYPERVISOR,
             "--selftest-panic", "--vm", f"name=hello,kernel={guest('hello')}"], timeout=60)
    out = r.output
    assert re.search(r"vireo: PANIC on hart \d+: self-test: the boot bundle asked for a panic",
                     out), r
    for reg in ("ra", "sp", "gp", "tp", "a0", "s11", "t6", "sepc", "sstatus", "scause",
                "stval", "hstatus", "hedeleg", "hideleg", "hvip", "hgatp", "htval", "htinst",
                "vsstatus", "vsie", "vstvec", "vsscratch", "vsepc", "vscause", "vstval",
                "vsatp"):
        assert re.search(rf"\b{reg}\s+[0-9a-f]{{12,16}}\b", out), (reg, r)
    assert "vireo: system halted" in out, r
    assert "Hello from a Vireo guest" not in out, r  # nothing ran after the panic
    assert r.status == 125, r
