// SPDX-License-Identifier: BSD-2-Clause
/*
 * vireo-netflood: send raw Ethernet frames as fast as the guest can, for
 * Vireo's network tests. A flood, a spoofed source address, or both:
 *
 *   vireo-netflood [-d DST] [-s SRC] [-l LEN] [-n COUNT] [-t SECONDS] [IFACE]
 *
 * DST defaults to the broadcast address, SRC to the interface's own, LEN to
 * 1514 bytes (header included), IFACE to eth0; it stops after COUNT frames
 * or SECONDS (default 5 s), whichever comes first, and prints
 * "vireo-netflood: N frames in S s". The EtherType is 0x88b5 (local
 * experimental), so no stack on the other side makes anything of them.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_LOCAL 0x88b5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return 0;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: vireo-netflood [-d DST] [-s SRC] [-l LEN] [-n COUNT] [-t SECONDS] [IFACE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned char frame[1514], dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, src[6];
	const char *iface = "eth0";
	long len = 1514, count = -1;
	double seconds = 5, start;
	bool have_src = false;
	struct sockaddr_ll to;
	struct ifreq ifr;
	long sent = 0;
	int fd, opt;

	while ((opt = getopt(argc, argv, "d:s:l:n:t:")) != -1) {
		switch (opt) {
		case 'd':
			if (parse_mac(optarg, dst))
				usage();
			break;
		case 's':
			if (parse_mac(optarg, src))
				usage();
			have_src = true;
			break;
		case 'l':
			len = strtol(optarg, NULL, 0);
			if (len < 14 || len > (long)sizeof(frame))
				usage();
			break;
		case 'n':
			count = strtol(optarg, NULL, 0);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		default:
			usage();
		}
	}
	if (optind < argc)
		iface = argv[optind];
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE_LOCAL));
	if (fd < 0) {
		perror("vireo-netflood: socket");
		return 1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) != 0) {
		perror("vireo-netflood: interface");
		return 1;
	}
	memset(&to, 0, sizeof(to));
	to.sll_family = AF_PACKET;
	to.sll_ifindex = ifr.ifr_ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, dst, 6);
	if (!have_src) {
		if (ioctl(fd, SIOCGIFHWADDR, &ifr) != 0) {
			perror("vireo-netflood: address");
			return 1;
		}
		memcpy(src, ifr.ifr_hwaddr.sa_data, 6);
	}
	memset(frame, 0x5a, sizeof(frame));
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = ETHERTYPE_LOCAL >> 8;
	frame[13] = ETHERTYPE_LOCAL & 0xff;
	start = now();
	while ((count < 0 || sent < count) && now() - start < seconds) {
		if (sendto(fd, frame, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
				continue;
			perror("vireo-netflood: send");
			return 1;
		}
		sent++;
	}
	printf("vireo-netflood: %ld frames in %.1f s\n", sent, now() - start);
	return 0;
}
