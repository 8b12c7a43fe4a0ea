/* The shared ring (broker/pool.c) and the message encoding it carries
 * (hub/model/msg.c), fed what a broken or hostile process sharing the segment
 * could write: every legal message crosses whatever its size, and no
 * length read from the ring is trusted before it is checked. */
#include "rt_test.h"
#include "broker/pool.h"
#include "hub/model/msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP 42

typedef struct got {
	int count;
	size_t sizes[16];
	char first[16];
} got;

static void collect(void *ctx, rt_msg *msg)
{
	got *g = ctx;

	if (g->count < 16) {
		g->sizes[g->count] = msg->data.len;
		g->first[g->count] = msg->data.len ? msg->data.ptr[0] : 0;
	}
	g->count++;
	rt_msg_free(msg);
}

/* A publish of data (len bytes of c) to channel "news". */
static int publish(rt_pool *p, size_t len, char c, char *err, size_t errlen)
{
	rt_str ch = {"news", 4};
	rt_msg_fields f = {0};
	rt_msg msg;
	char *data = malloc(len ? len : 1);
	int r;

	if (data == NULL) {
		return -ENOMEM;
	}
	memset(data, c, len);
	memset(&f, 0, sizeof(f));
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = data;
	f.data.len = len;
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
	/* Stamped as broadcast() does: a message at the ring's limit still
	 * crosses (the stamp is left out), one byte more is still refused. */
	msg.born = rt_msg_now_us();
	r = rt_pool_append(p, APP, &msg, err, errlen);
	free(data);
	return r;
}

/* The encoded size of a publish of len bytes to "news". */
static size_t encoded(size_t len)
{
	return 1 + 4 + 4 + 2 + (4 + 4) + 4 + (4 + len) + 4 + 4;
}

typedef struct ring {
	rt_pool *pool;
	rt_pool_member *m;
} ring;

static int ring_up(ring *r, size_t size)
{
	char err[256] = "";

	memset(r, 0, sizeof(*r));
	if (rt_pool_map(&r->pool, size, err, sizeof(err)) != 0) {
		RT_FAIL_("map: %s", err);
		return -1;
	}
	if (rt_pool_join(r->pool, APP, 1, &r->m, err, sizeof(err)) != 0) {
		RT_FAIL_("join: %s", err);
		return -1;
	}
	return 0;
}

static void ring_down(ring *r)
{
	if (r->m != NULL) {
		rt_pool_leave(r->m);
	}
	rt_pool_unmap(r->pool);
}

/* A message larger than one drain's chunk (256 KiB) used to stop the hub
 * for good: it was never copied out and never skipped. */
