#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Memory on demand (make examples): lazy.elf (examples/sandbox/lazy.c)
writes to a heap at 0x40000000 it was never given. Each first touch of a
page there is caught; the handler maps that one page and continues the
program at the store that faulted, which now succeeds.

    lazy_pages.py [lazy.elf]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools",
                                "python"))
import vireo  # noqa: E402
from vireo.sandbox import ABORT, CONTINUE, FAULT  # noqa: E402

HEAP, HEAP_SIZE, PAGE = 0x40000000, 16 << 20, 4096


def main():
    elf = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "build", "examples", "lazy.elf")
    mapped = []

    def on_catch(c):
        if c.why != FAULT or not HEAP <= c.gpa < HEAP + HEAP_SIZE:
            print("lazy_pages: caught %r: not ours, aborted" % c)
            return ABORT
        page = c.gpa & ~(PAGE - 1)
        sb.map(page, PAGE, "rw")
        mapped.append(page)
        print("lazy_pages: pc %#x touched %#x: mapped page %#x, continued" % (c.pc, c.gpa, page))
        return CONTINUE

    with vireo.Sandbox(elf) as sb:
        sb.on_catch = on_catch
        pages = 8
        total = sb.call("touch", pages)
        print("lazy_pages: touch(%d) = %d, %d pages mapped on demand" % (pages, total,
                                                                         len(mapped)))
        assert total == sum(range(pages)) and len(mapped) == pages
        # A reset takes the pages away: the next call maps them again.
        sb.reset()
        mapped.clear()
        assert sb.call("touch", 2) == 1 and len(mapped) == 2
    print("lazy_pages: ok")


if __name__ == "__main__":
    main()
