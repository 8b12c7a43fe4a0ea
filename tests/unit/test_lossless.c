/* Nothing is lost silently: a hub that the shared ring overtakes counts the
 * messages it lost and logs it, a refusal by the broker is counted and
 * answered (413/503), and repeated log lines are held back. Real hubs,
 * a real ring, real sockets. */
#include "rt_test.h"
#include "wsclient.h"
#include "segment_drop.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/pool.h"
#include "broker/segment.h"
#include "hub/model/config.h"
#include "hub/core/hub.h"
#include "hub/util/log.h"
#include "hub/model/msg.h"
#include "hub/model/query.h"

#define SECRET "unit-test-secret"
#define PUBLISH_KEY "unit-test-publish-key"
#define RING 65536 /* the smallest realtime.pool_memory */

static rt_msg *publish_msg(const char *channel, const char *data)
{
	rt_str ch = {channel, strlen(channel)};
	rt_msg_fields f = {0};

	memset(&f, 0, sizeof(f));
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = data;
	f.data.len = strlen(data);
	return rt_msg_new(RT_MSG_PUBLISH, &f);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
	struct timespec t = {ms / 1000, (long) (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL) {
		return strdup("");
	}
	buf = calloc(1, 1 << 20);
	n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
	}
	return buf;
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
		n++;
	}
	return n;
}

/* ---- the ring alone ---- */

static int delivered;

static void on_msg(void *ctx, rt_msg *msg)
{
	(void) ctx;
	delivered++;
	rt_msg_free(msg);
}

RT_TEST(ring_overrun_counted_in_messages)
{
	char err[256] = "", data[1001];
	rt_pool *pool = NULL;
	rt_pool_member *m = NULL;
	uint64_t app = rt_pool_app_id("127.0.0.1", 1);
	uint64_t bytes;

	RT_ASSERT_EQ_INT(rt_pool_map(&pool, RING, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_pool_join(pool, app, 7, &m, err, sizeof(err)), 0);
	memset(data, 'x', 1000);
	data[1000] = '\0';
	/* 200 messages of about 1 KB through a 64 KB ring that nobody reads. */
	for (int i = 0; i < 200; i++) {
		rt_msg *msg = publish_msg("news", data);
		RT_ASSERT(msg != NULL);
		RT_ASSERT_EQ_INT(rt_pool_publish(pool, app, msg, err, sizeof(err)), 0);
		rt_msg_free(msg);
	}
	delivered = 0;
	bytes = rt_pool_drain(m, on_msg, NULL);
	RT_ASSERT(bytes > RING);
	/* Overtaken, it skips to the head: every one of the 200 is lost, and
	 * says so in messages. */
	RT_ASSERT_EQ_INT(delivered, 0);
	RT_ASSERT_EQ_INT(rt_pool_member_lost(m), 200);
	/* Caught up: the next ones arrive and the count stays. */
	for (int i = 0; i < 3; i++) {
		rt_msg *msg = publish_msg("news", "1");
		RT_ASSERT_EQ_INT(rt_pool_publish(pool, app, msg, err, sizeof(err)), 0);
		rt_msg_free(msg);
	}
	RT_ASSERT_EQ_INT(rt_pool_drain(m, on_msg, NULL), 0);
	RT_ASSERT_EQ_INT(delivered, 3);
	RT_ASSERT_EQ_INT(rt_pool_member_lost(m), 200);
	rt_pool_leave(m);
	rt_pool_unmap(pool);
}

/* ---- log lines an attacker can repeat ---- */

RT_TEST(log_limited_holds_repeats_back)
{
	char path[] = "/tmp/rt-lossless-log-XXXXXX";
	rt_log_limit lim = {0, 0};
	char *text;
	int fd = mkstemp(path);

	RT_ASSERT(fd >= 0);
	close(fd);
	RT_ASSERT_EQ_INT(rt_log_open(path), 0);
	for (int i = 0; i < 1000; i++) {
		rt_log_limited(&lim, RT_LOG_ERROR, "dropped message %d", i);
	}
	text = slurp(path);
	RT_ASSERT_EQ_INT(count_of(text, "dropped message"), 1);
	RT_ASSERT(strstr(text, "dropped message 0") != NULL);
	free(text);
	/* Once the window has passed, the next line says how many it held. */
	lim.next_ms = 0;
	rt_log_limited(&lim, RT_LOG_ERROR, "dropped message %d", 1000);
	rt_log_close();
	text = slurp(path);
	RT_ASSERT_EQ_INT(count_of(text, "dropped message"), 2);
	RT_ASSERT(strstr(text, "dropped message 1000 (and 999 more like this") != NULL);
	free(text);
	unlink(path);
}

/* ---- hubs on a small ring ---- */

static int set(rt_config *cfg, const char *name, const char *value)
{
	char err[256];

	if (rt_config_set(cfg, name, value, err, sizeof(err)) != 0) {
		RT_FAIL_("realtime.%s = %s: %s", name, value, err);
		return -1;
	}
	return 0;
}

static char *recv_until(int fd, const char *needle, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		char *got = ws_recv_text(fd, (int) (deadline - now_ms()));
		if (got == NULL) {
			return NULL;
		}
		if (strstr(got, needle) != NULL) {
			return got;
		}
		free(got);
	}
	return NULL;
}

