// SPDX-License-Identifier: BSD-2-Clause
/* Framing of the Vireo channel; see vireo/vx.h and docs/channel.md. */
#include <vireo/vx.h>

void vx_put_u16(uint8_t *out, uint16_t v)
{
	out[0] = (uint8_t)v;
	out[1] = (uint8_t)(v >> 8);
}

void vx_put_u32(uint8_t *out, uint32_t v)
{
	vx_put_u16(out, (uint16_t)v);
	vx_put_u16(out + 2, (uint16_t)(v >> 16));
}

void vx_put_u64(uint8_t *out, uint64_t v)
{
	vx_put_u32(out, (uint32_t)v);
	vx_put_u32(out + 4, (uint32_t)(v >> 32));
}

uint16_t vx_get_u16(const uint8_t *in)
{
	return (uint16_t)(in[0] | in[1] << 8);
}

uint32_t vx_get_u32(const uint8_t *in)
{
	return vx_get_u16(in) | (uint32_t)vx_get_u16(in + 2) << 16;
}

uint64_t vx_get_u64(const uint8_t *in)
{
	return vx_get_u32(in) | (uint64_t)vx_get_u32(in + 4) << 32;
}

void vx_put_hdr(uint8_t *out, uint16_t type, uint16_t chan, uint32_t len)
{
	vx_put_u32(out, len);
	vx_put_u16(out + 4, type);
	vx_put_u16(out + 6, chan);
}

void vx_parser_init(struct vx_parser *p, const struct vx_parser_ops *ops, void *ctx,
		    uint32_t stream_types)
{
	p->ops = ops;
	p->ctx = ctx;
	p->stream_types = stream_types;
	p->hdr_have = 0;
	p->have = 0;
	p->error = VX_OK;
}

bool vx_parser_idle(const struct vx_parser *p)
{
	return p->hdr_have == 0;
}

const char *vx_error_text(enum vx_error e)
{
	switch (e) {
	case VX_OK:
		return "no error";
	case VX_ERR_TOO_LONG:
		return "frame longer than the protocol allows";
	case VX_ERR_CONTROL_LONG:
		return "control message longer than the protocol allows";
	default:
		return "message refused by its receiver";
	}
}

static bool is_stream(const struct vx_parser *p, uint16_t type)
{
	return type < 32 && (p->stream_types & (1u << type));
}

/* The header is complete: check it. A frame of length 0 ends here. */
static bool start_frame(struct vx_parser *p)
{
	struct vx_hdr *h = &p->cur;

	h->len = vx_get_u32(p->hdr);
	h->type = vx_get_u16(p->hdr + 4);
	h->chan = vx_get_u16(p->hdr + 6);
	p->have = 0;
	if (h->len > VX_MAX_PAYLOAD) {
		p->error = VX_ERR_TOO_LONG;
		return false;
	}
	if (!is_stream(p, h->type) && h->len > VX_CONTROL_MAX) {
		p->error = VX_ERR_CONTROL_LONG;
		return false;
	}
	return true;
}

static void end_frame(struct vx_parser *p)
{
	p->hdr_have = 0;
	p->have = 0;
}

/* Payload bytes of the current frame (up to what it still needs); returns how many. */
static size_t take_payload(struct vx_parser *p, const uint8_t *bytes, size_t n)
{
	const struct vx_hdr *h = &p->cur;
	size_t want = h->len - p->have;
	size_t use = n < want ? n : want;
	bool last = use == want;
	bool ok = true;

	if (is_stream(p, h->type)) {
		ok = p->ops->data(p->ctx, h, p->have, bytes, use, last);
	} else {
		for (size_t i = 0; i < use; i++)
			p->control[p->have + i] = bytes[i];
		if (last)
			ok = p->ops->control(p->ctx, h, p->control);
	}
	p->have += (uint32_t)use;
	if (!ok)
		p->error = VX_ERR_BY_CONSUMER;
	else if (last)
		end_frame(p);
	return use;
}

size_t vx_parser_feed(struct vx_parser *p, const uint8_t *bytes, size_t n)
{
	size_t used = 0;

	while (!p->error && (used < n || (p->hdr_have == VX_HDR_SIZE && p->cur.len == 0))) {
		if (p->hdr_have < VX_HDR_SIZE) {
			p->hdr[p->hdr_have++] = bytes[used++];
			if (p->hdr_have == VX_HDR_SIZE && !start_frame(p))
				break;
			continue;
		}
		used += take_payload(p, bytes + used, n - used);
	}
	return used;
}
