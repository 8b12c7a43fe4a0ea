#include "hub/model/msg.h"
#include "hub/util/hot.h"
#include "hub/model/query.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Copies src and a NUL to *cursor, never past end. */
static int rt__copy(char **cursor, const char *end, rt_str *dst, rt_str src)
{
	if (src.ptr == NULL) {
		dst->ptr = NULL;
		dst->len = 0;
		return 0;
	}
	if (src.len >= (size_t) (end - *cursor)) {
		return -1;
	}
	memcpy(*cursor, src.ptr, src.len);
	(*cursor)[src.len] = '\0';
	dst->ptr = *cursor;
	dst->len = src.len;
	*cursor += src.len + 1;
	return 0;
}

/* a + b, or SIZE_MAX when it overflows (no allocation is that large). */
static size_t rt__add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static const char *const rt__api_names[] = {
	[RT_MSG_PUBLISH] = "publish",
	[RT_MSG_TO_USER] = "user",
	[RT_MSG_TO_CONNECTION] = "connection",
	[RT_MSG_DISCONNECT_USER] = "disconnect",
};

const char *rt_msg_api_name(rt_msg_type type)
{
	return type >= RT_MSG_PUBLISH && type <= RT_MSG_DISCONNECT_USER ? rt__api_names[type] : NULL;
}

rt_msg_type rt_msg_api_type(const char *name, size_t len)
{
	for (int t = RT_MSG_PUBLISH; t <= RT_MSG_DISCONNECT_USER; t++) {
		if (strlen(rt__api_names[t]) == len && memcmp(rt__api_names[t], name, len) == 0) {
			return (rt_msg_type) t;
		}
	}
	return 0;
}

rt_msg *rt_msg_new(rt_msg_type type, const rt_msg_fields *f)
{
	size_t size = sizeof(rt_msg);
	const rt_str *strs[4] = {&f->event, &f->data, &f->exclude, &f->target};
	rt_msg *msg;
	char *cursor, *end;
	int bad = 0;

	size = rt__add(size, (size_t) f->channel_count * sizeof(rt_str));
	if (f->positions != NULL) {
		size = rt__add(size, (size_t) f->channel_count * sizeof(rt_pos));
	}
	for (uint32_t i = 0; i < f->channel_count; i++) {
		size = rt__add(size, rt__add(f->channels[i].len, 1));
	}
	for (int i = 0; i < 4; i++) {
		size = rt__add(size, rt__add(strs[i]->len, 1));
	}
	if (size == SIZE_MAX || (msg = malloc(size)) == NULL) {
		return NULL;
	}
	msg->next = NULL;
	msg->type = type;
	msg->channel_count = f->channel_count;
	msg->channels = (rt_str *) (msg + 1);
	msg->positions = NULL;
	cursor = (char *) (msg->channels + f->channel_count);
	if (f->positions != NULL) {
		msg->positions = (rt_pos *) cursor;
		memcpy(msg->positions, f->positions, (size_t) f->channel_count * sizeof(rt_pos));
		cursor += (size_t) f->channel_count * sizeof(rt_pos);
	}
	end = (char *) msg + size;
	for (uint32_t i = 0; i < f->channel_count; i++) {
		bad |= rt__copy(&cursor, end, &msg->channels[i], f->channels[i]);
	}
	bad |= rt__copy(&cursor, end, &msg->event, f->event);
	bad |= rt__copy(&cursor, end, &msg->data, f->data);
	bad |= rt__copy(&cursor, end, &msg->exclude, f->exclude);
	bad |= rt__copy(&cursor, end, &msg->target, f->target);
	if (bad) {
		free(msg); /* cannot happen: size counted every byte */
		return NULL;
	}
	msg->query = f->query;
	msg->origin = f->origin;
	msg->count = f->count;
	msg->born = 0;
	return msg;
}

RT_HOT void rt_msg_view(rt_msg *out, rt_msg_type type, const rt_msg_fields *f)
{
	out->next = NULL;
	out->type = type;
	out->channel_count = f->channel_count;
	out->channels = (rt_str *) f->channels;
	out->event = f->event;
	out->data = f->data;
	out->exclude = f->exclude;
	out->target = f->target;
	out->query = f->query;
	out->origin = f->origin;
	out->count = f->count;
	out->positions = (rt_pos *) f->positions;
	out->born = 0;
}

