/* broker/: the broker table and the memory broker's three ways to deliver:
 * the hub of this process, the shared ring of a server's processes
 * (broker/pool.c), and the /publish endpoint for processes without a hub.
 * Real hubs on loopback ports; wsclient.h plays the browser. */
#include "rt_test.h"
#include "wsclient.h"
#include "segment_drop.h"

#include <jansson.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/segment.h"
#include "hub/model/config.h"
#include "hub/core/hub.h"
#include "hub/model/msg.h"

#define SECRET "unit-test-secret"

static rt_str str(const char *s)
{
	rt_str r = {s, s ? strlen(s) : 0};
	return r;
}

/* The one place that knows rt_msg_new's signature. */
static rt_msg *publish_msg(const char *channel, const char *data)
{
	rt_str ch = str(channel);
	rt_msg_fields fl = {0};

	memset(&fl, 0, sizeof(fl));
	fl.channels = &ch;
	fl.channel_count = 1;
	fl.data = str(data);
	return rt_msg_new(RT_MSG_PUBLISH, &fl);
}

static int set(rt_config *cfg, const char *name, const char *value)
{
	char err[256];

	if (rt_config_set(cfg, name, value, err, sizeof(err)) != 0) {
		RT_FAIL_("realtime.%s = %s: %s", name, value, err);
		return -1;
	}
	return 0;
}

/* A config listening on port, anonymous clients allowed, pings off;
 * secret may be NULL. */
static int make_cfg(rt_config *cfg, int port, const char *secret)
{
	char listen[64];

	rt_config_defaults(cfg);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (set(cfg, "listen", listen) != 0 || set(cfg, "allow_anonymous", "1") != 0
			|| set(cfg, "ping_interval", "0") != 0) {
		return -1;
	}
	if (secret != NULL && set(cfg, "secret", secret) != 0) {
		return -1;
	}
	return 0;
}

/* share_port: 1 for the workers of a pool, 0 for a lone server. */
static rt_hub *start_hub(const rt_config *cfg, const rt_hub_link *link, int share_port)
{
	rt_hub *hub = NULL;
	char err[256] = "";
	int r = rt_hub_start(&hub, cfg, link, -1, share_port, err, sizeof(err));

	if (r != 0) {
		RT_FAIL_("rt_hub_start: %d %s", r, err);
		return NULL;
	}
	return hub;
}

static void stop_hub(rt_hub *hub)
{
	int r;

	if (hub == NULL) {
		return;
	}
	r = rt_hub_stop(hub);
	if (r != 0) {
		RT_FAIL_("rt_hub_stop returned %d", r);
	}
}

static void expect_text(int fd, const char *want)
{
	char *got = ws_recv_text(fd, WS_TIMEOUT_MS);

	if (got == NULL) {
		RT_FAIL_("no text frame, expected %s", want);
		return;
	}
	if (strcmp(got, want) != 0) {
		RT_FAIL_("got %s, expected %s", got, want);
	}
	free(got);
}

/* Opens a client, reads "connected", subscribes to channel. Returns the fd
 * (or -1); *node gets the node id from its connection id. */
static int client(int port, const char *channel, uint32_t *node)
{
	char msg[256], ack[256];
	char *hello;
	json_t *j;
	const char *id;
	int fd = ws_open(port, "/ws");

	if (fd < 0) {
		RT_FAIL_("cannot open a WebSocket on port %d", port);
		return -1;
	}
	hello = ws_recv_text(fd, WS_TIMEOUT_MS);
	j = hello ? json_loads(hello, 0, NULL) : NULL;
	id = j ? json_string_value(json_object_get(j, "connection_id")) : NULL;
	if (id == NULL) {
		RT_FAIL_("no connected message: %s", hello ? hello : "(none)");
		json_decref(j);
		free(hello);
		close(fd);
		return -1;
	}
	if (node != NULL) {
		*node = (uint32_t) strtoul(id, NULL, 10);
	}
	json_decref(j);
	free(hello);
	snprintf(msg, sizeof(msg), "{\"action\":\"subscribe\",\"channel\":\"%s\"}", channel);
	snprintf(ack, sizeof(ack), "{\"type\":\"subscribed\",\"channel\":\"%s\"}", channel);
	if (ws_send_text(fd, msg) != 0) {
		RT_FAIL_("send failed");
		close(fd);
		return -1;
	}
	expect_text(fd, ack);
	return fd;
}

