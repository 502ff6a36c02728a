# SPDX-License-Identifier: BSD-2-Clause
"""Driving a Linux VM under Vireo through its console with pexpect."""
import os
import re

import pexpect
import pytest

from conftest import BUILD, HYPERVISOR, VIREO

LINUX_IMAGE = os.path.join(BUILD, "linux", "Image")
LINUX_INITRAMFS = os.path.join(BUILD, "linux", "initramfs.cpio")
PROMPT = "vireo# "
BOOT_TIMEOUT = 240


def linux_spec(name="linux", vcpus=2, memory="256M", extra=""):
    return (f"name={name},kernel={LINUX_IMAGE},initrd={LINUX_INITRAMFS},memory={memory},"
            f"vcpus={vcpus}{extra},bootargs=console=ttyS0 earlycon=sbi")


def check_width(command):
    """BusyBox's line editor wraps its echo at 80 columns (the width of a tty
    that does not know its size): a longer line would not match the echo."""
    assert len(PROMPT) + len(command) < 80, f"command too long for one line: {command!r}"


class LinuxVM:
    """A running Vireo with a Linux VM; the console is a pexpect child."""

    def __init__(self, smp=2, vms=None, log_name="linux", disks=(), mem="1G", config=None,
                 cpu=None, machine=None, extra_args=()):
        if not os.path.exists(LINUX_IMAGE):
            pytest.fail(f"{LINUX_IMAGE} missing: run make linux")
        # A pty looks like a terminal: keep colour out of what the tests match.
        args = [VIREO, "run", "--color=never", "--smp", str(smp), "--mem", mem,
                "--hypervisor", HYPERVISOR]
        if cpu:
            args += ["--cpu", cpu]
        if machine:
            args += ["--machine", machine]
        for disk in disks:
            args += ["--disk", disk]
        args += list(extra_args)
        if config:
            args.append(config)
        for vm in vms or ([] if config else [linux_spec(vcpus=smp)]):
            args += ["--vm", vm]
        self.log_path = os.path.join(BUILD, f"test-{log_name}.log")
        self.child = pexpect.spawn(args[0], args[1:], encoding="utf-8",
                                   codec_errors="replace", timeout=BOOT_TIMEOUT)
        self.child.logfile_read = open(self.log_path, "w")
        self.child.delaybeforesend = 0.05

    def expect(self, pattern, timeout=BOOT_TIMEOUT):
        try:
            return self.child.expect(pattern, timeout=timeout)
        except (pexpect.TIMEOUT, pexpect.EOF) as e:
            pytest.fail(f"waiting for {pattern!r}: {type(e).__name__}\n"
                        f"--- console (last 3000 chars) ---\n{self.child.before[-3000:]}")

    def wait_prompt(self, timeout=BOOT_TIMEOUT):
        self.expect(PROMPT, timeout)

    def run(self, command, timeout=60):
        """Run a shell command; return what it printed (without the echo)."""
        check_width(command)
        self.child.sendline(command)
        self.expect(re.escape(command) + r"\r*\n", timeout)
        self.expect(PROMPT, timeout)
        return self.child.before.replace("\r\n", "\n")

    def exit_status(self, timeout=120):
        self.expect(pexpect.EOF, timeout)
        self.child.close()
        return self.child.exitstatus

    def close(self):
        if self.child.isalive():
            self.child.terminate(force=True)

    # ---- several VMs on one console: lines are tagged "[name] ", Ctrl-] N moves the keyboard
    def wait_prompts(self, names, timeout=BOOT_TIMEOUT):
        waiting = set(names)
        while waiting:
            i = self.expect([rf"\[{re.escape(n)}\] [^\n]*vireo# " for n in sorted(waiting)],
                            timeout)
            waiting.remove(sorted(waiting)[i])

    def focus(self, number, name):
        self.child.send("\x1d" + str(number))
        self.expect(f"console input goes to VM {number} '{name}'")

    def poweroff_in(self, number, name):
        """Power VM `number` off from its shell and wait until Vireo reports it ended."""
        self.focus(number, name)
        self.child.sendline("poweroff")
        self.expect(re.escape(f"VM '{name}': shutdown, exit status 0"))

    def run_in(self, number, name, command, timeout=60):
        """Run a command in VM `number` (its console tag is `name`); return its output."""
        check_width(command)
        self.focus(number, name)
        self.child.sendline(command)
        # The echo may come in pieces: a partial line is flushed after 20 ms, and its
        # rest arrives as a line of its own, tagged again, maybe after other VMs' lines.
        cut = rf"(?:\r*\n(?:[^\r\n]*\r*\n)*?\[{re.escape(name)}\] )?"
        self.expect(cut.join(re.escape(c) for c in command) + r"\r*\n", timeout)
        self.expect(rf"\[{re.escape(name)}\] vireo# ", timeout)
        lines = self.child.before.replace("\r", "").split("\n")
        tag = f"[{name}] "
        return "\n".join(l[len(tag):] if l.startswith(tag) else l for l in lines)