uint64_t rt_msg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

rt_msg *rt_msg_to_connection(const char *event, const char *data, size_t data_len,
		const char *target, size_t target_len)
{
	rt_msg_fields f = {0};

	f.event.ptr = event;
	f.event.len = strlen(event);
	f.data.ptr = data;
	f.data.len = data_len;
	f.target.ptr = target;
	f.target.len = target_len;
	return rt_msg_new(RT_MSG_TO_CONNECTION, &f);
}

rt_msg *rt_msg_copy(const rt_msg *msg)
{
	rt_msg_fields f;
	rt_msg *copy;

	f.channels = msg->channels;
	f.channel_count = msg->channel_count;
	f.event = msg->event;
	f.data = msg->data;
	f.exclude = msg->exclude;
	f.target = msg->target;
	f.query = msg->query;
	f.origin = msg->origin;
	f.count = msg->count;
	f.positions = msg->positions;
	copy = rt_msg_new(msg->type, &f);
	if (copy != NULL) {
		copy->born = msg->born;
	}
	if (copy != NULL && copy->query != NULL) {
		rt_query_retain(copy->query); /* each message releases its own reference */
	}
	return copy;
}

void rt_msg_free(rt_msg *msg)
{
	if (msg != NULL && msg->query != NULL) {
		rt_query_release(msg->query);
	}
	free(msg);
}

/* Layout: type u8, origin u32, count u32, channel count u16, then for each
 * of the channels, event, data, exclude and target: a u32 length (0xffffffff
 * for an absent string) and the bytes; with positions, then a u16 count
 * (the channel count) and a u64 offset and u64 epoch per channel; with a
 * publish time (born), the type's high bit set and a u64 at the very end. Little-endian, as both ends are on
 * the same kind of machine (one host for the memory broker; Redis peers are
 * assumed alike too). */
#define RT_ABSENT 0xffffffffu
#define RT_MSG_STAMPED 0x80

RT_HOT static size_t rt__str_size(rt_str s)
{
	return 4 + (s.ptr ? s.len : 0);
}

RT_HOT size_t rt_msg_encoded_size(const rt_msg *m)
{
	size_t n = 1 + 4 + 4 + 2;

	for (uint32_t i = 0; i < m->channel_count; i++) {
		n += rt__str_size(m->channels[i]);
	}
	if (m->positions != NULL) {
		n += 2 + (size_t) m->channel_count * 16;
	}
	if (m->born != 0) {
		n += 8;
	}
	return n + rt__str_size(m->event) + rt__str_size(m->data) + rt__str_size(m->exclude)
			+ rt__str_size(m->target);
}

