/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Virtio 1.2 constants and structures shared by the host's virtio drivers
 * (drivers/) and the devices Vireo gives its guests (vdev/): the virtio-mmio
 * register map (modern interface, Version 2), status and feature bits, the
 * split virtqueue layout and the block device's requests. Names follow the
 * spec. Fields are little-endian, as the target and the test hosts are.
 */
#ifndef VIREO_VIRTIO_H
#define VIREO_VIRTIO_H

#include <vireo/types.h>

typedef uint16_t le16;
typedef uint32_t le32;
typedef uint64_t le64;

/* ---- virtio-mmio registers (spec 4.2.2), byte offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090 /* the available ring */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0 /* the used ring */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100 /* device-specific configuration space */

#define VIRTIO_MMIO_MAGIC	   0x74726976 /* "virt", little-endian */
#define VIRTIO_MMIO_VERSION_LEGACY 1
#define VIRTIO_MMIO_VERSION_MODERN 2

/* InterruptStatus / InterruptACK bits. */
#define VIRTIO_MMIO_INT_VRING  (1u << 0) /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG (1u << 1) /* configuration change */

/* ---- Device IDs (spec 5). */
#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4

/* ---- Device status field (spec 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	 1
#define VIRTIO_STATUS_DRIVER		 2
#define VIRTIO_STATUS_DRIVER_OK		 4
#define VIRTIO_STATUS_FEATURES_OK	 8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED		 128

/* ---- Reserved (device-independent) feature bits (spec 6). */
#define VIRTIO_F_INDIRECT_DESC	   28
#define VIRTIO_F_EVENT_IDX	   29
#define VIRTIO_F_VERSION_1	   32
#define VIRTIO_F_ACCESS_PLATFORM   33
#define VIRTIO_F_RING_PACKED	   34
#define VIRTIO_F_IN_ORDER	   35
#define VIRTIO_F_ORDER_PLATFORM	   36
#define VIRTIO_F_SR_IOV		   37
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_NOTIF_CONFIG_DATA 39
#define VIRTIO_F_RING_RESET	   40

/* ---- Split virtqueues (spec 2.7). */
#define VIRTQ_DESC_F_NEXT     1 /* the chain continues in `next` */
#define VIRTQ_DESC_F_WRITE    2 /* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4 /* the buffer is a table of descriptors */

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

/* Alignment each part of a split queue needs (spec 2.7, "Virtqueue Alignment"). */
#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

/* Largest queue a split virtqueue can have; its size is a power of two. */
#define VIRTQ_MAX_SIZE 32768

struct virtq_desc {
	le64 addr;
	le32 len;
	le16 flags;
	le16 next;
};

struct virtq_avail {
	le16 flags;
	le16 idx;
	le16 ring[]; /* queue size entries, then le16 used_event with VIRTIO_F_EVENT_IDX */
};

struct virtq_used_elem {
	le32 id;  /* head of the descriptor chain */
	le32 len; /* bytes the device wrote into the chain */
};

struct virtq_used {
	le16 flags;
	le16 idx;
	struct virtq_used_elem ring[]; /* then le16 avail_event with VIRTIO_F_EVENT_IDX */
};

/* Bytes of each part for a queue of `num` entries (with the event-index fields). */
static inline size_t virtq_desc_bytes(unsigned num)
{
	return sizeof(struct virtq_desc) * num;
}

static inline size_t virtq_avail_bytes(unsigned num)
{
	return sizeof(struct virtq_avail) + sizeof(le16) * num + sizeof(le16);
}

static inline size_t virtq_used_bytes(unsigned num)
{
	return sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * num + sizeof(le16);
}

/* ---- Block device (spec 5.2). */
#define VIRTIO_BLK_F_SIZE_MAX	  1
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_GEOMETRY	  4
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_CONFIG_WCE	  11
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_F_LIFETIME	  15
#define VIRTIO_BLK_F_SECURE_ERASE 16

/* Request types. */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_GET_LIFETIME 10
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_SECURE_ERASE 14

/* The status byte the device writes last in every request. */
#define VIRTIO_BLK_S_OK	    0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR_SIZE 512 /* `sector` and `capacity` always count 512-byte units */
#define VIRTIO_BLK_ID_BYTES    20  /* GET_ID answer */

/* The device-readable head of every request; data and the status byte follow. */
struct virtio_blk_req_header {
	le32 type;
	le32 reserved;
	le64 sector;
};

struct virtio_blk_geometry {
	le16 cylinders;
	uint8_t heads;
	uint8_t sectors;
};

struct virtio_blk_topology {
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	le16 min_io_size;
	le32 opt_io_size;
};

