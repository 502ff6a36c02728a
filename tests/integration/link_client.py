# SPDX-License-Identifier: BSD-2-Clause
"""A host end of the link protocol for tests (docs/channel.md): hello, control
requests and their replies, events; frames on other channels are kept."""
import os
import select
import socket
import struct
import subprocess
import time

LINK_HELLO, LINK_OPEN, LINK_DATA, LINK_CREDIT, LINK_CLOSE = 1, 2, 3, 4, 5
LINK_VM_EXIT, LINK_ERROR, LINK_REQUEST, LINK_REPLY, LINK_EVENT = 6, 7, 8, 9, 10

OP_INFO, OP_VM_LIST, OP_VM_PAUSE, OP_VM_RESUME = 0x1, 0x2, 0x3, 0x4
OP_GET_REGS, OP_SET_REGS, OP_MEM_READ, OP_MEM_WRITE, OP_VM_STOP = 0x5, 0x6, 0x7, 0x8, 0x9
OP_VM_CATCH = 0xa
# 0x01xx: the machine's lifecycle (docs/machine.md)
OP_MACHINE_INFO, OP_BLOB_ALLOC, OP_BLOB_WRITE, OP_BLOB_READ, OP_BLOB_FREE = (
    0x101, 0x102, 0x103, 0x104, 0x105)
OP_VM_CREATE, OP_VM_START, OP_VM_DESTROY, OP_VM_RAM, OP_POWER_OFF = (
    0x106, 0x107, 0x108, 0x109, 0x10a)
OP_VM_SNAPSHOT, OP_VM_RESTORE, OP_VM_FORK = 0x201, 0x202, 0x203
VMC_TESTDEV, VMC_NO_CONSOLE, VMC_NO_RTC, VMC_DISK, VMC_DISK_RO, VMC_START = 1, 2, 4, 8, 16, 32

REGS_FORMAT = "<75Q"  # x[32] (x[0] = pc), f[32], fcsr, priv, 9 S-level CSRs
REGS_NAMES = ["x%d" % i for i in range(32)] + ["f%d" % i for i in range(32)] + [
    "fcsr", "priv", "sstatus", "sie", "stvec", "sscratch", "sepc", "scause", "stval", "sip",
    "satp"]


class LinkError(Exception):
    pass


