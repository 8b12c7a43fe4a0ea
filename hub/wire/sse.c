#include "hub/wire/sse.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void rt_sse_head(rt_sb *sb, const char *origin, size_t origin_len)
{
	int cors = origin != NULL && origin_len > 0 && origin_len <= 512;

	for (size_t i = 0; cors && i < origin_len; i++) {
		cors = (uint8_t) origin[i] >= 0x20 && origin[i] != 0x7f;
	}
	rt_sb_puts(sb, "HTTP/1.1 200 OK\r\n"
			"Content-Type: text/event-stream; charset=utf-8\r\n"
			"Cache-Control: private, no-cache, no-store, must-revalidate, max-age=0\r\n"
			/* nginx passes what arrives at once instead of buffering it. */
			"X-Accel-Buffering: no\r\n"
			"Connection: keep-alive\r\n");
	if (cors) {
		rt_sb_puts(sb, "Access-Control-Allow-Origin: ");
		rt_sb_append(sb, origin, origin_len);
		rt_sb_puts(sb, "\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n");
	}
	rt_sb_puts(sb, "\r\nretry: 1000\n\n");
}

void rt_sse_cors(rt_http_answer *ans, const rt_http_req *req)
{
	size_t len;
	const char *origin = req != NULL ? rt_http_req_header(req, RT_HDR_ORIGIN, &len) : NULL;
	char line[256];
	int ok = origin != NULL && len > 0 && len <= 180;

	for (size_t i = 0; ok && i < len; i++) {
		ok = (uint8_t) origin[i] >= 0x20 && origin[i] != 0x7f;
	}
	if (ok) {
		snprintf(line, sizeof(line), "Access-Control-Allow-Origin: %.*s", (int) len, origin);
		rt_http_answer_header(ans, line);
		rt_http_answer_header(ans, "Access-Control-Allow-Credentials: true");
	}
}

/* The length of data's line starting at start, and where the next one
 * starts (past its CR, LF or CRLF; len when it was the last). */
static size_t rt__line(const char *data, size_t len, size_t start, size_t *next)
{
	size_t i = start;

	while (i < len && data[i] != '\n' && data[i] != '\r') {
		i++;
	}
	*next = i == len ? len + 1 : (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			? i + 2 : i + 1;
	return i - start;
}

rt_buf *rt_sse_event_buf(const char *event, const char *data, size_t len, int open)
{
	rt_buf *b = NULL;
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sse_event(&sb, event, data, len, open);
	if (!sb.failed && (b = rt_buf_new(sb.len)) != NULL) {
		memcpy(b->data, sb.data, sb.len);
	}
	rt_sb_free(&sb);
	return b;
}

void rt_sse_event(rt_sb *sb, const char *event, const char *data, size_t len, int open)
{
	size_t start = 0, next;

	if (event != NULL) {
		rt_sb_puts(sb, "event: ");
		rt_sb_puts(sb, event);
		rt_sb_puts(sb, "\n");
	}
	while (start <= len) {
		size_t n = rt__line(data, len, start, &next);
		rt_sb_append(sb, "data: ", 6);
		rt_sb_append(sb, data + start, n);
		rt_sb_append(sb, "\n", 1);
		start = next;
	}
	if (!open) {
		rt_sb_append(sb, "\n", 1);
	}
}

size_t rt_sse_event_size(const char *event, const char *data, size_t len, int open)
{
	size_t n = event != NULL ? 8 + strlen(event) : 0, start = 0, next;

	while (start <= len) {
		n += 7 + rt__line(data, len, start, &next);
		start = next;
	}
	return n + (open ? 0 : 1);
}

uint32_t rt_sse_channel_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t) name[i];
		h *= 16777619u;
	}
	return h;
}

void rt_sse_id_put(rt_sb *sb, const rt_sse_cursor *c, size_t count)
{
	char entry[64];

	rt_sb_append(sb, "id: ", 4);
	for (size_t i = 0; i < count; i++) {
		int n = snprintf(entry, sizeof(entry), "%s%08" PRIx32 "-%" PRIu64 "-%016" PRIx64,
				i > 0 ? "." : "", c[i].hash, c[i].pos.offset, c[i].pos.epoch);
		rt_sb_append(sb, entry, (size_t) n);
	}
	rt_sb_append(sb, "\n\n", 2);
}

static int rt__hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Exactly digits hex digits at *p (below end) into *out. */
static int rt__take_hex(const char **p, const char *end, int digits, uint64_t *out)
{
	uint64_t v = 0;

	if (end - *p < digits) {
		return -1;
	}
	for (int i = 0; i < digits; i++) {
		int d = rt__hex((*p)[i]);
		if (d < 0) {
			return -1;
		}
		v = v << 4 | (uint64_t) d;
	}
	*p += digits;
	*out = v;
	return 0;
}

int rt_sse_id_parse(const char *text, size_t len, rt_sse_cursor *out, size_t cap)
{
	const char *p = text, *end = text + len;
	size_t count = 0;

	if (len == 0) {
		return 0;
	}
	if (len > RT_SSE_ID_LEN) {
		return -1;
	}
	for (;;) {
		uint64_t hash, offset = 0, epoch;
		int digits = 0;
		if (count == cap || rt__take_hex(&p, end, 8, &hash) != 0 || p == end || *p++ != '-') {
			return -1;
		}
		while (p < end && *p >= '0' && *p <= '9') {
			if (++digits > 16) {
				return -1;
			}
			offset = offset * 10 + (uint64_t) (*p++ - '0');
		}
		if (digits == 0 || offset > 9007199254740992ULL || p == end || *p++ != '-'
				|| rt__take_hex(&p, end, 16, &epoch) != 0) {
			return -1;
		}
		out[count].hash = (uint32_t) hash;
		out[count].pos.offset = offset;
		out[count].pos.epoch = epoch;
		count++;
		if (p == end) {
			return (int) count;
		}
		if (*p++ != '.') {
			return -1;
		}
	}
}

size_t rt_sse_list_next(const char *list, size_t len, size_t *pos, const char **name)
{
	while (*pos < len) {
		const char *start = list + *pos;
		const char *comma = memchr(start, ',', len - *pos);
		size_t n = comma != NULL ? (size_t) (comma - start) : len - *pos;
		*pos += n + (comma != NULL);
		if (n > 0) {
			*name = start;
			return n;
		}
	}
	return 0;
}
