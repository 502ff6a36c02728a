# SPDX-License-Identifier: BSD-2-Clause
"""Issue 20: the platform a distribution expects: a real-time clock, boot entropy and the
hypervisor's identity, seen by the bare-metal `platform` guest and by Linux."""
import os
import re
import subprocess
import time

import pexpect
import pytest

from conftest import BUILD, HYPERVISOR, QEMU, VIREO, boot_vms, guest
from linux_vm import LinuxVM

CLOCK_SLACK = 2.0  # seconds between a guest's clock and the host's
Y2K = 946684800


def platform_spec(name, extra="", bootargs=""):
    spec = f"name={name},kernel={guest('platform')},memory=64M{extra}"
    return spec + (f",bootargs={bootargs}" if bootargs else "")


def lines_of(output, name=None):
    """The guest's lines; with several VMs, those tagged [name], tag removed."""
    if name is None:
        return output.splitlines()
    tag = f"[{name}] "
    return [l[len(tag):] for l in output.splitlines() if l.startswith(tag)]


def fingerprints(lines, what="rng-seed"):
    pat = re.compile(rf"platform: {what} (\d+) bytes, sha256 ([0-9a-f]{{16}})")
    found = [pat.search(l) for l in lines]
    return [(int(m.group(1)), m.group(2)) for m in found if m]


def rtc_reading(lines, what):
    pat = re.compile(rf"platform: rtc {what} (\d+)\.(\d{{9}})")
    for l in lines:
        m = pat.search(l)
        if m:
            return int(m.group(1)) + int(m.group(2)) / 1e9
    return None


def assert_all_passed(lines, r):
    text = "\n".join(lines)
    assert "TEST platform: PASS" in text, r
    assert "FAIL" not in text, r
    assert "GUEST platform DONE status=0" in text, r


# ---------------------------------------------------------------- bare-metal guest


def test_guest_reads_the_host_clock_from_its_rtc():
    """The guest's RTC reads the host's wall clock, within 2 s, the moment it prints it."""
    child = pexpect.spawn(VIREO, ["run", "--color=never", "--smp", "2", "--hypervisor",
                                  HYPERVISOR, "--vm", platform_spec("platform")],
                          encoding="utf-8", codec_errors="replace", timeout=60)
    try:
        child.expect(r"platform: rtc now (\d+)\.(\d{9})")
        host = time.time()
        guest_now = int(child.match.group(1)) + int(child.match.group(2)) / 1e9
        out = child.before + child.after
        child.expect(pexpect.EOF)
        out = (out + child.before).replace("\r\n", "\n")
        child.close()
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert abs(guest_now - host) <= CLOCK_SLACK, (guest_now, host)
    assert child.exitstatus == 0, out[-3000:]
    assert re.search(r"vireo: wall clock \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(RTC at 0x101000\)",
                     out), out[-3000:]
    for step in ("hypervisor", "seeds", "rtc-ticks", "rtc-latch", "rtc-alarm",
                 "rtc-alarm-masked", "rtc-clear-alarm"):
        assert f"TEST platform.{step}: PASS" in out, out[-3000:]
    assert "platform: hypervisor 'vireo,hypervisor' version '" in out
    assert_all_passed(out.splitlines(), out[-3000:])


def test_two_vms_get_different_seeds_and_their_own_clocks():
    """Three VMs at once: each gets 64 bytes of rng-seed and 8 of kaslr-seed, all different;
    one has its clock an hour back, one sets its clock to 2000 (only its own), one has no RTC."""
    start = time.time()
    r = boot_vms([platform_spec("a", bootargs=f"rtc-set={Y2K}"),
                  platform_spec("b", bootargs="wait-ms=1500"),
                  platform_spec("c", extra=",rtc_offset=-3600"),
                  platform_spec("d", extra=",rtc=off")], smp=2, timeout=180)
    end = time.time()
    assert r.status == 0, r
    out = {n: lines_of(r.output, n) for n in "abcd"}
    for n in "abcd":
        assert_all_passed(out[n], r)

    seeds = [fingerprints(out[n]) for n in "abcd"]
    kaslr = [fingerprints(out[n], "kaslr-seed") for n in "abcd"]
    assert all(len(s) == 1 and s[0][0] == 64 for s in seeds), seeds
    assert all(len(k) == 1 and k[0][0] == 8 for k in kaslr), kaslr
    assert len({s[0][1] for s in seeds}) == 4, seeds
    assert len({k[0][1] for k in kaslr}) == 4, kaslr

    # b read its clock last, after a had set its own to 2000: b still has the host's time.
    a_set = r.output.index("[a] platform: rtc set ")
    b_final = r.output.index("[b] platform: rtc final ")
    assert a_set < b_final, r
    assert abs(rtc_reading(out["a"], "set") - Y2K) < 1, out["a"]
    assert start - CLOCK_SLACK <= rtc_reading(out["b"], "final") <= end + CLOCK_SLACK, out["b"]
    assert Y2K <= rtc_reading(out["a"], "final") < Y2K + 60, out["a"]
    # c: an hour behind the host.
    c_now = rtc_reading(out["c"], "now")
    assert start - 3600 - CLOCK_SLACK <= c_now <= end - 3600 + CLOCK_SLACK, out["c"]
    # d: no RTC node, and so no RTC tests.
    assert "platform: no rtc" in out["d"], out["d"]
    assert not any("platform.rtc" in l for l in out["d"]), out["d"]


