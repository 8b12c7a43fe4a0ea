/* The history store (broker/history.c) as every process of the server can
 * write it: each input lays a fresh 64 KiB store with a few real messages
 * on three channels, overwrites part of it (header, channel table or log,
 * at an offset the first bytes choose) with its own bytes, then reads and
 * appends. Whatever the store held: what a read hands over is in order and
 * in the channel's epoch, and a message appended afterwards reads back
 * with the position it was given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/history.h"

#define RT_FUZZ_STORE RT_HISTORY_MIN_SIZE

typedef struct {
	rt_pos last;
	unsigned count;
	int bad;
	unsigned char tail[8];
	size_t tail_len;
} rt__seen;

static void rt__take(void *ctx, const rt_pos *pos, const unsigned char *bytes, size_t len)
{
	rt__seen *s = ctx;

	if (s->count > 0 && (pos->offset != s->last.offset + 1 || pos->epoch != s->last.epoch)) {
		s->bad = 1;
	}
	s->last = *pos;
	s->count++;
	s->tail_len = len < sizeof(s->tail) ? len : sizeof(s->tail);
	memcpy(s->tail, bytes, s->tail_len); /* every byte handed over is readable */
	if (len > 0) {
		volatile unsigned char last = bytes[len - 1];
		(void) last;
	}
}

static void rt__put(rt_history *h, const char *ch, const char *text, rt_pos *pos)
{
	rt_history_limits lim = {20, 300};
	unsigned char *dst = rt_history_append(h, ch, strlen(ch), &lim, 1000, strlen(text), pos);

	if (dst != NULL) {
		memcpy(dst, text, strlen(text));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char *mem;
	static const char *const names[3] = {"c0", "c1", "chat-2"};
	rt_history_limits lim = {20, 300};
	rt_history h;
	rt_pos pos, top, since;
	size_t at;

	if (size < 3) {
		return 0;
	}
	if (mem == NULL && (mem = malloc(RT_FUZZ_STORE)) == NULL) {
		abort();
	}
	if (rt_history_bind(&h, mem, RT_FUZZ_STORE) != 0) {
		abort();
	}
	rt_history_format(&h);
	for (int i = 0; i < 30 + data[0] % 64; i++) {
		rt__put(&h, names[i % 3], i % 5 == 0 ? "a somewhat longer message body" : "m", &pos);
	}
	/* Where the input goes: anywhere, weighted towards the front. */
	at = ((size_t) data[1] << 8 | data[2]) % RT_FUZZ_STORE;
	if (data[0] & 0x80) {
		at %= 4096;
	}
	data += 3;
	size -= 3;
	if (size > RT_FUZZ_STORE - at) {
		size = RT_FUZZ_STORE - at;
	}
	memcpy(mem + at, data, size);

	for (int c = 0; c < 3; c++) {
		rt__seen s = {0};
		if (rt_history_read(&h, names[c], strlen(names[c]), &lim, 1000, NULL, 50, rt__take, &s,
				&top) != 1 || s.bad || s.count > 20) {
			abort();
		}
		if (s.count > 0 && (s.last.epoch != top.epoch || s.last.offset != top.offset)) {
			abort();
		}
		since.offset = top.offset > 3 ? top.offset - 3 : 0;
		since.epoch = top.epoch;
		memset(&s, 0, sizeof(s));
		rt_history_read(&h, names[c], strlen(names[c]), &lim, 1000, &since, 50, rt__take, &s, &top);
		if (s.bad || (s.count > 0 && s.last.offset != top.offset)) {
			abort();
		}
	}
	/* A message appended now reads back with its position. */
	rt__put(&h, "c0", "marker", &pos);
	{
		rt__seen s = {0};
		if (rt_history_read(&h, "c0", 2, &lim, 1000, NULL, 1, rt__take, &s, &top) != 1
				|| s.count != 1 || s.last.offset != pos.offset || s.last.epoch != pos.epoch
				|| top.offset != pos.offset || s.tail_len != 6 || memcmp(s.tail, "marker", 6) != 0) {
			abort();
		}
	}
	return 0;
}
