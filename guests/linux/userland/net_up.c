// SPDX-License-Identifier: BSD-2-Clause
/*
 * Network bring-up for vireo-init. Loopback always; eth0 when the VM has a
 * network card: link up, then BusyBox's udhcpc once in the foreground (-q:
 * it configures the lease through /usr/share/udhcpc/default.script and
 * exits; Vireo's leases never expire). Vireo's DHCP server answers at once,
 * QEMU's in a few milliseconds; without an answer udhcpc gives up after
 * NET_UP_TRIES seconds and the shell starts anyway. The result is one line
 * on the console: "vireo-init: eth0 52:54:00:..: 10.0.2.15/24".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net_up.h"

#define BUSYBOX	     "/bin/busybox"
#define DHCP_SCRIPT  "/usr/share/udhcpc/default.script"
#define NET_UP_TRIES "3" /* DHCP discovers, one second apart */

/* Run BusyBox with these arguments, its output thrown away; its exit status or -1. */
static int busybox(const char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execv(BUSYBOX, (char *const *)argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void link_up(const char *dev)
{
	const char *argv[] = {"ip", "link", "set", dev, "up", NULL};

	busybox(argv);
}

/* What the interface has now, as text ("52:54:00:..: 10.0.2.15/24"). */
static void describe(const char *dev, char *out, size_t size)
{
	struct ifreq ifr;
	char addr[INET_ADDRSTRLEN] = "no address";
	unsigned char m[6];
	int prefix = 0, fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
		snprintf(out, size, "?");
		if (fd >= 0)
			close(fd);
		return;
	}
	memcpy(m, ifr.ifr_hwaddr.sa_data, sizeof(m)); /* ifr is reused below */
	if (ioctl(fd, SIOCGIFADDR, &ifr) == 0) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr, addr,
			  sizeof(addr));
		if (ioctl(fd, SIOCGIFNETMASK, &ifr) == 0)
			prefix = __builtin_popcount(
			    ((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr.s_addr);
	}
	close(fd);
	snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x: %s", m[0], m[1], m[2], m[3], m[4], m[5],
		 addr);
	if (prefix)
		snprintf(out + strlen(out), size - strlen(out), "/%d", prefix);
}

void net_up(void)
{
	const char *dhcp[] = {"udhcpc",	    "-i", "eth0", "-q", "-f",	     "-n", "-t",
			      NET_UP_TRIES, "-T", "1",	  "-s", DHCP_SCRIPT, NULL};
	struct stat st;
	char what[96];
	int status;

	link_up("lo");
	if (stat("/sys/class/net/eth0", &st) != 0)
		return; /* no network card */
	link_up("eth0");
	status = busybox(dhcp);
	describe("eth0", what, sizeof(what));
	dprintf(2, "vireo-init: eth0 %s%s\n", what, status == 0 ? "" : " (no DHCP answer)");
}