/* A client subscribed to news; *node: its hub. */
static int client(int port, uint32_t *node)
{
	int fd = ws_open(port, "/ws");
	char *hello;
	json_t *j;
	const char *id;

	if (fd < 0) {
		return -1;
	}
	hello = ws_recv_text(fd, WS_TIMEOUT_MS);
	j = hello ? json_loads(hello, 0, NULL) : NULL;
	id = j ? json_string_value(json_object_get(j, "connection_id")) : NULL;
	*node = id ? (uint32_t) strtoul(id, NULL, 10) : 0;
	json_decref(j);
	free(hello);
	if (*node == 0 || ws_send_text(fd, "{\"action\":\"subscribe\",\"channel\":\"news\"}") != 0) {
		close(fd);
		return -1;
	}
	hello = recv_until(fd, "subscribed", WS_TIMEOUT_MS);
	if (hello == NULL) {
		close(fd);
		return -1;
	}
	free(hello);
	return fd;
}

typedef struct fixture {
	rt_config cfg;
	int port;
	rt_broker *b[2];
	rt_hub *h[2];
	int fd[2];        /* a client on each hub */
	int fds[64], nfds;
} fixture;

static void down(fixture *f)
{
	for (int i = 0; i < f->nfds; i++) {
		close(f->fds[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (f->b[i] != NULL) {
			rt_broker_memory.attach(f->b[i], NULL);
		}
		if (f->h[i] != NULL && rt_hub_stop(f->h[i]) != 0) {
			RT_FAIL_("hub %d did not stop", i);
		}
	}
	for (int i = 0; i < 2; i++) {
		if (f->b[i] != NULL) {
			rt_broker_memory.close(f->b[i]);
		}
	}
	rt_broker_memory.postfork_shutdown();
	segment_drop(&f->cfg);
}

static int up(fixture *f, const char *batch_window)
{
	char err[256] = "", listen[64];

	memset(f, 0, sizeof(*f));
	f->fd[0] = f->fd[1] = -1;
	f->port = ws_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", f->port);
	rt_config_defaults(&f->cfg);
	if (set(&f->cfg, "listen", listen) != 0 || set(&f->cfg, "allow_anonymous", "1") != 0
			|| set(&f->cfg, "ping_interval", "0") != 0 || set(&f->cfg, "secret", SECRET) != 0
			|| set(&f->cfg, "publish_key", PUBLISH_KEY) != 0
			|| set(&f->cfg, "pool_memory", "65536") != 0
			|| set(&f->cfg, "batch_window", batch_window) != 0) {
		return -1;
	}
	if (rt_broker_memory.prefork(&f->cfg, err, sizeof(err)) != 0) {
		RT_FAIL_("prefork: %s", err);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		int r;
		if (rt_broker_memory.open(&f->b[i], &f->cfg, err, sizeof(err)) != 0) {
			RT_FAIL_("open: %s", err);
			return -1;
		}
		r = rt_hub_start(&f->h[i], &f->cfg, rt_broker_memory.link(f->b[i]), -1, 1, err,
				sizeof(err));
		if (r != 0) {
			RT_FAIL_("rt_hub_start: %s", err);
			return -1;
		}
		rt_broker_memory.attach(f->b[i], f->h[i]);
	}
	while (f->nfds < 64 && (f->fd[0] < 0 || f->fd[1] < 0)) {
		uint32_t node = 0;
		int fd = client(f->port, &node);
		if (fd < 0) {
			RT_FAIL_("no client");
			return -1;
		}
		f->fds[f->nfds++] = fd;
		for (int i = 0; i < 2; i++) {
			if (node == rt_hub_node_id(f->h[i]) && f->fd[i] < 0) {
				f->fd[i] = fd;
			}
		}
	}
	if (f->fd[0] < 0 || f->fd[1] < 0) {
		RT_FAIL_("every client went to one hub");
		return -1;
	}
	return 0;
}

static rt_broker_stats stats_of(rt_broker *b)
{
	rt_broker_stats st = {0};

	rt_broker_memory.stats(b, &st);
	return st;
}

static void publish(rt_broker *b, const char *data)
{
	char err[256] = "";
	rt_msg *msg = publish_msg("news", data);

	RT_ASSERT(msg != NULL);
	if (rt_broker_memory.publish(b, msg, err, sizeof(err)) != 0) {
		RT_FAIL_("publish: %s", err);
	}
	rt_msg_free(msg);
}

/* How many subscribers of news the whole app has, as hub h sees it; -1. */
static long subscribers_seen_by(rt_hub *h)
{
	rt_query *q = rt_query_new(RT_QUERY_CONNECTIONS, "news", 4);
	rt_msg_fields f = {0};
	rt_msg *msg;
	long n = -1;

	if (q == NULL) {
		return -1;
	}
	rt_query_retain(q);
	memset(&f, 0, sizeof(f));
	f.query = q;
	msg = rt_msg_new(RT_MSG_QUERY, &f);
	if (msg == NULL || rt_hub_post(h, msg) != 0) {
		rt_query_release(q);
		rt_query_release(q);
		return -1;
	}
	if (rt_query_wait(q, 5000) == 0 && q->answer != NULL) {
		n = strtol(q->answer, NULL, 10);
	}
	rt_query_release(q);
	return n;
}

static long wait_subscribers(rt_hub *h, long want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	long n = subscribers_seen_by(h);

	while (n != want && now_ms() < deadline) {
		pause_ms(20);
		n = subscribers_seen_by(h);
	}
	return n;
}

RT_TEST(hub_overtaken_counts_logs_and_resyncs)
{
	char path[] = "/tmp/rt-lossless-hub-XXXXXX";
	char data[901], *text, *got;
	fixture f;
	int64_t deadline;
	long total;
	uint64_t before_second;
	int fd = mkstemp(path);

	RT_ASSERT(fd >= 0);
	close(fd);
	RT_ASSERT_EQ_INT(rt_log_open(path), 0);
	/* batch_window=1000: while process 0 keeps publishing, its hub wakes
	 * the other only once a second, so a burst between two wake-ups
	 * larger than the ring overtakes hub 1 (and hub 0 too). */
	if (up(&f, "1000") != 0) {
		down(&f);
		rt_log_close();
		unlink(path);
		return;
	}
	publish(f.b[0], "\"first\"");
	got = recv_until(f.fd[1], "first", WS_TIMEOUT_MS);
	RT_ASSERT(got != NULL);
	free(got);
	deadline = now_ms() + 5000;
	while (!stats_of(f.b[0]).watching && now_ms() < deadline) {
		pause_ms(5);
	}
	RT_ASSERT(stats_of(f.b[0]).watching);
	total = wait_subscribers(f.h[0], f.nfds, 5000);
	RT_ASSERT_EQ_INT(total, f.nfds);
	RT_ASSERT_EQ_INT(wait_subscribers(f.h[1], f.nfds, 5000), f.nfds);
	memset(data, 'y', 900);
	data[0] = data[899] = '"';
	data[900] = '\0';
	for (int i = 0; i < 300; i++) {
		publish(f.b[0], data);
	}
	/* Hub 0's client leaves news: hub 0 tells the others through the ring
	 * (and wakes them), right behind the burst that overtakes hub 1. */
	RT_ASSERT_EQ_INT(ws_send_text(f.fd[0], "{\"action\":\"unsubscribe\",\"channel\":\"news\"}"), 0);
	deadline = now_ms() + 5000;
	while (stats_of(f.b[1]).dropped_ring_overrun == 0 && now_ms() < deadline) {
		pause_ms(10);
	}
	RT_ASSERT(stats_of(f.b[1]).dropped_ring_overrun > 0);
	/* The whole burst, and hub 0's state change behind it. */
	if (stats_of(f.b[1]).dropped_ring_overrun < 300 || stats_of(f.b[1]).dropped_ring_overrun > 302) {
		RT_FAIL_("hub 1 lost %llu messages, expected the 300 of the burst and a state change",
				(unsigned long long) stats_of(f.b[1]).dropped_ring_overrun);
	}
	/* Then it delivers again. */
	publish(f.b[0], "\"after\"");
	got = recv_until(f.fd[1], "after", WS_TIMEOUT_MS);
	RT_ASSERT(got != NULL);
	free(got);
	/* Logged once (not once per drain), with the count in messages, and
	 * on its next tick it asked every hub for its state: hub 0 answered
	 * with a full report (STATE_BEGIN .. STATE_END through the ring). */
	text = slurp(path);
	RT_ASSERT(strstr(text, "fell behind the shared ring and lost") != NULL);
	RT_ASSERT(strstr(text, "raise realtime.pool_memory") != NULL);
	free(text);
	/* Its view lost that change with the rest; the resync brings it back. */
	RT_ASSERT_EQ_INT(wait_subscribers(f.h[0], total - 1, 5000), total - 1);
	RT_ASSERT_EQ_INT(wait_subscribers(f.h[1], total - 1, 5000), total - 1);

	/* A departure lost in an overrun: a third hub with subscribers stops
	 * right behind another burst, and no report will ever come from it. */
	{
		char err[256] = "";
		rt_broker *b2 = NULL;
		rt_hub *h2 = NULL;
		int on_c = 0, fds[32], n = 0;

		RT_ASSERT_EQ_INT(rt_broker_memory.open(&b2, &f.cfg, err, sizeof(err)), 0);
		RT_ASSERT_EQ_INT(rt_hub_start(&h2, &f.cfg, rt_broker_memory.link(b2), -1, 1, err,
				sizeof(err)), 0);
		rt_broker_memory.attach(b2, h2);
		while (on_c == 0 && n < 32) {
			uint32_t node = 0;
			fds[n] = client(f.port, &node);
			RT_ASSERT(fds[n] >= 0);
			on_c += node == rt_hub_node_id(h2);
			n++;
		}
		RT_ASSERT_EQ_INT(on_c, 1);
		total = total - 1 + n;
		RT_ASSERT_EQ_INT(wait_subscribers(f.h[1], total, 5000), total);
		publish(f.b[0], "\"again\"");
		deadline = now_ms() + 5000;
		while (!stats_of(f.b[0]).watching && now_ms() < deadline) {
			pause_ms(5);
		}
		before_second = stats_of(f.b[1]).dropped_ring_overrun;
		for (int i = 0; i < 300; i++) {
			publish(f.b[0], data);
		}
		rt_broker_memory.attach(b2, NULL);
		RT_ASSERT_EQ_INT(rt_hub_stop(h2), 0);
		rt_broker_memory.close(b2);
		deadline = now_ms() + 5000;
		while (stats_of(f.b[1]).dropped_ring_overrun == before_second && now_ms() < deadline) {
			pause_ms(10);
		}
		RT_ASSERT(stats_of(f.b[1]).dropped_ring_overrun > before_second);
		RT_ASSERT_EQ_INT(wait_subscribers(f.h[1], total - 1, 5000), total - 1);
		RT_ASSERT_EQ_INT(wait_subscribers(f.h[0], total - 1, 5000), total - 1);
		for (int i = 0; i < n; i++) {
			close(fds[i]);
		}
	}
	down(&f);
	rt_log_close();
	unlink(path);
}

static int post_publish(int port, const char *data_json, char *resp, size_t cap)
{
	char *req;
	size_t body_len = strlen(data_json) + 64;
	int n, status;

	req = malloc(body_len + 512);
	if (req == NULL) {
		return -1;
	}
	n = snprintf(req, body_len + 512, "POST /publish HTTP/1.1\r\nHost: x\r\n"
			"Authorization: Bearer " PUBLISH_KEY "\r\nContent-Type: application/json\r\n"
			"Connection: close\r\nContent-Length: %zu\r\n\r\n"
			"{\"type\":\"publish\",\"channels\":[\"news\"],\"data\":%s}",
			strlen(data_json) + strlen("{\"type\":\"publish\",\"channels\":[\"news\"],\"data\":}"),
			data_json);
	status = ws_http(port, req, (size_t) n, resp, cap, WS_TIMEOUT_MS);
	free(req);
	return status;
}

RT_TEST(refused_publish_answered_and_counted)
{
	char *big, resp[4096], *got;
	rt_hub_stats hs;
	fixture f;

	if (up(&f, "0") != 0) {
		down(&f);
		return;
	}
	/* 20 KB: more than the quarter of the 64 KB ring a message may use. */
	big = malloc(20003);
	RT_ASSERT(big != NULL);
	memset(big, 'z', 20002);
	big[0] = big[20001] = '"';
	big[20002] = '\0';
	RT_ASSERT_EQ_INT(post_publish(f.port, big, resp, sizeof(resp)), 413);
	free(big);
	rt_hub_stats_get(f.h[0], &hs);
	{
		rt_hub_stats hs1;
		rt_hub_stats_get(f.h[1], &hs1);
		RT_ASSERT_EQ_INT(hs.dropped_broker_refused + hs1.dropped_broker_refused, 1);
	}
	/* What the broker takes is answered 202 and delivered. */
	RT_ASSERT_EQ_INT(post_publish(f.port, "\"small\"", resp, sizeof(resp)), 202);
	got = recv_until(f.fd[0], "small", WS_TIMEOUT_MS);
	RT_ASSERT(got != NULL);
	free(got);
	down(&f);
}

/* A process alone: its hub's queue holds at most realtime.pool_memory bytes
 * of messages; past that a publish is refused, counted, not queued. */
RT_TEST(lone_hub_queue_is_bounded)
{
	char err[256] = "", listen[64], *big, *got;
	rt_config cfg;
	rt_broker *b = NULL;
	rt_hub *hub = NULL;
	rt_hub_stats hs;
	rt_msg *msg;
	uint32_t node = 0;
	int port = ws_free_port(), fd;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	rt_config_defaults(&cfg);
	RT_ASSERT_EQ_INT(set(&cfg, "listen", listen), 0);
	RT_ASSERT_EQ_INT(set(&cfg, "allow_anonymous", "1"), 0);
	RT_ASSERT_EQ_INT(set(&cfg, "pool_memory", "65536"), 0);
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&b, &cfg, err, sizeof(err)), 0);
	RT_ASSERT(rt_broker_memory.link(b) == NULL); /* no ring: a process alone */
	RT_ASSERT_EQ_INT(rt_hub_start(&hub, &cfg, NULL, -1, 0, err, sizeof(err)), 0);
	rt_broker_memory.attach(b, hub);
	fd = client(port, &node);
	RT_ASSERT(fd >= 0);
	big = malloc(70003);
	RT_ASSERT(big != NULL);
	memset(big, 'q', 70002);
	big[0] = big[70001] = '"';
	big[70002] = '\0';
	msg = publish_msg("news", big);
	free(big);
	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(rt_broker_memory.publish(b, msg, err, sizeof(err)), -ENOBUFS);
	RT_ASSERT(strstr(err, "queue is full") != NULL);
	/* Straight to the hub too; a stop or a query is never refused. */
	RT_ASSERT_EQ_INT(rt_hub_post(hub, msg), -ENOBUFS);
	rt_hub_stats_get(hub, &hs);
	RT_ASSERT_EQ_INT(hs.dropped_queue_full, 2);
	publish(b, "\"fits\"");
	got = recv_until(fd, "fits", WS_TIMEOUT_MS);
	RT_ASSERT(got != NULL);
	free(got);
	close(fd);
	rt_broker_memory.attach(b, NULL);
	RT_ASSERT_EQ_INT(rt_hub_stop(hub), 0);
	rt_broker_memory.close(b);
}

int main(void)
{
	RT_RUN(ring_overrun_counted_in_messages);
	RT_RUN(log_limited_holds_repeats_back);
	RT_RUN(hub_overtaken_counts_logs_and_resyncs);
	RT_RUN(refused_publish_answered_and_counted);
	RT_RUN(lone_hub_queue_is_bounded);
	return rt_test_summary();
}
