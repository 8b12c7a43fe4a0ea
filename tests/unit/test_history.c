/* The history store (broker/history.c) and its place in the pool's segment
 * (broker/pool.c): positions, trimming, eviction, epochs, corruption, and
 * appenders in several processes. */
#include "rt_test.h"
#include "broker/history.h"
#include "broker/pool.h"
#include "hub/model/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct got {
	uint64_t offsets[4096];
	uint64_t epochs[4096];
	char text[4096][32];
	uint32_t n;
} got;

static void take(void *ctx, const rt_pos *pos, const unsigned char *bytes, size_t len)
{
	got *g = ctx;

	if (g->n < 4096) {
		g->offsets[g->n] = pos->offset;
		g->epochs[g->n] = pos->epoch;
		snprintf(g->text[g->n], sizeof(g->text[0]), "%.*s", (int) (len < 31 ? len : 31),
				(const char *) bytes);
		g->n++;
	}
}

static rt_pos put(rt_history *h, const char *ch, const rt_history_limits *lim, uint64_t now,
		const char *text)
{
	rt_pos pos;
	unsigned char *dst = rt_history_append(h, ch, strlen(ch), lim, now, strlen(text), &pos);

	if (dst != NULL) {
		memcpy(dst, text, strlen(text));
	}
	return pos;
}

static rt_history *store(size_t len)
{
	rt_history *h = calloc(1, sizeof(*h));
	void *mem = malloc(len);

	memset(mem, 0xa5, len); /* formatted on first use, whatever it held */
	rt_history_bind(h, mem, len);
	return h;
}

static void store_free(rt_history *h)
{
	free(h->mem);
	free(h);
}

RT_TEST(append_and_read_in_order)
{
	rt_history *h = store(1 << 20);
	rt_history_limits lim = {100, 300};
	rt_pos pos, top, since;
	got *g = calloc(1, sizeof(*g));
	char text[32];

	for (int i = 1; i <= 10; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		pos = put(h, "chat-1", &lim, 1000, text);
		RT_ASSERT_EQ_INT(pos.offset, (uint64_t) i);
		RT_ASSERT(pos.epoch != 0);
	}
	/* Another channel counts on its own. */
	RT_ASSERT_EQ_INT(put(h, "chat-2", &lim, 1000, "x").offset, 1);
	RT_ASSERT(put(h, "chat-2", &lim, 1000, "y").epoch != pos.epoch);
	/* The last three. */
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-1", 6, &lim, 1000, NULL, 3, take, g, &top), 1);
	RT_ASSERT_EQ_INT(top.offset, 10);
	RT_ASSERT_EQ_INT(top.epoch, pos.epoch);
	RT_ASSERT_EQ_INT(g->n, 3);
	RT_ASSERT_EQ_INT(g->offsets[0], 8);
	RT_ASSERT(strcmp(g->text[2], "m10") == 0);
	/* Since 4: 5..10, exactly. */
	g->n = 0;
	since.offset = 4;
	since.epoch = pos.epoch;
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-1", 6, &lim, 1000, &since, 100, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 6);
	for (uint32_t i = 0; i < g->n; i++) {
		RT_ASSERT_EQ_INT(g->offsets[i], 5 + i);
		snprintf(text, sizeof(text), "m%u", 5 + i);
		RT_ASSERT(strcmp(g->text[i], text) == 0);
	}
	/* Since the top: recovered, nothing to replay. */
	g->n = 0;
	since.offset = 10;
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-1", 6, &lim, 1000, &since, 100, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 0);
	/* Ahead of the top, another epoch, or more than the limit: not recovered. */
	since.offset = 11;
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-1", 6, &lim, 1000, &since, 100, take, g, &top), 0);
	since.offset = 4;
	since.epoch = pos.epoch ^ 1;
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-1", 6, &lim, 1000, &since, 100, take, g, &top), 0);
	since.epoch = pos.epoch;
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-1", 6, &lim, 1000, &since, 5, take, g, &top), 0);
	RT_ASSERT_EQ_INT(g->n, 0);
	/* A channel never published: offset 0 and an epoch that holds. */
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-3", 6, &lim, 1000, NULL, 10, take, g, &top), 1);
	RT_ASSERT_EQ_INT(top.offset, 0);
	since = top;
	RT_ASSERT_EQ_INT(put(h, "chat-3", &lim, 1000, "first").epoch, since.epoch);
	RT_ASSERT_EQ_INT(rt_history_read(h, "chat-3", 6, &lim, 1000, &since, 10, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 1);
	RT_ASSERT(strcmp(g->text[0], "first") == 0);
	free(g);
	store_free(h);
}

RT_TEST(trim_by_count_and_age)
{
	rt_history *h = store(1 << 20);
	rt_history_limits five = {5, 1};
	rt_pos pos, top, since;
	got *g = calloc(1, sizeof(*g));

	for (int i = 1; i <= 10; i++) {
		pos = put(h, "c", &five, 1000, "m");
	}
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &five, 1000, NULL, 100, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 5);
	RT_ASSERT_EQ_INT(g->offsets[0], 6);
	since.epoch = pos.epoch;
	since.offset = 4; /* 5 is gone: a gap */
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &five, 1000, &since, 100, take, g, &top), 0);
	since.offset = 5;
	g->n = 0;
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &five, 1000, &since, 100, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 5);
	/* Age: one more at 1500; at 2200 the ones of 1000 are over a second old. */
	put(h, "c", &five, 1500, "late");
	g->n = 0;
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &five, 2200, NULL, 100, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 1);
	RT_ASSERT_EQ_INT(g->offsets[0], 11);
	/* All expired: the top and the epoch stay, so a client at the top
	 * recovers, one before it does not. */
	g->n = 0;
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &five, 9000, NULL, 100, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 0);
	RT_ASSERT_EQ_INT(top.offset, 11);
	RT_ASSERT_EQ_INT(top.epoch, pos.epoch);
	since.offset = 11;
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &five, 9000, &since, 100, take, g, &top), 1);
	since.offset = 10;
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &five, 9000, &since, 100, take, g, &top), 0);
	/* And it goes on from 12. */
	RT_ASSERT_EQ_INT(put(h, "c", &five, 9000, "m").offset, 12);
	free(g);
	store_free(h);
}

