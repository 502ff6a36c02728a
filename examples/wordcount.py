#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The Python module vireo: programs in fresh RISC-V Linux VMs, as subprocesses.

    PYTHONPATH=tools/python examples/wordcount.py [--bare]

--bare runs the same guest on plain QEMU, without the hypervisor.
"""
import sys

import vireo

bare = "--bare" in sys.argv[1:]
text = "the quick brown fox jumps over the lazy dog\n" * 1000

# subprocess.run's shape: input in, output captured, the exit status back.
r = vireo.run(["wc", "-w"], input=text.encode(), capture_output=True, bare=bare)
print("wc -w in a VM:", r.stdout.decode().strip(), "(exit status %d)" % r.returncode)
assert r.returncode == 0 and r.stdout.split() == [b"9000"], r

# Popen's: a pipeline of two programs in one VM, stderr kept apart.
with vireo.Popen(["sh", "-c", "tr ' ' '\\n' | sort | uniq -c | sort -rn | head -3; echo done >&2"],
                 stdin=vireo.PIPE, stdout=vireo.PIPE, stderr=vireo.PIPE, text=True,
                 bare=bare) as p:
    out, err = p.communicate(text)
print("the three most frequent words:\n" + out, end="")
assert p.returncode == 0 and err == "done\n" and out.split()[:2] == ["2000", "the"], (out, err)

# Exit statuses come back as they would from a local program.
r = vireo.run(["sh", "-c", "exit 7"], bare=bare)
assert r.returncode == 7, r
r = vireo.run(["no-such-program"], capture_output=True, bare=bare)
assert r.returncode == 127 and "no-such-program" in r.error, r
print("exit statuses: 7 and 127 (%s)" % r.error)
