# SPDX-License-Identifier: BSD-2-Clause
"""make bench, networks: TCP throughput and ping round trips, VM<->host and VM<->VM,
under Vireo and with the same guest on plain QEMU's virtio-net (bench/README.md).

Only addresses of this machine are used: the guests, and the host's loopback,
which QEMU's user network shows the guests as 10.0.2.2. bench/run.py calls
bench_net() and rows(); `R` is run.py's module (Session, Skip, attempt, ...)."""
import re
import socket
import threading
import time

XFER_BLOCKS = 64  # dd blocks of 64 KiB: 4 MiB per transfer
BLOCK = 64 * 1024
XFER_BYTES = XFER_BLOCKS * BLOCK
VM_PORT = 5001
PINGS = 10
NET_TIMEOUT_S = 240  # a transfer runs 5-15 s here; a stuck one costs this much
ESC = r"(?:\x1b\[[0-9;]*m)*"


class HostEnds:
    """The host's side of VM<->host transfers, on 127.0.0.1: a sink that counts what
    it reads, and a source that sends XFER_BYTES to whoever connects."""

    def __init__(self):
        self.received = []
        self.sink = self._listen(self._serve_sink)
        self.source = self._listen(self._serve_source)

    def _listen(self, serve):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        threading.Thread(target=self._accept, args=(s, serve), daemon=True).start()
        return s.getsockname()[1]

    def _accept(self, s, serve):
        while True:
            conn, _ = s.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    def _serve_sink(self, conn):
        n = 0
        with conn:
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                n += len(data)
        self.received.append(n)

    def _serve_source(self, conn):
        chunk = b"\0" * BLOCK
        with conn:
            try:
                for _ in range(XFER_BLOCKS):
                    conn.sendall(chunk)
            except OSError:
                pass


TIME_RE = re.compile(r"real\s+(?:(\d+)m)?\s*([0-9.]+)s")
PING_RE = re.compile(r"round-trip min/avg/max = [0-9.]+/([0-9.]+)/[0-9.]+ ms")
RECORDS_RE = re.compile(r"(\d+)\+(\d+) records (?:in|out)")


def seconds(R, out):
    m = TIME_RE.search(out)
    if not m:
        raise R.Skip("no time: " + " ".join(out.split())[-160:])
    return int(m.group(1) or 0) * 60 + float(m.group(2))


def rtt_ms(R, out):
    m = PING_RE.search(out)
    if not m:
        raise R.Skip("ping failed: " + " ".join(out.split())[-160:])
    return float(m.group(1))


# ---------------------------------------------------------------- the guests' commands

def to_host(ends):
    return "time sh -c 'dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc 10.0.2.2 %d'" % (
        XFER_BLOCKS, ends.sink)


def from_host(ends):
    return "time sh -c 'nc 10.0.2.2 %d | dd of=/dev/null bs=64k'" % ends.source


def to_vm(ip):
    return "time sh -c 'dd if=/dev/zero bs=64k count=%d 2>/dev/null | nc %s %d'" % (
        XFER_BLOCKS, ip, VM_PORT)


LISTEN = "nc -l -p %d > /dev/null &" % VM_PORT


def check_from_host(R, out):
    """host->VM: the guest's dd must have read all of it (records: full+partial blocks)."""
    m = RECORDS_RE.search(out)
    if not m:
        raise R.Skip("dd failed: " + " ".join(out.split())[-160:])


def measure(R, shell, ends, peer_ip, listen, result):
    """The five figures, with shell(cmd) running a command where it should."""
    before = len(ends.received)
    t = seconds(R, shell("send", to_host(ends)))
    if len(ends.received) <= before or ends.received[-1] != XFER_BYTES:
        raise R.Skip("the host's sink got %s bytes, not %d" % (
            ends.received[before:] or "no", XFER_BYTES))
    result["to_host"] = XFER_BYTES / t / 1e6
    out = shell("send", from_host(ends))
    check_from_host(R, out)
    result["from_host"] = XFER_BYTES / seconds(R, out) / 1e6
    listen()
    time.sleep(1)
    result["vm_vm"] = XFER_BYTES / seconds(R, shell("send", to_vm(peer_ip))) / 1e6
    result["rtt_vm"] = rtt_ms(R, shell("send", "ping -q -c %d %s" % (PINGS, peer_ip)))
    result["rtt_host"] = rtt_ms(R, shell("send", "ping -q -c %d 10.0.2.2" % PINGS))