def test_a_rebooted_vm_gets_a_new_seed_and_keeps_its_clock():
    r = boot_vms([platform_spec("platform", bootargs="reboot-once")], smp=1, timeout=120)
    assert r.status == 0, r
    lines = lines_of(r.output)
    assert "vireo: VM 'platform': rebooting" in r.output, r
    seeds = fingerprints(lines)
    kaslr = fingerprints(lines, "kaslr-seed")
    assert len(seeds) == 2 and seeds[0] != seeds[1], seeds
    assert len(kaslr) == 2 and kaslr[0] != kaslr[1], kaslr
    # The guest set its clock to 2000-01-01 before rebooting; the new boot still has it.
    kept = rtc_reading(lines, "kept across the reboot")
    assert kept is not None and Y2K <= kept < Y2K + 60, r
    assert_all_passed(lines, r)


def host_dtb_without_rtc(path, smp, mem):
    """QEMU's own tree for this machine, minus its RTC (QEMU 7.2 puts a fresh rng-seed into
    any tree given with -dtb, so that one cannot be taken away)."""
    subprocess.run([QEMU, "-machine", f"virt,dumpdtb={path}", "-cpu", "rv64,h=true", "-smp",
                    str(smp), "-m", mem, "-nographic"], check=True, capture_output=True)
    subprocess.run(["fdtput", "-r", path, "/soc/rtc@101000"], check=True)


def test_host_without_rtc_gives_guests_a_clock_from_1970():
    dtb = os.path.join(BUILD, "test-platform-no-rtc.dtb")
    host_dtb_without_rtc(dtb, 2, "1G")
    r = boot_vms([platform_spec("platform")], smp=2, mem="1G", extra=("-dtb", dtb))
    assert r.status == 0, r
    assert r.output.count("no real-time clock on this machine: guests' clocks start at 1970") \
        == 1, r
    now = rtc_reading(lines_of(r.output), "now")
    assert now is not None and 0 <= now < 30, r
    assert_all_passed(lines_of(r.output), r)


# ---------------------------------------------------------------- Linux


@pytest.fixture(scope="module")
def linux():
    """A Linux VM; the host's time is noted when the kernel sets its clock from the RTC."""
    v = LinuxVM(smp=2, log_name="linux-platform")
    v.expect(r"setting system clock to \S+ UTC \((\d+)\)")
    v.hctosys = (int(v.child.match.group(1)), time.time())
    v.wait_prompt()
    yield v
    v.close()


def test_linux_sets_its_clock_from_the_rtc_at_boot(linux):
    # The RTC gives whole seconds; Linux sets its clock to the middle of that second.
    guest, host = linux.hctosys
    assert abs(guest + 0.5 - host) <= CLOCK_SLACK, (guest, host)
    out = linux.run("dmesg")
    assert re.search(r"goldfish_rtc \S+: registered as rtc0", out), out[-3000:]


def test_linux_date_is_the_host_date(linux):
    """`date` shows whole seconds, so its time is somewhere in [shown, shown + 1); adjtimex
    shows the clock to the microsecond. Both within 2 s of the host."""
    before = time.time()
    out = linux.run("date +%s")
    after = time.time()
    m = re.search(r"^(\d{9,})\s*$", out, re.M)
    assert m, out
    shown = int(m.group(1))
    assert before - CLOCK_SLACK <= shown + 1 and shown <= after + CLOCK_SLACK, \
        (before, shown, after)
    before = time.time()
    out = linux.run("adjtimex")
    after = time.time()
    sec = re.search(r"time\.tv_sec:\s+(\d+)", out)
    usec = re.search(r"time\.tv_usec:\s+(\d+)", out)
    assert sec and usec, out
    guest = int(sec.group(1)) + int(usec.group(1)) / 1e6
    assert before - CLOCK_SLACK <= guest <= after + CLOCK_SLACK, (before, guest, after)


def test_linux_random_pool_is_ready_before_init(linux):
    out = linux.run("dmesg")
    crng = out.find("random: crng init done")
    init = out.find("Run /init as init process")
    assert init >= 0, out[-3000:]
    assert 0 <= crng < init, "the pool was not ready before init:\n" + out[:6000]
    # The kernel consumed the seed and took it out of its tree.
    assert "rng-seed" not in linux.run("ls /proc/device-tree/chosen")


def test_linux_finds_the_hypervisor_node(linux):
    out = linux.run("cat /proc/device-tree/hypervisor/compatible; echo")
    assert "vireo,hypervisor" in out, out
    out = linux.run("cat /proc/device-tree/hypervisor/version; echo")
    assert re.search(r"\d+\.\d+\.\d+", out), out