/* The log wraps many times: each channel keeps a contiguous run of its
 * newest messages, whatever was overwritten. */
RT_TEST(offsets_across_wraparound)
{
	rt_history *h = store(RT_HISTORY_MIN_SIZE);
	rt_history_limits lim = {1000, 300};
	got *g = calloc(1, sizeof(*g));
	uint64_t tops[3] = {0};
	char text[600], name[16];
	rt_pos pos, top, epochs[3];

	for (int i = 0; i < 3000; i++) {
		int c = i % 3;
		size_t len = 20 + (size_t) (i * 37 % 500);
		snprintf(name, sizeof(name), "ch%d", c);
		memset(text, 'a' + c, sizeof(text));
		snprintf(text, 20, "%d:", i);
		text[strlen(text)] = 'a' + c;
		text[len] = '\0';
		pos = put(h, name, &lim, 1000, text);
		RT_ASSERT_EQ_INT(pos.offset, tops[c] + 1);
		if (tops[c] > 0) {
			RT_ASSERT_EQ_INT(pos.epoch, epochs[c].epoch);
		}
		epochs[c] = pos;
		tops[c] = pos.offset;
	}
	for (int c = 0; c < 3; c++) {
		snprintf(name, sizeof(name), "ch%d", c);
		g->n = 0;
		RT_ASSERT_EQ_INT(rt_history_read(h, name, 3, &lim, 1000, NULL, 1000, take, g, &top), 1);
		RT_ASSERT_EQ_INT(top.offset, 1000);
		RT_ASSERT(g->n > 5 && g->n < 1000); /* the store holds some, not all */
		{
			rt_history_losses l;
			rt_history_losses_get(h, &l);
			RT_ASSERT(l.evicted_messages > 1000 && l.evicted_messages < 3000);
			RT_ASSERT_EQ_INT(l.resets, 0);
		}
		for (uint32_t i = 0; i < g->n; i++) {
			int n = atoi(g->text[i]);
			RT_ASSERT_EQ_INT(g->offsets[i], top.offset - g->n + 1 + i);
			RT_ASSERT_EQ_INT((uint64_t) n, (g->offsets[i] - 1) * 3 + (uint64_t) c);
		}
	}
	free(g);
	store_free(h);
}