RT_TEST(large_message_crosses)
{
	char err[256];
	ring r;
	got g = {0};
	rt_pool_loss loss;

	if (ring_up(&r, 8u << 20) != 0) {
		ring_down(&r);
		return;
	}
	RT_ASSERT_EQ_INT(publish(r.pool, 300 * 1024, 'a', err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(publish(r.pool, 10, 'b', err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_pool_drain_ex(r.m, collect, &g, &loss), 0);
	RT_ASSERT_EQ_INT(g.count, 2);
	RT_ASSERT_EQ_INT(g.sizes[0], 300 * 1024);
	RT_ASSERT_EQ_INT(g.first[0], 'a');
	RT_ASSERT_EQ_INT(g.sizes[1], 10);
	/* And after it, messages still flow. */
	RT_ASSERT_EQ_INT(publish(r.pool, 5, 'c', err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_pool_drain(r.m, collect, &g), 0);
	RT_ASSERT_EQ_INT(g.count, 3);
	RT_ASSERT_EQ_INT(g.first[2], 'c');
	ring_down(&r);
}

/* The largest message the ring takes crosses it; one byte more is refused
 * when it is published, with the setting named. Several in a row, so that
 * one lands across the ring's end. */
RT_TEST(largest_message_crosses_and_one_more_is_refused)
{
	char err[256] = "";
	ring r;
	got g = {0};
	size_t max, data;

	if (ring_up(&r, 1u << 20) != 0) {
		ring_down(&r);
		return;
	}
	max = rt_pool_max_message(r.pool);
	RT_ASSERT(max > 200 * 1024 && max <= 256 * 1024);
	data = max - encoded(0);
	RT_ASSERT_EQ_INT(encoded(data), max);
	for (int i = 0; i < 7; i++) {
		RT_ASSERT_EQ_INT(publish(r.pool, data, (char) ('a' + i), err, sizeof(err)), 0);
		RT_ASSERT_EQ_INT(rt_pool_drain(r.m, collect, &g), 0);
		RT_ASSERT_EQ_INT(g.count, i + 1);
		RT_ASSERT_EQ_INT(g.sizes[i], data);
		RT_ASSERT_EQ_INT(g.first[i], 'a' + i);
	}
	RT_ASSERT_EQ_INT(publish(r.pool, data + 1, 'z', err, sizeof(err)), -EMSGSIZE);
	RT_ASSERT(strstr(err, "realtime.pool_memory") != NULL);
	RT_ASSERT_EQ_INT(rt_pool_drain(r.m, collect, &g), 0);
	RT_ASSERT_EQ_INT(g.count, 7);
	ring_down(&r);
}

/* Entries whose headers lie: the reader copies nothing out of bounds,
 * skips to the writer's position, counts the bytes and goes on with what
 * is published next. */
static void corrupt_case(uint32_t at, uint32_t value)
{
	char err[256];
	ring r;
	got g = {0};
	rt_pool_loss loss;
	uint64_t size, head, lost;
	unsigned char *bytes;

	if (ring_up(&r, 1u << 16) != 0) {
		ring_down(&r);
		return;
	}
	RT_ASSERT_EQ_INT(publish(r.pool, 100, 'a', err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(publish(r.pool, 100, 'b', err, sizeof(err)), 0);
	bytes = rt_pool_ring(r.pool, &size, &head);
	memcpy(bytes + at, &value, 4);
	lost = rt_pool_drain_ex(r.m, collect, &g, &loss);
	RT_ASSERT_EQ_INT(g.count, 0);
	RT_ASSERT_EQ_INT(lost, head);
	RT_ASSERT_EQ_INT(loss.corrupt, head);
	RT_ASSERT_EQ_INT(publish(r.pool, 7, 'c', err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_pool_drain(r.m, collect, &g), 0);
	RT_ASSERT_EQ_INT(g.count, 1);
	RT_ASSERT_EQ_INT(g.first[0], 'c');
	ring_down(&r);
}

RT_TEST(corrupt_entries_resync)
{
	/* Entry header: u32 len, u32 flags, u64 app. */
	corrupt_case(0, 0xffffffffu);   /* length past the ring */
	corrupt_case(0, 1u << 20);      /* length over a quarter of the ring */
	corrupt_case(0, 10000);         /* length past what was written */
	corrupt_case(4, 7);             /* unknown flags */
	corrupt_case(4, 1);             /* a pad that does not reach the ring's end */
}

/* An entry that is framed well but whose bytes are not a message is
 * dropped and counted; the next one is delivered. */
RT_TEST(undecodable_entry_counted)
{
	char err[256];
	ring r;
	got g = {0};
	rt_pool_loss loss;
	uint64_t size, head;
	unsigned char *bytes;

	if (ring_up(&r, 1u << 16) != 0) {
		ring_down(&r);
		return;
	}
	RT_ASSERT_EQ_INT(publish(r.pool, 100, 'a', err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(publish(r.pool, 100, 'b', err, sizeof(err)), 0);
	bytes = rt_pool_ring(r.pool, &size, &head);
	bytes[16] = 99; /* the first message's type */
	rt_pool_drain_ex(r.m, collect, &g, &loss);
	RT_ASSERT_EQ_INT(g.count, 1);
	RT_ASSERT_EQ_INT(g.first[0], 'b');
	RT_ASSERT(loss.undecodable > 0);
	RT_ASSERT_EQ_INT(loss.corrupt, 0);
	ring_down(&r);
}

/* ---- rt_msg_decode ---- */

static char *encode_sample(size_t *len)
{
	rt_str chans[3] = {{"a", 1}, {"bb", 2}, {"ccc", 3}};
	rt_msg_fields f = {0};
	rt_msg msg;
	char *buf;

	memset(&f, 0, sizeof(f));
	f.channels = chans;
	f.channel_count = 3;
	f.event.ptr = "ev";
	f.event.len = 2;
	f.data.ptr = "{\"x\":1}";
	f.data.len = 7;
	f.exclude.ptr = "1.2";
	f.exclude.len = 3;
	f.origin = 9;
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
	*len = rt_msg_encoded_size(&msg);
	buf = malloc(*len);
	if (buf != NULL && rt_msg_encode(&msg, buf, *len) != *len) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* Every truncation of a valid encoding is refused; each copy lives in a
 * block of exactly its size, so a read past it is caught by ASan. */
RT_TEST(decode_refuses_every_truncation)
{
	size_t len;
	char *whole = encode_sample(&len);
	rt_msg *msg;

	RT_ASSERT(whole != NULL);
	msg = rt_msg_decode(whole, len);
	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(msg->channel_count, 3);
	RT_ASSERT_EQ_INT(msg->data.len, 7);
	rt_msg_free(msg);
	for (size_t n = 0; n < len; n++) {
		char *cut = malloc(n ? n : 1);
		RT_ASSERT(cut != NULL);
		memcpy(cut, whole, n);
		msg = rt_msg_decode(cut, n);
		free(cut);
		if (msg != NULL) {
			rt_msg_free(msg);
			RT_FAIL_("a truncation to %zu of %zu bytes decoded", n, len);
		}
	}
	free(whole);
}

/* Lengths that claim more than there is, or than fits a size_t sum. */
RT_TEST(decode_refuses_lying_lengths)
{
	size_t len;
	char *whole = encode_sample(&len);
	uint32_t lies[] = {0xfffffffeu, 0x7fffffffu, 1u << 20, 100};
	uint16_t cc = 0xffff;
	rt_msg *msg;

	RT_ASSERT(whole != NULL);
	/* The first channel's length word is at 11. */
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		char *copy = malloc(len);
		RT_ASSERT(copy != NULL);
		memcpy(copy, whole, len);
		memcpy(copy + 11, &lies[i], 4);
		msg = rt_msg_decode(copy, len);
		free(copy);
		RT_ASSERT(msg == NULL);
	}
	/* A channel count the bytes cannot hold. */
	memcpy(whole + 9, &cc, 2);
	RT_ASSERT(rt_msg_decode(whole, len) == NULL);
	free(whole);
}

/* Loads a hub says are what the others read, per app, and a slot taken
 * again starts from none. */
RT_TEST(peers_report_loads)
{
	rt_pool *p;
	rt_pool_member *a, *b, *other;
	rt_pool_peer peers[4];
	char err[200];
	int n;

	RT_ASSERT(rt_pool_map(&p, 64 * 1024, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP, 1, &a, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP, 2, &b, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP + 1, 3, &other, err, sizeof(err)) == 0);
	rt_pool_set_load(a, 7);
	rt_pool_set_load(b, 1000);
	rt_pool_set_load(other, 5);
	n = rt_pool_peers(p, APP, peers, 4);
	RT_ASSERT_EQ_INT(n, 2);
	for (int i = 0; i < n; i++) {
		RT_ASSERT_EQ_INT(peers[i].load, peers[i].node == 1 ? 7u : 1000u);
		RT_ASSERT_EQ_INT(peers[i].pid, (int32_t) getpid());
	}
	/* Fewer places than hubs: the count still says how many there are. */
	RT_ASSERT_EQ_INT(rt_pool_peers(p, APP, peers, 1), 2);
	rt_pool_leave(b);
	RT_ASSERT(rt_pool_join(p, APP, 4, &b, err, sizeof(err)) == 0);
	n = rt_pool_peers(p, APP, peers, 4);
	RT_ASSERT_EQ_INT(n, 2);
	for (int i = 0; i < n; i++) {
		RT_ASSERT_EQ_INT(peers[i].load, peers[i].node == 1 ? 7u : 0u);
	}
	rt_pool_leave(a);
	rt_pool_leave(b);
	rt_pool_leave(other);
	rt_pool_unmap(p);
}

/* php --ri realtime reads each hub's ring state and recent log lines from
 * its slot: bounded, cleaned of control bytes, zeroed for a new hub. */
RT_TEST(details_report_lag_and_recent_lines)
{
	rt_pool *p;
	rt_pool_member *a;
	rt_hub_detail d[2];
	char lines[RT_HUB_RECENT + 2][RT_HUB_RECENT_LEN];
	rt_msg_fields f = {0};
	rt_str ch = {"c", 1};
	rt_msg *msg;
	char err[200];

	RT_ASSERT(rt_pool_map(&p, 64 * 1024, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP, 1, &a, err, sizeof(err)) == 0);
	RT_ASSERT_EQ_INT(rt_pool_details(p, APP, d, 2), 1);
	RT_ASSERT_EQ_INT(d[0].recent_count, 0);
	RT_ASSERT(d[0].ring_lag == 0);
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = "1";
	f.data.len = 1;
	msg = rt_msg_new(RT_MSG_PUBLISH, &f);
	RT_ASSERT(msg != NULL && rt_pool_append(p, APP, msg, err, sizeof(err)) == 0);
	rt_msg_free(msg);
	/* A line filling its whole buffer, with no NUL, and control bytes. */
	memset(lines, 'x', sizeof(lines));
	memcpy(lines[1], "a\nb\x1b", 5);
	rt_pool_set_detail(a, 3, (const char (*)[RT_HUB_RECENT_LEN]) lines, RT_HUB_RECENT + 2);
	RT_ASSERT_EQ_INT(rt_pool_details(p, APP, d, 2), 1);
	RT_ASSERT(d[0].ring_lag > 0);
	RT_ASSERT(d[0].overruns == 3);
	RT_ASSERT_EQ_INT(d[0].recent_count, RT_HUB_RECENT);
	RT_ASSERT_EQ_INT(strlen(d[0].recent[0]), RT_HUB_RECENT_LEN - 1);
	RT_ASSERT_EQ_STR(d[0].recent[1], "a?b?");
	rt_pool_leave(a);
	RT_ASSERT(rt_pool_join(p, APP, 2, &a, err, sizeof(err)) == 0);
	RT_ASSERT_EQ_INT(rt_pool_details(p, APP, d, 2), 1);
	RT_ASSERT_EQ_INT(d[0].recent_count, 0);
	RT_ASSERT(d[0].overruns == 0);
	rt_pool_leave(a);
	rt_pool_unmap(p);
}

int main(void)
{
	RT_RUN(large_message_crosses);
	RT_RUN(largest_message_crosses_and_one_more_is_refused);
	RT_RUN(corrupt_entries_resync);
	RT_RUN(undecodable_entry_counted);
	RT_RUN(decode_refuses_every_truncation);
	RT_RUN(decode_refuses_lying_lengths);
	RT_RUN(peers_report_loads);
	RT_RUN(details_report_lag_and_recent_lines);
	return rt_test_summary();
}