/* Configuration space; a field is valid only with its feature bit. */
struct virtio_blk_config {
	le64 capacity;
	le32 size_max;
	le32 seg_max;
	struct virtio_blk_geometry geometry;
	le32 blk_size;
	struct virtio_blk_topology topology;
	uint8_t writeback;
	uint8_t unused0;
	le16 num_queues;
	le32 max_discard_sectors;
	le32 max_discard_seg;
	le32 discard_sector_alignment;
	le32 max_write_zeroes_sectors;
	le32 max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	le32 max_secure_erase_sectors;
	le32 max_secure_erase_seg;
	le32 secure_erase_sector_alignment;
};

/* ---- Network device (spec 5.1). */
#define VIRTIO_NET_F_CSUM	    0 /* the device takes frames with a partial checksum */
#define VIRTIO_NET_F_GUEST_CSUM	    1 /* the driver takes frames with a partial checksum */
#define VIRTIO_NET_F_MTU	    3 /* `mtu` in the configuration is valid */
#define VIRTIO_NET_F_MAC	    5 /* `mac` in the configuration is valid */
#define VIRTIO_NET_F_GUEST_TSO4	    7
#define VIRTIO_NET_F_HOST_TSO4	    11
#define VIRTIO_NET_F_MRG_RXBUF	    15 /* the driver can merge receive buffers */
#define VIRTIO_NET_F_STATUS	    16 /* `status` in the configuration is valid */
#define VIRTIO_NET_F_CTRL_VQ	    17
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ		    22

#define VIRTIO_NET_S_LINK_UP 1 /* `status` */

/* virtio_net_hdr.flags and .gso_type. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE	    0

#define VIRTIO_NET_RXQ 0 /* receiveq1 */
#define VIRTIO_NET_TXQ 1 /* transmitq1 */

/* Ahead of every frame in both directions (the modern layout: num_buffers is always
 * there, 1 unless MRG_RXBUF merges buffers). */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	le16 hdr_len;
	le16 gso_size;
	le16 csum_start;
	le16 csum_offset;
	le16 num_buffers;
};

/* Configuration space, up to the fields Vireo uses; a field is valid only with its feature. */
struct virtio_net_config {
	uint8_t mac[6];
	le16 status;
	le16 max_virtqueue_pairs;
	le16 mtu;
};

/* ---- Console device (spec 5.3). */
#define VIRTIO_CONSOLE_F_SIZE	     0
#define VIRTIO_CONSOLE_F_MULTIPORT   1
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

/* Control events (spec 5.3.6.2). */
#define VIRTIO_CONSOLE_DEVICE_READY  0
#define VIRTIO_CONSOLE_DEVICE_ADD    1 /* "PORT_ADD" in Linux */
#define VIRTIO_CONSOLE_DEVICE_REMOVE 2
#define VIRTIO_CONSOLE_PORT_READY    3
#define VIRTIO_CONSOLE_CONSOLE_PORT  4
#define VIRTIO_CONSOLE_RESIZE	     5
#define VIRTIO_CONSOLE_PORT_OPEN     6
#define VIRTIO_CONSOLE_PORT_NAME     7
#define VIRTIO_CONSOLE_BAD_ID	     0xffffffffu

struct virtio_console_config {
	le16 cols;
	le16 rows;
	le32 max_nr_ports;
	le32 emerg_wr;
};

struct virtio_console_control {
	le32 id; /* port number */
	le16 event;
	le16 value;
};

/* Queues of a multiport console: port 0 receive/transmit, control receive/transmit,
 * then port n >= 1 at 2(n+1) and 2(n+1)+1 (spec 5.3.2). */
static inline unsigned virtio_console_rxq(unsigned port)
{
	return port ? 2 * (port + 1) : 0;
}

static inline unsigned virtio_console_txq(unsigned port)
{
	return virtio_console_rxq(port) + 1;
}

#define VIRTIO_CONSOLE_CTRL_RXQ 2
#define VIRTIO_CONSOLE_CTRL_TXQ 3

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc layout");
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr layout");
_Static_assert(sizeof(struct virtio_net_config) == 12, "virtio_net_config layout");
_Static_assert(sizeof(struct virtio_console_config) == 12, "virtio_console_config layout");
_Static_assert(sizeof(struct virtio_console_control) == 8, "virtio_console_control layout");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem layout");
_Static_assert(sizeof(struct virtio_blk_req_header) == 16, "virtio_blk_req_header layout");
_Static_assert(offsetof(struct virtio_blk_config, blk_size) == 20, "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, num_queues) == 34, "virtio_blk_config layout");
_Static_assert(offsetof(struct virtio_blk_config, secure_erase_sector_alignment) == 68,
	       "virtio_blk_config layout");

#endif
