# SPDX-License-Identifier: BSD-2-Clause
"""Issue 16: networks. Four Linux VMs on one booted machine, shared by the tests:
alpha and beta on the default network (with the uplink to QEMU's user network),
gamma and delta on the network 'lab'. The tests only ever talk to the guests and
to the host's loopback (through 10.0.2.2, and through a published port)."""
import http.server
import os
import re
import socket
import tempfile
import threading
import time
import urllib.request

import pytest

from linux_vm import LINUX_IMAGE, LINUX_INITRAMFS, LinuxVM

VMS = [("alpha", "default"), ("beta", "default"), ("gamma", "lab"), ("delta", "lab")]
IP = {name: f"10.0.2.{15 + i}" for i, (name, _) in enumerate(VMS)}
NUM = {name: i + 1 for i, (name, _) in enumerate(VMS)}


def spec(name, net):
    return (f"name={name},kernel={LINUX_IMAGE},initrd={LINUX_INITRAMFS},memory=128M,vcpus=1,"
            f"net={net},bootargs=console=ttyS0")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Machine:
    """The booted VMs, a web server on the host's loopback, and a published port."""

    def __init__(self):
        self.www = tempfile.TemporaryDirectory(prefix="vireo-net-www-")
        with open(os.path.join(self.www.name, "hello.txt"), "w") as f:
            f.write("hello from the host's loopback\n")
        handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(  # noqa: E731
            *a, directory=self.www.name, **kw)
        http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.host_port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.published = free_port()
        self.vm = LinuxVM(smp=2, mem="1G", vms=[spec(n, net) for n, net in VMS], log_name="net",
                          extra_args=["--publish", f"{self.published}:beta:80"])
        # init prints its eth0 line just before the shell starts. (A prompt itself may
        # reach the console cut in two when four VMs boot at once, so it is no landmark.)
        waiting = {n for n, _ in VMS}
        while waiting:
            self.vm.expect(r"\[(\w+)\] vireo-init: eth0 [^\r\n]*\r*\n")
            waiting.discard(self.vm.child.match.group(1))
        time.sleep(1)
        for name, _ in VMS:
            self.run(name, "echo ready")
        self.macs = dict(re.findall(r"VM '(\w+)': network '\w+', MAC ([0-9a-f:]{17})",
                                    open(self.vm.log_path).read()))

    def run(self, name, command, timeout=60):
        return self.vm.run_in(NUM[name], name, command, timeout)

    def rx_packets(self, name):
        out = self.run(name, "cat /sys/class/net/eth0/statistics/rx_packets")
        return int(re.search(r"^(\d+)$", out, re.M).group(1))

    def net_stats(self):
        """The switch's counters, per port: {name: {sent: n, spoofed: n, ...}}."""
        self.vm.child.send("\x1dd")
        stats = {}
        for _ in range(len(VMS) + 1):
            self.vm.expect(r"vireo-net: net=\S+ port=(\S+) ([^\r\n]*)\r*\n", timeout=30)
            port, rest = self.vm.child.match.group(1), self.vm.child.match.group(2)
            stats[port] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", rest)}
        return stats

    def close(self):
        try:
            for name, _ in VMS:
                self.vm.poweroff_in(NUM[name], name)
            assert self.vm.exit_status() == 0
        finally:
            self.vm.close()
            self.httpd.shutdown()
            self.www.cleanup()


@pytest.fixture(scope="module")
def m():
    machine = Machine()
    yield machine
    machine.close()


def pings(out):
    got = re.search(r"(\d+) packets transmitted, (\d+) packets received", out)
    assert got, out
    return int(got.group(2))


def test_each_vm_gets_its_address_and_mac_by_dhcp(m):
    for name, _ in VMS:
        out = m.run(name, "cat /sys/class/net/eth0/address; ip -4 addr show eth0")
        assert m.macs[name] in out, out
        assert f"inet {IP[name]}/24" in out, out
    # The default network gets a route through QEMU's router; 'lab' has none.
    assert "default via 10.0.2.2" in m.run("alpha", "ip route")
    assert "default" not in m.run("gamma", "ip route")
    # init said so on the console.
    log = open(m.vm.log_path).read()
    assert re.search(r"\[alpha\] vireo-init: eth0 %s: 10\.0\.2\.15/24" % m.macs["alpha"], log)


