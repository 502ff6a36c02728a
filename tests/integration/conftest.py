# SPDX-License-Identifier: BSD-2-Clause
"""Shared helpers for the integration tests: boot Vireo in QEMU, collect the console."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
HYPERVISOR = os.path.join(BUILD, "vireo.bin")
VIREO = os.path.join(BUILD, "vireo")
QEMU = "qemu-system-riscv64"


class Run:
    """The result of one boot: exit status and everything the console printed."""

    def __init__(self, status, output):
        self.status = status
        self.output = output

    def lines(self):
        return self.output.splitlines()

    def __repr__(self):
        return f"Run(status={self.status}, output=...{self.output[-3000:]})"


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        pytest.fail(f"timed out after {timeout}s: {' '.join(cmd)}\n--- console ---\n{out[-4000:]}")
    return Run(p.returncode, p.stdout.decode(errors="replace").replace("\r\n", "\n"))


def boot_bare(smp=1, mem="512M", cpu="rv64,h=true", extra=(), timeout=60):
    """Vireo alone, no boot bundle."""
    cmd = [QEMU, "-machine", "virt", "-cpu", cpu, "-smp", str(smp), "-m", mem,
           "-bios", "default", "-nographic", "-kernel", HYPERVISOR, *extra]
    return run(cmd, timeout)


def guest(name):
    return os.path.join(BUILD, "guests", f"{name}.bin")


def boot_vms(vms, smp=2, mem="1G", cpu="rv64,h=true", timeout=120, extra=(), extra_args=(),
             machine=None):
    """vms: VM spec strings for `vireo run --vm`; extra: QEMU arguments; extra_args: vireo's;
    machine: QEMU's -machine (e.g. "virt,aia=aplic-imsic"), default virt."""
    cmd = [VIREO, "run", "--smp", str(smp), "--mem", mem, "--cpu", cpu,
           "--hypervisor", HYPERVISOR, *extra_args]
    if machine:
        cmd += ["--machine", machine]
    for vm in vms:
        cmd += ["--vm", vm]
    for e in extra:
        cmd += ["--qemu-arg", e]
    return run(cmd, timeout)


def test_vm(name, vcpus=1, memory="64M", testdev=False):
    spec = f"name={name},kernel={guest(name)},memory={memory},vcpus={vcpus}"
    return spec + (",testdev" if testdev else "")
