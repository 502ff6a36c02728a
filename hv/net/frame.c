// SPDX-License-Identifier: BSD-2-Clause
/* Frames in pieces; see vireo/net_frame.h. */
#include <vireo/net_frame.h>
#include <vireo/string.h>

bool net_frame_add(struct net_frame *f, const void *p, uint32_t len)
{
	if (f->nsegs == NET_FRAME_SEGS)
		return false;
	if (!len)
		return true;
	f->segs[f->nsegs++] = (struct net_seg){p, len};
	f->len += len;
	return true;
}

uint32_t net_frame_read(const struct net_frame *f, uint32_t off, void *dst, uint32_t n)
{
	uint8_t *out = dst;
	uint32_t done = 0;

	for (unsigned i = 0; i < f->nsegs && done < n; i++) {
		const struct net_seg *s = &f->segs[i];
		uint32_t take;

		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		take = MIN(s->len - off, n - done);
		memcpy(out + done, s->p + off, take);
		done += take;
		off = 0;
	}
	return done;
}
