# SPDX-License-Identifier: BSD-2-Clause
"""Issue 17: AIA machines (QEMU virt,aia=aplic and aia=aplic-imsic) for Vireo itself, and
guest AIA (an APLIC in MSI mode and IMSIC files, in hardware where the host has guest
interrupt files). The PLIC machine is what every other test runs on.

Each QEMU boot serves several tests (module-scoped fixtures): a shared boot is cheaper
than a fresh one per assertion, and the tests only read what the VMs do."""
import hashlib
import re
import subprocess

import pytest

from conftest import VIREO, boot_vms, guest
from linux_vm import LinuxVM, linux_spec

SECTOR = 512
DISK_MIB = 16


def make_disk(path):
    """16 MiB of bytes that depend on their position: what a guest reads can be checked."""
    with open(path, "wb") as f:
        for mib in range(DISK_MIB):
            f.write(hashlib.sha256(b"vireo-aia-%d" % mib).digest() * (1 << 15))


def md5_of(path, first, count):
    with open(path, "rb") as f:
        f.seek(first * SECTOR)
        return hashlib.md5(f.read(count * SECTOR)).hexdigest()


def vireo_dump(vm):
    """Ctrl-] d: the first VM's vCPUs, as Vireo prints them (up to its stats line)."""
    vm.child.send("\x1dd")
    vm.expect(r"vireo-stats: vm=\S+ [^\n]*\n")
    return (vm.child.before + vm.child.after).replace("\r", "")


def interrupt_lines(vm, number=None, name=None):
    cmd = "cat /proc/interrupts"
    out = vm.run_in(number, name, cmd) if number else vm.run(cmd)
    return [l for l in out.splitlines() if re.match(r"\s*\d+:", l)]


# ---------------------------------------------------------------- Vireo on AIA machines

HALF = DISK_MIB * 1024 * 1024 // SECTOR // 2


@pytest.fixture(scope="module", params=["virt,aia=aplic", "virt,aia=aplic-imsic"],
                ids=["aplic", "aplic-imsic"])
def host_aia(request, tmp_path_factory):
    """Two SMP Linux VMs with a disk each (two halves of one image) on an AIA machine
    with no guest interrupt files: Vireo's own interrupts go through the APLIC (and the
    IMSICs), the guests get the virtual PLIC."""
    image = str(tmp_path_factory.mktemp("aia") / "disk.img")
    make_disk(image)
    vms = [linux_spec(name="alpha", vcpus=2, extra=f",disk=0:0+{HALF}"),
           linux_spec(name="beta", vcpus=2, extra=f",disk=0:{HALF}+{HALF}")]
    vm = LinuxVM(smp=2, vms=vms, disks=[image], machine=request.param,
                 log_name="aia-host-" + request.param.split("=")[1])
    vm.image = image
    vm.machine = request.param
    try:
        vm.wait_prompts(["alpha", "beta"])
        yield vm
    finally:
        vm.close()


def test_host_interrupt_controller_is_the_aplic(host_aia):
    log = open(host_aia.log_path).read()
    mode = "direct delivery" if host_aia.machine.endswith("aplic") else "MSIs to IMSICs"
    assert re.search(r"vireo: host interrupts: APLIC at 0xd000000 \(%s\)" % mode, log), log[:3000]
    assert "not usable" not in log and "no host interrupt controller" not in log
    # No guest interrupt files on this machine: both guests get the PLIC.
    assert "guest AIA" not in log


def test_typed_input_reaches_each_vm(host_aia):
    for number, name in ((1, "alpha"), (2, "beta")):
        text = f"typed-into-{name}-" + "y" * 30
        assert text in host_aia.run_in(number, name, f"echo {text}")


def test_smp_guests_and_their_plic(host_aia):
    for number, name in ((1, "alpha"), (2, "beta")):
        assert "smp: Brought up 1 node, 2 CPUs" in host_aia.run_in(number, name, "dmesg")
        lines = interrupt_lines(host_aia, number, name)
        assert any("PLIC" in l and "ttyS0" in l for l in lines), lines


def test_each_vm_reads_its_half_of_the_disk(host_aia):
    for number, name, first in ((1, "alpha", 0), (2, "beta", HALF)):
        out = host_aia.run_in(number, name, f"dd if=/dev/vda bs=512 count={HALF} | md5sum",
                              timeout=120)
        assert md5_of(host_aia.image, first, HALF) in out, out