/* A message larger than an entry may be gets a position; nobody recovers
 * across it. */
RT_TEST(too_large_breaks_recovery)
{
	rt_history *h = store(RT_HISTORY_MIN_SIZE);
	rt_history_limits lim = {100, 300};
	size_t big = rt_history_max_payload(h) + 1;
	rt_pos pos, top, since;
	got *g = calloc(1, sizeof(*g));

	since = put(h, "c", &lim, 1000, "a");
	RT_ASSERT(rt_history_append(h, "c", 1, &lim, 1000, big, &pos) == NULL);
	RT_ASSERT_EQ_INT(pos.offset, 2);
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &lim, 1000, &since, 100, take, g, &top), 0);
	RT_ASSERT_EQ_INT(put(h, "c", &lim, 1000, "b").offset, 3);
	since = pos;
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &lim, 1000, &since, 100, take, g, &top), 1);
	RT_ASSERT_EQ_INT(g->n, 1);
	free(g);
	store_free(h);
}

/* A full channel table gives its coldest record up: that channel starts
 * again at 1 in a new epoch, and a client of the old one is told. */
RT_TEST(epoch_changes_when_a_record_is_lost)
{
	rt_history *h = store(RT_HISTORY_MIN_SIZE);
	rt_history_limits lim = {100, 300};
	rt_pos first, again, top;
	got *g = calloc(1, sizeof(*g));
	char name[16];

	first = put(h, "old", &lim, 1, "a");
	put(h, "old", &lim, 1, "b");
	for (uint32_t i = 0; i < h->slots + 8; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		put(h, name, &lim, 100 + i, "x");
	}
	RT_ASSERT(h->evicted_channels > 0);
	{
		rt_history_losses l;
		rt_history_losses_get(h, &l);
		RT_ASSERT_EQ_INT(l.evicted_channels, h->evicted_channels);
	}
	again = put(h, "old", &lim, 5000, "c");
	RT_ASSERT_EQ_INT(again.offset, 1);
	RT_ASSERT(again.epoch != first.epoch);
	RT_ASSERT_EQ_INT(rt_history_read(h, "old", 3, &lim, 5000, &first, 100, take, g, &top), 0);
	RT_ASSERT_EQ_INT(g->n, 0);
	RT_ASSERT_EQ_INT(top.epoch, again.epoch);
	free(g);
	store_free(h);
}

/* Subscribes name the channels they read: reading one that has no record
 * never takes a published channel's record away. */
RT_TEST(reads_do_not_evict_published_channels)
{
	rt_history *h = store(RT_HISTORY_MIN_SIZE);
	rt_history_limits lim = {100, 300};
	rt_pos top, first;
	got *g = calloc(1, sizeof(*g));
	char name[32];

	first = put(h, "n0", &lim, 100, "x");
	for (uint32_t i = 1; i < h->slots; i++) {
		snprintf(name, sizeof(name), "n%u", i);
		put(h, name, &lim, 100 + i, "x");
	}
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "reader%d", i);
		RT_ASSERT_EQ_INT(rt_history_read(h, name, strlen(name), &lim, 5000, NULL, 10, take, g,
				&top), 1);
		RT_ASSERT_EQ_INT(top.offset, 0);
		RT_ASSERT_EQ_INT(top.epoch, 0);
		RT_ASSERT_EQ_INT(rt_history_read(h, name, strlen(name), &lim, 5000, &top, 10, take, g,
				&top), 0);
	}
	RT_ASSERT_EQ_INT(h->evicted_channels, 0);
	RT_ASSERT_EQ_INT(rt_history_read(h, "n0", 2, &lim, 5000, &first, 10, take, g, &top), 1);
	RT_ASSERT_EQ_INT(top.epoch, first.epoch);
	/* A publish does make room. */
	RT_ASSERT_EQ_INT(put(h, "reader0", &lim, 6000, "y").offset, 1);
	RT_ASSERT_EQ_INT(h->evicted_channels, 1);
	free(g);
	store_free(h);
}

