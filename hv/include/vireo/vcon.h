/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The virtio console a VM sees (virtio 1.2, 5.3), multiport, as Linux's
 * virtio_console driver expects, on Vireo's virtio-mmio transport:
 *
 *  - port 0 is a console (hvc0 in Linux): what the guest writes goes to the
 *    VM's console like its UART's output, with no exit per byte; typed input
 *    comes back through `console_in`;
 *  - port 1 is named "org.vireo.agent": a byte stream between the guest and
 *    the host program at the other end of the channel (docs/channel.md). Its
 *    data crosses two rings of VCON_RING_SIZE bytes (to_host, from_host);
 *    the channel core is their other end. The guest's transmit buffers stay
 *    in its queue while to_host is full, so a guest writing faster than the
 *    host reads is simply blocked, and nothing here grows.
 *
 * The control queue carries the multiport handshake: the driver's
 * DEVICE_READY gets one DEVICE_ADD per port; each PORT_READY gets
 * CONSOLE_PORT (port 0) or PORT_NAME, and PORT_OPEN (the host end is there);
 * the guest's own PORT_OPEN for port 1 (opening /dev/vportNp1) is reported to
 * the channel. Control messages waiting for the driver's buffers are kept in
 * a small queue; beyond it they are dropped (a driver that posts no control
 * buffers gets nothing).
 *
 * Locking: vdev.lock guards the device. The ops are called with it held,
 * except tx_ready, rx_consumed and port_open, which are called after it is
 * released (they take the channel's lock: device -> channel never nests).
 * Pure logic over guest memory: unit-tested and fuzzed on the host.
 */
#ifndef VIREO_VCON_H
#define VIREO_VCON_H

#include <vireo/byte_ring.h>
#include <vireo/guest_mem.h>
#include <vireo/irq_line.h>
#include <vireo/virtio.h>
#include <vireo/virtio_dev.h>
#include <vireo/virtq.h>

#define VCON_PORTS	  2
#define VCON_QUEUES	  (2 * (VCON_PORTS + 1))
#define VCON_QUEUE_MAX	  128
#define VCON_RING_SIZE	  (64 * 1024) /* each way on the agent port: the channel's window */
#define VCON_INPUT_SIZE	  4096	      /* typed input waiting for the console port */
#define VCON_CTRL_PENDING 16
#define VCON_CHAIN_MAX	  16 /* buffers of one chain the device takes */
#define VCON_PORT_CONSOLE 0
#define VCON_PORT_AGENT	  1
#define VCON_AGENT_NAME	  "org.vireo.agent"

struct vcon_ops {
	/* Bytes the guest wrote on its console port (lock held). */
	void (*console_write)(void *ctx, const uint8_t *bytes, size_t n);
	/* The guest opened (true) or closed its agent port. */
	void (*port_open)(void *ctx, bool open);
	/* New bytes in to_host. */
	void (*tx_ready)(void *ctx);
	/* The guest took n bytes out of from_host: room for more. */
	void (*rx_consumed)(void *ctx, uint32_t n);
};

/* A message for the driver, waiting for a control receive buffer. */
struct vcon_ctrl_msg {
	struct virtio_console_control hdr;
	const char *name; /* PORT_NAME's payload, or NULL */
};

struct vcon {
	struct virtio_dev vdev; /* first: its lock guards everything below */
	struct virtq queues[VCON_QUEUES];
	struct guest_mem mem;
	struct virtio_console_config config;
	const struct vcon_ops *ops;
	void *ctx;

	bool driver_ready;	     /* DEVICE_READY(1) seen */
	bool port_ready[VCON_PORTS]; /* PORT_READY(1) seen */
	bool agent_open;	     /* the guest has its agent port open */
	struct vcon_ctrl_msg ctrl[VCON_CTRL_PENDING];
	unsigned ctrl_head, ctrl_count;

	/* A guest transmit chain of the agent port only partly copied to to_host. */
	struct virtq_buf tx_bufs[VCON_CHAIN_MAX];
	struct virtq_chain tx_chain;
	bool tx_pending;
	uint64_t tx_done; /* bytes of it copied */

	struct byte_ring to_host, from_host, console_in;
	uint8_t to_host_buf[VCON_RING_SIZE], from_host_buf[VCON_RING_SIZE];
	uint8_t console_in_buf[VCON_INPUT_SIZE];

	/* Events for the ops, gathered under the lock and delivered after it. */
	bool ev_tx_ready, ev_open_changed;
	uint32_t ev_consumed;
};

/* Set up the device over guest memory `mem` (copied), interrupting through irq. */
void vcon_init(struct vcon *c, const struct guest_mem *mem, const struct irq_line *irq,
	       const struct vcon_ops *ops, void *ctx);
struct snap_writer;
struct snap_reader;
/* Snapshots (vireo/vm_snapshot.h): the transport, the ports, a half-sent chain, what
 * waits for the host and typed input. Load checks it all (-VIREO_EINVAL, the device
 * reset); the channel hears the port's state at the next vcon_kick. */
void vcon_save(struct vcon *c, struct snap_writer *w);
int vcon_load(struct vcon *c, struct snap_reader *r);
/* Back to power-on (the guest's agent port is then closed). */
void vcon_reset(struct vcon *c);
/* Move data everywhere now (after a notify, or typed input); events go to the ops. */
void vcon_kick(struct vcon *c);
/* For the channel, which holds its lock: move the agent port's data only, and report
 * what happened instead of calling the ops (they would take that lock again). */
void vcon_move(struct vcon *c, bool *tx_ready, uint32_t *consumed);
/* A byte typed for this VM's console; false if the console's input is full. */
bool vcon_console_input(struct vcon *c, uint8_t byte);

#endif