static void broker_publish(rt_broker *b, const char *channel, const char *data, int want)
{
	char err[256] = "";
	rt_msg *msg = publish_msg(channel, data);
	int r;

	RT_ASSERT(msg != NULL);
	r = rt_broker_memory.publish(b, msg, err, sizeof(err));
	rt_msg_free(msg);
	if (r != want) {
		RT_FAIL_("publish returned %d (%s), expected %d", r, err, want);
	}
}

/* ---- the table ---- */

RT_TEST(find)
{
	const rt_broker_ops *ops = rt_broker_find("memory");

	RT_ASSERT(ops == &rt_broker_memory);
	RT_ASSERT_EQ_STR(ops->name, "memory");
	RT_ASSERT(ops->open != NULL && ops->attach != NULL && ops->publish != NULL
			&& ops->close != NULL && ops->link != NULL);
	RT_ASSERT(rt_broker_find("redis") == &rt_broker_redis);
	RT_ASSERT_EQ_STR(rt_broker_redis.name, "redis");
	RT_ASSERT(rt_broker_find("nats") == NULL);
	RT_ASSERT(rt_broker_find("") == NULL);
	RT_ASSERT(rt_broker_find("MEMORY") == NULL);
	RT_ASSERT(rt_broker_find("memory ") == NULL);
	RT_ASSERT(rt_broker_find("mem") == NULL);
}

/* Every broker the config accepts can be found. */
RT_TEST(config_brokers_exist)
{
	static const char *const names[] = {"memory", "redis"};
	rt_config cfg;
	char err[256];

	rt_config_defaults(&cfg);
	RT_ASSERT(rt_broker_find(cfg.broker) != NULL);
	for (int i = 0; i < 2; i++) {
		RT_ASSERT_EQ_INT(rt_config_set(&cfg, "broker", names[i], err, sizeof(err)), 0);
		RT_ASSERT(rt_broker_find(cfg.broker) != NULL);
	}
}

RT_TEST(open_close)
{
	rt_config cfg;
	rt_broker *b = NULL;
	char err[128] = "untouched";

	rt_config_defaults(&cfg);
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&b, &cfg, err, sizeof(err)), 0);
	RT_ASSERT(b != NULL);
	RT_ASSERT_EQ_STR(err, "untouched");
	/* No shared ring mapped (no prefork): the hub is alone. */
	RT_ASSERT(rt_broker_memory.link(b) == NULL);
	rt_broker_memory.close(b);
}

/* ---- a process without a hub (CLI): /publish on realtime.listen ---- */

/* Refused, and the message freed: ASan's leak check fails the test if
 * publish keeps it. */
RT_TEST(no_hub_needs_secret)
{
	rt_config cfg;
	rt_broker *b = NULL;
	char err[256] = "";
	rt_msg *msg;

	RT_ASSERT_EQ_INT(make_cfg(&cfg, ws_free_port(), NULL), 0);
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&b, &cfg, err, sizeof(err)), 0);
	msg = publish_msg("news", "\"lost\"");
	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(rt_broker_memory.publish(b, msg, err, sizeof(err)), -EPERM);
	rt_msg_free(msg);
	RT_ASSERT(strstr(err, "realtime.secret") != NULL);
	rt_broker_memory.close(b);
}

RT_TEST(no_hub_nothing_listening)
{
	rt_config cfg;
	rt_broker *b = NULL;
	char err[256] = "";
	rt_msg *msg;

	RT_ASSERT_EQ_INT(make_cfg(&cfg, ws_free_port(), SECRET), 0);
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&b, &cfg, err, sizeof(err)), 0);
	msg = publish_msg("news", "\"lost\"");
	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(rt_broker_memory.publish(b, msg, err, sizeof(err)), -ECONNREFUSED);
	rt_msg_free(msg);
	RT_ASSERT(strstr(err, "realtime.listen") != NULL);
	rt_broker_memory.close(b);
}

/* A server runs elsewhere (here: in this process, but not attached to the
 * broker); the message reaches its clients through /publish. */