def test_disk_writes_reach_the_image(host_aia):
    host_aia.run_in(1, "alpha", "echo written-on-aia > /tmp/w")
    host_aia.run_in(1, "alpha", "dd if=/tmp/w of=/dev/vda bs=512 seek=100 conv=fsync",
                    timeout=60)
    with open(host_aia.image, "rb") as f:
        f.seek(100 * SECTOR)
        assert f.read(15) == b"written-on-aia\n"


# ---------------------------------------------------------------- guest AIA in Linux

@pytest.fixture(scope="module")
def guest_aia(tmp_path_factory):
    """A Linux VM with guest AIA (2 vCPUs, 2 guest files per hart: all in hardware) and,
    beside it, one that asks for the PLIC on the same machine."""
    image = str(tmp_path_factory.mktemp("aia-guest") / "disk.img")
    make_disk(image)
    vms = [linux_spec(name="msi", vcpus=2, extra=",disk=0"),
           linux_spec(name="wired", vcpus=1, extra=",irqchip=plic")]
    vm = LinuxVM(smp=2, vms=vms, disks=[image], machine="virt,aia=aplic-imsic,aia-guests=2",
                 log_name="aia-guest")
    vm.image = image
    try:
        vm.wait_prompts(["msi", "wired"])
        yield vm
    finally:
        vm.close()


def test_linux_uses_the_imsic_and_the_aplic(guest_aia):
    log = open(guest_aia.log_path).read()
    assert "vireo: guest AIA: 2 guest interrupt files per hart" in log
    dmesg = guest_aia.run_in(1, "msi", "dmesg | grep -i -E 'imsic|aplic|plic'")
    assert "riscv-imsic: imsics@28000000: providing IPIs using interrupt 1" in dmesg, dmesg
    assert "riscv-aplic d000000.aplic: 31 interrupts forwarded to MSI base 0x0000000028000000" \
        in dmesg, dmesg
    assert "riscv-plic" not in dmesg
    cpuinfo = guest_aia.run_in(1, "msi", "grep -m 1 '^isa' /proc/cpuinfo")
    assert "ssaia" in cpuinfo, cpuinfo


def test_proc_interrupts_shows_msi_lines(guest_aia):
    guest_aia.run_in(1, "msi", "dd if=/dev/vda of=/dev/null bs=64k count=64")
    lines = interrupt_lines(guest_aia, 1, "msi")
    msi = [l for l in lines if "APLIC-MSI" in l]
    assert any("virtio0" in l for l in msi) and any("ttyS0" in l for l in msi), lines
    # Device interrupts arrived (summed over the CPUs' columns).
    virtio0 = next(l for l in msi if "virtio0" in l)
    assert sum(int(x) for x in virtio0.split()[1:3]) > 0, virtio0


def test_disk_and_input_through_guest_files(guest_aia):
    out = guest_aia.run_in(1, "msi", f"dd if=/dev/vda bs=512 count={HALF} | md5sum", timeout=120)
    assert md5_of(guest_aia.image, 0, HALF) in out, out
    text = "typed-through-an-imsic-" + "z" * 30
    assert text in guest_aia.run_in(1, "msi", f"echo {text}")


def test_the_plic_vm_beside_it_still_has_its_plic(guest_aia):
    dmesg = guest_aia.run_in(2, "wired", "dmesg | grep -i -E 'imsic|plic'")
    assert "riscv-plic" in dmesg and "imsic" not in dmesg, dmesg
    assert "wired-ok" in guest_aia.run_in(2, "wired", "echo wired-ok")


def test_vcpus_run_with_hardware_guest_files(guest_aia):
    dump = vireo_dump(guest_aia)
    files = re.findall(r"IMSIC: guest interrupt file (\d) of hart (\d), (\d+) MSIs into guest "
                       r"files", dump)
    assert len(files) == 2, dump  # the msi VM's two vCPUs; the wired VM has no IMSIC
    assert all(int(n) > 0 for _, _, n in files), dump


# ---------------------------------------------------------------- more vCPUs than files