def test_vms_on_one_network_reach_each_other(m):
    assert pings(m.run("alpha", f"ping -c 3 -W 5 {IP['beta']}")) == 3
    assert pings(m.run("gamma", f"ping -c 3 -W 5 {IP['delta']}")) == 3
    # A TCP stream, checked end to end.
    m.run("alpha", "dd if=/dev/urandom of=/tmp/blob bs=1k count=300 2>/dev/null")
    sent = re.search(r"([0-9a-f]{32})", m.run("alpha", "md5sum /tmp/blob")).group(1)
    m.run("beta", "nc -l -p 5000 > /tmp/blob &")
    time.sleep(1)
    m.run("alpha", f"nc {IP['beta']} 5000 < /tmp/blob", timeout=120)
    for _ in range(30):
        out = m.run("beta", "md5sum /tmp/blob")
        if sent in out:
            break
        time.sleep(1)
    assert sent in out


def test_vm_reaches_the_hosts_loopback_through_qemu(m):
    out = m.run("alpha", f"wget -q -O- http://10.0.2.2:{m.host_port}/hello.txt")
    assert "hello from the host's loopback" in out


def test_published_port_reaches_the_vm(m):
    m.run("beta", "mkdir -p /www; echo served by beta > /www/index.html")
    m.run("beta", "httpd -p 80 -h /www")
    body = b""
    for _ in range(10):
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{m.published}/", timeout=20).read()
            break
        except OSError:
            time.sleep(1)
    assert body == b"served by beta\n"


def test_networks_are_isolated(m):
    # No way across: not by IP, not by broadcast.
    assert pings(m.run("gamma", f"ping -c 2 -W 2 {IP['alpha']}")) == 0
    assert pings(m.run("alpha", f"ping -c 2 -W 2 {IP['delta']}")) == 0
    before = {n: m.rx_packets(n) for n in ("beta", "gamma", "delta")}
    m.run("alpha", "vireo-netflood -n 40 -l 100")
    after = {n: m.rx_packets(n) for n in ("beta", "gamma", "delta")}
    assert after["beta"] - before["beta"] >= 40
    assert after["gamma"] == before["gamma"] and after["delta"] == before["delta"]
    before = {n: m.rx_packets(n) for n in ("alpha", "beta", "delta")}
    m.run("gamma", "vireo-netflood -n 40 -l 100")
    after = {n: m.rx_packets(n) for n in ("alpha", "beta", "delta")}
    assert after["delta"] - before["delta"] >= 40
    assert after["alpha"] == before["alpha"] and after["beta"] == before["beta"]


def test_spoofed_source_addresses_are_dropped(m):
    stats = m.net_stats()
    beta_rx = m.rx_packets("beta")
    out = m.run("alpha", f"vireo-netflood -n 50 -l 100 -s {m.macs['beta']}")
    assert "50 frames" in out
    assert m.rx_packets("beta") == beta_rx
    assert m.net_stats()["alpha"]["spoofed"] - stats["alpha"]["spoofed"] >= 50
    # A guest that takes another VM's address cuts itself off, and only itself.
    m.run("alpha", f"ip link set eth0 down; ip link set eth0 address {m.macs['beta']}")
    m.run("alpha", "ip link set eth0 up; ip route add default via 10.0.2.2")
    assert pings(m.run("alpha", "ping -c 2 -W 2 10.0.2.2")) == 0
    assert pings(m.run("beta", "ping -c 2 -W 5 10.0.2.2")) == 2
    m.run("alpha", f"ip link set eth0 down; ip link set eth0 address {m.macs['alpha']}")
    m.run("alpha", "ip link set eth0 up; ip route add default via 10.0.2.2")
    assert pings(m.run("alpha", "ping -c 2 -W 5 10.0.2.2")) == 2


def test_a_flood_does_not_starve_the_others(m):
    m.run("alpha", "vireo-netflood -t 12 > /tmp/flood.out &")
    time.sleep(1)
    # Meanwhile beta reaches the host, the published port answers, lab is unaffected.
    assert pings(m.run("beta", "ping -c 5 -W 5 10.0.2.2", timeout=90)) >= 4
    body = urllib.request.urlopen(f"http://127.0.0.1:{m.published}/", timeout=30).read()
    assert body == b"served by beta\n"
    assert pings(m.run("delta", f"ping -c 3 -W 5 {IP['gamma']}")) == 3
    time.sleep(12)
    out = m.run("alpha", "cat /tmp/flood.out")
    flood = int(re.search(r"vireo-netflood: (\d+) frames", out).group(1))
    assert flood > 1000, out
    stats = m.net_stats()
    assert stats["alpha"]["sent"] >= flood
    # alpha itself still works afterwards.
    assert pings(m.run("alpha", f"ping -c 2 -W 5 {IP['beta']}")) == 2