/* Whatever another process scribbles over the store, nothing crashes and
 * nothing read is out of place: a damaged store or channel starts again in
 * a new epoch. */
RT_TEST(corrupted_contents)
{
	rt_history *h = store(RT_HISTORY_MIN_SIZE);
	rt_history_limits lim = {50, 300};
	got *g = calloc(1, sizeof(*g));
	uint32_t seed = 12345;
	rt_pos top, before;

	before = put(h, "c", &lim, 1000, "hello");
	/* A broken header: the store is made again. */
	memset(h->mem, 0xff, 16);
	RT_ASSERT_EQ_INT(rt_history_read(h, "c", 1, &lim, 1000, &before, 10, take, g, &top), 0);
	RT_ASSERT(top.epoch != before.epoch);
	RT_ASSERT_EQ_INT(top.offset, 0);
	for (int round = 0; round < 2000; round++) {
		char name[16];
		seed = seed * 1103515245u + 12345u;
		snprintf(name, sizeof(name), "c%u", seed % 5);
		if (round % 3 == 0) {
			/* Flip a few bytes anywhere in the region. */
			for (int k = 0; k < 4; k++) {
				seed = seed * 1103515245u + 12345u;
				h->mem[seed % h->len] ^= (unsigned char) (seed >> 8);
			}
		}
		put(h, name, &lim, 1000 + (uint64_t) round, "payload-bytes");
		g->n = 0;
		rt_history_read(h, name, strlen(name), &lim, 1000 + (uint64_t) round, NULL, 50, take,
				g, &top);
		for (uint32_t i = 0; i < g->n; i++) {
			RT_ASSERT_EQ_INT(g->epochs[i], top.epoch);
			RT_ASSERT(g->offsets[i] <= top.offset);
			if (i > 0) {
				RT_ASSERT_EQ_INT(g->offsets[i], g->offsets[i - 1] + 1);
			}
		}
	}
	RT_ASSERT(h->reset_corrupt > 0);
	{
		rt_history_losses l;
		rt_history_losses_get(h, &l); /* since the store was last made again */
		RT_ASSERT(l.resets <= h->reset_corrupt);
	}
	free(g);
	store_free(h);
}

static void drained(void *ctx, rt_msg *msg)
{
	got *g = ctx;

	if (msg->positions != NULL && g->n < 4096) {
		g->offsets[g->n] = msg->positions[0].offset;
		g->epochs[g->n] = msg->positions[0].epoch;
		g->n++;
	}
	rt_msg_free(msg);
}

/* Appenders in four processes: offsets are 1..N with no gap or repeat, and
 * the ring hands the messages over in offset order. */