RT_HOT static char *rt__put_u32(char *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

RT_HOT static char *rt__put_str(char *p, rt_str s)
{
	p = rt__put_u32(p, s.ptr ? (uint32_t) s.len : RT_ABSENT);
	if (s.ptr) {
		memcpy(p, s.ptr, s.len);
		p += s.len;
	}
	return p;
}

RT_HOT size_t rt_msg_encode(const rt_msg *m, char *out, size_t outlen)
{
	size_t n = rt_msg_encoded_size(m);
	char *p = out;
	uint16_t cc = (uint16_t) m->channel_count;

	if (n > outlen || m->channel_count > 0xffff) {
		return 0;
	}
	*p++ = (char) (m->type | (m->born != 0 ? RT_MSG_STAMPED : 0));
	p = rt__put_u32(p, m->origin);
	p = rt__put_u32(p, m->count);
	memcpy(p, &cc, 2);
	p += 2;
	for (uint32_t i = 0; i < m->channel_count; i++) {
		p = rt__put_str(p, m->channels[i]);
	}
	p = rt__put_str(p, m->event);
	p = rt__put_str(p, m->data);
	p = rt__put_str(p, m->exclude);
	p = rt__put_str(p, m->target);
	if (m->positions != NULL) {
		memcpy(p, &cc, 2);
		p += 2;
		for (uint32_t i = 0; i < m->channel_count; i++) {
			memcpy(p, &m->positions[i].offset, 8);
			memcpy(p + 8, &m->positions[i].epoch, 8);
			p += 16;
		}
	}
	if (m->born != 0) {
		memcpy(p, &m->born, 8);
	}
	return n;
}

typedef struct rt__reader {
	const char *p, *end;
	int bad;
} rt__reader;

static uint32_t rt__get_u32(rt__reader *r)
{
	uint32_t v = 0;

	if (r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	memcpy(&v, r->p, 4);
	r->p += 4;
	return v;
}

static rt_str rt__get_str(rt__reader *r)
{
	rt_str s = {NULL, 0};
	uint32_t len = rt__get_u32(r);

	if (r->bad || len == RT_ABSENT) {
		return s;
	}
	if ((size_t) (r->end - r->p) < len) {
		r->bad = 1;
		return s;
	}
	s.ptr = r->p;
	s.len = len;
	r->p += len;
	return s;
}

rt_msg *rt_msg_decode(const char *in, size_t len)
{
	rt__reader r;
	rt_msg_fields f = {0};
	rt_str *channels = NULL;
	rt_pos *positions = NULL;
	rt_msg_type type;
	uint16_t cc;
	rt_msg *msg;
	uint64_t born = 0;

	/* Before any pointer arithmetic: in may be NULL when len is 0. */
	if (in == NULL || len < 11) {
		return NULL;
	}
	r.p = in;
	r.end = in + len;
	r.bad = 0;
	type = (rt_msg_type) (unsigned char) *r.p++;
	if (type & RT_MSG_STAMPED) {
		/* The publish time is the last 8 bytes: the rest reads as unstamped. */
		if (len < 11 + 8) {
			return NULL;
		}
		type = (rt_msg_type) (type & ~RT_MSG_STAMPED);
		r.end -= 8;
		memcpy(&born, r.end, 8);
		if (born == 0) {
			return NULL; /* 0 means unstamped: such a message is never flagged */
		}
	}
	if (type < RT_MSG_PUBLISH || type > RT_MSG_HANDOFF || type == RT_MSG_QUERY || type == RT_MSG_STOP) {
		return NULL;
	}
	f.origin = rt__get_u32(&r);
	f.count = rt__get_u32(&r);
	if (r.bad || r.end - r.p < 2) {
		return NULL;
	}
	memcpy(&cc, r.p, 2);
	r.p += 2;
	/* Each channel takes at least its 4-byte length: a count the bytes
	 * cannot hold must not cost an allocation of its size. */
	if (cc > (size_t) (r.end - r.p) / 4) {
		return NULL;
	}
	if (cc > 0) {
		channels = calloc(cc, sizeof(*channels));
		if (channels == NULL) {
			return NULL;
		}
	}
	for (uint16_t i = 0; i < cc && !r.bad; i++) {
		channels[i] = rt__get_str(&r);
		if (channels[i].ptr == NULL) {
			r.bad = 1;
		}
	}
	f.channels = channels;
	f.channel_count = cc;
	f.event = rt__get_str(&r);
	f.data = rt__get_str(&r);
	f.exclude = rt__get_str(&r);
	f.target = rt__get_str(&r);
	if (!r.bad && r.p != r.end) {
		/* Positions: exactly one per channel, and nothing after them. */
		uint16_t pc;
		if (r.end - r.p < 2 || type != RT_MSG_PUBLISH || cc == 0) {
			r.bad = 1;
		} else {
			memcpy(&pc, r.p, 2);
			r.p += 2;
			if (pc != cc || (size_t) (r.end - r.p) != (size_t) cc * 16
					|| (positions = calloc(cc, sizeof(*positions))) == NULL) {
				r.bad = 1;
			} else {
				for (uint16_t i = 0; i < cc; i++) {
					memcpy(&positions[i].offset, r.p, 8);
					memcpy(&positions[i].epoch, r.p + 8, 8);
					r.p += 16;
				}
				f.positions = positions;
			}
		}
	}
	msg = (r.bad || r.p != r.end) ? NULL : rt_msg_new(type, &f);
	if (msg != NULL) {
		msg->born = born;
	}
	free(channels);
	free(positions);
	return msg;
}
