#include "hub/model/handoff_record.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Format, big-endian: "RTH1", u8 flags, u32 ping_in, u32 image_len + image,
 * u32 out_len + out, u32 carry_len + carry. */
#define RT__MAGIC "RTH1"

static void rt__u32(rt_sb *sb, uint32_t v)
{
	uint8_t b[4] = {(uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v};
	rt_sb_append(sb, b, 4);
}

static uint32_t rt__get32(const uint8_t *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

int rt_handoff_record_encode(rt_sb *sb, uint8_t flags, uint32_t ping_in,
		const void *img, size_t img_len, const uint8_t *const *out, const size_t *out_lens,
		size_t out_count, const void *carry, size_t carry_len)
{
	size_t total = 0;

	for (size_t i = 0; i < out_count; i++) {
		total += out_lens[i];
	}
	if (img_len > UINT32_MAX || total > UINT32_MAX || carry_len > UINT32_MAX) {
		return -EINVAL;
	}
	rt_sb_append(sb, RT__MAGIC, 4);
	rt_sb_append(sb, &flags, 1);
	rt__u32(sb, ping_in);
	rt__u32(sb, (uint32_t) img_len);
	rt_sb_append(sb, img, img_len);
	rt__u32(sb, (uint32_t) total);
	for (size_t i = 0; i < out_count; i++) {
		rt_sb_append(sb, out[i], out_lens[i]);
	}
	rt__u32(sb, (uint32_t) carry_len);
	rt_sb_append(sb, carry, carry_len);
	return sb->failed ? -ENOMEM : 0;
}

/* Takes a u32 length and that many bytes, at most max. */
static int rt__take(const uint8_t **p, const uint8_t *end, size_t max, const uint8_t **out,
		size_t *len)
{
	uint32_t n;

	if ((size_t) (end - *p) < 4) {
		return -1;
	}
	n = rt__get32(*p);
	*p += 4;
	if (n > max || (size_t) (end - *p) < n) {
		return -1;
	}
	*out = *p;
	*len = n;
	*p += n;
	return 0;
}

int rt_handoff_record_decode(rt_handoff_record *rec, const void *data, size_t len,
		const rt_handoff_limits *lim, char *err, size_t errlen)
{
	const uint8_t *p = data, *end = p + len, *img;
	size_t img_len;
	char why[160];
	int r;

	memset(rec, 0, sizeof(*rec));
	if (len < 9 || memcmp(p, RT__MAGIC, 4) != 0) {
		snprintf(err, errlen, "not a handoff record");
		return -EINVAL;
	}
	rec->flags = p[4];
	rec->ping_in = rt__get32(p + 5);
	p += 9;
	if (rec->flags & ~RT_HANDOFF_F_AWAIT_PONG) {
		snprintf(err, errlen, "unknown flags 0x%x", rec->flags);
		return -EINVAL;
	}
	if (rec->ping_in > lim->max_ping_in) {
		snprintf(err, errlen, "ping due in %u s, over realtime.ping_interval", rec->ping_in);
		return -EINVAL;
	}
	/* An image holds at most a few KB per subscription; bound it by what
	 * the limits allow rather than trust its length. */
	if (rt__take(&p, end, (size_t) 64 * 1024 + (size_t) lim->session.max_subscriptions
			* (65536 + 2 * lim->session.max_user_info + 4096), &img, &img_len) != 0) {
		snprintf(err, errlen, "session image cut short or too large");
		return -EINVAL;
	}
	if (rt__take(&p, end, lim->max_out, &rec->out, &rec->out_len) != 0) {
		snprintf(err, errlen, "outbound bytes cut short or over realtime.max_outbound");
		return -EINVAL;
	}
	if (rt__take(&p, end, lim->max_carry, &rec->carry, &rec->carry_len) != 0) {
		snprintf(err, errlen, "inbound bytes cut short or over realtime.max_message_size");
		return -EINVAL;
	}
	if (p != end) {
		snprintf(err, errlen, "%zu bytes after the record", (size_t) (end - p));
		return -EINVAL;
	}
	r = rt_session_image_decode(&rec->image, img, img_len, &lim->session, why, sizeof(why));
	if (r != 0) {
		snprintf(err, errlen, "session image: %s", why);
		memset(rec, 0, sizeof(*rec));
		return r;
	}
	return 0;
}

void rt_handoff_record_free(rt_handoff_record *rec)
{
	rt_session_image_free(&rec->image);
	memset(rec, 0, sizeof(*rec));
}

static void rt__put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 24);
	p[1] = (uint8_t) (v >> 16);
	p[2] = (uint8_t) (v >> 8);
	p[3] = (uint8_t) v;
}

size_t rt_handoff_dgram_head(uint8_t *out, uint8_t type, uint64_t a, uint32_t b)
{
	out[0] = type;
	switch (type) {
	case RT_HANDOFF_HELLO:
		rt__put32(out + 1, (uint32_t) b);
		rt__put32(out + 5, (uint32_t) (a >> 32));
		rt__put32(out + 9, (uint32_t) a);
		return 13;
	case RT_HANDOFF_RECORD:
		rt__put32(out + 1, (uint32_t) a);
		rt__put32(out + 5, b);
		return RT_HANDOFF_RECORD_HEAD;
	case RT_HANDOFF_DONE:
	case RT_HANDOFF_ACK:
	case RT_HANDOFF_NACK:
		rt__put32(out + 1, (uint32_t) a);
		return 5;
	default:
		return 1;
	}
}

int rt_handoff_dgram_parse(rt_handoff_dgram *d, const void *data, size_t len)
{
	const uint8_t *p = data;

	memset(d, 0, sizeof(*d));
	if (len < 1) {
		return -EINVAL;
	}
	d->type = p[0];
	switch (d->type) {
	case RT_HANDOFF_HELLO:
		if (len != 13) {
			return -EINVAL;
		}
		d->node = rt__get32(p + 1);
		d->fence = (uint64_t) rt__get32(p + 5) << 32 | rt__get32(p + 9);
		return d->node != 0 ? 0 : -EINVAL;
	case RT_HANDOFF_RECORD:
		if (len < RT_HANDOFF_RECORD_HEAD) {
			return -EINVAL;
		}
		d->seq = rt__get32(p + 1);
		d->total = rt__get32(p + 5);
		d->bytes = p + RT_HANDOFF_RECORD_HEAD;
		d->len = len - RT_HANDOFF_RECORD_HEAD;
		return d->len <= d->total ? 0 : -EINVAL;
	case RT_HANDOFF_MORE:
		d->bytes = p + 1;
		d->len = len - 1;
		return d->len > 0 ? 0 : -EINVAL;
	case RT_HANDOFF_DONE:
	case RT_HANDOFF_ACK:
	case RT_HANDOFF_NACK:
		if (len != 5) {
			return -EINVAL;
		}
		d->seq = rt__get32(p + 1);
		return 0;
	default:
		return -EINVAL;
	}
}