RT_TEST(concurrent_appenders_in_processes)
{
	enum { KIDS = 4, EACH = 300 };
	rt_pool *p;
	rt_pool_member *m;
	rt_history_rules rules;
	char err[200];
	rt_str ch = {"chat-x", 6};
	rt_msg_fields f = {0};
	rt_msg msg;
	got *g = calloc(1, sizeof(*g));
	rt_pos top;
	pid_t kids[KIDS];

	RT_ASSERT_EQ_INT(rt_history_rules_parse(&rules, "chat-*:5000:300", err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_pool_map_ex(&p, 4 << 20, 1 << 20, err, sizeof(err)), 0);
	rt_pool_set_history(p, &rules);
	rt_pool_publish_history_rules(p);
	{
		/* A process with other rules would number other channels. */
		rt_history_rules other;
		RT_ASSERT(rt_pool_history_rules_match(p, &rules));
		RT_ASSERT_EQ_INT(rt_history_rules_parse(&other, "chat-*:5000:301", err, sizeof(err)), 0);
		RT_ASSERT(!rt_pool_history_rules_match(p, &other));
		RT_ASSERT_EQ_INT(rt_history_rules_parse(&other, "", err, sizeof(err)), 0);
		RT_ASSERT(!rt_pool_history_rules_match(p, &other));
	}
	RT_ASSERT_EQ_INT(rt_pool_join(p, 7, 1, &m, err, sizeof(err)), 0);
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = "{}";
	f.data.len = 2;
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
	for (int k = 0; k < KIDS; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			uint64_t last = 0;
			for (int i = 0; i < EACH; i++) {
				rt_pos pos;
				char e[100];
				if (rt_pool_append_at(p, 7, &msg, &pos, e, sizeof(e)) != 0 || pos.offset <= last) {
					_exit(1);
				}
				last = pos.offset;
			}
			_exit(0);
		}
	}
	for (int k = 0; k < KIDS; k++) {
		int st = -1;
		waitpid(kids[k], &st, 0);
		RT_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	rt_pool_drain(m, drained, g);
	RT_ASSERT_EQ_INT(g->n, KIDS * EACH);
	for (uint32_t i = 0; i < g->n; i++) {
		RT_ASSERT_EQ_INT(g->offsets[i], i + 1);
		RT_ASSERT_EQ_INT(g->epochs[i], g->epochs[0]);
	}
	g->n = 0;
	RT_ASSERT_EQ_INT(rt_pool_history_read(p, "chat-x", 6, NULL, 5000, take, g, &top), 1);
	RT_ASSERT_EQ_INT(top.offset, KIDS * EACH);
	RT_ASSERT_EQ_INT(g->n, KIDS * EACH);
	RT_ASSERT_EQ_INT(rt_pool_history_read(p, "other", 5, NULL, 10, take, g, &top), -ENOENT);
	rt_pool_leave(m);
	rt_pool_unmap(p);
	free(g);
}

RT_TEST(rules_parse)
{
	rt_history_rules r;
	char why[200];
	const rt_history_rule *rule;

	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "chat-*:100:300 presence-*:50:60", why,
			sizeof(why)), 0);
	RT_ASSERT_EQ_INT(r.count, 2);
	rule = rt_history_rule_for(&r, "presence-room", 13);
	RT_ASSERT(rule != NULL && rule->max_messages == 50 && rule->max_seconds == 60);
	RT_ASSERT(rt_history_rule_for(&r, "news", 4) == NULL);
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "", why, sizeof(why)), 0);
	RT_ASSERT_EQ_INT(r.count, 0);
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "chat-*:100", why, sizeof(why)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "chat-*:0:10", why, sizeof(why)), -EINVAL);
	RT_ASSERT(strstr(why, "max_messages") != NULL);
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "chat-*:10:99999999", why, sizeof(why)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "ch at:1:1", why, sizeof(why)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "c{x}:1:1", why, sizeof(why)), -EINVAL);
	/* A pattern of Mercure topic URLs: ':' and '/' are in it, the numbers last. */
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "https://example.com/*:7:60", why, sizeof(why)), 0);
	rule = rt_history_rule_for(&r, "https://example.com/books/1", 27);
	RT_ASSERT(rule != NULL && rule->max_messages == 7 && rule->max_seconds == 60);
	/* As settings: errors name the setting and the value. */
	{
		rt_config *cfg = malloc(sizeof(*cfg));
		char err[300];
		rt_config_defaults(cfg);
		RT_ASSERT_EQ_INT(cfg->history.count, 0);
		RT_ASSERT_EQ_INT(cfg->history_memory, 16u << 20);
		RT_ASSERT_EQ_INT(rt_config_set(cfg, "history", "chat-*:10", err, sizeof(err)), -EINVAL);
		RT_ASSERT(strstr(err, "realtime.history") != NULL && strstr(err, "chat-*:10") != NULL);
		RT_ASSERT_EQ_INT(rt_config_set(cfg, "history_memory", "5", err, sizeof(err)), -EINVAL);
		RT_ASSERT(strstr(err, "realtime.history_memory") != NULL && strstr(err, "'5'") != NULL);
		RT_ASSERT_EQ_INT(rt_config_set(cfg, "history", "chat-*:10:60", err, sizeof(err)), 0);
		RT_ASSERT_EQ_INT(cfg->history.count, 1);
		free(cfg);
	}
}

/* Positions travel in the ring after the message's other fields; a
 * trailer that does not match the channels is refused. */