RT_TEST(no_hub_publishes_to_server)
{
	rt_config server_cfg, cli_cfg;
	rt_broker *cli = NULL, *wrong = NULL;
	rt_hub *hub;
	char err[256] = "";
	int port = ws_free_port(), fd;

	RT_ASSERT(port > 0);
	RT_ASSERT_EQ_INT(make_cfg(&server_cfg, port, SECRET), 0);
	RT_ASSERT_EQ_INT(make_cfg(&cli_cfg, port, SECRET), 0);
	hub = start_hub(&server_cfg, NULL, 0);
	RT_ASSERT(hub != NULL);
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&cli, &cli_cfg, err, sizeof(err)), 0);
	fd = client(port, "news", NULL);
	if (fd >= 0) {
		broker_publish(cli, "news", "\"from cli\"", 0);
		expect_text(fd, "{\"type\":\"message\",\"channel\":\"news\",\"data\":\"from cli\"}");

		/* The wrong secret is refused, and nothing is delivered. */
		if (set(&cli_cfg, "secret", "not-the-secret") == 0
				&& rt_broker_memory.open(&wrong, &cli_cfg, err, sizeof(err)) == 0) {
			broker_publish(wrong, "news", "\"forged\"", -EACCES);
			rt_broker_memory.close(wrong);
		}
		broker_publish(cli, "news", "2", 0);
		expect_text(fd, "{\"type\":\"message\",\"channel\":\"news\",\"data\":2}");
		close(fd);
	}
	rt_broker_memory.close(cli);
	stop_hub(hub);
}

static rt_broker_stats broker_stats(rt_broker *b);

/* A CLI process publishing through the server's segment while the
 * server reloads: between its old workers and its new ones no hub lives.
 * What a channel's history keeps still goes into the segment, with its
 * position (it used to go to a /publish no hub answered, for up to a
 * second); the first hub back is used at once. Our pid in a slot stands
 * in for a worker's hub. */
RT_TEST(cli_publishes_through_a_reload)
{
	rt_config cfg;
	rt_broker *cli = NULL;
	rt_pool *seg = NULL;
	rt_pool_member *m = NULL;
	rt_segment_id id;
	rt_pos pos[1];
	char name[RT_SEGMENT_NAME_MAX], err[400] = "";
	rt_msg *msg;
	uint64_t app, first;
	int port = ws_free_port();

	RT_ASSERT(port > 0);
	RT_ASSERT_EQ_INT(make_cfg(&cfg, port, SECRET), 0);
	RT_ASSERT_EQ_INT(set(&cfg, "history", "chat-*:100:300"), 0);
	/* Each call wakes the hubs itself: none batched for a later look. */
	RT_ASSERT_EQ_INT(set(&cfg, "batch_window", "0"), 0);
	RT_ASSERT_EQ_INT(rt_broker_memory.prefork(&cfg, err, sizeof(err)), 0);
	rt_broker_memory.postfork_shutdown(); /* the master's mapping: the segment stays */
	rt_segment_name(name, sizeof(name), cfg.host, cfg.port);
	app = rt_pool_app_id(cfg.host, cfg.port);
	RT_ASSERT_EQ_INT(rt_segment_attach(&seg, name, geteuid(), &id, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_pool_join(seg, app, 7, &m, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&cli, &cfg, err, sizeof(err)), 0);

	msg = publish_msg("chat-1", "1");
	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(rt_broker_memory.publish_at(cli, msg, pos, err, sizeof(err)), 0);
	first = pos[0].offset;
	RT_ASSERT(first > 0);
	RT_ASSERT_EQ_STR(broker_stats(cli).publish_path, "segment");

	/* The reload: the last hub leaves. Every publish on the history
	 * channel still gets the next position, none is refused. */
	rt_pool_leave(m);
	m = NULL;
	for (uint64_t i = 1; i <= 3; i++) {
		pos[0].offset = 0;
		RT_ASSERT_EQ_INT(rt_broker_memory.publish_at(cli, msg, pos, err, sizeof(err)), 0);
		RT_ASSERT_EQ_INT(pos[0].offset, first + i);
	}
	RT_ASSERT_EQ_STR(broker_stats(cli).publish_path, "http");
	rt_msg_free(msg);
	/* What no history keeps has nowhere to go but /publish: refused
	 * (nothing listens), not lost silently. */
	msg = publish_msg("news", "2");
	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(rt_broker_memory.publish(cli, msg, err, sizeof(err)), -ECONNREFUSED);
	rt_msg_free(msg);

	/* A new worker's hub joins: the very next call (the same second)
	 * goes through the segment again. */
	RT_ASSERT_EQ_INT(rt_pool_join(seg, app, 8, &m, err, sizeof(err)), 0);
	RT_ASSERT_EQ_STR(broker_stats(cli).publish_path, "segment");
	msg = publish_msg("news", "3");
	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(rt_broker_memory.publish(cli, msg, err, sizeof(err)), 0);
	rt_msg_free(msg);

	rt_broker_memory.close(cli);
	rt_pool_leave(m);
	rt_pool_unmap(seg);
	segment_drop(&cfg);
}

/* ---- the hub of this process ---- */

RT_TEST(attached_hub_delivers)
{
	rt_config cfg;
	rt_broker *b = NULL;
	rt_hub *hub;
	char err[256] = "";
	int port = ws_free_port(), fd;

	RT_ASSERT(port > 0);
	RT_ASSERT_EQ_INT(make_cfg(&cfg, port, NULL), 0);
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&b, &cfg, err, sizeof(err)), 0);
	hub = start_hub(&cfg, rt_broker_memory.link(b), 0);
	if (hub == NULL) {
		rt_broker_memory.close(b);
		return;
	}
	rt_broker_memory.attach(b, hub);
	fd = client(port, "news", NULL);
	if (fd >= 0) {
		broker_publish(b, "news", "\"via broker\"", 0);
		expect_text(fd, "{\"type\":\"message\",\"channel\":\"news\",\"data\":\"via broker\"}");
		/* Detached (the hub stopping): back to /publish, which needs the secret. */
		rt_broker_memory.attach(b, NULL);
		broker_publish(b, "news", "\"after detach\"", -EPERM);
		close(fd);
	}
	rt_broker_memory.attach(b, NULL);
	stop_hub(hub);
	rt_broker_memory.close(b);
}

