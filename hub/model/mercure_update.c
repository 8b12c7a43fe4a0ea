#include "hub/model/mercure_update.h"
#include "hub/model/registry.h"
#include "hub/util/buf.h"
#include "hub/util/utf8.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Layout of the target: 'M', 'p' (private) or '-', 't' (data wrapped as a
 * JSON string) or '-', then '\n' id '\n' type '\n' retry, then, for a
 * private update of several topics, '\n' and each topic ('\n'-separated).
 * An empty type or retry is none. Ids, types and topics hold no '\n'. */

static int rt__field_valid(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || !rt_utf8_valid((const uint8_t *) s, len)) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
			return 0;
		}
	}
	return 1;
}

int rt_mercure_id_valid(const char *s, size_t len)
{
	return rt__field_valid(s, len, RT_MERCURE_ID_MAX) && s[0] != '#';
}

int rt_mercure_type_valid(const char *s, size_t len)
{
	return rt__field_valid(s, len, RT_MERCURE_TYPE_MAX);
}

/* The next '\n'-ended field from *p (the last one ends at end). */
static rt_str rt__next(const char **p, const char *end, int *last)
{
	const char *nl = memchr(*p, '\n', (size_t) (end - *p));
	rt_str s = {*p, (size_t) ((nl != NULL ? nl : end) - *p)};

	*last = nl == NULL;
	*p = nl != NULL ? nl + 1 : end;
	return s;
}

int rt_mercure_update_parse(const rt_msg *msg, rt_mercure_update *out)
{
	const char *p, *end;
	rt_str retry;
	int last;

	if (msg->type != RT_MSG_PUBLISH || msg->target.ptr == NULL) {
		return 0;
	}
	p = msg->target.ptr;
	end = p + msg->target.len;
	memset(out, 0, sizeof(*out));
	if (msg->target.len < 4 || p[0] != 'M' || (p[1] != 'p' && p[1] != '-')
			|| (p[2] != 't' && p[2] != '-') || p[3] != '\n') {
		return -EINVAL;
	}
	out->is_private = p[1] == 'p';
	out->data_text = p[2] == 't';
	p += 4;
	out->id = rt__next(&p, end, &last);
	if (last || !rt_mercure_id_valid(out->id.ptr, out->id.len)) {
		return -EINVAL;
	}
	out->type = rt__next(&p, end, &last);
	if (last || (out->type.len > 0 && !rt_mercure_type_valid(out->type.ptr, out->type.len))) {
		return -EINVAL;
	}
	if (out->type.len == 0) {
		out->type.ptr = NULL;
	}
	retry = rt__next(&p, end, &last);
	out->retry = -1;
	if (retry.len > 10) {
		return -EINVAL;
	}
	if (retry.len > 0) {
		int64_t v = 0;
		for (size_t i = 0; i < retry.len; i++) {
			if (retry.ptr[i] < '0' || retry.ptr[i] > '9') {
				return -EINVAL;
			}
			v = v * 10 + (retry.ptr[i] - '0');
		}
		if (v > RT_MERCURE_RETRY_MAX) {
			return -EINVAL;
		}
		out->retry = v;
	}
	if (!last) {
		out->topics.ptr = p;
		out->topics.len = (size_t) (end - p);
		if (out->topics.len == 0) {
			return -EINVAL;
		}
	}
	return 1;
}

void rt_mercure_new_id(char out[46])
{
	unsigned char r[16];
	static const char hex[] = "0123456789abcdef";
	char *o = out;

	if (getrandom(r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
		/* Not secret, only unique: the clock and the address of a stack
		 * slot tell updates apart when the kernel has no randomness. */
		struct timespec ts;
		uintptr_t a = (uintptr_t) &ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(r, &ts, sizeof(r) < sizeof(ts) ? sizeof(r) : sizeof(ts));
		memcpy(r + 8, &a, sizeof(a) < 8 ? sizeof(a) : 8);
	}
	r[6] = (unsigned char) ((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char) ((r[8] & 0x3f) | 0x80); /* variant RFC 4122 */
	memcpy(o, "urn:uuid:", 9);
	o += 9;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			*o++ = '-';
		}
		*o++ = hex[r[i] >> 4];
		*o++ = hex[r[i] & 15];
	}
	*o = '\0';
}