RT_TEST(positions_encode_and_decode)
{
	rt_str chs[2] = {{"a", 1}, {"chat-b", 6}};
	rt_pos pos[2] = {{0, 0}, {42, 0x5f3a9c01d2e4b7a8ULL}};
	rt_msg_fields f = {0};
	rt_msg view, *back;
	char buf[256];
	size_t n;

	f.channels = chs;
	f.channel_count = 2;
	f.data.ptr = "{}";
	f.data.len = 2;
	f.positions = pos;
	rt_msg_view(&view, RT_MSG_PUBLISH, &f);
	n = rt_msg_encode(&view, buf, sizeof(buf));
	RT_ASSERT_EQ_INT(n, rt_msg_encoded_size(&view));
	back = rt_msg_decode(buf, n);
	RT_ASSERT(back != NULL && back->positions != NULL);
	RT_ASSERT_EQ_INT(back->positions[1].offset, 42);
	RT_ASSERT_EQ_INT(back->positions[1].epoch, 0x5f3a9c01d2e4b7a8ULL);
	RT_ASSERT_EQ_INT(back->positions[0].offset, 0);
	{
		rt_msg *copy = rt_msg_copy(back);
		RT_ASSERT(copy != NULL && copy->positions != NULL && copy->positions[1].offset == 42);
		rt_msg_free(copy);
	}
	rt_msg_free(back);
	/* Cut inside the trailer, or a count that is not the channels'. */
	RT_ASSERT(rt_msg_decode(buf, n - 1) == NULL);
	RT_ASSERT(rt_msg_decode(buf, n - 16) == NULL);
	buf[n - 2 * 16 - 2] = 3;
	RT_ASSERT(rt_msg_decode(buf, n) == NULL);
	/* Without positions, nothing changes. */
	f.positions = NULL;
	rt_msg_view(&view, RT_MSG_PUBLISH, &f);
	n = rt_msg_encode(&view, buf, sizeof(buf));
	back = rt_msg_decode(buf, n);
	RT_ASSERT(back != NULL && back->positions == NULL);
	rt_msg_free(back);
}

/* Pusher's cache channels keep one message for 30 minutes with no rule; a
 * rule that matches decides instead. */
RT_TEST(cache_channels_rule)
{
	rt_history_rules r, other;
	char why[200];
	const rt_history_rule *rule;

	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "", why, sizeof(why)), 0);
	RT_ASSERT_EQ_INT(r.count, 0);
	rule = rt_history_rule_for(&r, "cache-scores", 12);
	RT_ASSERT(rule != NULL && rule->max_messages == 1 && rule->max_seconds == 1800);
	RT_ASSERT(rt_history_rule_for(&r, "private-cache-x", 15) == rule);
	RT_ASSERT(rt_history_rule_for(&r, "presence-cache-x", 16) == rule);
	RT_ASSERT(rt_history_rule_for(&r, "cache-", 6) == NULL);
	RT_ASSERT(rt_history_rule_for(&r, "xcache-a", 8) == NULL);
	RT_ASSERT(rt_history_rule_for(&r, "private-x", 9) == NULL);
	RT_ASSERT(rt_history_rule_for(&r, "private-encrypted-cache-x", 25) == NULL);
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&r, "cache-*:50:60", why, sizeof(why)), 0);
	rule = rt_history_rule_for(&r, "cache-scores", 12);
	RT_ASSERT(rule != NULL && rule->max_messages == 50 && rule->max_seconds == 60);
	rule = rt_history_rule_for(&r, "private-cache-x", 15);
	RT_ASSERT(rule != NULL && rule->max_messages == 1);
	/* The built-in rule is part of the fingerprint, the same every time. */
	RT_ASSERT_EQ_INT(rt_history_rules_parse(&other, "cache-*:50:60", why, sizeof(why)), 0);
	RT_ASSERT(rt_history_rules_print(&r) == rt_history_rules_print(&other));
}

int main(void)
{
	RT_RUN(append_and_read_in_order);
	RT_RUN(trim_by_count_and_age);
	RT_RUN(offsets_across_wraparound);
	RT_RUN(too_large_breaks_recovery);
	RT_RUN(epoch_changes_when_a_record_is_lost);
	RT_RUN(reads_do_not_evict_published_channels);
	RT_RUN(corrupted_contents);
	RT_RUN(concurrent_appenders_in_processes);
	RT_RUN(rules_parse);
	RT_RUN(cache_channels_rule);
	RT_RUN(positions_encode_and_decode);
	return rt_test_summary();
}