# ---------------------------------------------------------------- under Vireo

def vireo_session(R, tool, ends, run):
    """Two VMs on the default network, one vCPU each, on a 2-hart machine."""
    image, initrd = R.path(R.BUILD, "linux", "Image"), R.path(R.BUILD, "linux", "initramfs.cpio")
    specs = ["name=%s,kernel=%s,initrd=%s,memory=256M,vcpus=1,net=default,"
             "bootargs=console=ttyS0" % (n, image, initrd) for n in ("alpha", "beta")]
    s = R.Session(R.vireo_argv(tool, specs, smp=2), "net-vireo-%d" % (run + 1), NET_TIMEOUT_S)
    result = {}
    try:
        # init's eth0 line comes just before the shell (a prompt may reach the console
        # cut in two when both VMs print at once, so it is no landmark).
        seen = set()
        while len(seen) < 2:
            s.expect(r"\[(alpha|beta)\]" + ESC + r" vireo-init: eth0 ", what="both VMs' eth0")
            seen.add(s.child.match.group(1))
        time.sleep(1)

        def shell_in(number, name, command):
            s.child.send("\x1d%d" % number)
            s.expect("console input goes to VM %d" % number, timeout=30)
            s.child.sendline(command)
            s.expect(r"\[%s\]%s vireo# " % (name, ESC), timeout=NET_TIMEOUT_S,
                     what="%s's prompt after %r" % (name, command))
            return s.child.before

        # Past the boot prompts: each VM echoes a word, then its prompt is the next one.
        for number, name in ((1, "alpha"), (2, "beta")):
            s.child.send("\x1d%d" % number)
            s.expect("console input goes to VM %d" % number, timeout=30)
            s.child.sendline("echo SYNC-%s" % name.upper())
            s.expect(r"\[%s\]%s SYNC-%s\r*\n" % (name, ESC, name.upper()), timeout=60)
            s.expect(r"\[%s\]%s vireo# " % (name, ESC), timeout=60)
        measure(R, lambda who, cmd: shell_in(1, "alpha", cmd), ends, "10.0.2.16",
                lambda: shell_in(2, "beta", LISTEN), result)
    finally:
        s.close()
    return result


# ---------------------------------------------------------------- bare QEMU

def bare_argv(R, netdev, smp=1):
    image, initrd = R.path(R.BUILD, "linux", "Image"), R.path(R.BUILD, "linux", "initramfs.cpio")
    return R.bare_argv(image, smp=smp, initrd=initrd, append="console=ttyS0") + [
        "-netdev", netdev, "-device", "virtio-net-device,netdev=n0",
        "-global", "virtio-mmio.force-legacy=false"]


