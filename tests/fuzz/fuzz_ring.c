/* The shared ring as a hub drains it (rt_pool_drain_ex, broker/pool.c):
 * every process of the server can write that memory, so entry headers and
 * messages are outside bytes. Each input publishes a few real messages,
 * then overwrites what they occupy in the ring with its own bytes and
 * drains. Whatever the ring held, a message published afterwards must be
 * the one the hub reads next: a drain never leaves the reader lost. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/pool.h"
#include "hub/model/msg.h"

#define RT_FUZZ_RING (1u << 16) /* the smallest realtime.pool_memory */
#define RT_FUZZ_APP 42

static rt_pool *rt__pool;
static rt_pool_member *rt__member;

typedef struct {
	unsigned count;
	int marker_seen;
} rt__got;

static void rt__collect(void *ctx, rt_msg *msg)
{
	rt__got *g = ctx;

	g->count++;
	if (msg->data.len == 8 && memcmp(msg->data.ptr, "\"marker\"", 8) == 0) {
		g->marker_seen = 1;
	}
	rt_msg_free(msg);
}

static void rt__publish(const char *data, size_t len)
{
	rt_str ch = {"news", 4};
	rt_msg_fields f = {0};
	rt_msg msg;
	char err[256];

	memset(&f, 0, sizeof(f));
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = data;
	f.data.len = len;
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
	if (rt_pool_append(rt__pool, RT_FUZZ_APP, &msg, err, sizeof(err)) != 0) {
		abort(); /* every message here is well under the ring's limit */
	}
}

/* A fresh ring per input, so that a finding replays on its own. */
static void rt__ring_up(void)
{
	char err[256];

	if (rt_pool_map(&rt__pool, RT_FUZZ_RING, err, sizeof(err)) != 0
			|| rt_pool_join(rt__pool, RT_FUZZ_APP, 1, &rt__member, err, sizeof(err)) != 0) {
		abort();
	}
}

static void rt__ring_down(void)
{
	rt_pool_leave(rt__member);
	rt_pool_unmap(rt__pool);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char fill[4096];
	uint64_t ring_size, start, end;
	unsigned char *ring;
	rt__got got = {0, 0};
	rt_pool_loss loss;
	unsigned n;

	if (size < 2) {
		return 0;
	}
	rt__ring_up();
	memset(fill, 'x', sizeof(fill));
	fill[0] = '"';
	fill[4000 - 1] = '"';
	/* The second byte moves the writer on first (read as usual), so that
	 * the overwritten messages may wrap round the ring's end. */
	for (unsigned i = 0; i < (data[1] & 31u); i++) {
		rt__publish(fill, 4000);
	}
	rt_pool_drain_ex(rt__member, rt__collect, &got, &loss);
	got.count = 0;
	fill[4000 - 1] = 'x';
	/* The first byte: how many messages, and of what sizes, to overwrite. */
	n = 1u + (data[0] & 7u);
	ring = rt_pool_ring(rt__pool, &ring_size, &start);
	for (unsigned i = 0; i < n; i++) {
		size_t len = 2 + (size_t) ((data[0] >> 3) * 97u + i * 131u) % (sizeof(fill) - 2);
		fill[len - 1] = '"';
		rt__publish(fill, len);
		fill[len - 1] = 'x';
	}
	rt_pool_ring(rt__pool, &ring_size, &end);
	/* The input replaces what was written, wrapping as the ring does. */
	data += 2;
	size -= 2;
	for (uint64_t at = start; at < end && size > 0; at++, data++, size--) {
		ring[at % ring_size] = *data;
	}
	rt_pool_drain_ex(rt__member, rt__collect, &got, &loss);
	if (got.count > (end - start) / 16) {
		abort(); /* more entries than the bytes written can frame */
	}
	/* Whatever the reader skipped, it is back at the writer's position. */
	got.count = 0;
	rt__publish("\"marker\"", 8);
	rt_pool_drain_ex(rt__member, rt__collect, &got, &loss);
	if (got.count != 1 || !got.marker_seen) {
		abort();
	}
	rt__ring_down();
	return 0;
}
