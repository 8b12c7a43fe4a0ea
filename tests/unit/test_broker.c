/* broker/: the broker table and the memory broker's three ways to deliver:
 * the hub of this process, the shared ring of a server's processes
 * (broker/pool.c), and the /publish endpoint for processes without a hub.
 * Real hubs on loopback ports; wsclient.h plays the browser. */
#include "rt_test.h"
#include "wsclient.h"

#include <jansson.h>

#include "broker/broker.h"
#include "hub/config.h"
#include "hub/hub.h"
#include "hub/msg.h"

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
	rt_msg_fields fl;

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
RT_TEST(pool_spans_hubs)
{
	rt_config cfg;
	rt_broker *b1 = NULL, *b2 = NULL;
	rt_hub *h1 = NULL, *h2 = NULL;
	char err[256] = "";
	int port = ws_free_port();
	int fds[64], nfds = 0, fd1 = -1, fd2 = -1;

	RT_ASSERT(port > 0);
	RT_ASSERT_EQ_INT(make_cfg(&cfg, port, NULL), 0);
	if (rt_broker_memory.prefork(&cfg, err, sizeof(err)) != 0) {
		RT_FAIL_("prefork: %s", err);
		return;
	}
	if (rt_broker_memory.open(&b1, &cfg, err, sizeof(err)) != 0
			|| rt_broker_memory.open(&b2, &cfg, err, sizeof(err)) != 0) {
		RT_FAIL_("open: %s", err);
		goto out;
	}
	if (rt_broker_memory.link(b1) == NULL || rt_broker_memory.link(b2) == NULL) {
		RT_FAIL_("no link with the ring mapped");
		goto out;
	}
	h1 = start_hub(&cfg, rt_broker_memory.link(b1), 1);
	h2 = start_hub(&cfg, rt_broker_memory.link(b2), 1);
	if (h1 == NULL || h2 == NULL) {
		goto out;
	}
	rt_broker_memory.attach(b1, h1);
	rt_broker_memory.attach(b2, h2);

	/* The kernel spreads connections over the two listeners: open clients
	 * until each hub has one. */
	while (nfds < 64 && (fd1 < 0 || fd2 < 0)) {
		uint32_t node = 0;
		int fd = client(port, "news", &node);
		if (fd < 0) {
			goto out;
		}
		fds[nfds++] = fd;
		if (node == rt_hub_node_id(h1) && fd1 < 0) {
			fd1 = fd;
		} else if (node == rt_hub_node_id(h2) && fd2 < 0) {
			fd2 = fd;
		}
	}
	if (fd1 < 0 || fd2 < 0) {
		RT_FAIL_("%d connections all went to one hub", nfds);
		goto out;
	}
	/* Everyone subscribed, on whichever hub, gets each message once. */
	broker_publish(b1, "news", "1", 0);
	broker_publish(b2, "news", "2", 0);
	for (int i = 0; i < nfds; i++) {
		expect_text(fds[i], "{\"type\":\"message\",\"channel\":\"news\",\"data\":1}");
		expect_text(fds[i], "{\"type\":\"message\",\"channel\":\"news\",\"data\":2}");
	}
	/* rt_hub_post is local: only hub 2's clients get 3. The next message,
	 * through the ring again, shows hub 1's client was skipped. */
	{
		rt_msg *msg = publish_msg("news", "3");
		RT_ASSERT(msg != NULL);
		RT_ASSERT_EQ_INT(rt_hub_post(h2, msg), 0);
	}
	expect_text(fd2, "{\"type\":\"message\",\"channel\":\"news\",\"data\":3}");
	broker_publish(b2, "news", "4", 0);
	expect_text(fd1, "{\"type\":\"message\",\"channel\":\"news\",\"data\":4}");
	expect_text(fd2, "{\"type\":\"message\",\"channel\":\"news\",\"data\":4}");

out:
	for (int i = 0; i < nfds; i++) {
		close(fds[i]);
	}
	if (b1 != NULL) {
		rt_broker_memory.attach(b1, NULL);
	}
	if (b2 != NULL) {
		rt_broker_memory.attach(b2, NULL);
	}
	stop_hub(h1);
	stop_hub(h2);
	if (b1 != NULL) {
		rt_broker_memory.close(b1);
	}
	if (b2 != NULL) {
		rt_broker_memory.close(b2);
	}
	rt_broker_memory.postfork_shutdown();
}

int main(void)
{
	RT_RUN(find);
	RT_RUN(config_brokers_exist);
	RT_RUN(open_close);
	RT_RUN(no_hub_needs_secret);
	RT_RUN(no_hub_nothing_listening);
	RT_RUN(no_hub_publishes_to_server);
	RT_RUN(attached_hub_delivers);
	/* Last: it maps the ring, which changes how every broker delivers. */
	RT_RUN(pool_spans_hubs);
	return rt_test_summary();
}
