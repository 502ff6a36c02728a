/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The channel core: Vireo's end of the link protocol (docs/channel.md). It
 * sits between a transport to the host program (the host virtio-console
 * driver, or a fake in tests) and the agent ports of the VMs (each a pair of
 * byte rings in the VM's virtio console). Channel n is VM n's agent port.
 *
 * Flow control: Vireo grants the host exactly the room of a port's from_host
 * ring and grants more only as the guest takes bytes out; it sends the host
 * no more than the host granted, and takes the guest's bytes out of to_host
 * only to send them. Nothing is buffered anywhere else. A host that breaks
 * the rules (data beyond its window, for a closed or unknown channel, a
 * frame over the limit) gets LINK_ERROR; after a frame it cannot parse,
 * Vireo stops reading the link.
 *
 * Locking: one lock for the link and every port (`lock`). It is taken before
 * a device's lock (ports' `move` is called with it held, and reports back
 * instead of calling in) and before the transport's (ops are called with it
 * held); devices call in here only without their own lock. Pure logic:
 * unit-tested and fuzzed on the host.
 */
#ifndef VIREO_CHAN_H
#define VIREO_CHAN_H

#include <vireo/byte_ring.h>
#include <vireo/spinlock.h>
#include <vireo/types.h>
#include <vireo/vx.h>

#define CHAN_MAX_PORTS	  32 /* channel ids 1..CHAN_MAX_PORTS - 1 */
#define CHAN_NAME_MAX	  32
#define CHAN_CREDIT_BATCH 4096 /* credit goes back in pieces at least this big (or when idle) */
#define CHAN_OUT_MAX	  (16 * 1024) /* control frames (replies, events) waiting for room */

/* The transport toward the host program. */
struct chan_link_ops {
	/* Bytes the transport can take right now without blocking. */
	size_t (*room)(void *ctx);
	/* Take n <= room() bytes. */
	void (*write)(void *ctx, const void *bytes, size_t n);
	/* Send what was written (the end of a burst of frames). */
	void (*flush)(void *ctx);
};

/* Who serves LINK_REQUEST (the control plane, vireo/ctl.h). */
struct chan_ctl_ops {
	/* A request's payload, with the link lock held: copy it and return (false: no
	 * room, the host is told -VIREO_EBUSY). */
	bool (*request)(void *ctx, const uint8_t *payload, uint32_t len);
	/* After the receive path let go of the link lock: run what was queued. */
	void (*run)(void *ctx);
};

struct chan_port {
	bool attached;
	char name[CHAN_NAME_MAX];
	struct byte_ring *to_host, *from_host; /* the device's rings: we consume to_host */
	/* Have the device move data between the guest and the rings (link lock held): it
	 * says whether it put new bytes in to_host and how many it took from from_host. */
	void (*move)(void *dev, bool *tx_ready, uint32_t *consumed);
	void *dev;

	bool guest_open;      /* the guest has the port open */
	bool host_closed;     /* the host said LINK_CLOSE: the guest's data is dropped */
	uint32_t host_window; /* bytes the host still takes from us */
	uint32_t host_may;    /* bytes we still take from the host (granted, not yet received) */
	uint32_t owed;	      /* bytes the guest consumed that we have not granted back */
	bool say_open, say_close, say_exit;
	int32_t exit_status;
};

struct chan_link {
	spinlock_t lock;
	const struct chan_link_ops *ops;
	void *ctx;
	struct vx_parser parser;
	bool say_hello, hello_received, dead;
	bool say_error;
	uint32_t error_code;
	uint16_t error_chan;
	uint32_t bad_frames; /* what the host got wrong, for the log */
	struct chan_port ports[CHAN_MAX_PORTS];

	const struct chan_ctl_ops *ctl;
	void *ctl_ctx;
	/* Whole control frames for the host, in order, sent as room allows. */
	uint8_t out[CHAN_OUT_MAX];
	uint32_t out_len;
	uint32_t out_dropped; /* frames that did not fit */
};

void chan_link_init(struct chan_link *l, const struct chan_link_ops *ops, void *ctx);
/* The transport is up: greet the host. */
void chan_link_up(struct chan_link *l);
/* Bytes from the host (the transport's receive path). */
void chan_link_receive(struct chan_link *l, const uint8_t *bytes, size_t n);
/* Send what can be sent (after the transport made room, or anything changed). */
void chan_link_pump(struct chan_link *l);

/* Serve LINK_REQUEST with these (before the link is up). */
void chan_link_set_ctl(struct chan_link *l, const struct chan_ctl_ops *ops, void *ctx);
/* Queue one whole control frame for the host (LINK_REPLY, LINK_EVENT) and send what
 * can go; -VIREO_EBUSY (nothing queued) if it does not fit, -VIREO_EINVAL if too big. */
int chan_link_send(struct chan_link *l, uint16_t type, uint16_t chan, const void *payload,
		   uint32_t len);

/* Nothing queued here for the host any more (all handed to the transport). */
bool chan_link_flushed(struct chan_link *l);

/* A VM's agent port as channel id (1..CHAN_MAX_PORTS-1): its rings and how to tell its
 * device to move data. -VIREO_EINVAL for a bad or used id. */
int chan_port_attach(struct chan_link *l, unsigned id, const char *name, struct byte_ring *to_host,
		     struct byte_ring *from_host,
		     void (*move)(void *dev, bool *tx_ready, uint32_t *consumed), void *dev);
/* No VM on this channel and nothing left to tell the host about an earlier one (its
 * LINK_CLOSE and LINK_VM_EXIT went out): the id may go to a new VM. */
bool chan_port_idle(struct chan_link *l, unsigned id);
/* The VM is gone: the host hears LINK_VM_EXIT; the rings are never touched again. */
void chan_port_detach(struct chan_link *l, unsigned id, int status);
/* Events from the device (called without its lock). */
void chan_port_open(struct chan_link *l, unsigned id, bool open);
void chan_port_tx_ready(struct chan_link *l, unsigned id);
void chan_port_consumed(struct chan_link *l, unsigned id, uint32_t n);

#endif