static int rt__fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

int rt_mercure_update_new(const rt_mercure_input *in, rt_msg **out, char *id_out, char *err,
		size_t errlen)
{
	rt_msg_fields f = {0};
	rt_sb meta, data;
	json_t *parsed;
	int wrap, r = 0;
	char retry[24];

	*out = NULL;
	if (in->topic_count == 0) {
		return rt__fail(err, errlen, "missing topic");
	}
	for (uint32_t i = 0; i < in->topic_count; i++) {
		if (!rt_channel_name_valid(in->topics[i].ptr, in->topics[i].len)) {
			return rt__fail(err, errlen, "a topic must be 1 to 200 characters of A-Z a-z 0-9 "
					"_ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~");
		}
	}
	if (in->id.ptr != NULL && !rt_mercure_id_valid(in->id.ptr, in->id.len)) {
		return rt__fail(err, errlen, "id must be 1 to 256 bytes of UTF-8 without line breaks, "
				"not starting with #");
	}
	if (in->type.ptr != NULL && !rt_mercure_type_valid(in->type.ptr, in->type.len)) {
		return rt__fail(err, errlen, "type must be 1 to 200 bytes of UTF-8 without line breaks");
	}
	if (in->retry < -1 || in->retry > RT_MERCURE_RETRY_MAX) {
		return rt__fail(err, errlen, "retry must be milliseconds, 0 to 2147483647");
	}
	if (in->data.len > 0 && !rt_utf8_valid((const uint8_t *) in->data.ptr, in->data.len)) {
		return rt__fail(err, errlen, "data must be UTF-8");
	}
	if (in->id.ptr != NULL) {
		memcpy(id_out, in->id.ptr, in->id.len);
		id_out[in->id.len] = '\0';
	} else {
		rt_mercure_new_id(id_out);
	}
	/* Data that is JSON text is kept as it is (native clients get the
	 * value); any other text becomes a JSON string. */
	parsed = in->data.len > 0 ? json_loadb(in->data.ptr, in->data.len, JSON_DECODE_ANY, NULL) : NULL;
	wrap = parsed == NULL;
	json_decref(parsed);
	rt_sb_init(&meta);
	rt_sb_init(&data);
	rt_sb_puts(&meta, in->is_private ? "Mp" : "M-");
	rt_sb_puts(&meta, wrap ? "t\n" : "-\n");
	rt_sb_puts(&meta, id_out);
	rt_sb_puts(&meta, "\n");
	if (in->type.ptr != NULL) {
		rt_sb_append(&meta, in->type.ptr, in->type.len);
	}
	rt_sb_puts(&meta, "\n");
	if (in->retry >= 0) {
		snprintf(retry, sizeof(retry), "%lld", (long long) in->retry);
		rt_sb_puts(&meta, retry);
	}
	if (in->is_private && in->topic_count > 1) {
		for (uint32_t i = 0; i < in->topic_count; i++) {
			rt_sb_puts(&meta, "\n");
			rt_sb_append(&meta, in->topics[i].ptr, in->topics[i].len);
		}
	}
	if (wrap) {
		rt_sb_json_string(&data, in->data.len > 0 ? in->data.ptr : "", in->data.len);
	}
	if (meta.failed || data.failed) {
		r = -ENOMEM;
		goto done;
	}
	f.channels = in->topics;
	f.channel_count = in->topic_count;
	f.data.ptr = wrap ? data.data : in->data.ptr;
	f.data.len = wrap ? data.len : in->data.len;
	f.event = in->type; /* native clients see the type as the event name */
	f.target.ptr = meta.data;
	f.target.len = meta.len;
	*out = rt_msg_new(RT_MSG_PUBLISH, &f);
	if (*out == NULL) {
		r = -ENOMEM;
	}
done:
	if (r == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
	}
	rt_sb_free(&meta);
	rt_sb_free(&data);
	return r;
}
