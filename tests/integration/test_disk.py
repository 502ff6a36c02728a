# SPDX-License-Identifier: BSD-2-Clause
"""Issue: Guest disks. virtio-blk backed by the machine's disk, with nothing lost."""
import os
import re
import subprocess

import pytest

from conftest import BUILD
from linux_vm import LinuxVM, linux_spec

SECTOR = 512


def make_image(path, mib):
    with open(path, "wb") as f:
        f.truncate(mib << 20)


def read_sectors(path, first, count):
    with open(path, "rb") as f:
        f.seek(first * SECTOR)
        return f.read(count * SECTOR)


def pattern(seed, size):
    """Deterministic bytes that differ in every position, for a copy test."""
    out = bytearray(size)
    x = seed
    for i in range(size):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def disk_vm(image, spec_disk="0", name="linux", log="disk"):
    return LinuxVM(smp=2, disks=[image], log_name=log,
                   vms=[linux_spec(name=name, extra=f",disk={spec_disk}")])


def test_written_pattern_is_on_the_host_image_and_survives_a_reboot(tmp_path):
    image = str(tmp_path / "disk.img")
    make_image(image, 16)
    src = pattern(7, 1 << 20)
    with open(image, "r+b") as f:
        f.seek(2048 * SECTOR)
        f.write(src)
    vm = disk_vm(image, log="disk-pattern")
    try:
        vm.wait_prompt()
        # Copy 1 MiB from sector 2048 to sector 8192 through the guest, and one
        # small text record into sector 100; then flush and power off.
        out = vm.run("dd if=/dev/vda of=/dev/vda bs=4096 skip=256 seek=1024 count=256")
        assert "256+0 records out" in out, out
        vm.run("echo vireo-durable-record > /tmp/rec")
        out = vm.run("dd if=/tmp/rec of=/dev/vda bs=512 seek=100 count=1")
        assert "records out" in out, out
        vm.run("sync")
        vm.child.sendline("poweroff")
        assert vm.exit_status() == 0
    finally:
        vm.close()
    assert read_sectors(image, 8192, 2048) == src
    assert read_sectors(image, 100, 1).startswith(b"vireo-durable-record\n")

    # A second boot reads both back.
    vm = disk_vm(image, log="disk-pattern-2")
    try:
        vm.wait_prompt()
        out = vm.run("dd if=/dev/vda bs=512 skip=100 count=1")
        assert "vireo-durable-record" in out, out
        vm.run("dd if=/dev/vda of=/tmp/copy bs=4096 skip=1024 count=256")
        vm.run("dd if=/dev/vda of=/tmp/orig bs=4096 skip=256 count=256")
        out = vm.run("cmp /tmp/copy /tmp/orig && echo same-bytes")
        assert "same-bytes" in out, out
        vm.child.sendline("poweroff")
        assert vm.exit_status() == 0
    finally:
        vm.close()


