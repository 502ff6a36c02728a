// SPDX-License-Identifier: BSD-2-Clause
/*
 * The control plane: the request queue, the dispatch by op, replies and
 * events (vireo/ctl.h, docs/channel.md "Control requests").
 */
#include <vireo/chan.h>
#include <vireo/ctl.h>
#include <vireo/ctl_debug.h>
#include <vireo/log.h>
#include <vireo/printf.h>
#include <vireo/spinlock.h>
#include <vireo/string.h>
#include <vireo/vx.h>

#define CTL_QUEUE     8
#define CTL_HDR	      8 /* u32 id, u16 op, u16 flags */
#define CTL_REPLY_HDR 8 /* u32 id, i32 result */
#define CTL_EVENT_HDR 8 /* u16 event, u16 0, u32 vm */

struct ctl_table {
	const struct ctl_op_entry *ops;
	const unsigned *count;
};

/* Every module's ops; a module adds its table here. */
static const struct ctl_table ctl_tables[] = {
    {ctl_core_ops, &ctl_core_op_count},		{ctl_lifecycle_ops, &ctl_lifecycle_op_count},
    {ctl_snapshot_ops, &ctl_snapshot_op_count}, {ctl_debug_ops, &ctl_debug_op_count},
    {ctl_sandbox_ops, &ctl_sandbox_op_count},
};

struct ctl_slot {
	uint32_t len;
	uint8_t bytes[VX_CONTROL_MAX];
};

static struct {
	spinlock_t lock; /* the queue (taken inside the link lock) */
	struct ctl_slot slots[CTL_QUEUE];
	unsigned head, tail; /* slots ever queued / ever taken */
	bool running;	     /* one hart runs requests at a time, in order */
	struct chan_link *link;
	uint32_t events_dropped;
} ctl = {.lock = SPINLOCK_INIT};

/* Reply data of the request being run (requests run one at a time). */
static uint8_t reply_buf[CTL_REPLY_HDR + CTL_REPLY_MAX];

static bool ctl_queue_request(void *ctx, const uint8_t *payload, uint32_t len)
{
	bool queued = false;

	(void)ctx;
	if (len > VX_CONTROL_MAX)
		return false;
	spin_lock(&ctl.lock);
	if (ctl.head - ctl.tail < CTL_QUEUE) {
		struct ctl_slot *s = &ctl.slots[ctl.head % CTL_QUEUE];

		memcpy(s->bytes, payload, len);
		s->len = len;
		ctl.head++;
		queued = true;
	}
	spin_unlock(&ctl.lock);
	return queued;
}

static const struct ctl_op_entry *find_op(uint16_t op)
{
	for (unsigned t = 0; t < ARRAY_SIZE(ctl_tables); t++)
		for (unsigned i = 0; i < *ctl_tables[t].count; i++)
			if (ctl_tables[t].ops[i].op == op)
				return &ctl_tables[t].ops[i];
	return NULL;
}

static void send_reply(uint32_t id, int result, uint32_t data_len)
{
	ctl_put_u32(reply_buf, id);
	ctl_put_u32(reply_buf + 4, (uint32_t)result);
	/* The queue holds a few replies; a host that never reads loses the newest. */
	if (chan_link_send(ctl.link, LINK_REPLY, 0, reply_buf, CTL_REPLY_HDR + data_len))
		log_warn("ctl: reply to request %u dropped (the host does not read)", id);
}

static void run_one(const struct ctl_slot *s)
{
	struct ctl_call call = {.out = reply_buf + CTL_REPLY_HDR};
	const struct ctl_op_entry *e;
	int result;

	call.id = ctl_get_u32(s->bytes);
	if (s->len < CTL_HDR) {
		send_reply(call.id, -VIREO_EINVAL, 0);
		return;
	}
	call.op = (uint16_t)(s->bytes[4] | s->bytes[5] << 8);
	/* Flags are reserved: a request that sets one asks for something not offered. */
	if (s->bytes[6] || s->bytes[7]) {
		send_reply(call.id, -VIREO_EINVAL, 0);
		return;
	}
	call.args = s->bytes + CTL_HDR;
	call.len = s->len - CTL_HDR;
	e = find_op(call.op);
	result = e ? e->handler(&call) : -VIREO_ENOSYS;
	/* An error carries data only when it is the reason, in words. */
	if ((result < 0 && !call.out_is_reason) || call.out_len > CTL_REPLY_MAX)
		call.out_len = 0;
	send_reply(call.id, result, call.out_len);
}

int ctl_fail(struct ctl_call *call, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vireo_vsnprintf((char *)call->out, CTL_REASON_MAX, fmt, ap);
	va_end(ap);
	call->out_len = n < 0 ? 0 : (uint32_t)MIN(n, CTL_REASON_MAX - 1);
	call->out_is_reason = true;
	return err;
}

static void ctl_run(void *ctx)
{
	(void)ctx;
	spin_lock(&ctl.lock);
	if (ctl.running) {
		spin_unlock(&ctl.lock);
		return;
	}
	ctl.running = true;
	while (ctl.tail != ctl.head) {
		static struct ctl_slot slot; /* only the running hart touches it */
		const struct ctl_slot *s = &ctl.slots[ctl.tail % CTL_QUEUE];

		slot.len = s->len;
		memcpy(slot.bytes, s->bytes, s->len);
		ctl.tail++;
		spin_unlock(&ctl.lock);
		run_one(&slot);
		spin_lock(&ctl.lock);
	}
	ctl.running = false;
	spin_unlock(&ctl.lock);
}

static const struct chan_ctl_ops ctl_link_ops = {.request = ctl_queue_request, .run = ctl_run};

void ctl_attach(struct chan_link *link)
{
	ctl.link = link;
	chan_link_set_ctl(link, &ctl_link_ops, NULL);
}

bool ctl_idle(void)
{
	bool idle;

	spin_lock(&ctl.lock);
	idle = !ctl.running && ctl.head == ctl.tail;
	spin_unlock(&ctl.lock);
	return idle;
}

void ctl_event(uint16_t event, unsigned vm_id, const void *data, uint32_t len)
{
	uint8_t b[CTL_EVENT_HDR + CTL_EVENT_MAX];

	if (!ctl.link || len > CTL_EVENT_MAX)
		return;
	b[0] = (uint8_t)event;
	b[1] = (uint8_t)(event >> 8);
	b[2] = b[3] = 0;
	ctl_put_u32(b + 4, vm_id);
	if (len)
		memcpy(b + CTL_EVENT_HDR, data, len);
	if (chan_link_send(ctl.link, LINK_EVENT, 0, b, CTL_EVENT_HDR + len))
		__atomic_fetch_add(&ctl.events_dropped, 1, __ATOMIC_RELAXED);
}
