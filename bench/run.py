#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make bench: how fast Vireo is, against the same work on plain QEMU.

Every figure is a pair, measured in the same run: the work under Vireo and
the same work bare (the same kernel on plain QEMU + OpenSBI, no hypervisor),
and their ratio. Each figure is the median of several runs; one QEMU runs at
a time. The method is in bench/README.md.

  bench/run.py [--quick] [--only micro,linux,icount,scale,exec,net,aia,sandbox]
               [--runs-micro N] [--runs-boot N]

Writes bench/results/latest.md and bench/results/latest.png; the console logs
of the last run of each kind go to build/bench/logs/.
"""
import argparse
import datetime
import os
import re
import shlex
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import pexpect

import net_bench

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("BUILD", "build")
QEMU = os.environ.get("QEMU", "qemu-system-riscv64")
PROMPT = "vireo# "
HOTKEY_STATS = "\x1dd"  # Ctrl-] d: Vireo prints every vCPU's state and a vireo-stats line
TIMEBASE_HZ = 10_000_000  # QEMU virt; replaced by what Vireo reports at boot
DISK_MIB = 128
DD_MIB = 128
DD_REPEAT = 2  # dd runs of each direction per boot
IDLE_SETTLE_S = 5
IDLE_WINDOW_S = 10
BOOT_TIMEOUT_S = 30  # boots take 0.3-6 s here; a run that hangs costs this much
ATTEMPTS = 2  # a run that hangs is retried once; hangs are reported
MICRO_TIMEOUT_S = 60
EXEC_MIB = 64  # stdout throughput: dd writes this much in 64 KiB blocks
EXEC_TIMEOUT_S = 120
# What libvireo gives the VM of `vireo exec`: the bare side boots with the same.
EXEC_BOOTARGS = "console=ttyS0 quiet vireo.exec"
EXEC_VM = ["-smp", "1", "-m", "256M"]

# Vireo colours its tags and its own lines on a terminal; runs ask for none (NO_COLOR), and
# the patterns still let colour codes through, in case.
ESC = r"(?:\x1b\[[0-9;]*m)*"
# The machine of every run: the same CPU model, harts and memory on both sides.
MACHINE = ["-machine", "virt", "-cpu", "rv64,h=true", "-nographic", "-bios", "default"]


def path(*parts):
    return os.path.join(ROOT, *parts)


def log(msg):
    print(msg, flush=True)


class Skip(Exception):
    """A benchmark that cannot run here; the message says why."""


# ---------------------------------------------------------------- environment


def find_tool():
    """The host tool, build/vireo (make builds it from tools/vireo.c)."""
    built = path(BUILD, "vireo")
    if os.path.isfile(built) and os.access(built, os.X_OK):
        return [built]
    raise SystemExit("bench: no host tool (build/vireo); run make first")


def tool_features(tool):
    try:
        out = subprocess.run(tool + ["--help"], capture_output=True, text=True, timeout=30)
        text = out.stdout + out.stderr
    except (OSError, subprocess.TimeoutExpired):
        text = ""
    return {"disk": "--disk" in text, "qemu_arg": "--qemu-arg" in text}


def qemu_version():
    try:
        out = subprocess.run([QEMU, "--version"], capture_output=True, text=True, timeout=30)
        return out.stdout.splitlines()[0].strip()
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unknown"


def git_commit():
    """The commit, and the files the build used that differ from it (read-only git)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30)
        commit = "`%s`" % (out.stdout.strip() or "unknown")
        out = subprocess.run(["git", "--no-optional-locks", "diff", "--name-only", "HEAD", "--",
                              "hv", "tools", "guests", "Makefile"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30)
        dirty = out.stdout.split()
        if dirty:
            commit += " plus uncommitted changes in " + ", ".join("`%s`" % f for f in dirty)
        return commit
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def host_cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


# ---------------------------------------------------------------- running QEMU


class Session:
    """One QEMU (directly, or under the host tool), its console read through pexpect."""

    def __init__(self, argv, logname, timeout):
        os.makedirs(path(BUILD, "bench", "logs"), exist_ok=True)
        self.logfile = open(path(BUILD, "bench", "logs", logname + ".log"), "w")
        self.logfile.write("$ " + " ".join(shlex.quote(a) for a in argv) + "\n")
        self.start = time.monotonic()
        env = dict(os.environ, NO_COLOR="1", TERM="dumb")
        self.child = pexpect.spawn(argv[0], argv[1:], cwd=ROOT, encoding="latin-1", env=env,
                                   timeout=timeout, dimensions=(50, 400))
        self.child.logfile_read = self.logfile

    def elapsed(self):
        return time.monotonic() - self.start

    def why_ended(self):
        """What QEMU said last: a panic of Vireo, if there was one."""
        m = re.search(r"PANIC[^\r\n]*", self.child.before or "")
        return ": " + m.group(0) if m else ""

    def expect(self, pattern, timeout=-1, what=None):
        what = what or "%r" % (pattern,)
        try:
            return self.child.expect(pattern, timeout=timeout)
        except pexpect.TIMEOUT:
            raise Skip("nothing in %d s while waiting for %s" % (
                self.child.timeout if timeout == -1 else timeout, what)) from None
        except pexpect.EOF:
            raise Skip("QEMU ended while waiting for %s%s" % (what, self.why_ended())) from None

    def shell(self, command, timeout=120):
        """Run a command at the guest's prompt; returns its output."""
        self.child.sendline(command)
        self.expect_exact(PROMPT, timeout)
        return self.child.before

    def expect_exact(self, text, timeout=-1):
        try:
            return self.child.expect_exact(text, timeout=timeout)
        except pexpect.TIMEOUT:
            raise Skip("nothing in %d s while waiting for %r" % (
                self.child.timeout if timeout == -1 else timeout, text)) from None
        except pexpect.EOF:
            raise Skip("QEMU ended while waiting for %r%s" % (text, self.why_ended())) from None

    def close(self, poweroff=False):
        if poweroff and self.child.isalive():
            try:
                self.child.sendline("poweroff")
                self.child.expect(pexpect.EOF, timeout=30)
            except (pexpect.TIMEOUT, pexpect.EOF, OSError):
                pass
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close()
        self.logfile.close()


def vireo_argv(tool, vms, smp=2, mem=None, disks=(), qemu_args=(), machine=None):
    argv = tool + ["run", "--smp", str(smp)]
    if mem:
        argv += ["--mem", mem]
    if machine:
        argv += ["--machine", machine]
    for d in disks:
        argv += ["--disk", d]
    for a in qemu_args:
        argv += ["--qemu-arg", a]
    for spec in vms:
        argv += ["--vm", spec]
    return argv


def bare_argv(kernel, smp=2, mem="256M", initrd=None, append=None, disk=None, icount=False,
              machine=None):
    argv = [QEMU] + MACHINE + ["-smp", str(smp), "-m", mem, "-kernel", kernel]
    if machine:
        argv[argv.index("-machine") + 1] = machine
    if initrd:
        argv += ["-initrd", initrd]
    if append:
        argv += ["-append", append]
    if disk:
        argv += ["-drive", "file=%s,if=none,format=raw,id=hd0" % disk,
                 "-device", "virtio-blk-device,drive=hd0",
                 "-global", "virtio-mmio.force-legacy=false"]
    if icount:
        argv += ["-icount", "shift=0"]
    return argv


def attempt(store, what, logname, fn, *args):
    """Run fn; a run that fails (a hang, mostly) is retried once and counted in store."""
    for i in range(ATTEMPTS):
        try:
            return fn(*args)
        except Skip as e:
            store.setdefault("failures", []).append("%s: %s" % (what, e))
            logs = path(BUILD, "bench", "logs")
            src = os.path.join(logs, logname + ".log")
            if os.path.exists(src):
                os.replace(src, os.path.join(logs, "%s-failed-%d.log" % (logname, i + 1)))
            log("  %s: attempt %d failed: %s" % (what, i + 1, e))
            last = e
    raise last


# ---------------------------------------------------------------- micro


BENCH_RE = re.compile(r"^BENCH (\S+)((?: \S+=\S+)*)\s*$")


def parse_kv(text):
    return dict(item.split("=", 1) for item in text.split() if "=" in item)


def micro_once(tool, features, mode, icount, run):
    """One boot of the micro kernel; returns {name: per-op figures} and the environment."""
    kernel = path(BUILD, "bench", "micro.bin")
    bootargs = None
    if mode == "vireo":
        if icount and not features["qemu_arg"]:
            raise Skip("the host tool has no --qemu-arg")
        spec = "name=micro,kernel=%s,vcpus=2" % kernel
        if bootargs:
            spec += ",bootargs=" + bootargs
        argv = vireo_argv(tool, [spec], qemu_args=["-icount shift=0"] if icount else ())
    else:
        argv = bare_argv(kernel, append=bootargs, icount=icount)
    s = Session(argv, "micro-%s%s-%d" % (mode, "-icount" if icount else "", run + 1),
                MICRO_TIMEOUT_S)
    results, env, harts_online = {}, {}, None
    try:
        while True:
            i = s.expect([r"BENCH[^\r\n]*\r*\n", r"GUEST micro DONE status=(\d+)",
                          r"vireo:" + ESC + r" (\d+) harts? online"], what="the micro kernel")
            if i == 2:
                harts_online = int(s.child.match.group(1))
                continue
            if i == 1:
                if s.child.match.group(1) != "0":
                    raise Skip("the micro kernel failed (status %s)" % s.child.match.group(1))
                break
            line = s.child.match.group(0).strip()
            if line.startswith("BENCH-ENV "):
                env = parse_kv(line[len("BENCH-ENV "):])
                continue
            m = BENCH_RE.match(line)
            if m:
                results[m.group(1)] = parse_kv(m.group(2))
    finally:
        s.close()
    env["harts_online"] = harts_online
    return results, env


def micro_figures(raw, timebase):
    """Per-operation figures from a BENCH line: instret, time-based ns, or a skip reason."""
    if "skipped" in raw:
        return {"skipped": raw["skipped"]}
    iters = int(raw["iters"])
    instret = int(raw["instret_total"]) / iters
    ns = int(raw["ticks_total"]) * 1e9 / timebase / iters
    return {"instret": instret, "ns": ns, "iters": iters,
            "instret_total": int(raw["instret_total"]), "ticks_total": int(raw["ticks_total"])}


MICRO_NAMES = ["loop", "sbi_null", "mmio_lsr", "timer_sbi", "timer_sstc", "ipi", "irq_uart",
               "irq_uart_cycle"]


def bench_micro(tool, features, runs_wall, runs_icount, store):
    """store[(name, mode, kind)] = list of samples; kind is 'insn' or 'ns'."""
    checks = []
    for icount, runs in ((False, runs_wall), (True, runs_icount)):
        for r in range(runs):
            for mode in ("bare", "vireo"):
                what = "micro %s%s run %d/%d" % (mode, " -icount" if icount else "", r + 1, runs)
                try:
                    results, env = attempt(store, what, "micro-%s%s-%d" % (
                        mode, "-icount" if icount else "", r + 1), micro_once, tool, features,
                        mode, icount, r)
                except Skip as e:
                    log("  %s: skipped: %s" % (what, e))
                    store.setdefault(("micro-skip", mode, icount), str(e))
                    continue
                timebase = int(env.get("timebase", TIMEBASE_HZ)) or TIMEBASE_HZ
                if icount and env.get("harts_online") is not None:
                    store[("icount-harts-online", mode)] = env["harts_online"]
                store[("micro-env", mode)] = env
                summary = []
                for name in MICRO_NAMES:
                    if name not in results:
                        continue
                    f = micro_figures(results[name], timebase)
                    if "skipped" in f:
                        store.setdefault((name, mode, "skip" + ("-icount" if icount else "")),
                                         f["skipped"])
                        continue
                    if icount:
                        # Under -icount, instret and virtual time both count every
                        # instruction of every mode; keep both to check they agree.
                        store.setdefault((name, mode, "insn"), []).append(f["instret"])
                        checks.append((name, mode, f))
                        summary.append("%s=%.0f insn" % (name, f["instret"]))
                    else:
                        store.setdefault((name, mode, "ns"), []).append(f["ns"])
                        summary.append("%s=%.0f ns" % (name, f["ns"]))
                log("  %s: %s" % (what, ", ".join(summary)))
    store["icount-checks"] = checks


def icount_check(checks):
    """Verify the -icount claims; returns (ok, lines of explanation)."""
    lines, ok = [], True
    loops = [f["instret"] for name, mode, f in checks if name == "loop"]
    if loops:
        worst = max(abs(x - 2.0) for x in loops)
        good = worst < 0.01
        ok &= good
        lines.append("calibration loop (addi+bnez): %s instructions/iteration by instret, "
                     "expected 2 (%s)" % ("/".join("%.3f" % x for x in loops),
                                          "ok" if good else "MISMATCH"))
    worst_gap = 0.0
    for name, mode, f in checks:
        # time ticks at 10 MHz are 100 ns = 100 instructions each: they agree within a tick.
        # Per operation they must agree within one tick (100 instructions); the span
        # benchmarks read the clocks twice, the per-interrupt ones twice per operation.
        gap = abs(f["instret_total"] - f["ticks_total"] * 100) / f["iters"]
        limit = 100.0
        worst_gap = max(worst_gap, gap)
        if gap > limit:
            ok = False
            lines.append("instret and time disagree for %s (%s): %d vs %d x 100"
                         % (name, mode, f["instret_total"], f["ticks_total"]))
    if checks:
        lines.append("instret and 100 x time ticks agree for every benchmark (largest "
                     "difference %.2f instructions per operation; a tick is 100)" % worst_gap)
    return ok, lines


# ---------------------------------------------------------------- Linux


def make_disk(directory):
    """A raw disk image, fully written (no holes), so that reads cost the same in every run."""
    name = os.path.join(directory, "disk.img")
    chunk = b"\0" * (1 << 20)
    with open(name, "wb") as f:
        for _ in range(DISK_MIB):
            f.write(chunk)
    return name


# The guest's dd is BusyBox's, built without its "bytes copied" line: the shell's
# `time` (BusyBox's applet: "real\t0m 1.23s") times it, and the records tell the size.
DD_RECORDS_RE = re.compile(r"(\d+)\+(\d+) records out")
DD_TIME_RE = re.compile(r"real\s+(?:(\d+)m)?\s*([0-9.]+)s")


def run_dd(s, command, block):
    """Run dd with `time`; return MB/s (10^6 bytes a second). `block`: dd's bs in bytes."""
    out = s.shell("time " + command, timeout=300)
    rec, took = DD_RECORDS_RE.search(out), DD_TIME_RE.search(out)
    if not rec or not took:
        raise Skip("dd failed: " + " ".join(out.split())[-160:])
    nbytes = int(rec.group(1)) * block
    secs = int(took.group(1) or 0) * 60 + float(took.group(2))
    if nbytes <= 0 or secs <= 0:
        raise Skip("dd copied nothing or reported no time")
    return nbytes / secs / 1e6


STATS_RE = r"vireo-stats:" + ESC + r" vm=%s ([^\r\n]*)\r*\n"  # the whole line


def read_stats(s, vm):
    s.child.send(HOTKEY_STATS)
    s.expect(STATS_RE % re.escape(vm), timeout=30, what="a vireo-stats line")
    return {k: int(v) for k, v in parse_kv(s.child.match.group(1)).items() if v.isdigit()}


def linux_session(tool, features, mode, disk, idle, run):
    """Boot Linux, time the prompt; optionally idle exits (Vireo) and dd on the disk."""
    global TIMEBASE_HZ
    image, initrd = path(BUILD, "linux", "Image"), path(BUILD, "linux", "initramfs.cpio")
    use_disk = disk is not None and (mode == "bare" or features["disk"])
    if mode == "vireo":
        spec = "name=linux,kernel=%s,initrd=%s,memory=256M,vcpus=2" % (image, initrd)
        if use_disk:
            spec += ",disk=0"
        spec += ",bootargs=console=ttyS0"
        argv = vireo_argv(tool, [spec], disks=[disk] if use_disk else ())
    else:
        argv = bare_argv(image, initrd=initrd, append="console=ttyS0",
                         disk=disk if use_disk else None)
    s = Session(argv, "linux-%s-%d" % (mode, run + 1), BOOT_TIMEOUT_S)
    out = {"phases": {}}
    try:
        # Milestones on the way to the prompt, for the boot-time breakdown.
        marks = [("firmware", r"OpenSBI v\d"), ("hypervisor", r"Vireo \d+\.\d+"),
                 ("harts", r"vireo:" + ESC + r" \d+ harts? online"),
                 ("vm_create", r"vireo:" + ESC + r" VM '[^'\r\n]+': (?:Linux Image|ELF|flat)"),
                 ("vm_start", r"vireo:" + ESC + r" VM '[^'\r\n]+': starting"),
                 ("prompt", re.escape(PROMPT))]
        text = ""
        while True:
            i = s.expect([m[1] for m in marks], what="the prompt")
            out["phases"].setdefault(marks[i][0], s.elapsed())
            text += s.child.before
            m = re.search(r"vireo:" + ESC + r" timebase (\d+) Hz", s.child.before)
            if m:
                TIMEBASE_HZ = int(m.group(1))
            if marks[i][0] == "prompt":
                break
        out["boot_s"] = out["phases"]["prompt"]
        if mode == "vireo":
            out["sstc"] = re.search(r"Sstc:" + ESC + r" present", text) is not None
        if idle and mode == "vireo":
            time.sleep(IDLE_SETTLE_S)
            first = read_stats(s, "linux")
            time.sleep(IDLE_WINDOW_S)
            second = read_stats(s, "linux")
            secs = (second["time"] - first["time"]) / TIMEBASE_HZ
            out["idle"] = {k: (second[k] - first.get(k, 0)) / secs
                           for k in second if k != "time"}
            for k in first:
                if k != "time":
                    out["idle"].setdefault(k, 0.0)
            out["idle_window_s"] = secs
        if use_disk:
            out["read_MBps"], out["write_MBps"] = [], []
            for _ in range(DD_REPEAT):
                out["read_MBps"].append(run_dd(s, "dd if=/dev/vda of=/dev/null bs=1M "
                                               "count=%d iflag=direct" % DD_MIB, 1 << 20))
                out["write_MBps"].append(run_dd(s, "dd if=/dev/zero of=/dev/vda bs=1M "
                                                "count=%d oflag=direct conv=fsync" % DD_MIB,
                                                1 << 20))
        elif disk is not None:
            out["disk_skip"] = "the host tool has no --disk"
    finally:
        s.close(poweroff=True)
    return out


INIT_RE = r"\[\s*(\d+\.\d+)\] Run /init as init process"
ICOUNT = "-icount shift=0,sleep=off"


def linux_icount_session(tool, features, mode, run):
    """Boot Linux under -icount (1 ns of virtual time per instruction, any hart, any
    mode; idle time warps to the next timer instead of passing in real time): the
    kernel's timestamp of `Run /init` is the virtual time its boot took, the same on
    every run. Under Vireo, also the exits to the prompt, by cause."""
    image, initrd = path(BUILD, "linux", "Image"), path(BUILD, "linux", "initramfs.cpio")
    if mode == "vireo":
        if not features["qemu_arg"]:
            raise Skip("the host tool has no --qemu-arg")
        spec = "name=linux,kernel=%s,initrd=%s,memory=256M,vcpus=2,bootargs=console=ttyS0" % (
            image, initrd)
        argv = vireo_argv(tool, [spec], qemu_args=[ICOUNT])
    else:
        argv = bare_argv(image, initrd=initrd, append="console=ttyS0")
        argv += ICOUNT.split()
    s = Session(argv, "linux-icount-%s-%d" % (mode, run + 1), BOOT_TIMEOUT_S * 4)
    out = {}
    try:
        s.expect(INIT_RE, timeout=BOOT_TIMEOUT_S * 4, what="Run /init")
        out["insn"] = float(s.child.match.group(1)) * 1e9
        s.expect(re.escape(PROMPT), timeout=BOOT_TIMEOUT_S * 4, what="the prompt")
        if mode == "vireo":
            out["exits"] = read_stats(s, "linux")
    finally:
        s.close(poweroff=True)
    return out


def bench_linux_icount(tool, features, runs, store):
    for r in range(runs):
        for mode in ("bare", "vireo"):
            what = "linux -icount %s run %d/%d" % (mode, r + 1, runs)
            try:
                out = attempt(store, what, "linux-icount-%s-%d" % (mode, r + 1),
                              linux_icount_session, tool, features, mode, r)
            except Skip as e:
                log("  %s: skipped: %s" % (what, e))
                store.setdefault(("linux-icount-skip", mode), str(e))
                continue
            store.setdefault(("boot-insn", mode), []).append(out["insn"])
            if "exits" in out:
                store.setdefault("boot-exits", []).append(out["exits"])
            log("  %s: %.3g instructions%s" % (what, out["insn"], "" if "exits" not in out else
                                               ", %d exits" % out["exits"].get("exits", 0)))


def bench_linux(tool, features, runs, runs_idle, store):
    with tempfile.TemporaryDirectory(prefix="vireo-bench-") as tmp:
        disk = make_disk(tmp)
        for r in range(runs):
            # Alternate which side goes first, so that a slow patch of the host hits both.
            order = ("bare", "vireo") if r % 2 == 0 else ("vireo", "bare")
            for mode in order:
                idle = mode == "vireo" and r < runs_idle
                what = "linux %s run %d/%d" % (mode, r + 1, runs)
                try:
                    out = attempt(store, what, "linux-%s-%d" % (mode, r + 1), linux_session,
                                  tool, features, mode, disk, idle, r)
                except Skip as e:
                    log("  %s: skipped: %s" % (what, e))
                    store.setdefault(("linux-skip", mode), str(e))
                    continue
                parts = ["boot %.2f s" % out["boot_s"]]
                store.setdefault(("phases", mode), []).append(out["phases"])
                store.setdefault(("boot", mode), []).append(out["boot_s"])
                for key in ("read_MBps", "write_MBps"):
                    if key in out:
                        store.setdefault((key, mode), []).extend(out[key])
                        store.setdefault((key, mode, "first"), []).append(out[key][0])
                        store.setdefault((key, mode, "later"), []).extend(out[key][1:])
                        parts.append("%s %s MB/s" % (key.split("_")[0], "/".join(
                            "%.0f" % x for x in out[key])))
                if "disk_skip" in out:
                    store[("disk-skip", mode)] = out["disk_skip"]
                if "sstc" in out:
                    store["sstc"] = out["sstc"]
                if "idle" in out:
                    store.setdefault("idle", []).append(out["idle"])
                    parts.append("idle %.2f exits/s" % out["idle"].get("exits", 0))
                log("  %s: %s" % (what, ", ".join(parts)))


# ---------------------------------------------------------------- scaling


def scale_session(tool, nvms, run):
    image, initrd = path(BUILD, "linux", "Image"), path(BUILD, "linux", "initramfs.cpio")
    specs = ["name=vm%d,kernel=%s,initrd=%s,memory=256M,vcpus=1,bootargs=console=ttyS0"
             % (i, image, initrd) for i in range(nvms)]
    s = Session(vireo_argv(tool, specs, smp=4, mem="2G"), "scale-%d-%d" % (nvms, run + 1),
                BOOT_TIMEOUT_S)
    seen = set()
    try:
        while len(seen) < nvms:
            if nvms == 1:
                s.expect_exact(PROMPT)
                seen.add("vm0")
            else:
                # With several VMs, Vireo tags each console line with "[name] ".
                s.expect(r"\[(vm\d+)\]" + ESC + r" vireo#", what="every VM's prompt")
                seen.add(s.child.match.group(1))
        return s.elapsed()
    except Skip as e:
        # For the log: what the VMs that never got there are doing.
        missing = sorted({"vm%d" % i for i in range(nvms)} - seen)
        try:
            s.child.send(HOTKEY_STATS)
            s.child.expect(pexpect.TIMEOUT, timeout=3)
        except (pexpect.EOF, OSError):
            pass
        raise Skip("%s (no prompt from %s)" % (e, ", ".join(missing))) from None
    finally:
        s.close()


def bare_one_cpu_session(run):
    image, initrd = path(BUILD, "linux", "Image"), path(BUILD, "linux", "initramfs.cpio")
    s = Session(bare_argv(image, smp=1, initrd=initrd, append="console=ttyS0"),
                "scale-bare-%d" % (run + 1), BOOT_TIMEOUT_S)
    try:
        s.expect_exact(PROMPT)
        return s.elapsed()
    finally:
        s.close()


def bench_scale(tool, runs, store):
    for r in range(runs):
        try:
            t = attempt(store, "scaling bare run %d" % (r + 1), "scale-bare-%d" % (r + 1),
                        bare_one_cpu_session, r)
            store.setdefault(("scale", 0), []).append(t)
            log("  scaling bare 1 CPU run %d/%d: %.2f s" % (r + 1, runs, t))
        except Skip as e:
            log("  scaling bare run %d/%d: skipped: %s" % (r + 1, runs, e))
        for n in (1, 2, 4):
            try:
                t = attempt(store, "scaling %d VM(s) run %d" % (n, r + 1),
                            "scale-%d-%d" % (n, r + 1), scale_session, tool, n, r)
            except Skip as e:
                log("  scaling %d VM(s) run %d/%d: skipped: %s" % (n, r + 1, runs, e))
                store.setdefault(("scale-skip", n), str(e))
                continue
            store.setdefault(("scale", n), []).append(t)
            log("  scaling %d VM(s) run %d/%d: all prompts after %.2f s" % (n, r + 1, runs, t))


# ---------------------------------------------------------------- guest AIA

AIA_MACHINE = "virt,aia=aplic-imsic,aia-guests=2"
AIA_MICRO_BOOTARGS = "skip=loop,sbi_null,mmio_lsr,timer_sbi,timer_sstc,ipi"
AIA_4K_MIB = 16  # the small-block read: 4096 requests of 4 KiB, an interrupt each


def aia_micro_once(tool, features, mode, icount, run):
    """The micro kernel's device-interrupt benchmark on the AIA machine: under Vireo with
    guest AIA (mode "aia") or with the virtual PLIC ("plic"), or bare ("bare")."""
    kernel = path(BUILD, "bench", "micro.bin")
    if mode == "bare":
        argv = bare_argv(kernel, append=AIA_MICRO_BOOTARGS, icount=icount, machine=AIA_MACHINE)
    else:
        if icount and not features["qemu_arg"]:
            raise Skip("the host tool has no --qemu-arg")
        spec = "name=micro,kernel=%s,vcpus=2,irqchip=%s,bootargs=%s" % (
            kernel, mode, AIA_MICRO_BOOTARGS)
        argv = vireo_argv(tool, [spec], qemu_args=["-icount shift=0"] if icount else (),
                          machine=AIA_MACHINE)
    s = Session(argv, "aia-micro-%s%s-%d" % (mode, "-icount" if icount else "", run + 1),
                MICRO_TIMEOUT_S)
    results, env = {}, {}
    try:
        while True:
            i = s.expect([r"BENCH[^\r\n]*\r*\n", r"GUEST micro DONE status=(\d+)"],
                         what="the micro kernel")
            if i == 1:
                if s.child.match.group(1) != "0":
                    raise Skip("the micro kernel failed (status %s)" % s.child.match.group(1))
                break
            line = s.child.match.group(0).strip()
            if line.startswith("BENCH-ENV "):
                env.update(parse_kv(line[len("BENCH-ENV "):]))
                continue
            m = BENCH_RE.match(line)
            if m:
                results[m.group(1)] = parse_kv(m.group(2))
    finally:
        s.close()
    want = "plic" if mode == "plic" else "aplic-imsic"
    if env.get("irqchip") != want:
        raise Skip("the guest saw %s, not %s" % (env.get("irqchip"), want))
    return results, env


def aia_linux_session(tool, irqchip, disk, run):
    """Linux on the AIA machine with guest AIA or the virtual PLIC: boot, then disk reads
    and writes of 1 MiB records and reads of 4 KiB records (interrupt-bound)."""
    image, initrd = path(BUILD, "linux", "Image"), path(BUILD, "linux", "initramfs.cpio")
    spec = ("name=linux,kernel=%s,initrd=%s,memory=256M,vcpus=2,disk=0,irqchip=%s,"
            "bootargs=console=ttyS0" % (image, initrd, irqchip))
    s = Session(vireo_argv(tool, [spec], disks=[disk], machine=AIA_MACHINE),
                "aia-linux-%s-%d" % (irqchip, run + 1), BOOT_TIMEOUT_S)
    out = {}
    try:
        s.expect_exact(PROMPT)
        out["boot_s"] = s.elapsed()
        dmesg = s.shell("dmesg | grep -c -E 'riscv-imsic|riscv-plic'; "
                        "dmesg | grep -o -m1 -E 'riscv-(imsic|plic)'")
        want = "riscv-imsic" if irqchip == "aia" else "riscv-plic"
        if want not in dmesg:
            raise Skip("the guest did not use %s" % want)
        out["read_MBps"] = run_dd(s, "dd if=/dev/vda of=/dev/null bs=1M count=%d iflag=direct"
                                  % DD_MIB, 1 << 20)
        out["write_MBps"] = run_dd(s, "dd if=/dev/zero of=/dev/vda bs=1M count=%d "
                                   "oflag=direct conv=fsync" % DD_MIB, 1 << 20)
        out["read4k_MBps"] = run_dd(s, "dd if=/dev/vda of=/dev/null bs=4k count=%d "
                                    "iflag=direct" % (AIA_4K_MIB * 256), 4096)
    finally:
        s.close(poweroff=True)
    return out


AIA_MODES = ("aia", "plic", "bare")


def bench_aia(tool, features, runs_micro, runs_icount, runs_linux, store):
    """store[("aia", name, mode, kind)] = samples; mode in AIA_MODES."""
    for icount, runs in ((False, runs_micro), (True, runs_icount)):
        for r in range(runs):
            for mode in AIA_MODES:
                what = "aia micro %s%s run %d/%d" % (mode, " -icount" if icount else "", r + 1,
                                                    runs)
                try:
                    results, env = attempt(store, what, "aia-micro-%s%s-%d" % (
                        mode, "-icount" if icount else "", r + 1), aia_micro_once, tool,
                        features, mode, icount, r)
                except Skip as e:
                    log("  %s: skipped: %s" % (what, e))
                    store.setdefault(("aia-skip", mode), str(e))
                    continue
                timebase = int(env.get("timebase", TIMEBASE_HZ)) or TIMEBASE_HZ
                summary = []
                for name in ("irq_uart", "irq_uart_cycle"):
                    if name not in results:
                        continue
                    f = micro_figures(results[name], timebase)
                    if "skipped" in f:
                        continue
                    kind, value = ("insn", f["instret"]) if icount else ("ns", f["ns"])
                    store.setdefault(("aia", name, mode, kind), []).append(value)
                    summary.append("%s=%s" % (name, (fmt_insn if icount else fmt_ns)(value)))
                log("  %s: %s" % (what, ", ".join(summary)))
    with tempfile.TemporaryDirectory(prefix="vireo-bench-") as tmp:
        disk = make_disk(tmp)
        for r in range(runs_linux):
            for irqchip in (("aia", "plic") if r % 2 == 0 else ("plic", "aia")):
                what = "aia linux irqchip=%s run %d/%d" % (irqchip, r + 1, runs_linux)
                try:
                    out = attempt(store, what, "aia-linux-%s-%d" % (irqchip, r + 1),
                                  aia_linux_session, tool, irqchip, disk, r)
                except Skip as e:
                    log("  %s: skipped: %s" % (what, e))
                    store.setdefault(("aia-skip", irqchip), str(e))
                    continue
                for key in ("boot_s", "read_MBps", "write_MBps", "read4k_MBps"):
                    store.setdefault(("aia", key, irqchip, "linux"), []).append(out[key])
                log("  %s: boot %.2f s, read %.0f, write %.0f, 4k reads %.1f MB/s" % (
                    what, out["boot_s"], out["read_MBps"], out["write_MBps"],
                    out["read4k_MBps"]))


def aia_rows(store):
    """(label, fmt, samples by mode) for the guest-AIA table."""
    rows = []
    for kind, unit, fmt in (("ns", "wall", fmt_ns), ("insn", "instructions, -icount",
                                                     fmt_insn)):
        for name, label in (("irq_uart", "UART interrupt: line up → handler"),
                            ("irq_uart_cycle", "UART interrupt: line up → handled and "
                                               "claimed")):
            rows.append(("%s (%s)" % (label, unit), fmt,
                         {m: store.get(("aia", name, m, kind), []) for m in AIA_MODES}))
    for key, label, fmt in (("boot_s", "Linux boot to the prompt", fmt_s),
                            ("read_MBps", "disk read, dd %d MiB in 1 MiB O_DIRECT" % DD_MIB,
                             fmt_mbps),
                            ("write_MBps", "disk write, dd %d MiB in 1 MiB O_DIRECT+fsync"
                             % DD_MIB, fmt_mbps),
                            ("read4k_MBps", "disk read, dd %d MiB in 4 KiB O_DIRECT"
                             % AIA_4K_MIB, lambda x: "%.2f MB/s" % x)):
        rows.append((label, fmt, {m: store.get(("aia", key, m, "linux"), [])
                                  for m in ("aia", "plic")}))
    return rows


def aia_table(store, markdown):
    head = ["benchmark (%s)" % AIA_MACHINE, "guest AIA", "virtual PLIC", "AIA / PLIC",
            "bare QEMU"]
    lines = []
    for label, fmt, by in aia_rows(store):
        a, p, b = med(by.get("aia", [])), med(by.get("plic", [])), med(by.get("bare", []))
        if a is None and p is None:
            continue
        lines.append([label, fmt(a) if a is not None else "—", fmt(p) if p is not None else "—",
                      "%.2f×" % (a / p) if a is not None and p else "—",
                      fmt(b) if b is not None else "—"])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|---|---:|---:|---:|---:|"]
        out += ["| " + " | ".join(c) + " |" for c in lines]
        return out
    widths = [max(len(head[i]), *(len(c[i]) for c in lines)) if lines else len(head[i])
              for i in range(len(head))]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)),
           "  ".join("-" * w for w in widths)]
    out += ["  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip() for c in lines]
    return out


def aia_md(store):
    rows = aia_rows(store)
    if not any(any(v for v in by.values()) for _, _, by in rows):
        return []
    out = ["", "### Guest AIA against the virtual PLIC", "",
           "On `-machine %s`: the same guest under Vireo with `irqchip=aia` (an APLIC in MSI "
           "mode and an IMSIC file per vCPU, here hardware guest interrupt files) and with "
           "`irqchip=plic` (the virtual PLIC), and bare on plain QEMU with the same machine "
           "(the micro kernel programs QEMU's APLIC and IMSIC itself). The UART interrupt: "
           "the micro kernel enables the UART's transmitter-empty interrupt (one trapped "
           "MMIO write under Vireo, the same in both), its line rises at once; the handler "
           "lowers it and claims the interrupt (the PLIC's claim and complete are two more "
           "trapped accesses; the IMSIC's claim is a CSR of the guest's own file). Disk: "
           "Linux with 2 vCPUs, 256 MiB. Medians; the samples follow." % AIA_MACHINE, ""]
    out += aia_table(store, True)
    out += ["", "| benchmark | guest AIA | virtual PLIC | bare |", "|---|---|---|---|"]
    for label, fmt, by in rows:
        if any(by.values()):
            out.append("| %s | %s | %s | %s |" % (label, spread(by.get("aia", []), fmt),
                                                   spread(by.get("plic", []), fmt),
                                                   spread(by.get("bare", []), fmt)))
    if store.get(("aia-skip", "aia")) or store.get(("aia-skip", "plic")):
        out += ["", "Skipped: " + "; ".join("%s: %s" % (m, store[("aia-skip", m)])
                                              for m in AIA_MODES if ("aia-skip", m) in store)]
    return out


# ---------------------------------------------------------------- exec


def exec_hello_bare(run):
    """Plain QEMU, the same kernel, initramfs and command line as vireo exec gives its VM,
    the agent's port straight on QEMU's virtio-serial: seconds until the agent's AG_HELLO."""
    image, initrd = path(BUILD, "linux", "Image"), path(BUILD, "linux", "initramfs.cpio")
    mine, qemus = socket.socketpair()
    argv = [QEMU] + MACHINE + EXEC_VM + [
        "-kernel", image, "-initrd", initrd, "-append", EXEC_BOOTARGS,
        "-device", "virtio-serial-device",
        "-chardev", "socket,id=agent,fd=%d" % qemus.fileno(),
        "-device", "virtserialport,chardev=agent,name=org.vireo.agent",
        "-global", "virtio-mmio.force-legacy=false"]
    os.makedirs(path(BUILD, "bench", "logs"), exist_ok=True)
    with open(path(BUILD, "bench", "logs", "exec-hello-bare-%d.log" % (run + 1)), "w") as log_f:
        start = time.monotonic()
        p = subprocess.Popen(argv, pass_fds=[qemus.fileno()], stdin=subprocess.DEVNULL,
                             stdout=log_f, stderr=subprocess.STDOUT)
        qemus.close()
        got = b""
        try:
            mine.settimeout(BOOT_TIMEOUT_S)
            while len(got) < 8 or len(got) < 8 + struct.unpack("<I", got[:4])[0]:
                chunk = mine.recv(4096)
                if not chunk:
                    raise Skip("QEMU closed the agent's port before its hello")
                got += chunk
            took = time.monotonic() - start
        except socket.timeout:
            raise Skip("no hello from the agent in %d s" % BOOT_TIMEOUT_S) from None
        finally:
            p.kill()
            p.wait()
            mine.close()
    if struct.unpack("<IHH", got[:8])[1] != 1:
        raise Skip("the agent's first message is not AG_HELLO")
    return took


def exec_true(tool, mode, run):
    """`vireo exec [--bare] -- true`, from the start of the command to its exit."""
    argv = tool + ["exec"] + (["--bare"] if mode == "bare" else []) + ["--", "true"]
    start = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, timeout=EXEC_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Skip("vireo exec -- true took more than %d s" % EXEC_TIMEOUT_S) from None
    took = time.monotonic() - start
    if r.returncode != 0:
        raise Skip("vireo exec -- true: status %d: %s" % (
            r.returncode, " ".join(r.stderr.decode(errors="replace").split())[-200:]))
    return took


def exec_throughput(tool, mode, run):
    """MB/s of a guest's dd through vireo exec's stdout, from the first byte to the end."""
    argv = tool + ["exec"] + (["--bare"] if mode == "bare" else []) + [
        "--", "dd", "if=/dev/zero", "bs=64k", "count=%d" % (EXEC_MIB * 16)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first, n = None, 0
    deadline = time.monotonic() + EXEC_TIMEOUT_S
    while time.monotonic() < deadline:
        chunk = p.stdout.read1(1 << 20)
        if not chunk:
            break
        if first is None:
            first = time.monotonic()
        n += len(chunk)
    end = time.monotonic()
    if p.poll() is None:
        p.kill()
    status = p.wait()
    if status != 0 or n != EXEC_MIB << 20 or first is None:
        raise Skip("dd through vireo exec: status %s, %d of %d bytes" % (status, n, EXEC_MIB << 20))
    return n / (end - first) / 1e6


def bench_exec(tool, runs, store):
    for r in range(runs):
        # Alternate which side goes first, so that a slow patch of the host hits both.
        for mode in (("bare", "vireo") if r % 2 == 0 else ("vireo", "bare")):
            jobs = [("exec-boot", "%s boot to hello" % mode if mode == "bare" else
                     "vireo exec -- true", exec_hello_bare if mode == "bare" else exec_true,
                     (r,) if mode == "bare" else (tool, mode, r)),
                    ("exec-tput", "%s stdout throughput" % mode, exec_throughput,
                     (tool, mode, r))]
            if mode == "bare":
                jobs.append(("exec-true-bare", "vireo exec --bare -- true", exec_true,
                             (tool, mode, r)))
            for key, what, fn, args in jobs:
                label = "%s run %d/%d" % (what, r + 1, runs)
                try:
                    x = attempt(store, label, "%s-%s-%d" % (key, mode, r + 1), fn, *args)
                except Skip as e:
                    log("  %s: skipped: %s" % (label, e))
                    store.setdefault((key + "-skip", mode), str(e))
                    continue
                store.setdefault((key, mode), []).append(x)
                log("  %s: %s" % (label, "%.2f s" % x if key != "exec-tput" else "%.1f MB/s" % x))


# ---------------------------------------------------------------- machine (issue #14)

MACHINE_CYCLES = 200  # VM create/destroy cycles per run


def machine_cli(tool, env, *args, timeout=EXEC_TIMEOUT_S):
    r = subprocess.run(tool + list(args), capture_output=True, timeout=timeout, env=env)
    if r.returncode != 0:
        raise Skip("vireo %s: status %d: %s" % (" ".join(args[:2]), r.returncode, " ".join(
            r.stderr.decode(errors="replace").split())[-200:]))
    return r


def wait_agent(tool, env, machine, vm, timeout=BOOT_TIMEOUT_S):
    """Until `vireo vm ls` says the VM's agent has said hello."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in machine_cli(tool, env, "vm", "ls", "--machine", machine).stdout.decode() \
                .splitlines()[1:]:
            f = line.split()
            if f[0] == vm and f[6] == "yes":
                return
        time.sleep(0.02)
    raise Skip("VM %s: no agent hello" % vm)


def forked_last_exec(rt, machine):
    """Did the machine's last exec fork the template? (else the log says why it booted)."""
    with open(os.path.join(rt, machine, "console.log"), errors="replace") as f:
        lines = [x for x in f.read().splitlines() if x.startswith("vireo-machine: exec")]
    if lines and "is a fork of the template" in lines[-1]:
        return True, None
    return False, lines[-1] if lines else "no template (see console.log)"


def bench_machine_snap(tool, env, name, rt, r, store):
    """A booted Linux VM saved to a file, restored (and used) against one booted and
    used, and forked once paused."""
    snap = os.path.join(rt, "vm.snap")
    vm, restored, booted, fork = "s%d" % r, "r%d" % r, "b%d" % r, "f%d" % r
    try:
        machine_cli(tool, env, "vm", "create", vm, "--start", "--machine", name)
        wait_agent(tool, env, name, vm)
        t = time.monotonic()
        machine_cli(tool, env, "vm", "snapshot", vm, snap, "--machine", name)
        store.setdefault(("machine-snapshot", "vireo"), []).append(time.monotonic() - t)
        store[("machine-snapshot-size", "vireo")] = os.path.getsize(snap)
        t = time.monotonic()
        machine_cli(tool, env, "vm", "restore", restored, snap, "--start", "--machine", name)
        restore = time.monotonic() - t
        machine_cli(tool, env, "exec", "--machine", name, "--vm", restored, "--", "true")
        store.setdefault(("machine-restore", "vireo"), []).append(time.monotonic() - t)
        store.setdefault(("machine-restore-cli", "vireo"), []).append(restore)
        t = time.monotonic()
        machine_cli(tool, env, "vm", "create", booted, "--start", "--machine", name)
        wait_agent(tool, env, name, booted)
        machine_cli(tool, env, "exec", "--machine", name, "--vm", booted, "--", "true")
        store.setdefault(("machine-restore", "boot"), []).append(time.monotonic() - t)
        log("  snapshot / restore+exec / boot+exec run %d: %.3f / %.3f / %.3f s" % (
            r + 1, store[("machine-snapshot", "vireo")][-1],
            store[("machine-restore", "vireo")][-1], store[("machine-restore", "boot")][-1]))
    except Skip as e:
        store.setdefault(("machine-snapshot-skip", "vireo"), str(e))
        log("  snapshot/restore: skipped: %s" % e)
    try:
        machine_cli(tool, env, "vm", "pause", vm, "--machine", name)
        t = time.monotonic()
        machine_cli(tool, env, "vm", "fork", vm, fork, "--start", "--machine", name)
        store.setdefault(("machine-fork", "vireo"), []).append(time.monotonic() - t)
        log("  vm fork run %d: %.3f s" % (r + 1, store[("machine-fork", "vireo")][-1]))
    except Skip as e:
        store.setdefault(("machine-fork-skip", "vireo"), str(e))
        log("  vm fork: skipped: %s" % e)
    for v in (vm, restored, booted, fork):
        subprocess.run(tool + ["vm", "rm", v, "--machine", name], capture_output=True, env=env,
                       timeout=60)


def bench_machine(tool, runs, store):
    """One machine for all runs, with its template for exec: how long `vireo machine start`
    takes; `vireo exec --machine M -- true` forked from the template, `... --fresh` (a VM
    booted for it) and a plain `vireo exec -- true`; VM create/destroy cycles per second
    through the daemon (a small test kernel, each cycle two CLI calls, every other VM
    started); a Linux VM's snapshot, restore (against a boot) and fork. Then a machine
    with a spare VM and no template: exec taking the spare."""
    rt = tempfile.mkdtemp(prefix="vireo-bench-rt-")
    env = dict(os.environ, VIREO_RUNTIME_DIR=rt)
    kernel = path(BUILD, "guests", "hello.bin")
    name = "bench"
    start = time.monotonic()
    try:
        # Room for the template, and the saved, the restored and the booted VM at once.
        machine_cli(tool, env, "machine", "start", "--name", name, "--memory", "1536M")
    except Skip as e:
        store[("machine-skip", "vireo")] = str(e)
        log("  machine start: skipped: %s" % e)
        return
    store.setdefault(("machine-start", "vireo"), []).append(time.monotonic() - start)
    try:
        for r in range(runs):
            for side in (("machine", "fresh", "plain") if r % 2 == 0
                         else ("plain", "fresh", "machine")):
                argv = ["exec"] + {"machine": ["--machine", name],
                                   "fresh": ["--machine", name, "--fresh"], "plain": []}[side]
                argv += ["--", "true"]
                t = time.monotonic()
                try:
                    machine_cli(tool, env, *argv)
                except Skip as e:
                    store.setdefault(("machine-exec-skip", side), str(e))
                    continue
                took = time.monotonic() - t
                if side == "machine":
                    forked, why = forked_last_exec(rt, name)
                    if not forked:
                        store.setdefault(("machine-exec-skip", side), "it booted: " + why)
                        continue
                store.setdefault(("machine-exec", side), []).append(took)
                log("  exec %s-- true run %d/%d: %.3f s" % (
                    {"machine": "--machine M ", "fresh": "--machine M --fresh ",
                     "plain": ""}[side], r + 1, runs, took))
            bench_machine_snap(tool, env, name, rt, r, store)
            spec = "kernel=%s,memory=16M,testdev" % kernel
            t = time.monotonic()
            try:
                for i in range(MACHINE_CYCLES):
                    args = ["vm", "create", "c%d" % i, spec, "--machine", name]
                    machine_cli(tool, env, *(args + ["--start"] if i % 2 else args))
                    machine_cli(tool, env, "vm", "rm", "c%d" % i, "--machine", name)
            except Skip as e:
                store.setdefault(("machine-cycles-skip", "vireo"), str(e))
                continue
            rate = MACHINE_CYCLES / (time.monotonic() - t)
            store.setdefault(("machine-cycles", "vireo"), []).append(rate)
            log("  VM create/destroy run %d/%d: %.0f /s" % (r + 1, runs, rate))
    finally:
        subprocess.run(tool + ["machine", "stop", name], capture_output=True, env=env,
                       timeout=60)
    name = "bench-spare"
    try:
        machine_cli(tool, env, "machine", "start", "--name", name, "--memory", "1G",
                    "--spares", "1", "--no-template")
        for r in range(runs):
            deadline = time.monotonic() + BOOT_TIMEOUT_S
            while time.monotonic() < deadline and "spares_ready 1" not in \
                    machine_cli(tool, env, "machine", "info", name).stdout.decode():
                time.sleep(0.1)
            t = time.monotonic()
            machine_cli(tool, env, "exec", "--machine", name, "--", "true")
            store.setdefault(("machine-exec", "spare"), []).append(time.monotonic() - t)
            log("  exec --machine M -- true, a spare ready, run %d/%d: %.3f s" % (
                r + 1, runs, store[("machine-exec", "spare")][-1]))
    except Skip as e:
        store.setdefault(("machine-exec-skip", "spare"), str(e))
    finally:
        subprocess.run(tool + ["machine", "stop", name], capture_output=True, env=env,
                       timeout=60)
        shutil.rmtree(rt, ignore_errors=True)


# ---------------------------------------------------------------- the table


# ---------------------------------------------------------------- sandboxes

SANDBOX_FIGURES = [  # (name, unit, label, target, met(x))
    ("open", "wall_us", "sandbox: boot to ready (QEMU + Vireo + program), wall", None, None),
    ("call", "wall_us", "sandbox: call round trip host → guest → result, wall", None, None),
    ("hostcall", "wall_us", "sandbox: host-call round trip guest → host → guest, wall", None,
     None),
    ("catch_continue", "wall_us", "sandbox: catch (ebreak) → handler → continue, wall", None,
     None),
    ("reset_1", "wall_us", "sandbox: reset after 1 dirty page, wall", None, None),
    ("reset_8", "wall_us", "sandbox: reset after 8 dirty pages, wall", None, None),
    ("reset_64", "wall_us", "sandbox: reset after 64 dirty pages, wall", None, None),
    ("reset_full", "wall_us", "sandbox: full reset (all 4 MiB), wall", None, None),
    ("call", "insns", "sandbox: call round trip, machine insn (-icount)", None, None),
    ("hostcall", "insns", "sandbox: host-call round trip, machine insn (-icount)", None, None),
    ("catch_continue", "insns", "sandbox: catch-and-continue, machine insn (-icount)", None,
     None),
    ("catch_in_vireo", "insns", "sandbox: catch-and-continue, Vireo's catch and CONTINUE "
     "paths (-icount)", "< 500 insn", lambda x: x < 500),
    ("call_dirty_reset_1", "insns", "sandbox: call dirtying 1 page + reset, insn (-icount)",
     None, None),
    ("call_dirty_reset_8", "insns", "sandbox: call dirtying 8 pages + reset, insn (-icount)",
     None, None),
]


def sandbox_once(icount, run):
    exe = path(BUILD, "bench", "sbbench_host")
    argv = [exe, path(BUILD, "sandbox", "sbbench.elf")] + (["--icount"] if icount else [])
    env = dict(os.environ, VIREO_HYPERVISOR=path(BUILD, "vireo.bin"))
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        raise Skip("sbbench_host took more than 120 s") from None
    if r.returncode != 0:
        raise Skip("sbbench_host: status %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"sandbox (\w+) (wall_us|insns)=([0-9.]+)$", line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def bench_sandbox(runs, store):
    for icount in (False, True):
        for run in range(runs):
            try:
                got = sandbox_once(icount, run)
            except Skip as e:
                store[("sandbox-skip", icount)] = str(e)
                log("  sandbox%s: skipped: %s" % (" (-icount)" if icount else "", e))
                break
            for key, x in got.items():
                store.setdefault(("sandbox",) + key, []).append(x)
    for name, unit, label, _, _ in SANDBOX_FIGURES:
        xs = store.get(("sandbox", name, unit))
        if xs:
            log("  %s: %s" % (label, fmt_us(med(xs)) if unit == "wall_us" else fmt_insn(med(xs))))


def sandbox_rows(store):
    rows = []
    for name, unit, label, target, met in SANDBOX_FIGURES:
        xs = store.get(("sandbox", name, unit))
        if xs:
            rows.append(Row(label, med(xs), None, fmt_us if unit == "wall_us" else fmt_insn,
                            target, met(med(xs)) if met else None, vireo_samples=xs))
        else:
            rows.append(Row(label, target=target, note="skipped: " + str(
                store.get(("sandbox-skip", unit == "insns")) or "not run")))
    return rows


def fmt_us(x):
    return "%.0f µs" % x if x >= 100 else "%.1f µs" % x


def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs, fmt):
    if not xs:
        return ""
    return "%s (%s..%s, n=%d)" % (fmt(med(xs)), fmt(min(xs)), fmt(max(xs)), len(xs))


def fmt_s(x):
    return "%.2f s" % x


def fmt_ms(x):
    return "%.0f ms" % (x * 1000)


def fmt_insn(x):
    if x >= 1e6:
        return "%.1f M insn" % (x / 1e6)
    return "%.0f insn" % x if x >= 10 else "%.2f insn" % x


def fmt_ns(x):
    return "%.2f µs" % (x / 1000) if x >= 10000 else "%.0f ns" % x


def fmt_mbps(x):
    return "%.0f MB/s" % x


def fmt_rate(x):
    return "%.2f /s" % x


class Row:
    def __init__(self, name, vireo=None, bare=None, fmt=None, target=None, met=None,
                 ratio=None, note=None, vireo_samples=(), bare_samples=()):
        self.name, self.vireo, self.bare, self.fmt = name, vireo, bare, fmt
        self.target, self.met, self.note = target, met, note
        self.vireo_samples, self.bare_samples = list(vireo_samples), list(bare_samples)
        if ratio is None and vireo is not None and bare:
            ratio = vireo / bare
        self.ratio = ratio

    def cells(self, short=False):
        if self.note and self.vireo is None:
            return [self.name, "skipped (below)" if short else self.note, "", "",
                    self.target or "", "—"]
        v = self.fmt(self.vireo) if self.vireo is not None else "—"
        b = self.fmt(self.bare) if self.bare is not None else "—"
        r = "%.2f×" % self.ratio if self.ratio is not None else "—"
        met = {True: "yes", False: "**no**", None: "—"}[self.met]
        return [self.name, v, b, r, self.target or "", met]


def build_rows(store):
    rows = []

    def pair(key_v, key_b):
        return store.get(key_v, []), store.get(key_b, [])

    # Linux boot
    v, b = pair(("boot", "vireo"), ("boot", "bare"))
    if v and b:
        ratio = med(v) / med(b)
        rows.append(Row("Linux boot to `vireo# ` (wall, 2 vCPUs)", med(v), med(b), fmt_s,
                        "≤ 1.15× bare", ratio <= 1.15, vireo_samples=v, bare_samples=b))
    else:
        rows.append(Row("Linux boot to `vireo# ` (wall, 2 vCPUs)", target="≤ 1.15× bare",
                        note="skipped: " + str(store.get(("linux-skip", "vireo"))
                                               or store.get(("linux-skip", "bare")))))
    v, b = pair(("boot-insn", "vireo"), ("boot-insn", "bare"))
    if v and b:
        ratio = med(v) / med(b)
        rows.append(Row("Linux boot to `Run /init`, virtual time in insn (-icount, 2 vCPUs)",
                        med(v), med(b), fmt_insn, "≤ 1.15× bare", ratio <= 1.15,
                        vireo_samples=v, bare_samples=b))
    else:
        rows.append(Row("Linux boot, Linux's instructions (-icount)", target="≤ 1.15× bare",
                        note="skipped: " + str(store.get(("linux-icount-skip", "vireo"))
                                               or store.get(("linux-icount-skip", "bare"))
                                               or "not run")))
    # Disk
    for key, label in (("read_MBps", "disk read, dd %d MiB O_DIRECT" % DD_MIB),
                       ("write_MBps", "disk write, dd %d MiB O_DIRECT+fsync" % DD_MIB)):
        v, b = pair((key, "vireo"), (key, "bare"))
        if v and b:
            ratio = med(v) / med(b)
            rows.append(Row(label, med(v), med(b), fmt_mbps, "≥ 0.8× bare", ratio >= 0.8,
                            vireo_samples=v, bare_samples=b))
        else:
            why = store.get(("disk-skip", "vireo")) or store.get(("linux-skip", "vireo")) \
                or "no result"
            rows.append(Row(label, target="≥ 0.8× bare", note="skipped: " + why))
    # Idle exits
    idle = store.get("idle", [])
    if idle:
        total = [x.get("exits", 0.0) for x in idle]
        sstc = store.get("sstc")
        rows.append(Row("idle Linux, exits/s (%s)" % ("Sstc" if sstc else "no Sstc!"),
                        med(total), None, fmt_rate, "< 10 /s (with Sstc)",
                        (med(total) < 10) if sstc else None, vireo_samples=total))
    else:
        rows.append(Row("idle Linux, exits/s (Sstc)", target="< 10 /s",
                        note="skipped: " + str(store.get(("linux-skip", "vireo"), "no result"))))
    # Micro
    labels = {
        "sbi_null": "null SBI call (get_spec_version)",
        "mmio_lsr": "MMIO read, UART LSR",
        "timer_sbi": "timer: SBI set_timer → interrupt",
        "timer_sstc": "timer: stimecmp write → interrupt",
        "ipi": "IPI round trip, 2 harts",
        "irq_uart": "device interrupt (UART, PLIC): line up → handler",
        "irq_uart_cycle": "device interrupt (UART, PLIC): line up → handled and claimed",
    }
    for name in ("sbi_null", "mmio_lsr", "timer_sbi", "timer_sstc", "ipi", "irq_uart",
                 "irq_uart_cycle"):
        for kind, fmt, unit in (("insn", fmt_insn, "instructions, -icount"),
                                ("ns", fmt_ns, "wall")):
            label = "%s (%s)" % (labels[name], unit)
            v, b = pair((name, "vireo", kind), (name, "bare", kind))
            target, met = None, None
            if name == "sbi_null" and kind == "insn":
                target = "< bare (OpenSBI)"
                met = (med(v) < med(b)) if v and b else None
            if v and b:
                rows.append(Row(label, med(v), med(b), fmt, target, met,
                                vireo_samples=v, bare_samples=b))
            else:
                why = (store.get((name, "vireo", "skip-icount" if kind == "insn" else "skip"))
                       or store.get((name, "bare", "skip-icount" if kind == "insn" else "skip"))
                       or store.get(("micro-skip", "vireo", kind == "insn"))
                       or "no result")
                rows.append(Row(label, target=target, note="skipped: " + why))
    # vireo exec
    v, b = pair(("exec-boot", "vireo"), ("exec-boot", "bare"))
    label = "`vireo exec -- true` end to end vs bare boot to the agent's hello (1 vCPU)"
    if v and b:
        ratio = med(v) / med(b)
        rows.append(Row(label, med(v), med(b), fmt_s, "≤ 1.2× bare", ratio <= 1.2,
                        vireo_samples=v, bare_samples=b))
    else:
        rows.append(Row(label, target="≤ 1.2× bare", note="skipped: " + str(
            store.get(("exec-boot-skip", "vireo")) or store.get(("exec-boot-skip", "bare"))
            or "not run")))
    v, b = pair(("exec-tput", "vireo"), ("exec-tput", "bare"))
    label = "stdout through the channel, dd %d MiB (vireo exec vs --bare)" % EXEC_MIB
    if v and b:
        ratio = med(v) / med(b)
        rows.append(Row(label, med(v), med(b), fmt_mbps, "≥ 0.8× bare", ratio >= 0.8,
                        vireo_samples=v, bare_samples=b))
    else:
        rows.append(Row(label, target="≥ 0.8× bare", note="skipped: " + str(
            store.get(("exec-tput-skip", "vireo")) or store.get(("exec-tput-skip", "bare"))
            or "not run")))
    # Machine (issue #14): the bare column is a plain `vireo exec`, a QEMU of its own.
    v, b = pair(("machine-exec", "machine"), ("machine-exec", "plain"))
    label = ("`vireo exec --machine M -- true`, forked from the template (bare column: plain "
             "`vireo exec -- true`)")
    if v:
        rows.append(Row(label, med(v), med(b) if b else None, fmt_ms, "≤ 50 ms (#14)",
                        med(v) <= 0.05, vireo_samples=v, bare_samples=b))
    elif store.get(("machine-exec-skip", "machine")) or store.get(("machine-skip", "vireo")):
        rows.append(Row(label, target="≤ 50 ms (#14)", note="skipped: " + str(
            store.get(("machine-exec-skip", "machine")) or store.get(("machine-skip", "vireo")))))
    v, b = pair(("machine-exec", "spare"), ("machine-exec", "plain"))
    if v:
        rows.append(Row("`vireo exec --machine M -- true`, a spare VM ready, no template",
                        med(v), med(b) if b else None, fmt_ms, vireo_samples=v, bare_samples=b))
    v = store.get(("machine-exec", "fresh"), [])
    b = store.get(("machine-exec", "plain"), [])
    if v:
        rows.append(Row("`vireo exec --machine M --fresh -- true` (a VM booted for it)", med(v),
                        med(b) if b else None, fmt_s, vireo_samples=v, bare_samples=b))
    v = store.get(("machine-snapshot", "vireo"), [])
    if v:
        size = store.get(("machine-snapshot-size", "vireo"), 0)
        rows.append(Row("`vireo vm snapshot` of a booted 256 MiB Linux VM (a %d MiB file)"
                        % (size >> 20), med(v), None, fmt_ms, vireo_samples=v))
    v, b = pair(("machine-restore", "vireo"), ("machine-restore", "boot"))
    if v:
        rows.append(Row("`vireo vm restore --start` + `exec --vm -- true` (bare column: "
                        "`vm create --start`, its agent, `exec --vm -- true`)", med(v),
                        med(b) if b else None, fmt_ms, vireo_samples=v, bare_samples=b))
    v = store.get(("machine-restore-cli", "vireo"), [])
    if v:
        rows.append(Row("`vireo vm restore --start` alone", med(v), None, fmt_ms,
                        vireo_samples=v))
    elif store.get(("machine-snapshot-skip", "vireo")):
        rows.append(Row("snapshot and restore", note="skipped: " + str(
            store.get(("machine-snapshot-skip", "vireo")))))
    v = store.get(("machine-fork", "vireo"), [])
    if v:
        rows.append(Row("`vireo vm fork --start` of a paused Linux VM", med(v), None, fmt_ms,
                        vireo_samples=v))
    elif store.get(("machine-fork-skip", "vireo")):
        rows.append(Row("`vireo vm fork --start` of a paused Linux VM", note="skipped: " + str(
            store.get(("machine-fork-skip", "vireo")))))
    v = store.get(("machine-cycles", "vireo"), [])
    if v:
        rows.append(Row("VM create + destroy in a machine, through the CLI (cycles)", med(v),
                        None, fmt_rate, vireo_samples=v))
    v = store.get(("machine-start", "vireo"), [])
    if v:
        rows.append(Row("`vireo machine start` until ready (its template booted)", med(v), None,
                        fmt_s,
                        vireo_samples=v))
    # Scaling
    bare1 = store.get(("scale", 0), [])
    one = store.get(("scale", 1), [])
    for n in (1, 2, 4):
        v = store.get(("scale", n), [])
        label = "scaling: %d Linux VM%s × 1 vCPU, -smp 4, all prompts" % (n, "s" if n > 1 else "")
        if v:
            note = None
            if one and n > 1:
                note = "%.2f× the 1-VM time" % (med(v) / med(one))
            row = Row(label, med(v), med(bare1) if bare1 else None, fmt_s,
                      vireo_samples=v, bare_samples=bare1)
            row.extra = note
            rows.append(row)
        else:
            rows.append(Row(label, note="skipped: " + str(store.get(("scale-skip", n),
                                                                   "not run"))))
    if any(k[0] in ("sandbox", "sandbox-skip") for k in store if isinstance(k, tuple)):
        rows += sandbox_rows(store)
    return rows


def boot_breakdown(store):
    """Where the boot time goes, from the console milestones (medians, seconds)."""
    def phase_med(mode, a, b):
        xs = [p[b] - (p[a] if a else 0.0) for p in store.get(("phases", mode), [])
              if b in p and (a is None or a in p)]
        return med(xs)

    parts = []
    v = [("QEMU start → Vireo's banner", None, "hypervisor"),
         ("banner → all harts online", "hypervisor", "harts"),
         ("harts online → VM loaded (RAM allocated and zeroed, G-stage built, kernel copied)",
          "harts", "vm_create"),
         ("VM loaded → VM started", "vm_create", "vm_start"),
         ("VM started → `vireo# `", "vm_start", "prompt")]
    got = [(label, phase_med("vireo", a, b)) for label, a, b in v]
    if all(x is not None for _, x in got):
        parts.append("- Boot breakdown under Vireo (medians): " + "; ".join(
            "%s %.2f s" % (label, x) for label, x in got) + ".")
    b = [("QEMU start → OpenSBI's banner", None, "firmware"),
         ("banner → `vireo# `", "firmware", "prompt")]
    got = [(label, phase_med("bare", a, c)) for label, a, c in b]
    if all(x is not None for _, x in got):
        parts.append("- Boot breakdown bare (medians): " + "; ".join(
            "%s %.2f s" % (label, x) for label, x in got) + ".")
    return parts


def table_text(rows):
    head = ["benchmark", "Vireo", "bare", "ratio", "target", "met?"]
    cells = [r.cells(short=True) for r in rows]
    widths = [max(len(head[i]), *(len(c[i]) for c in cells)) for i in range(len(head))]
    out = ["  ".join(h.ljust(w) for h, w in zip(head, widths)),
           "  ".join("-" * w for w in widths)]
    for c in cells:
        out.append("  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip())
    skipped = [r for r in rows if r.note and r.vireo is None]
    if skipped:
        out.append("")
        out += ["%s: %s" % (r.name, r.note) for r in skipped]
    return "\n".join(out)


def table_md(rows):
    out = ["| benchmark | Vireo | bare | ratio | target | met? |",
           "|---|---:|---:|---:|---|---|"]
    for r in rows:
        c = r.cells()
        out.append("| " + " | ".join(x.replace("|", "\\|") for x in c) + " |")
    return "\n".join(out)


def idle_md(store):
    idle = store.get("idle", [])
    if not idle:
        return []
    keys = sorted({k for x in idle for k in x}, key=lambda k: (k != "exits", k))
    out = ["", "### Idle Linux under Vireo: exits per second by cause",
           "",
           "Boot, %d s idle at the prompt, `Ctrl-] d`, %d s idle, `Ctrl-] d`; the rates are the "
           "differences of the two `vireo-stats` lines over the window (medians of %d runs). "
           "`interrupt` counts host interrupts taken while the guest ran; the others are the "
           "guest's own exits by kind (`wfi`, `sbi`, `mmio`, ...)." % (
               IDLE_SETTLE_S, IDLE_WINDOW_S, len(idle)),
           "", "| cause | exits/s | runs |", "|---|---:|---|"]
    for k in keys:
        xs = [x.get(k, 0.0) for x in idle]
        out.append("| %s | %.2f | %s |" % (k, med(xs), ", ".join("%.2f" % x for x in xs)))
    return out


def samples_md(rows):
    out = ["", "### Every figure: median (min..max, number of runs)", "",
           "| benchmark | Vireo | bare |", "|---|---|---|"]
    for r in rows:
        if not r.vireo_samples and not r.bare_samples:
            continue
        out.append("| %s | %s | %s |" % (r.name, spread(r.vireo_samples, r.fmt),
                                         spread(r.bare_samples, r.fmt)))
    return out


def plot(rows, png):
    """A bar per ratio, log scale; green: target met, red: missed, blue: no target."""
    if not shutil.which("gnuplot"):
        return "gnuplot not found (scripts/deps.sh installs gnuplot-nox): no plot"
    data = [r for r in rows if r.ratio]
    if not data:
        return "no ratios to plot"
    colours = {True: 0x3a9a4a, False: 0xc8423a, None: 0x4878a8}
    with tempfile.TemporaryDirectory(prefix="vireo-plot-") as tmp:
        dat = os.path.join(tmp, "ratios.dat")
        with open(dat, "w") as f:
            for i, r in enumerate(data):
                label = re.sub(r"[`\"]", "", r.name)
                f.write('%d "%s" %.6g %d\n' % (i, label, r.ratio, colours[r.met]))
        lo = min(0.1, min(r.ratio for r in data) / 2)
        hi = max(10, max(r.ratio for r in data) * 4)
        script = os.path.join(tmp, "plot.gp")
        with open(script, "w") as f:
            f.write("""set terminal pngcairo size 1200,%d font "sans,10" noenhanced
set output "%s"
set title "Vireo / bare QEMU, medians (1 = no overhead; log scale)\\n\\
green: target met, red: target missed, blue: no target"
set style fill solid 0.85 border -1
set logscale x 10
set xrange [%g:%g]
set xlabel "ratio Vireo / bare"
set yrange [%g:-0.7]
set ytics nomirror
set grid xtics
set key off
set arrow from 1, graph 0 to 1, graph 1 nohead dt 2 lw 2 lc rgb "black" front
plot "%s" using ($3):1:(%g):($3):($1-0.35):($1+0.35):($4):yticlabels(2) \\
     with boxxyerror lc rgb variable, \\
     "" using ($3):1:(sprintf(" %%.2fx", $3)) with labels left offset 0.5,0
""" % (170 + 30 * len(data), png, lo, hi, len(data) - 0.3, dat, lo))
        res = subprocess.run(["gnuplot", script], capture_output=True, text=True)
        if res.returncode != 0:
            return "gnuplot failed: " + res.stderr.strip()[-300:]
    return None


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one run of everything (a smoke test)")
    ap.add_argument("--only", default="micro,linux,icount,scale,exec,net,aia,machine,sandbox",
                    help="comma-separated subset of "
                    "micro,linux,icount,scale,exec,net,aia,machine,sandbox")
    ap.add_argument("--runs-micro", type=int, default=7, help="wall-clock micro runs per side")
    ap.add_argument("--runs-icount", type=int, default=3, help="-icount micro runs per side")
    ap.add_argument("--runs-boot", type=int, default=7, help="Linux boots per side")
    ap.add_argument("--runs-idle", type=int, default=3, help="of those, how many measure idle")
    ap.add_argument("--runs-boot-icount", type=int, default=2,
                    help="Linux boots per side under -icount")
    ap.add_argument("--runs-scale", type=int, default=5, help="runs of each scaling point")
    ap.add_argument("--runs-aia-micro", type=int, default=5,
                    help="wall-clock runs of the interrupt benchmark per mode, AIA machine")
    ap.add_argument("--runs-aia-icount", type=int, default=2,
                    help="-icount runs of the interrupt benchmark per mode, AIA machine")
    ap.add_argument("--runs-aia-linux", type=int, default=2,
                    help="Linux boots with disk runs per mode, AIA machine")
    ap.add_argument("--runs-exec", type=int, default=7, help="vireo exec runs per side")
    ap.add_argument("--runs-machine", type=int, default=5,
                    help="runs of each machine benchmark (exec per side, create/destroy)")
    ap.add_argument("--runs-net", type=int, default=3, help="network runs per side")
    ap.add_argument("--out", default=path("bench", "results"), help="where latest.md goes")
    args = ap.parse_args()
    if args.quick:
        args.runs_micro = args.runs_icount = args.runs_boot = args.runs_idle = 1
        args.runs_boot_icount = 1
        args.runs_scale = args.runs_exec = args.runs_machine = 1
        args.runs_net = 1
        args.runs_aia_micro = args.runs_aia_icount = args.runs_aia_linux = 1
    only = set(args.only.split(","))

    tool = find_tool()
    features = tool_features(tool)
    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    load = os.getloadavg()[0]
    log("bench: host tool %s (disk: %s, --qemu-arg: %s); %s" % (
        " ".join(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a for a in tool),
        "yes" if features["disk"] else "no", "yes" if features["qemu_arg"] else "no",
        qemu_version()))
    for need in ([path(BUILD, "bench", "micro.bin")] if only & {"micro", "aia"} else []) + \
            ([path(BUILD, "linux", "Image"), path(BUILD, "linux", "initramfs.cpio")]
             if only & {"linux", "scale", "exec", "net", "aia", "machine"} else []):
        if not os.path.isfile(need):
            raise SystemExit("bench: %s is missing; run make bench" % os.path.relpath(need, ROOT))

    logs = path(BUILD, "bench", "logs")
    if os.path.isdir(logs):
        for name in os.listdir(logs):
            if name.endswith(".log"):
                os.remove(os.path.join(logs, name))
    store = {}
    if "micro" in only:
        log("bench: micro-benchmarks (%d wall-clock runs and %d -icount runs per side)"
            % (args.runs_micro, args.runs_icount))
        bench_micro(tool, features, args.runs_micro, args.runs_icount, store)
    if "linux" in only:
        log("bench: Linux boot, disk and idle exits (%d runs per side, idle in %d)"
            % (args.runs_boot, min(args.runs_idle, args.runs_boot)))
        bench_linux(tool, features, args.runs_boot, args.runs_idle, store)
    if "icount" in only:
        log("bench: Linux boot under -icount (%d runs per side)" % args.runs_boot_icount)
        bench_linux_icount(tool, features, args.runs_boot_icount, store)
    if "scale" in only:
        log("bench: scaling, 1/2/4 Linux VMs on -smp 4 (%d runs each)" % args.runs_scale)
        bench_scale(tool, args.runs_scale, store)
    if "exec" in only:
        log("bench: vireo exec: boot to the program and stdout throughput (%d runs per side)"
            % args.runs_exec)
        bench_exec(tool, args.runs_exec, store)
    if "net" in only:
        log("bench: networks, VM<->host and VM<->VM (%d runs per side)" % args.runs_net)
        net_bench.bench_net(sys.modules[__name__], tool, args.runs_net, store)
    if "aia" in only:
        log("bench: guest AIA against the virtual PLIC on %s (%d+%d interrupt runs and %d "
            "Linux runs per mode)" % (AIA_MACHINE, args.runs_aia_micro, args.runs_aia_icount,
                                      args.runs_aia_linux))
        bench_aia(tool, features, args.runs_aia_micro, args.runs_aia_icount,
                  args.runs_aia_linux, store)
    if "machine" in only:
        log("bench: a machine: exec in it against a plain exec, VM create/destroy (%d runs)"
            % args.runs_machine)
        bench_machine(tool, args.runs_machine, store)
    if "sandbox" in only:
        log("bench: sandboxes: calls, host calls, catches, resets (%d runs, wall and -icount)"
            % args.runs_exec)
        bench_sandbox(args.runs_exec, store)

    rows = build_rows(store)
    if "net" in only:
        rows += net_bench.rows(sys.modules[__name__], store)
    ok, check_lines = icount_check(store.get("icount-checks", []))
    duration = time.monotonic() - t0

    text = table_text(rows)
    print()
    print(text)
    print()
    if "aia" in only:
        print("\n".join(aia_table(store, False)))
        print()
    for line in check_lines:
        print("icount check: " + line)

    harts = store.get(("icount-harts-online", "vireo"))
    notes = []
    if check_lines:
        notes.append("- The instruction figures come from runs with `-icount shift=0`, where "
                     "QEMU charges 1 ns of virtual time per instruction executed in any mode "
                     "(M, HS, VS): they are whole-machine instruction counts, firmware and "
                     "hypervisor included. Check of that claim in this run: %s. %s"
                     % ("**passed**" if ok else "**FAILED**", " ".join(
                         c[0].upper() + c[1:] + "." for c in check_lines)))
    if harts is not None and harts != 2:
        notes.append("- Under `-icount`, Vireo had only %d hart(s) online of 2." % harts)
    exits = store.get("boot-exits", [])
    if exits:
        keys = sorted({k for e in exits for k in e if k not in ("time",)})
        notes.append("- Exits during the Linux boot under `-icount` (to the prompt, both "
                     "vCPUs; medians): " + ", ".join(
                         "%s %d" % (k, med([e.get(k, 0) for e in exits])) for k in keys) +
                     ". The boot's instruction figure is the kernel's own timestamp of "
                     "`Run /init` under `-icount shift=0,sleep=off`: 1 ns per instruction "
                     "executed by any hart in any mode, plus idle time warped to the next "
                     "timer (the same waits on both sides); it starts when Linux starts, "
                     "so firmware and Vireo's boot are not counted on either side.")
    notes.append("- The wall-clock figures come from normal runs (multi-threaded TCG), "
                 "timed by the guest's `time` CSR (micro) or by the host (boots). The host "
                 "has %d CPUs shared with other work; the load average at the start was %.2f."
                 % (os.cpu_count() or 0, load))
    notes += boot_breakdown(store)
    eb = store.get(("exec-true-bare", "bare"), [])
    if eb and store.get(("exec-boot", "bare")):
        notes.append("- `vireo exec`: the bare column of its boot row is plain QEMU booting the "
                     "same kernel and initramfs with the same command line (`%s`, 1 vCPU, "
                     "256 MiB) until the agent's `AG_HELLO` reaches the host; `vireo exec "
                     "--bare -- true` (the whole run, exec and teardown included, on plain "
                     "QEMU) took %s. The throughput row's bare column is the same guest and "
                     "agent on plain QEMU (`vireo exec --bare`), its port straight on QEMU's "
                     "virtio-serial." % (EXEC_BOOTARGS, spread(eb, fmt_s)))
    firsts = []
    for key, what in (("read_MBps", "reads"), ("write_MBps", "writes")):
        f = {m: med(store.get((key, m, "first"), [])) for m in ("vireo", "bare")}
        later = {m: med(store.get((key, m, "later"), [])) for m in ("vireo", "bare")}
        if all(f.values()) and all(later.values()):
            firsts.append("%s: first of the boot %.0f MB/s under Vireo, %.0f bare; later "
                          "ones %.0f and %.0f" % (what, f["vireo"], f["bare"], later["vireo"],
                                                  later["bare"]))
    if firsts:
        notes.append("- Disk, by position in the boot (medians): " + "; ".join(firsts) + ".")
    if any(k[0] == "net" for k in store if isinstance(k, tuple)):
        notes.append("- Networks: TCP transfers of 4 MiB with BusyBox `nc` and `dd` timed by "
                     "the guest's `time`, ping round trips over %d pings; each VM has 1 vCPU. "
                     "Under Vireo two VMs on the default network (2 harts); bare, the same guest "
                     "on QEMU's virtio-net: with `-netdev user` for the host, and two QEMUs "
                     "(`-smp 1` each) joined by `-netdev socket` for VM to VM, which is the "
                     "only way two plain QEMU guests meet (the one-QEMU-at-a-time rule is "
                     "broken there). Both sides offer no offloads: QEMU's user and socket "
                     "backends have no virtio-net header, so QEMU drops them too."
                     % net_bench.PINGS)
    if store.get("failures"):
        notes.append("- Runs that failed and were retried once (logs in build/bench/logs/): "
                     + "; ".join(store["failures"]) + ".")
    scale_notes = [r for r in rows if getattr(r, "extra", None)]
    if scale_notes:
        notes.append("- Scaling: each VM has 1 vCPU and 256 MiB, on a 4-hart, 2 GiB machine; "
                     "the bare column is one Linux on plain QEMU with `-smp 1`. " + "; ".join(
                         "%s: %s" % (r.name.split(",")[0], r.extra) for r in scale_notes) +
                     ". With 4 harts on a 2-CPU host, the 4-VM point is bounded by host CPUs.")
    md = ["<!-- SPDX-License-Identifier: BSD-2-Clause -->",
          "# Vireo benchmarks: latest results", "",
          "Generated by `make bench` (bench/run.py); the method is in "
          "[bench/README.md](../README.md).", "",
          "- Date: %s" % started.strftime("%Y-%m-%d %H:%M UTC"),
          "- Commit: %s" % git_commit(),
          "- QEMU: %s" % qemu_version(),
          "- Host: %s, %d CPUs" % (host_cpu(), os.cpu_count() or 0),
          "- Runs: micro %d wall-clock + %d `-icount` runs per side; Linux %d boots per side "
          "(idle exits in %d of them); scaling %d runs per point; vireo exec %d and networks %d runs per side. "
          "**Every value is the median of its runs**; the ratio is Vireo / bare." % (
              args.runs_micro, args.runs_icount, args.runs_boot,
              min(args.runs_idle, args.runs_boot), args.runs_scale, args.runs_exec, args.runs_net),
          "- Whole `make bench` run: %.0f s." % duration,
          "", table_md(rows), "", "![Vireo / bare ratios](latest.png)", "", "### Notes", ""]
    md += notes
    md += aia_md(store)
    md += idle_md(store)
    md += samples_md(rows)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    err = plot(rows, os.path.join(args.out, "latest.png"))
    if err:
        log("bench: " + err)
    log("bench: wrote %s and latest.png in %.0f s" % (
        os.path.relpath(os.path.join(args.out, "latest.md"), ROOT), duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