def bare_session(R, ends, run):
    """The same guest on plain QEMU: its virtio-net on QEMU's user network for the
    host, and two QEMUs joined by a socket netdev for VM<->VM (there is no other way
    for two plain QEMU guests to meet; both run at once for that part)."""
    result = {}
    s = R.Session(bare_argv(R, "user,id=n0"), "net-bare-%d" % (run + 1), NET_TIMEOUT_S)
    try:
        s.expect_exact(R.PROMPT)
        shell = lambda who, cmd: s.shell(cmd, timeout=NET_TIMEOUT_S)  # noqa: E731
        before = len(ends.received)
        t = seconds(R, shell("a", to_host(ends)))
        if len(ends.received) <= before or ends.received[-1] != XFER_BYTES:
            raise R.Skip("the host's sink did not get all of it")
        result["to_host"] = XFER_BYTES / t / 1e6
        out = shell("a", from_host(ends))
        check_from_host(R, out)
        result["from_host"] = XFER_BYTES / seconds(R, out) / 1e6
        result["rtt_host"] = rtt_ms(R, shell("a", "ping -q -c %d 10.0.2.2" % PINGS))
    finally:
        s.close(poweroff=True)
    port = free_port()
    a = R.Session(bare_argv(R, "socket,id=n0,listen=127.0.0.1:%d" % port),
                  "net-bare-a-%d" % (run + 1), NET_TIMEOUT_S)
    b = None
    try:
        time.sleep(1)  # a listens before b connects
        b = R.Session(bare_argv(R, "socket,id=n0,connect=127.0.0.1:%d" % port),
                      "net-bare-b-%d" % (run + 1), NET_TIMEOUT_S)
        for sess, ip in ((a, "10.0.2.15"), (b, "10.0.2.16")):
            sess.expect_exact(R.PROMPT)
            # No DHCP server between two plain QEMUs: the addresses Vireo would give.
            sess.shell("ip addr add %s/24 dev eth0" % ip)
        b.shell(LISTEN)
        time.sleep(1)
        result["vm_vm"] = XFER_BYTES / seconds(R, a.shell(to_vm("10.0.2.16"),
                                                          timeout=NET_TIMEOUT_S)) / 1e6
        result["rtt_vm"] = rtt_ms(R, a.shell("ping -q -c %d 10.0.2.16" % PINGS,
                                             timeout=NET_TIMEOUT_S))
    finally:
        a.close(poweroff=True)
        if b:
            b.close(poweroff=True)
    return result


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the runs and the rows

KEYS = ("to_host", "from_host", "vm_vm", "rtt_vm", "rtt_host")


def bench_net(R, tool, runs, store):
    ends = HostEnds()
    for r in range(runs):
        order = ("bare", "vireo") if r % 2 == 0 else ("vireo", "bare")
        for mode in order:
            what = "net %s run %d/%d" % (mode, r + 1, runs)
            try:
                if mode == "vireo":
                    res = R.attempt(store, what, "net-vireo-%d" % (r + 1), vireo_session, R,
                                    tool, ends, r)
                else:
                    res = R.attempt(store, what, "net-bare-%d" % (r + 1), bare_session, R,
                                    ends, r)
            except R.Skip as e:
                R.log("  %s: skipped: %s" % (what, e))
                store.setdefault(("net-skip", mode), str(e))
                continue
            for k in KEYS:
                if k in res:
                    store.setdefault(("net", k, mode), []).append(res[k])
            R.log("  %s: VM->host %.2f MB/s, host->VM %.2f MB/s, VM->VM %.2f MB/s, ping VM %.2f "
                  "ms, ping host %.2f ms" % (what, res.get("to_host", 0), res.get("from_host", 0),
                                              res.get("vm_vm", 0), res.get("rtt_vm", 0),
                                              res.get("rtt_host", 0)))


LABELS = {
    "to_host": "net: VM → host, TCP 4 MiB (nc to 10.0.2.2)",
    "from_host": "net: host → VM, TCP 4 MiB (nc from 10.0.2.2)",
    "vm_vm": "net: VM → VM, TCP 4 MiB",
    "rtt_vm": "net: VM ↔ VM ping round trip",
    "rtt_host": "net: VM ↔ host (10.0.2.2) ping round trip",
}


def fmt_ms(x):
    return "%.2f ms" % x


def fmt_rate(x):
    return "%.2f MB/s" % x


def rows(R, store):
    out = []
    for k in KEYS:
        v, b = store.get(("net", k, "vireo"), []), store.get(("net", k, "bare"), [])
        rtt = k.startswith("rtt")
        target = None if rtt else "≥ 0.7× bare"
        if v and b:
            ratio = R.med(v) / R.med(b)
            out.append(R.Row(LABELS[k], R.med(v), R.med(b), fmt_ms if rtt else fmt_rate,
                             target, None if rtt else ratio >= 0.7, vireo_samples=v,
                             bare_samples=b))
        else:
            why = store.get(("net-skip", "vireo")) or store.get(("net-skip", "bare")) \
                or "no result"
            out.append(R.Row(LABELS[k], target=target, note="skipped: " + why))
    return out