/* ---- the shared ring of a server's processes ---- */

/* Two hubs of one app (same listen address, SO_REUSEPORT) linked through
 * the ring: a message published through either broker reaches the clients
 * of both. Threads of one process stand in for the forked workers. */
/* Two hubs of one app sharing the ring, as two workers of a pool would,
 * and clients until each hub has one (fd[0] on hub 0, fd[1] on hub 1). */
typedef struct pool_fixture {
	rt_config cfg;
	rt_broker *b[2];
	rt_hub *h[2];
	int fds[64], nfds;
	int fd[2];
} pool_fixture;

static void pool_down(pool_fixture *f)
{
	for (int i = 0; i < f->nfds; i++) {
		close(f->fds[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (f->b[i] != NULL) {
			rt_broker_memory.attach(f->b[i], NULL);
		}
	}
	for (int i = 0; i < 2; i++) {
		stop_hub(f->h[i]);
	}
	for (int i = 0; i < 2; i++) {
		if (f->b[i] != NULL) {
			rt_broker_memory.close(f->b[i]);
		}
	}
	rt_broker_memory.postfork_shutdown();
	segment_drop(&f->cfg);
}

static int pool_up(pool_fixture *f, const char *batch_window)
{
	char err[256] = "";
	int port = ws_free_port();

	memset(f, 0, sizeof(*f));
	f->fd[0] = f->fd[1] = -1;
	if (port <= 0) {
		RT_FAIL_("no free port");
		return -1;
	}
	if (make_cfg(&f->cfg, port, NULL) != 0 || set(&f->cfg, "batch_window", batch_window) != 0) {
		return -1;
	}
	if (rt_broker_memory.prefork(&f->cfg, err, sizeof(err)) != 0) {
		RT_FAIL_("prefork: %s", err);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (rt_broker_memory.open(&f->b[i], &f->cfg, err, sizeof(err)) != 0) {
			RT_FAIL_("open: %s", err);
			return -1;
		}
		if (rt_broker_memory.link(f->b[i]) == NULL) {
			RT_FAIL_("no link with the ring mapped");
			return -1;
		}
		f->h[i] = start_hub(&f->cfg, rt_broker_memory.link(f->b[i]), 1);
		if (f->h[i] == NULL) {
			return -1;
		}
		rt_broker_memory.attach(f->b[i], f->h[i]);
	}
	/* The kernel spreads connections over the two listeners: open clients
	 * until each hub has one. */
	while (f->nfds < 64 && (f->fd[0] < 0 || f->fd[1] < 0)) {
		uint32_t node = 0;
		int fd = client(port, "news", &node);
		if (fd < 0) {
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
		RT_FAIL_("%d connections all went to one hub", f->nfds);
		return -1;
	}
	return 0;
}

static rt_broker_stats broker_stats(rt_broker *b)
{
	rt_broker_stats st = {0};

	rt_broker_memory.stats(b, &st);
	return st;
}

RT_TEST(pool_spans_hubs)
{
	pool_fixture f;

	if (pool_up(&f, "0") != 0) {
		pool_down(&f);
		return;
	}
	/* Everyone subscribed, on whichever hub, gets each message once. */
	broker_publish(f.b[0], "news", "1", 0);
	broker_publish(f.b[1], "news", "2", 0);
	for (int i = 0; i < f.nfds; i++) {
		expect_text(f.fds[i], "{\"type\":\"message\",\"channel\":\"news\",\"data\":1}");
		expect_text(f.fds[i], "{\"type\":\"message\",\"channel\":\"news\",\"data\":2}");
	}
	/* rt_hub_post is local: only hub 1's clients get 3. The next message,
	 * through the ring again, shows hub 0's client was skipped. */
	{
		rt_msg *msg = publish_msg("news", "3");
		RT_ASSERT(msg != NULL);
		RT_ASSERT_EQ_INT(rt_hub_post(f.h[1], msg), 0);
	}
	expect_text(f.fd[1], "{\"type\":\"message\",\"channel\":\"news\",\"data\":3}");
	broker_publish(f.b[1], "news", "4", 0);
	expect_text(f.fd[0], "{\"type\":\"message\",\"channel\":\"news\",\"data\":4}");
	expect_text(f.fd[1], "{\"type\":\"message\",\"channel\":\"news\",\"data\":4}");
	/* realtime.batch_window=0: every publish woke the hubs itself. */
	RT_ASSERT_EQ_INT(broker_stats(f.b[0]).batched + broker_stats(f.b[1]).batched, 0);
	RT_ASSERT_EQ_INT(broker_stats(f.b[0]).woke + broker_stats(f.b[1]).woke, 3);
	pool_down(&f);
}

/* Publishes n on hub 0's broker; every client of both hubs must get it. */
static void publish_everywhere(pool_fixture *f, int n)
{
	char data[32], want[128];

	snprintf(data, sizeof(data), "%d", n);
	snprintf(want, sizeof(want), "{\"type\":\"message\",\"channel\":\"news\",\"data\":%d}", n);
	broker_publish(f->b[0], "news", data, 0);
	for (int i = 0; i < f->nfds; i++) {
		expect_text(f->fds[i], want);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

RT_TEST(pool_batches_wakeups)
{
	pool_fixture f;
	rt_broker_stats st;
	int n = 0;
	int64_t deadline;

	if (pool_up(&f, "2") != 0) {
		pool_down(&f);
		return;
	}
	/* A quiet process wakes the hubs itself... */
	publish_everywhere(&f, ++n);
	st = broker_stats(f.b[0]);
	RT_ASSERT_EQ_INT(st.woke, 1);
	RT_ASSERT_EQ_INT(st.batched, 0);
	/* ...which sets its hub watching: the next publishes only append, and
	 * still reach both hubs' clients (the hub's window wakes the other). */
	deadline = now_ms() + 5000;
	while (broker_stats(f.b[0]).batched < 20 && now_ms() < deadline) {
		publish_everywhere(&f, ++n);
	}
	st = broker_stats(f.b[0]);
	if (st.batched < 20) {
		RT_FAIL_("after %d publishes only %llu were batched", n, (unsigned long long) st.batched);
	}
	/* A batched publish whose window has not come yet, then nothing: the
	 * hub still delivers it within the window. */
	broker_publish(f.b[0], "news", "\"last\"", 0);
	expect_text(f.fd[0], "{\"type\":\"message\",\"channel\":\"news\",\"data\":\"last\"}");
	expect_text(f.fd[1], "{\"type\":\"message\",\"channel\":\"news\",\"data\":\"last\"}");
	for (int i = 0; i < f.nfds; i++) {
		if (f.fds[i] != f.fd[0] && f.fds[i] != f.fd[1]) {
			expect_text(f.fds[i], "{\"type\":\"message\",\"channel\":\"news\",\"data\":\"last\"}");
		}
	}
	/* Once the process has been quiet for a while its hub stops watching
	 * (no timer left running) and a publish wakes the hubs itself again. */
	deadline = now_ms() + 10000;
	while (broker_stats(f.b[0]).watching && now_ms() < deadline) {
		struct timespec pause = {0, 20 * 1000000L};
		nanosleep(&pause, NULL);
	}
	st = broker_stats(f.b[0]);
	if (st.watching) {
		RT_FAIL_("the hub still watches after 10 quiet seconds");
	}
	publish_everywhere(&f, ++n);
	RT_ASSERT_EQ_INT(broker_stats(f.b[0]).woke, st.woke + 1);
	pool_down(&f);
}

int main(void)
{
	RT_RUN(find);
	RT_RUN(config_brokers_exist);
	RT_RUN(open_close);
	RT_RUN(no_hub_needs_secret);
	RT_RUN(no_hub_nothing_listening);
	RT_RUN(no_hub_publishes_to_server);
	RT_RUN(cli_publishes_through_a_reload);
	RT_RUN(attached_hub_delivers);
	/* Last: they map the ring, which changes how every broker delivers. */
	RT_RUN(pool_spans_hubs);
	RT_RUN(pool_batches_wakeups);
	return rt_test_summary();
}