class Link:
    """QEMU's end is a socketpair handed to `vireo run` (qemu_args())."""

    def __init__(self):
        self.sock, self._qemu_end = socket.socketpair()
        self.buf = b""
        self.frames = []  # frames not consumed by request() / wait_for()
        self.next_id = 1

    def qemu_args(self):
        fd = self._qemu_end.fileno()
        return ["-chardev", "socket,id=vl,fd=%d" % fd, "-device", "virtio-serial-device",
                "-device", "virtconsole,chardev=vl"]

    def pass_fds(self):
        return [self._qemu_end.fileno()]

    def started(self):
        """QEMU has its end now."""
        self._qemu_end.close()

    def send(self, ftype, chan, payload=b""):
        self.sock.sendall(struct.pack("<IHH", len(payload), ftype, chan) + payload)

    def _read(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return
        data = self.sock.recv(65536)
        if not data:
            raise LinkError("the link closed")
        self.buf += data
        while len(self.buf) >= 8:
            n, ftype, chan = struct.unpack("<IHH", self.buf[:8])
            if len(self.buf) < 8 + n:
                break
            self.frames.append((ftype, chan, self.buf[8:8 + n]))
            self.buf = self.buf[8 + n:]

    def wait_for(self, match, timeout=60):
        """The first frame for which match(type, chan, payload) holds (taken out)."""
        deadline = time.monotonic() + timeout
        while True:
            for i, f in enumerate(self.frames):
                if match(*f):
                    return self.frames.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise LinkError("timed out; frames seen: %r" % [(t, c) for t, c, _ in self.frames])
            self._read(min(left, 0.5))

    def hello(self, timeout=60):
        self.wait_for(lambda t, c, p: t == LINK_HELLO, timeout)
        self.send(LINK_HELLO, 0, struct.pack("<II", 1, 0))

    def request(self, op, args=b"", timeout=30, flags=0):
        """(result, data) of one control request."""
        rid = self.next_id
        self.next_id += 1
        self.send(LINK_REQUEST, 0, struct.pack("<IHH", rid, op, flags) + args)
        _, _, p = self.wait_for(
            lambda t, c, p: t == LINK_REPLY and struct.unpack("<I", p[:4])[0] == rid, timeout)
        return struct.unpack("<i", p[4:8])[0], p[8:]

    def close(self):
        self.sock.close()


def machine_info(link):
    r, d = link.request(OP_MACHINE_INFO)
    assert r == 0, r
    names = ("version", "flags", "ram_base", "ram_bytes", "free", "limit", "committed", "vms",
             "max_vms", "blobs", "max_vcpus", "blob_bytes")
    return dict(zip(names, struct.unpack("<IIQQQQQIIIIQ", d)))


def blob_upload(link, data):
    """A blob holding data, written over the link; its id."""
    r, d = link.request(OP_BLOB_ALLOC, struct.pack("<Q", len(data)))
    if r != 0:
        raise LinkError("BLOB_ALLOC: %d %r" % (r, d))
    blob = struct.unpack("<I", d[:4])[0]
    for off in range(0, len(data), 1000):
        piece = data[off:off + 1000]
        r, d = link.request(OP_BLOB_WRITE, struct.pack("<IIQ", blob, len(piece), off) + piece)
        if r != 0:
            raise LinkError("BLOB_WRITE: %d %r" % (r, d))
    return blob


def vm_create_args(name, kernel_blob, memory=32 << 20, vcpus=1, flags=0, initrd_blob=0,
                   bootargs=b"", harts=0, disk_host=0, disk_first=0, disk_sectors=0,
                   rtc_offset=0, mem_limit=0, from_vm=0):
    return struct.pack("<IIQQIIIIQQq32sQIHH", flags, vcpus, memory, harts, kernel_blob,
                       initrd_blob, disk_host, 0, disk_first, disk_sectors, rtc_offset,
                       name.encode(), mem_limit, from_vm, len(bootargs), 0) + bootargs


def spawn_vireo(vireo, link, vms, smp=2, mem="512M", log=None, extra_args=()):
    """`vireo run` with the link as QEMU's virtio console; console output to log."""
    cmd = [vireo, "run", "--color=never", "--smp", str(smp), "--mem", mem, *extra_args]
    for a in link.qemu_args():
        cmd += ["--qemu-arg", a]
    for vm in vms:
        cmd += ["--vm", vm]
    out = open(log, "wb") if log else subprocess.DEVNULL
    p = subprocess.Popen(cmd, pass_fds=link.pass_fds(), stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT)
    link.started()
    return p


def start_machine(vireo, log, mem="512M", extra_args=()):
    """A Vireo in machine mode (no VM; it waits for the host): (link, process)."""
    link = Link()
    proc = spawn_vireo(vireo, link, [], mem=mem, log=log,
                       extra_args=["--machine-mode", *extra_args])
    try:
        link.hello()
        wait_console(log, "machine mode:")
    except Exception:
        stop_machine(link, proc)
        raise
    return link, proc


def stop_machine(link, proc):
    """A machine stays up without VMs and without its link: power it off, or QEMU outlives
    `vireo run` once that is killed."""
    try:
        link.request(OP_POWER_OFF, struct.pack("<i", 0), timeout=10)
    except Exception:
        pass
    link.close()
    try:
        proc.wait(timeout=10)
    except Exception:
        proc.kill()
        proc.wait()


def unpack_regs(data):
    return dict(zip(REGS_NAMES, struct.unpack(REGS_FORMAT, data)))


def pack_regs(regs):
    return struct.pack(REGS_FORMAT, *[regs[n] for n in REGS_NAMES])


def wait_console(log, text, timeout=60):
    """The console so far, once a whole line holding text is in it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(log):
            with open(log, "rb") as f:
                data = f.read().decode(errors="replace")
            at = data.find(text)
            if at >= 0 and "\n" in data[at:]:
                return data
        time.sleep(0.1)
    raise LinkError("%r never appeared on the console" % text)
