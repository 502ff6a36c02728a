#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes a newc cpio archive (the initramfs format) from a list file.

The list uses the kernel's gen_init_cpio syntax, one entry a line:

    dir   NAME MODE UID GID
    file  NAME SOURCE MODE UID GID
    nod   NAME MODE UID GID c|b MAJOR MINOR
    slink NAME TARGET MODE UID GID

MODE is octal. Every entry gets mtime 0 and a fresh inode number, so the
same inputs always give the same bytes.

usage: mkcpio.py LIST OUTPUT
"""
import stat
import sys

TYPES = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "nod": None, "slink": stat.S_IFLNK}


def pad4(n):
    return (4 - n % 4) % 4


class Archive:
    def __init__(self):
        self.out = bytearray()
        self.ino = 300000  # far from 0, which the kernel treats specially for hard links

    def entry(self, name, mode, uid=0, gid=0, data=b"", rdev=(0, 0)):
        self.ino += 1
        name_b = name.lstrip("/").encode() + b"\0"
        fields = [self.ino, mode, uid, gid, 2 if stat.S_ISDIR(mode) else 1, 0, len(data),
                  0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.out += b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out += name_b + b"\0" * pad4(110 + len(name_b))
        self.out += data + b"\0" * pad4(len(data))

    def finish(self):
        self.out += b"070701" + b"%08X" % 0 * 4 + b"%08X" % 1 + b"%08X" % 0 * 6
        self.out += b"%08X" % 11 + b"%08X" % 0 + b"TRAILER!!!\0"
        self.out += b"\0" * pad4(len(self.out))
        return bytes(self.out)


def add_line(arc, words, where):
    kind, name = words[0], words[1]
    if kind == "dir":
        mode, uid, gid = words[2:5]
        arc.entry(name, stat.S_IFDIR | int(mode, 8), int(uid), int(gid))
    elif kind == "file":
        src, mode, uid, gid = words[2:6]
        with open(src, "rb") as f:
            data = f.read()
        arc.entry(name, stat.S_IFREG | int(mode, 8), int(uid), int(gid), data)
    elif kind == "nod":
        mode, uid, gid, dtype, major, minor = words[2:8]
        ftype = {"c": stat.S_IFCHR, "b": stat.S_IFBLK}[dtype]
        arc.entry(name, ftype | int(mode, 8), int(uid), int(gid), rdev=(int(major), int(minor)))
    elif kind == "slink":
        target, mode, uid, gid = words[2:6]
        arc.entry(name, stat.S_IFLNK | int(mode, 8), int(uid), int(gid), target.encode())
    else:
        raise ValueError(f"{where}: unknown entry type '{kind}'")


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    arc = Archive()
    with open(argv[1]) as f:
        for lineno, line in enumerate(f, 1):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            try:
                add_line(arc, words, f"{argv[1]}:{lineno}")
            except (ValueError, IndexError, KeyError, OSError) as e:
                sys.exit(f"mkcpio: {argv[1]}:{lineno}: {e}")
    with open(argv[2], "wb") as f:
        f.write(arc.finish())


if __name__ == "__main__":
    main(sys.argv)
