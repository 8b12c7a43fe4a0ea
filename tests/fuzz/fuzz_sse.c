/* What an event stream's client sends (hub/wire/sse.c): a Last-Event-ID
 * (header or lastEventId query) and a channels= list; and the events the
 * hub formats from message data. Input: a mode byte, then the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/wire/sse.h"

static void check_id(const char *text, size_t len)
{
	rt_sse_cursor c[RT_SSE_ID_MAX], again[RT_SSE_ID_MAX], small[2];
	int n = rt_sse_id_parse(text, len, c, RT_SSE_ID_MAX);
	int m = rt_sse_id_parse(text, len, small, 2);
	rt_sb sb;

	if (n < -1 || n > RT_SSE_ID_MAX || (n >= 0 && n <= 2 && m != n) || (n > 2 && m != -1)) {
		abort();
	}
	if (n <= 0) {
		return;
	}
	/* What parses writes back to an id that parses to the same entries. */
	rt_sb_init(&sb);
	rt_sse_id_put(&sb, c, (size_t) n);
	if (sb.failed || rt_sse_id_parse(sb.data + 4, sb.len - 6, again, RT_SSE_ID_MAX) != n) {
		abort();
	}
	for (int i = 0; i < n; i++) {
		if (again[i].hash != c[i].hash || again[i].pos.offset != c[i].pos.offset
				|| again[i].pos.epoch != c[i].pos.epoch) {
			abort();
		}
	}
	rt_sb_free(&sb);
}

static void check_event(const char *data, size_t len, int open)
{
	rt_sb sb;
	size_t blank = 0;

	rt_sb_init(&sb);
	rt_sse_event(&sb, open ? NULL : "x", data, len, open);
	if (sb.failed || sb.len != rt_sse_event_size(open ? NULL : "x", data, len, open)) {
		abort();
	}
	/* Every line is a field, and only the last can be blank: data never
	 * ends an event or sets a field of its own. */
	for (size_t i = 0; i + 1 < sb.len; i++) {
		if (sb.data[i] == '\r') {
			abort();
		}
		if (sb.data[i] == '\n' && sb.data[i + 1] == '\n') {
			blank++;
			if (i + 2 != sb.len) {
				abort();
			}
		}
		if (sb.data[i] == '\n' && sb.data[i + 1] != '\n' && i + 7 <= sb.len
				&& memcmp(sb.data + i + 1, "data: ", 6) != 0) {
			abort();
		}
	}
	if (blank != (open ? 0u : 1u)) {
		abort();
	}
	rt_sb_free(&sb);
}

static void check_list(const char *list, size_t len)
{
	size_t pos = 0, n, total = 0;
	const char *name;

	while ((n = rt_sse_list_next(list, len, &pos, &name)) > 0) {
		if (name < list || name + n > list + len || memchr(name, ',', n) != NULL) {
			abort();
		}
		total += n;
		if (total > len) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (size < 1 || size > 20000) {
		return 0;
	}
	/* An exact-size copy, so ASan sees any read past the end. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		check_id(copy, size - 1);
		break;
	case 1:
		check_event(copy, size - 1, data[0] & 4);
		break;
	default:
		check_list(copy, size - 1);
	}
	free(copy);
	return 0;
}