def test_more_vcpus_than_guest_files_under_load_with_migrations(tmp_path):
    """4 vCPUs on 2 harts with one guest file each: two vCPUs at a time have emulated
    files, and the scheduler moves vCPUs (and their files' state) between harts while
    they compute, take disk interrupts and send each other IPIs."""
    image = str(tmp_path / "disk.img")
    make_disk(image)
    vm = LinuxVM(smp=2, vms=[linux_spec(vcpus=4, extra=",disk=0")], disks=[image],
                 machine="virt,aia=aplic-imsic,aia-guests=1", log_name="aia-overcommit")
    try:
        vm.wait_prompt()
        assert "smp: Brought up 1 node, 4 CPUs" in vm.run("dmesg")
        vm.run("dd if=/dev/vda bs=4k 2>/dev/null | md5sum > /tmp/sum &")
        out = vm.run("vireo-memstress -p 4 -m 4 -s 4", timeout=180)
        assert re.search(r"vireo-memstress: 4 processes, [1-9]\d* passes, 0 errors", out), out
        out = vm.run("wait; cat /tmp/sum", timeout=120)
        assert md5_of(image, 0, DISK_MIB * 2048) in out, out
        text = "still-typing-after-the-moves-" + "q" * 20
        assert text in vm.run(f"echo {text}")
        dump = vireo_dump(vm)
        moves = [int(m) for m in re.findall(r"(\d+) moves", dump)]
        assert len(moves) == 4 and sum(moves) > 0, dump
        assert "IMSIC: in software" in dump and "IMSIC: guest interrupt file" in dump, dump
        assert int(re.search(r"csr=(\d+)", dump).group(1)) > 0, dump  # emulated accesses
        vm.child.sendline("poweroff")
        assert vm.exit_status() == 0
    finally:
        vm.close()


# ---------------------------------------------------------------- the bare-metal AIA guest

def aia_guest(vcpus, guests, irqchip="aia"):
    return boot_vms([f"name=aia,kernel={guest('aia')},memory=64M,vcpus={vcpus},"
                     f"irqchip={irqchip}"],
                    machine=f"virt,aia=aplic-imsic,aia-guests={guests}", timeout=120)


@pytest.mark.parametrize("vcpus,guests", [(2, 2), (3, 1), (3, 0)],
                         ids=["hardware-files", "files-and-emulation-with-moves",
                              "emulated-files"])
def test_aia_guest(vcpus, guests):
    run = aia_guest(vcpus, guests)
    assert run.status == 0, run
    for name in ("device_tree", "own_file", "uart_through_aplic", "start_secondaries",
                 "pings", "pending_survives_moves"):
        assert f"TEST {name}: PASS" in run.output, run
    m = re.search(r"VM 'aia': IMSIC files: (\d+) MSIs into guest interrupt files, (\d+) into "
                  r"emulated ones; (\d+) moves", run.output)
    assert m, run
    hw, sw, moves = (int(x) for x in m.groups())
    if guests == 0:
        assert hw == 0 and sw > 0 and moves == 0, m.group(0)
    elif vcpus <= guests:
        assert hw > 0, m.group(0)
    else:
        # Three vCPUs over two harts with one file each: some MSIs land in emulated
        # files, and files' contents move as the scheduler moves vCPUs.
        assert hw > 0 and sw > 0 and moves > 0, m.group(0)


def test_aia_refused_without_an_imsic():
    run = boot_vms([f"name=aia,kernel={guest('aia')},memory=64M,irqchip=aia"],
                   machine="virt,aia=aplic", timeout=60)
    assert run.status != 0, run
    assert "VM 'aia': guest AIA needs a host with an IMSIC for supervisor level" in run.output


def test_vireo_exec_on_guest_aia():
    """vireo exec on an AIA machine with guest files: the program's stdio and exit status
    pass through, and its VM's interrupts are MSIs into an IMSIC."""
    r = subprocess.run([VIREO, "exec", "--qemu-machine", "virt,aia=aplic-imsic,aia-guests=2",
                        "--", "sh", "-c", "grep -c APLIC-MSI /proc/interrupts; exit 3"],
                       capture_output=True, timeout=240)
    assert r.returncode == 3, r
    assert int(r.stdout.split()[0]) > 0, r