def test_ext2_image_from_the_host_mounts_and_a_guest_file_reaches_the_host(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "hello.txt").write_text("made on the host by mke2fs -d\n")
    image = str(tmp_path / "ext2.img")
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-d", str(root), image, "8M"],
                   check=True)
    vm = disk_vm(image, log="disk-ext2")
    try:
        vm.wait_prompt()
        vm.run("mount -t ext2 /dev/vda /mnt")
        assert "made on the host by mke2fs -d" in vm.run("cat /mnt/hello.txt")
        vm.run("echo written-in-the-guest > /mnt/guest.txt")
        vm.run("umount /mnt")
        vm.child.sendline("poweroff")
        assert vm.exit_status() == 0
    finally:
        vm.close()
    out = subprocess.run(["debugfs", "-R", "cat /guest.txt", image], capture_output=True,
                         text=True, check=True).stdout
    assert out == "written-in-the-guest\n", out
    fsck = subprocess.run(["e2fsck", "-fn", image], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


def test_a_disk_range_is_all_the_guest_sees(tmp_path):
    image = str(tmp_path / "disk.img")
    make_image(image, 16)
    with open(image, "r+b") as f:
        f.seek(4095 * SECTOR)
        f.write(b"BEFORE-RANGE".ljust(SECTOR, b"."))
        f.seek(8192 * SECTOR)
        f.write(b"AFTER-RANGE".ljust(SECTOR, b"."))
    vm = disk_vm(image, spec_disk="0:4096+4096", log="disk-range")
    try:
        vm.wait_prompt()
        assert re.search(r"^4096\s*$", vm.run("cat /sys/block/vda/size"), re.M)
        # Writing the whole device and one sector more: the extra sector must fail.
        out = vm.run("dd if=/dev/zero of=/dev/vda bs=512 count=4097")
        assert "4096+0 records out" in out, out
        out = vm.run("dd if=/dev/vda bs=512 skip=4096 count=1; echo status=$?")
        assert "AFTER-RANGE" not in out and "BEFORE-RANGE" not in out, out
        vm.run("sync")
        vm.child.sendline("poweroff")
        assert vm.exit_status() == 0
    finally:
        vm.close()
    assert read_sectors(image, 4095, 1).startswith(b"BEFORE-RANGE")
    assert read_sectors(image, 8192, 1).startswith(b"AFTER-RANGE")
    assert read_sectors(image, 4096, 4096) == bytes(4096 * SECTOR)


def test_read_only_disk_refuses_writes(tmp_path):
    image = str(tmp_path / "ro.img")
    make_image(image, 4)
    with open(image, "r+b") as f:
        f.write(b"READ-ONLY-DATA".ljust(SECTOR, b"."))
    vm = disk_vm(image, spec_disk="0,ro", log="disk-ro")
    try:
        vm.wait_prompt()
        assert "READ-ONLY-DATA" in vm.run("dd if=/dev/vda bs=512 count=1")
        out = vm.run("dd if=/dev/zero of=/dev/vda bs=512 count=1 conv=fsync; echo status=$?")
        assert "status=0" not in out, out
        vm.child.sendline("poweroff")
        assert vm.exit_status() == 0
    finally:
        vm.close()
    assert read_sectors(image, 0, 1).startswith(b"READ-ONLY-DATA")


def test_two_vms_on_two_ranges_of_one_disk_cannot_reach_each_other(tmp_path):
    image = str(tmp_path / "shared.img")
    make_image(image, 16)
    vms = [linux_spec(name="left", vcpus=1, extra=",disk=0:0+8192"),
           linux_spec(name="right", vcpus=1, extra=",disk=0:8192+8192")]
    vm = LinuxVM(smp=2, disks=[image], vms=vms, log_name="disk-two-vms")
    try:
        vm.wait_prompts(["left", "right"])
        for number, name in ((1, "left"), (2, "right")):
            assert re.search(r"^8192\s*$", vm.run_in(number, name, "cat /sys/block/vda/size"),
                             re.M)
            vm.run_in(number, name, f"echo disk-of-{name} > /tmp/tag")
            vm.run_in(number, name, "dd if=/tmp/tag of=/dev/vda bs=512 count=1")
            # Fill the rest of its range, and try one sector beyond it.
            out = vm.run_in(number, name, "dd if=/dev/zero of=/dev/vda bs=512 seek=1 count=8192")
            assert "8191+0 records out" in out, out
            vm.run_in(number, name, "sync")
        # Each reads back only its own data.
        assert "disk-of-left" in vm.run_in(1, "left", "dd if=/dev/vda bs=512 count=1")
        assert "disk-of-right" in vm.run_in(2, "right", "dd if=/dev/vda bs=512 count=1")
        vm.poweroff_in(1, "left")
        vm.poweroff_in(2, "right")
        assert vm.exit_status() == 0
    finally:
        vm.close()
    assert read_sectors(image, 0, 1).startswith(b"disk-of-left\n")
    assert read_sectors(image, 8192, 1).startswith(b"disk-of-right\n")
    assert read_sectors(image, 1, 8191) == bytes(8191 * SECTOR)
    assert read_sectors(image, 8193, 8191) == bytes(8191 * SECTOR)
