# SPDX-License-Identifier: BSD-2-Clause
"""libvireo's sandbox API (include/vireo.h, "sandboxes") end to end, from C
and from Python: sbtest.elf booted under Vireo on QEMU, called by name, host
functions, every kind of catch and each of the handler's choices. One boot
per language (a sandbox boots in well under a second)."""
import os
import subprocess
import sys

import pytest

from conftest import BUILD

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROGRAM = os.path.join(ROOT, BUILD, "sandbox", "sbtest.elf")
HYPERVISOR = os.path.join(ROOT, BUILD, "vireo.bin")
sys.path.insert(0, os.path.join(ROOT, "tools", "python"))


def test_c_api(tmp_path):
    exe = str(tmp_path / "sandbox_host")
    subprocess.run(["cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                    "-I" + os.path.join(ROOT, "tools/libvireo/include"),
                    os.path.join(ROOT, "tests/integration/sandbox_host.c"),
                    os.path.join(ROOT, BUILD, "libvireo.a"), "-lpthread", "-o", exe], check=True)
    env = dict(os.environ, VIREO_HYPERVISOR=HYPERVISOR)
    r = subprocess.run([exe, PROGRAM], capture_output=True, text=True, timeout=120, env=env)
    print(r.stdout)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("all ok")
    for check in ("lazy map", "breakpoint", "registers", "restart", "budget", "unknown host fn"):
        assert "ok %s\n" % check in r.stdout
