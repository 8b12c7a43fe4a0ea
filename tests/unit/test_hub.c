/* hub/hub.c end to end, in process and without PHP: a real hub on a
 * loopback port, driven by plain blocking sockets (wsclient.h). */
#include "rt_test.h"
#include "wsclient.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <uv.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <time.h>

#include "hub/model/config.h"
#include "hub/core/hub.h"
#include "hub/model/msg.h"


typedef struct fx {
	rt_config cfg;
	rt_hub *hub;
	int port;
	int share_port; /* 1: like the workers of a pool (SO_REUSEPORT) */
	ws_fdset clients;
} fx;


static rt_str str(const char *s)
{
	rt_str r = {s, s ? strlen(s) : 0};
	return r;
}

/* The one place that knows rt_msg_new's signature. */
static rt_msg *make_msg(rt_msg_type type, const rt_str *channels, uint32_t n,
		rt_str event, rt_str data, rt_str exclude)
{
	rt_msg_fields fl = {0};

	memset(&fl, 0, sizeof(fl));
	fl.channels = channels;
	fl.channel_count = n;
	fl.event = event;
	fl.data = data;
	fl.exclude = exclude;
	return rt_msg_new(type, &fl);
}

static int cfg_set(rt_config *cfg, const char *name, const char *value)
{
	char err[256];

	if (rt_config_set(cfg, name, value, err, sizeof(err)) != 0) {
		RT_FAIL_("realtime.%s = %s: %s", name, value, err);
		return -1;
	}
	return 0;
}

/* A config on a free loopback port, with pings off (tests that want them
 * turn them on) and anonymous clients allowed (no auth endpoint here); then
 * name/value pairs, NULL-terminated. */
static int fx_config(fx *f, va_list ap)
{
	const char *name;
	char listen[64];

	memset(f, 0, sizeof(*f));
	rt_config_defaults(&f->cfg);
	f->port = ws_free_port();
	if (f->port <= 0) {
		RT_FAIL_("no free port");
		return -1;
	}
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", f->port);
	if (cfg_set(&f->cfg, "listen", listen) != 0 || cfg_set(&f->cfg, "ping_interval", "0") != 0
			|| cfg_set(&f->cfg, "allow_anonymous", "1") != 0) {
		return -1;
	}
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		if (cfg_set(&f->cfg, name, value) != 0) {
			return -1;
		}
	}
	return 0;
}

static int fx_begin(fx *f, ...)
{
	char err[256] = "";
	va_list ap;
	int r;

	va_start(ap, f);
	r = fx_config(f, ap);
	va_end(ap);
	if (r != 0) {
		return -1;
	}
	r = rt_hub_start(&f->hub, &f->cfg, NULL, -1, f->share_port, err, sizeof(err));
	if (r != 0) {
		RT_FAIL_("rt_hub_start: %d %s", r, err);
		f->hub = NULL;
		return -1;
	}
	return 0;
}

/* Stops the hub with clients still connected, then closes them. */
static void fx_end(fx *f)
{
	if (f->hub != NULL) {
		int r = rt_hub_stop(f->hub);
		f->hub = NULL;
		if (r != 0) {
			RT_FAIL_("rt_hub_stop returned %d", r);
		}
	}
	ws_fdset_close_all(&f->clients);
}

/* Runs body against a started hub; the hub is stopped and the sockets
 * closed even when body fails. The arguments after name are settings. */
#define HUB_TEST(name, ...)                                                \
	static void body_##name(fx *f);                                        \
	RT_TEST(name)                                                          \
	{                                                                      \
		fx f;                                                              \
		if (fx_begin(&f, __VA_ARGS__) == 0) {                              \
			body_##name(&f);                                               \
			fx_end(&f);                                                    \
		}                                                                  \
	}                                                                      \
	static void body_##name(fx *f)

static int fx_track(fx *f, int fd)
{
	return ws_fdset_add(&f->clients, fd);
}

/* Closes one tracked client early. */
static void fx_close(fx *f, int fd)
{
	ws_fdset_close(&f->clients, fd);
}

/* ---- protocol helpers (void: they mark the test failed) ---- */

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

/* Receives a JSON object and checks its "type" (and "code" when given). */
static json_t *expect_json(int fd, const char *type, const char *code)
{
	char *got = ws_recv_text(fd, WS_TIMEOUT_MS);
	json_error_t jerr;
	json_t *j;
	const char *t, *c;

	if (got == NULL) {
		RT_FAIL_("no text frame, expected type %s", type);
		return NULL;
	}
	j = json_loads(got, 0, &jerr);
	if (j == NULL || !json_is_object(j)) {
		RT_FAIL_("not a JSON object: %s", got);
		json_decref(j);
		free(got);
		return NULL;
	}
	t = json_string_value(json_object_get(j, "type"));
	c = json_string_value(json_object_get(j, "code"));
	if (t == NULL || strcmp(t, type) != 0 || (code && (c == NULL || strcmp(c, code) != 0))) {
		RT_FAIL_("got %s, expected type %s%s%s", got, type, code ? " code " : "",
				code ? code : "");
		json_decref(j);
		free(got);
		return NULL;
	}
	free(got);
	return j;
}

static void expect_type(int fd, const char *type, const char *code)
{
	json_t *j = expect_json(fd, type, code);
	json_decref(j);
}

/* Opens a client and reads its "connected" message; id (if not NULL)
 * receives the connection id. Returns the fd or -1. */
static int open_client(fx *f, char *id, size_t idlen)
{
	int fd = fx_track(f, ws_open(f->port, f->cfg.path));
	json_t *j;
	const char *cid;

	if (fd < 0) {
		RT_FAIL_("cannot open a WebSocket on port %d", f->port);
		return -1;
	}
	j = expect_json(fd, "connected", NULL);
	if (j == NULL) {
		return -1;
	}
	cid = json_string_value(json_object_get(j, "connection_id"));
	if (cid == NULL || *cid == '\0') {
		RT_FAIL_("connected message without connection_id");
		json_decref(j);
		return -1;
	}
	if (id != NULL) {
		snprintf(id, idlen, "%s", cid);
	}
	json_decref(j);
	return fd;
}

static void subscribe(int fd, const char *channel)
{
	char msg[512], ack[512];

	snprintf(msg, sizeof(msg), "{\"action\":\"subscribe\",\"channel\":\"%s\"}", channel);
	snprintf(ack, sizeof(ack), "{\"type\":\"subscribed\",\"channel\":\"%s\"}", channel);
	RT_ASSERT_EQ_INT(ws_send_text(fd, msg), 0);
	expect_text(fd, ack);
}

static void post(fx *f, const rt_str *channels, uint32_t n, const char *event,
		const char *data, const char *exclude)
{
	rt_msg *msg = make_msg(RT_MSG_PUBLISH, channels, n, str(event), str(data), str(exclude));

	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(rt_hub_post(f->hub, msg), 0);
}

static void publish(fx *f, const char *channel, const char *data)
{
	rt_str ch = str(channel);
	post(f, &ch, 1, NULL, data, NULL);
}

static void expect_message(int fd, const char *channel, const char *data)
{
	char want[1024];

	snprintf(want, sizeof(want), "{\"type\":\"message\",\"channel\":\"%s\",\"data\":%s}",
			channel, data);
	expect_text(fd, want);
}

/* The next frame is a close with code; the client answers it, as a
 * browser does, and the server then ends the TCP connection. */
static void expect_close(int fd, int code)
{
	int got = ws_recv_close(fd, WS_TIMEOUT_MS);
	uint8_t reply[16];
	uint8_t payload[2] = {(uint8_t) (code >> 8), (uint8_t) code};
	size_t n;

	if (got != code) {
		RT_FAIL_("close code %d, expected %d", got, code);
		return;
	}
	/* The server may already be gone: errors do not matter here. */
	n = ws_build_frame(reply, sizeof(reply), 0x88, payload, 2, 1);
	(void) !send(fd, reply, n, MSG_NOSIGNAL);
	RT_ASSERT_EQ_INT(ws_wait_eof(fd, WS_TIMEOUT_MS), 0);
}

/* Same, but the client never answers: the server must end the connection
 * by itself (at once, or after its grace period). */
static void expect_close_noreply(int fd, int code)
{
	int got = ws_recv_close(fd, WS_TIMEOUT_MS);

	if (got != code) {
		RT_FAIL_("close code %d, expected %d", got, code);
		return;
	}
	RT_ASSERT_EQ_INT(ws_wait_eof(fd, WS_TIMEOUT_MS), 0);
}

static void stats(fx *f, rt_hub_stats *s)
{
	memset(s, 0, sizeof(*s));
	rt_hub_stats_get(f->hub, s);
}

/* Polls the connection count until it reaches want (it drops when the hub
 * thread has processed a disconnect, asynchronously to the test). */
static void wait_connections(fx *f, uint64_t want)
{
	int64_t deadline = ws_deadline(WS_TIMEOUT_MS);
	rt_hub_stats s;

	for (;;) {
		stats(f, &s);
		if (s.connections == want) {
			return;
		}
		if (ws_now_ms() > deadline) {
			RT_FAIL_("connections stayed at %llu, expected %llu",
					(unsigned long long) s.connections, (unsigned long long) want);
			return;
		}
		/* Not a synchronisation sleep: a bounded poll interval. */
		poll(NULL, 0, 2);
	}
}

/* ---- connecting ---- */

HUB_TEST(connected_message, NULL)
{
	char id1[64], id2[64], node[32];
	rt_hub_stats s;

	RT_ASSERT(open_client(f, id1, sizeof(id1)) >= 0);
	RT_ASSERT(open_client(f, id2, sizeof(id2)) >= 0);
	/* "<node>.<seq>": the node is this hub's, the ids differ. */
	stats(f, &s);
	snprintf(node, sizeof(node), "%u.", s.node_id);
	RT_ASSERT(strncmp(id1, node, strlen(node)) == 0);
	RT_ASSERT(strncmp(id2, node, strlen(node)) == 0);
	RT_ASSERT(strcmp(id1, id2) != 0);
	RT_ASSERT(s.node_id != 0);
	RT_ASSERT_EQ_INT(s.pid, getpid());
	RT_ASSERT_EQ_INT(s.connections, 2);
}

HUB_TEST(config_is_copied, NULL)
{
	const rt_config *c = rt_hub_config(f->hub);

	/* The hub keeps its own copy. */
	RT_ASSERT(c != &f->cfg);
	RT_ASSERT_EQ_INT(c->port, f->port);
	RT_ASSERT_EQ_STR(c->host, "127.0.0.1");
	memset(&f->cfg.path, 0, sizeof(f->cfg.path));
	RT_ASSERT_EQ_STR(rt_hub_config(f->hub)->path, "/ws");
	snprintf(f->cfg.path, sizeof(f->cfg.path), "/ws");
}

/* A client must wait for the 101 before it sends frames (RFC 6455 4.1):
 * bytes behind the request head in the same packet are refused. */
HUB_TEST(frame_before_101_refused, NULL)
{
	uint8_t frame[256];
	char head[2048];
	const char *sub = "{\"action\":\"subscribe\",\"channel\":\"early\"}";
	size_t n = ws_build_frame(frame, sizeof(frame), 0x81, sub, strlen(sub), 1);
	int fd = fx_track(f, ws_connect(f->port));

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_upgrade(fd, "/ws", NULL, frame, n), 0);
	RT_ASSERT(ws_read_head(fd, head, sizeof(head), ws_deadline(WS_TIMEOUT_MS)) > 0);
	RT_ASSERT_EQ_INT(ws_status(head), 400);
	RT_ASSERT_EQ_INT(ws_wait_eof(fd, WS_TIMEOUT_MS), 0);
}

/* Without an auth endpoint, a secret or allow_anonymous, nobody gets in. */
HUB_TEST(anonymous_refused_by_default, "allow_anonymous", "0", NULL)
{
	static const char req[] =
			"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n";
	char resp[4096];

	RT_ASSERT_EQ_INT(ws_http(f->port, req, sizeof(req) - 1, resp, sizeof(resp), WS_TIMEOUT_MS), 401);
}

/* ---- publishing ---- */

HUB_TEST(subscribe_and_publish, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	subscribe(fd, "news");
	publish(f, "news", "\"hello\"");
	expect_text(fd, "{\"type\":\"message\",\"channel\":\"news\",\"data\":\"hello\"}");
	/* Any JSON value goes through verbatim. */
	publish(f, "news", "{\"a\":[1,2,{\"b\":null}]}");
	expect_message(fd, "news", "{\"a\":[1,2,{\"b\":null}]}");
}

HUB_TEST(publish_with_event, NULL)
{
	int fd = open_client(f, NULL, 0);
	rt_str ch = str("news");

	RT_ASSERT(fd >= 0);
	subscribe(fd, "news");
	post(f, &ch, 1, "article.created", "{\"id\":7}", NULL);
	expect_text(fd, "{\"type\":\"message\",\"channel\":\"news\","
			"\"event\":\"article.created\",\"data\":{\"id\":7}}");
}

HUB_TEST(publish_to_several_channels, NULL)
{
	int fd = open_client(f, NULL, 0);
	rt_str chans[3] = {str("a"), str("nobody"), str("b")};

	RT_ASSERT(fd >= 0);
	subscribe(fd, "a");
	subscribe(fd, "b");
	post(f, chans, 3, NULL, "1", NULL);
	expect_message(fd, "a", "1");
	expect_message(fd, "b", "1");
}

HUB_TEST(two_clients_both_receive, NULL)
{
	int a = open_client(f, NULL, 0);
	int b = open_client(f, NULL, 0);
	int other = open_client(f, NULL, 0);

	RT_ASSERT(a >= 0 && b >= 0 && other >= 0);
	subscribe(a, "news");
	subscribe(b, "news");
	subscribe(other, "sport");
	publish(f, "news", "\"hello\"");
	expect_message(a, "news", "\"hello\"");
	expect_message(b, "news", "\"hello\"");
	/* other got nothing from news: its next frame is the sport message. */
	publish(f, "sport", "2");
	expect_message(other, "sport", "2");
}

HUB_TEST(exclude_by_connection_id, NULL)
{
	char id_a[64];
	int a = open_client(f, id_a, sizeof(id_a));
	int b = open_client(f, NULL, 0);
	rt_str ch = str("room");

	RT_ASSERT(a >= 0 && b >= 0);
	subscribe(a, "room");
	subscribe(b, "room");
	post(f, &ch, 1, NULL, "\"not for a\"", id_a);
	expect_message(b, "room", "\"not for a\"");
	/* Messages arrive in order, so a's next frame proves it was skipped. */
	publish(f, "room", "\"for all\"");
	expect_message(a, "room", "\"for all\"");
	expect_message(b, "room", "\"for all\"");
	/* An unknown id excludes nobody. */
	post(f, &ch, 1, NULL, "3", "0.0");
	expect_message(a, "room", "3");
	expect_message(b, "room", "3");
}

HUB_TEST(unsubscribe_stops_delivery, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	subscribe(fd, "a");
	subscribe(fd, "b");
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"unsubscribe\",\"channel\":\"a\",\"id\":5}"), 0);
	expect_text(fd, "{\"type\":\"unsubscribed\",\"id\":5,\"channel\":\"a\"}");
	publish(f, "a", "\"gone\"");
	publish(f, "b", "\"still\"");
	expect_message(fd, "b", "\"still\"");
	/* Unsubscribing from a channel one is not in is acknowledged too. */
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"unsubscribe\",\"channel\":\"zzz\"}"), 0);
	expect_text(fd, "{\"type\":\"unsubscribed\",\"channel\":\"zzz\"}");
}

HUB_TEST(duplicate_subscribe_delivers_once, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	subscribe(fd, "news");
	subscribe(fd, "news");
	publish(f, "news", "1");
	publish(f, "news", "2");
	expect_message(fd, "news", "1");
	expect_message(fd, "news", "2");
}

HUB_TEST(publish_to_empty_channel, NULL)
{
	int fd = open_client(f, NULL, 0);
	rt_hub_stats before, after;

	RT_ASSERT(fd >= 0);
	subscribe(fd, "x");
	stats(f, &before);
	publish(f, "nobody-here", "1");
	publish(f, "x", "2");
	expect_message(fd, "x", "2");
	stats(f, &after);
	RT_ASSERT_EQ_INT(after.messages_published - before.messages_published, 2);
	RT_ASSERT_EQ_INT(after.frames_delivered - before.frames_delivered, 1);
}

/* Many clients and messages: everyone gets everything, in order. */
HUB_TEST(fan_out_in_order, NULL)
{
	enum { CLIENTS = 20, MESSAGES = 50 };
	int fds[CLIENTS];
	char data[32];

	for (int i = 0; i < CLIENTS; i++) {
		fds[i] = open_client(f, NULL, 0);
		RT_ASSERT(fds[i] >= 0);
		subscribe(fds[i], "fan");
	}
	for (int m = 0; m < MESSAGES; m++) {
		snprintf(data, sizeof(data), "%d", m);
		publish(f, "fan", data);
	}
	for (int i = 0; i < CLIENTS; i++) {
		for (int m = 0; m < MESSAGES; m++) {
			snprintf(data, sizeof(data), "%d", m);
			expect_message(fds[i], "fan", data);
			if (rt_test_cur_failed_) {
				printf("#     (client %d, message %d)\n", i, m);
				return;
			}
		}
	}
}

/* Larger than the socket buffers: written in pieces, arrives whole. */
HUB_TEST(large_message, NULL)
{
	size_t n = 600 * 1024;
	char *data = malloc(n + 3);
	char *got;
	int fd = open_client(f, NULL, 0);
	size_t prefix = strlen("{\"type\":\"message\",\"channel\":\"big\",\"data\":");

	RT_ASSERT(data != NULL);
	data[0] = '"';
	memset(data + 1, 'x', n);
	data[n + 1] = '"';
	data[n + 2] = '\0';
	if (fd < 0) {
		free(data);
		RT_FAIL_("no client");
		return;
	}
	subscribe(fd, "big");
	publish(f, "big", data);
	free(data);
	got = ws_recv_text(fd, WS_TIMEOUT_MS);
	RT_ASSERT(got != NULL);
	if (strlen(got) != prefix + n + 3 || got[prefix + 1] != 'x' || got[prefix + n] != 'x'
			|| strcmp(got + prefix + n + 1, "\"}") != 0) {
		RT_FAIL_("large message damaged (%zu bytes)", strlen(got));
	}
	free(got);
}

/* ---- native protocol errors ---- */

HUB_TEST(invalid_json, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{not json"), 0);
	expect_type(fd, "error", "invalid_json");
	/* The connection stays usable. */
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\",\"id\":7}"), 0);
	expect_text(fd, "{\"type\":\"pong\",\"id\":7}");
}

HUB_TEST(protocol_errors, NULL)
{
	static const char *const cases[][2] = {
		{"[1,2]", "invalid_message"},
		{"\"text\"", "invalid_message"},       /* JSON, but not an object */
		{"42", "invalid_message"},
		{"null", "invalid_message"},
		{"{}", "invalid_message"},
		{"{\"action\":1}", "invalid_message"},
		{"{\"action\":\"dance\"}", "unknown_action"},
		{"{\"action\":\"subscribe\"}", "invalid_message"},
		{"{\"action\":\"subscribe\",\"channel\":7}", "invalid_message"},
		{"{\"action\":\"subscribe\",\"channel\":\"\"}", "invalid_channel"},
		{"{\"action\":\"subscribe\",\"channel\":\"has space\"}", "invalid_channel"},
		{"{\"action\":\"subscribe\",\"channel\":\"nul\\u0000\"}", "invalid_channel"},
		{"{\"action\":\"ping\",\"action\":\"ping\"}", "invalid_json"}, /* duplicate keys */
	};
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		RT_ASSERT_EQ_INT(ws_send_text(fd, cases[i][0]), 0);
		expect_type(fd, "error", cases[i][1]);
		if (rt_test_cur_failed_) {
			printf("#     (sending %s)\n", cases[i][0]);
			return;
		}
	}
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\"}"), 0);
	expect_text(fd, "{\"type\":\"pong\"}");
}

HUB_TEST(request_ids_echoed, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\",\"id\":\"abc\"}"), 0);
	expect_text(fd, "{\"type\":\"pong\",\"id\":\"abc\"}");
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"subscribe\",\"channel\":\"c\",\"id\":42}"), 0);
	expect_text(fd, "{\"type\":\"subscribed\",\"id\":42,\"channel\":\"c\"}");
	/* Only strings and integers are echoed. */
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\",\"id\":{\"x\":1}}"), 0);
	expect_text(fd, "{\"type\":\"pong\"}");
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"nope\",\"id\":9}"), 0);
	expect_type(fd, "error", "unknown_action");
}

HUB_TEST(too_many_subscriptions, "max_subscriptions", "2", NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	subscribe(fd, "one");
	subscribe(fd, "two");
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"subscribe\",\"channel\":\"three\"}"), 0);
	expect_type(fd, "error", "too_many_subscriptions");
	/* Re-subscribing to a channel one already has is not a new one. */
	subscribe(fd, "two");
	/* Room again after an unsubscribe. */
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"unsubscribe\",\"channel\":\"one\"}"), 0);
	expect_type(fd, "unsubscribed", NULL);
	subscribe(fd, "three");
}

/* ---- WebSocket protocol violations ---- */

HUB_TEST(unmasked_frame_closes_1002, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x81, "{}", 2, 0), 0);
	expect_close(fd, 1002);
}

HUB_TEST(reserved_bits_close_1002, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0xc1, "{}", 2, 1), 0); /* RSV1 without an extension */
	expect_close(fd, 1002);
}

/* Control frames may not exceed 125 bytes or be fragmented (RFC 6455
 * 5.5); wslay refuses them, the hub answers 1002 itself. */
HUB_TEST(oversized_ping_closes_1002, NULL)
{
	int fd = open_client(f, NULL, 0);
	char payload[126];

	RT_ASSERT(fd >= 0);
	memset(payload, 'p', sizeof(payload));
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x89, payload, sizeof(payload), 1), 0);
	expect_close_noreply(fd, 1002);
	wait_connections(f, 0);
}

HUB_TEST(fragmented_ping_closes_1002, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x09, "ab", 2, 1), 0); /* FIN clear */
	expect_close_noreply(fd, 1002);
}

/* The largest control frame allowed is answered normally. */
HUB_TEST(ping_125_bytes_ponged, NULL)
{
	int fd = open_client(f, NULL, 0);
	char payload[125];
	ws_frame fr;

	RT_ASSERT(fd >= 0);
	memset(payload, 'q', sizeof(payload));
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x89, payload, sizeof(payload), 1), 0);
	RT_ASSERT_EQ_INT(ws_recv_frame(fd, &fr, WS_TIMEOUT_MS), 0);
	RT_ASSERT_EQ_INT(fr.b0, 0x8a);
	RT_ASSERT_EQ_INT(fr.len, 125);
	RT_ASSERT_MEM(fr.payload, payload, 125);
	ws_frame_free(&fr);
}

HUB_TEST(binary_frame_closes_1003, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x82, "\x01\x02\x03", 3, 1), 0);
	expect_close(fd, 1003);
}

HUB_TEST(oversized_message_closes_1009, "max_message_size", "16", NULL)
{
	int fd = open_client(f, NULL, 0);
	char big[64];

	RT_ASSERT(fd >= 0);
	/* 16 bytes are fine... */
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"no\"}"), 0);
	expect_type(fd, "error", "unknown_action");
	/* ...17 are not. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"action\":\"ping\"}", 17);
	big[17] = '\0';
	RT_ASSERT_EQ_INT(ws_send_text(fd, big), 0);
	expect_close(fd, 1009);
}

/* The limit applies to a message, not a frame: fragments add up. */
HUB_TEST(oversized_fragmented_message_closes_1009, "max_message_size", "16", NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x01, "{\"action\":", 10, 1), 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x80, "\"ping\"}", 7, 1), 0);
	expect_close(fd, 1009);
}

HUB_TEST(fragmented_message_reassembled, NULL)
{
	int fd = open_client(f, NULL, 0);
	int pongs = 0, texts = 0;

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x01, "{\"action\":", 10, 1), 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x89, "hi", 2, 1), 0); /* a ping in between */
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x80, "\"ping\"}", 7, 1), 0);
	/* The pong and the reply may come in either order. */
	for (int i = 0; i < 2; i++) {
		ws_frame fr;
		RT_ASSERT_EQ_INT(ws_recv_frame(fd, &fr, WS_TIMEOUT_MS), 0);
		if (fr.b0 == 0x8a && fr.len == 2 && memcmp(fr.payload, "hi", 2) == 0) {
			pongs++;
		} else if (fr.b0 == 0x81 && strcmp(fr.payload, "{\"type\":\"pong\"}") == 0) {
			texts++;
		} else {
			RT_FAIL_("unexpected frame 0x%02x: %s", fr.b0, fr.payload);
		}
		ws_frame_free(&fr);
	}
	RT_ASSERT_EQ_INT(pongs, 1);
	RT_ASSERT_EQ_INT(texts, 1);
}

/* A client that ignores the server's close is dropped after the grace
 * period (2 seconds). */
HUB_TEST(unanswered_close_is_dropped, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x82, "x", 1, 1), 0);
	expect_close_noreply(fd, 1003);
	wait_connections(f, 0);
}

HUB_TEST(invalid_utf8_closes_1007, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\",\"id\":\"\xed\xa0\x80\"}"), 0);
	expect_close(fd, 1007);
}

HUB_TEST(client_close_is_answered, NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	subscribe(fd, "news");
	RT_ASSERT_EQ_INT(ws_send_close(fd, 1000), 0);
	expect_close_noreply(fd, 1000);
	wait_connections(f, 0);
	{
		rt_hub_stats s;
		stats(f, &s);
		RT_ASSERT_EQ_INT(s.channels, 0);
	}
}

/* A client that just goes away is cleaned up: count, channels. */
HUB_TEST(abrupt_disconnect_cleans_up, NULL)
{
	int a = open_client(f, NULL, 0);
	int b = open_client(f, NULL, 0);
	rt_hub_stats s;

	RT_ASSERT(a >= 0 && b >= 0);
	subscribe(a, "only-a");
	subscribe(a, "shared");
	subscribe(b, "shared");
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.channels, 2);
	fx_close(f, a);
	wait_connections(f, 1);
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.channels, 1);
	publish(f, "shared", "1");
	expect_message(b, "shared", "1");
}

/* ---- HTTP ---- */

/* ---- stopping ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A client that never reads, with the kernel's buffers full and a frame
 * half written, cannot hold a stop: at realtime.shutdown_timeout the hub
 * closes it, and rt_hub_stop returns 0 (joined, freed) soon after. */
HUB_TEST(stop_bounded_by_shutdown_timeout, "shutdown_timeout", "300", "ping_interval", "0",
		"max_outbound", "268435456", "pool_memory", "67108864", NULL)
{
	static char data[32 * 1024 + 3];
	int fd = open_client(f, NULL, 0);
	int pending = -1, flat = 0, r;
	int64_t deadline, t0, ms;

	RT_ASSERT(fd >= 0);
	subscribe(fd, "stuck");
	memset(data, 'x', sizeof(data) - 1);
	data[0] = '"';
	data[sizeof(data) - 2] = '"';
	/* 32 MB: more than loopback's buffers hold, so the hub keeps the rest
	 * (its queue may hold realtime.pool_memory bytes). */
	for (int i = 0; i < 1024; i++) {
		publish(f, "stuck", data);
	}
	/* The client's receive queue stops growing once the window is shut. */
	deadline = now_ms() + 10000;
	while (flat < 5 && now_ms() < deadline) {
		int n = 0;
		struct timespec pause = {0, 20 * 1000000L};
		RT_ASSERT_EQ_INT(ioctl(fd, FIONREAD, &n), 0);
		flat = n > 0 && n == pending ? flat + 1 : 0;
		pending = n;
		nanosleep(&pause, NULL);
	}
	RT_ASSERT(flat >= 5);
	t0 = now_ms();
	r = rt_hub_stop(f->hub);
	ms = now_ms() - t0;
	f->hub = NULL;
	RT_ASSERT_EQ_INT(r, 0);
	/* It waited for the deadline (the client had its grace), then cut. */
	if (ms < 250 || ms > 300 + 1000) {
		RT_FAIL_("rt_hub_stop took %lld ms with shutdown_timeout 300", (long long) ms);
	}
}

#define HEALTH_KEY "unit-metrics-key-0123"

/* Without realtime.metrics_key: the status and nothing else. */
HUB_TEST(health_without_key, "metrics_key", HEALTH_KEY, NULL)
{
	static const char *const reqs[] = {
		"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " HEALTH_KEY "x\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer unit-metrics-key-012\r\n\r\n",
		"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: " HEALTH_KEY "\r\n\r\n",
	};
	char resp[4096];

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		RT_ASSERT_EQ_INT(ws_http(f->port, reqs[i], strlen(reqs[i]), resp, sizeof(resp), WS_TIMEOUT_MS), 200);
		RT_ASSERT(ws_body(resp) != NULL);
		RT_ASSERT_EQ_STR(ws_body(resp), "{\"status\":\"ok\"}\n");
	}
}

HUB_TEST(health, "metrics_key", HEALTH_KEY, NULL)
{
	static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " HEALTH_KEY "\r\n\r\n";
	char resp[4096], ct[64];
	json_error_t jerr;
	json_t *j;
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	subscribe(fd, "c1");
	RT_ASSERT_EQ_INT(ws_http(f->port, req, sizeof(req) - 1, resp, sizeof(resp), WS_TIMEOUT_MS), 200);
	RT_ASSERT(ws_header(resp, "Content-Type", ct, sizeof(ct)) != NULL);
	RT_ASSERT_EQ_STR(ct, "application/json");
	RT_ASSERT(ws_body(resp) != NULL);
	j = json_loads(ws_body(resp), 0, &jerr);
	if (j == NULL) {
		RT_FAIL_("health body is not JSON: %s", ws_body(resp));
		return;
	}
	RT_ASSERT_EQ_STR(json_string_value(json_object_get(j, "status")), "ok");
	RT_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "connections")), 1);
	RT_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "channels")), 1);
	RT_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "pid")), getpid());
	json_decref(j);
}

/* Sends req on fd and reads its answer into resp; returns its status. */
static int ask(int fd, const char *req, char *resp, size_t cap)
{
	if (ws_send_all(fd, req, strlen(req)) != 0) {
		return WS_ERR;
	}
	return ws_http_read(fd, resp, cap, ws_deadline(WS_TIMEOUT_MS));
}

/* Whether the server has closed fd (nothing more comes). */
static int closed_by_server(int fd)
{
	char more[64];

	return ws_recv_some(fd, more, sizeof(more), ws_deadline(WS_TIMEOUT_MS)) == WS_EOF;
}

/* An HTTP/1.1 client keeps its connection for the next request; one that
 * pipelines, asks to close, or speaks HTTP/1.0 gets its answer and a close,
 * and so does a kept connection whose next request is an error. */
HUB_TEST(http_keep_alive, NULL)
{
	static const char health[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char last[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static const char old[] = "GET /health HTTP/1.0\r\n\r\n";
	static const char two[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char nowhere[] = "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char *const closing[][2] = {{old, NULL}, {two, NULL}, {health, nowhere}};
	char resp[4096];
	int fd = ws_connect(f->port);

	RT_ASSERT(fd >= 0);
	for (int i = 0; i < 3; i++) {
		RT_ASSERT_EQ_INT(ask(fd, health, resp, sizeof(resp)), 200);
		RT_ASSERT(strstr(resp, "\r\nConnection: keep-alive\r\n") != NULL);
	}
	RT_ASSERT_EQ_INT(ask(fd, last, resp, sizeof(resp)), 200);
	RT_ASSERT(strstr(resp, "\r\nConnection: close\r\n") != NULL);
	RT_ASSERT(closed_by_server(fd));
	close(fd);

	for (size_t c = 0; c < sizeof(closing) / sizeof(closing[0]); c++) {
		const char *first = closing[c][0], *then = closing[c][1];
		fd = ws_connect(f->port);
		RT_ASSERT(fd >= 0);
		RT_ASSERT_EQ_INT(ask(fd, first, resp, sizeof(resp)), 200);
		if (then != NULL) {
			RT_ASSERT(ask(fd, then, resp, sizeof(resp)) >= 400);
		}
		RT_ASSERT(strstr(resp, "\r\nConnection: close\r\n") != NULL);
		RT_ASSERT(closed_by_server(fd));
		close(fd);
	}
}

static void expect_http(fx *f, const char *req, int status, const char *header)
{
	char resp[4096], v[128];
	int got = ws_http(f->port, req, strlen(req), resp, sizeof(resp), WS_TIMEOUT_MS);

	if (got != status) {
		RT_FAIL_("%.40s...: status %d, expected %d", req, got, status);
		return;
	}
	if (header != NULL && ws_header(resp, header, v, sizeof(v)) == NULL) {
		RT_FAIL_("%d answer without %s: %s", status, header, resp);
		return;
	}
	if (ws_header(resp, "Connection", v, sizeof(v)) == NULL || strcasecmp(v, "close") != 0) {
		RT_FAIL_("%d answer without Connection: close", status);
	}
}

HUB_TEST(http_errors, NULL)
{
	expect_http(f, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, NULL);
	expect_http(f, "POST /ws HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405, NULL);
	expect_http(f, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 426, "Sec-WebSocket-Version");
	expect_http(f, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 12\r\n\r\n", 426,
			"Sec-WebSocket-Version");
	expect_http(f, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, NULL);
	expect_http(f, "GET /ws HTTP/1.1\r\nHost: x:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n"
			"Origin: http://evil.example\r\n\r\n", 403, NULL);
	expect_http(f, "\x16\x03\x01\x00\x05hello\r\n\r\n", 400, NULL);
	/* None of these counted as a connection. */
	{
		rt_hub_stats s;
		stats(f, &s);
		RT_ASSERT_EQ_INT(s.connections, 0);
	}
}

HUB_TEST(custom_path, "path", "/realtime", NULL)
{
	int fd = fx_track(f, ws_open(f->port, "/realtime"));

	RT_ASSERT(fd >= 0);
	expect_type(fd, "connected", NULL);
	expect_http(f, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n", 404, NULL);
}

HUB_TEST(max_connections, "max_connections", "1", NULL)
{
	static const char req[] =
			"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Key: " WS_KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n";
	int fd = open_client(f, NULL, 0);
	rt_hub_stats st;

	RT_ASSERT(fd >= 0);
	expect_http(f, req, 503, "Retry-After");
	rt_hub_stats_get(f->hub, &st);
	RT_ASSERT_EQ_INT(st.refused[RT_REFUSE_CONNECTIONS], 1);
	/* A slot frees up when the client leaves. */
	fx_close(f, fd);
	wait_connections(f, 0);
	RT_ASSERT(open_client(f, NULL, 0) >= 0);
}

HUB_TEST(handshake_timeout, "handshake_timeout", "1", NULL)
{
	int fd = fx_track(f, ws_connect(f->port));

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_send_all(fd, "GET /ws HTTP/1.1\r\n", 18), 0);
	/* Closed, without an answer, by the once-a-second sweep. */
	RT_ASSERT_EQ_INT(ws_wait_eof(fd, WS_TIMEOUT_MS), 0);
}

/* ---- liveness ---- */

static void ping_pong_twice(int fd)
{
	ws_frame fr;

	for (int i = 0; i < 2; i++) {
		RT_ASSERT_EQ_INT(ws_recv_frame(fd, &fr, WS_TIMEOUT_MS), 0);
		if (fr.b0 != 0x89) {
			RT_FAIL_("expected ping %d, got 0x%02x (%zu bytes: code %d, %.*s)", i + 1, fr.b0,
					fr.len, fr.len >= 2 ? ((uint8_t) fr.payload[0] << 8 | (uint8_t) fr.payload[1]) : -1,
					fr.len >= 2 ? (int) fr.len - 2 : 0, fr.len >= 2 ? fr.payload + 2 : "");
			ws_frame_free(&fr);
			return;
		}
		ws_frame_free(&fr);
		/* Answered at once: the next frame is another ping, not a close. */
		RT_ASSERT_EQ_INT(ws_send_frame(fd, 0x8a, NULL, 0, 1), 0);
	}
}

HUB_TEST(ping_and_pong, "ping_interval", "2", NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	ping_pong_twice(fd);
}

/* Frames queued by the once-a-second sweep go out at once: libuv runs
 * timers before it polls, so without a flush in the tick a ping would wait
 * for the next tick, the very one that checks for its pong. */
HUB_TEST(ping_interval_1_answered, "ping_interval", "1", NULL)
{
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	ping_pong_twice(fd);
}

HUB_TEST(ping_timeout_closes_4000, "ping_interval", "1", NULL)
{
	int fd = open_client(f, NULL, 0);
	ws_frame fr;

	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(ws_recv_frame(fd, &fr, WS_TIMEOUT_MS), 0);
	RT_ASSERT_EQ_INT(fr.b0, 0x89);
	ws_frame_free(&fr);
	/* No pong, no other traffic. */
	expect_close_noreply(fd, 4000);
}

HUB_TEST(slow_consumer_closes_4008, "max_outbound", "1024", NULL)
{
	int fd = open_client(f, NULL, 0);
	char data[2100];
	rt_hub_stats s;

	RT_ASSERT(fd >= 0);
	subscribe(fd, "firehose");
	memset(data, 'x', sizeof(data));
	data[0] = '"';
	data[sizeof(data) - 2] = '"';
	data[sizeof(data) - 1] = '\0';
	/* One frame larger than the whole allowance. */
	publish(f, "firehose", data);
	expect_close(fd, 4008);
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.slow_consumers, 1);
	wait_connections(f, 0);
}

/* A client that pings without end and never reads: the hub answers the
 * most recent PING (RFC 6455 5.5.3) instead of queueing a PONG per PING,
 * so what it holds for the client stays bounded. */
HUB_TEST(ping_flood_pongs_coalesced, NULL)
{
	enum { PINGS = 100000 };
	int fd = open_client(f, NULL, 0);
	uint8_t *all;
	size_t n = 0;
	uint32_t pongs = 0, last = 0;
	int seen_text = 0;
	rt_hub_stats s;

	RT_ASSERT(fd >= 0);
	all = malloc((size_t) PINGS * 10 + 14);
	RT_ASSERT(all != NULL);
	for (uint32_t i = 1; i <= PINGS; i++) {
		n += ws_build_frame(all + n, (size_t) PINGS * 10 + 14 - n, 0x89, &i, sizeof(i), 1);
	}
	RT_ASSERT_EQ_INT(n, (size_t) PINGS * 10);
	RT_ASSERT_EQ_INT(ws_send_all(fd, all, n), 0);
	free(all);
	/* Answered once the hub has read every PING before it; the PONG of the
	 * last PING may come just after. */
	RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\"}"), 0);
	while (!seen_text || last != PINGS) {
		ws_frame fr;
		RT_ASSERT_EQ_INT(ws_recv_frame(fd, &fr, WS_TIMEOUT_MS), 0);
		if (fr.b0 == 0x8a) {
			pongs++;
			if (fr.len == 4) {
				memcpy(&last, fr.payload, 4);
			}
		} else if (fr.b0 == 0x81 && strstr(fr.payload, "\"pong\"") != NULL) {
			seen_text = 1;
		} else {
			RT_FAIL_("unexpected frame 0x%02x", fr.b0);
			ws_frame_free(&fr);
			return;
		}
		ws_frame_free(&fr);
	}
	if (pongs == 0 || pongs > 1000) {
		RT_FAIL_("%u PONGs for %u PINGs: expected them coalesced", pongs, (unsigned) PINGS);
	}
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.slow_consumers, 0);
	RT_ASSERT_EQ_INT(s.connections, 1);
}

/* A few PINGs at once (as Autobahn's case 2.10 sends them) each get their
 * PONG, in order: coalescing starts only past a burst. */
HUB_TEST(ping_burst_each_ponged, NULL)
{
	uint8_t all[10 * 18];
	size_t n = 0;
	int fd = open_client(f, NULL, 0);

	RT_ASSERT(fd >= 0);
	for (uint32_t i = 1; i <= 10; i++) {
		n += ws_build_frame(all + n, sizeof(all) - n, 0x89, &i, sizeof(i), 1);
	}
	RT_ASSERT_EQ_INT(ws_send_all(fd, all, n), 0);
	for (uint32_t i = 1; i <= 10; i++) {
		ws_frame fr;
		uint32_t got = 0;
		RT_ASSERT_EQ_INT(ws_recv_frame(fd, &fr, WS_TIMEOUT_MS), 0);
		if (fr.b0 == 0x8a && fr.len == 4) {
			memcpy(&got, fr.payload, 4);
		}
		ws_frame_free(&fr);
		RT_ASSERT_EQ_INT(got, i);
	}
}

/* ---- stats ---- */

HUB_TEST(stats_counters, NULL)
{
	rt_hub_stats s0, s;
	int a, b;

	stats(f, &s0);
	RT_ASSERT_EQ_INT(s0.connections, 0);
	RT_ASSERT_EQ_INT(s0.channels, 0);
	RT_ASSERT_EQ_INT(s0.messages_published, 0);
	RT_ASSERT_EQ_INT(s0.frames_delivered, 0);
	RT_ASSERT_EQ_INT(s0.slow_consumers, 0);

	a = open_client(f, NULL, 0);
	b = open_client(f, NULL, 0);
	RT_ASSERT(a >= 0 && b >= 0);
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.connections, 2);
	subscribe(a, "x");
	subscribe(a, "y");
	subscribe(b, "y");
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.channels, 2);

	stats(f, &s0);
	publish(f, "y", "1");
	expect_message(a, "y", "1");
	expect_message(b, "y", "1");
	publish(f, "x", "2");
	expect_message(a, "x", "2");
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.messages_published - s0.messages_published, 2);
	RT_ASSERT_EQ_INT(s.frames_delivered - s0.frames_delivered, 3);

	RT_ASSERT_EQ_INT(ws_send_text(b, "{\"action\":\"unsubscribe\",\"channel\":\"y\"}"), 0);
	expect_type(b, "unsubscribed", NULL);
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.channels, 2);
	RT_ASSERT_EQ_INT(ws_send_text(a, "{\"action\":\"unsubscribe\",\"channel\":\"y\"}"), 0);
	expect_type(a, "unsubscribed", NULL);
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.channels, 1);
	fx_close(f, a);
	wait_connections(f, 1);
	stats(f, &s);
	RT_ASSERT_EQ_INT(s.channels, 0);
}

/* ---- stopping and binding ---- */

RT_TEST(stop_closes_clients_1001)
{
	fx f;
	int a, b;

	if (fx_begin(&f, NULL) != 0) {
		return;
	}
	a = open_client(&f, NULL, 0);
	b = open_client(&f, NULL, 0);
	if (a >= 0 && b >= 0) {
		subscribe(a, "news");
	}
	{
		int r = rt_hub_stop(f.hub);
		f.hub = NULL;
		if (r != 0) {
			RT_FAIL_("rt_hub_stop returned %d", r);
		}
	}
	if (a >= 0 && b >= 0 && !rt_test_cur_failed_) {
		expect_close_noreply(a, 1001);
		expect_close_noreply(b, 1001);
		/* Nobody listens any more. */
		{
			int fd = socket(AF_INET, SOCK_STREAM, 0);
			struct sockaddr_in sa;
			memset(&sa, 0, sizeof(sa));
			sa.sin_family = AF_INET;
			sa.sin_port = htons((uint16_t) f.port);
			sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
				RT_FAIL_("port %d still accepts connections after stop", f.port);
			}
			close(fd);
		}
	}
	fx_end(&f);
}

RT_TEST(stop_with_half_open_handshake)
{
	fx f;
	int fd;

	if (fx_begin(&f, NULL) != 0) {
		return;
	}
	fd = fx_track(&f, ws_connect(f.port));
	if (fd >= 0) {
		/* Make sure the hub has accepted it: a health check goes after it. */
		char resp[1024];
		ws_send_all(fd, "GET /ws HT", 10);
		ws_http(f.port, "GET /health HTTP/1.1\r\n\r\n", 24, resp, sizeof(resp), WS_TIMEOUT_MS);
	}
	fx_end(&f);
	RT_ASSERT(fd >= 0);
}

/* Workers of one pool share the port (SO_REUSEPORT)... */
RT_TEST(pool_workers_share_the_port)
{
	fx f;
	rt_hub *second = NULL;
	char err[256] = "";
	int r, fd;

	if (fx_begin(&f, NULL) != 0) {
		return;
	}
	/* fx_begin started a lone server; restart it as a pool worker. */
	RT_ASSERT_EQ_INT(rt_hub_stop(f.hub), 0);
	f.hub = NULL;
	f.share_port = 1;
	r = rt_hub_start(&f.hub, &f.cfg, NULL, -1, 1, err, sizeof(err));
	if (r != 0) {
		f.hub = NULL;
		RT_FAIL_("first worker: %d %s", r, err);
		return;
	}
	r = rt_hub_start(&second, &f.cfg, NULL, -1, 1, err, sizeof(err));
	if (r != 0) {
		RT_FAIL_("second worker: %d %s", r, err);
	} else {
		fd = open_client(&f, NULL, 0);
		if (fd < 0) {
			RT_FAIL_("no connection with two hubs on the port");
		}
		RT_ASSERT_EQ_INT(rt_hub_stop(second), 0);
	}
	fx_end(&f);
}

/* ...but a lone server does not share, either way round. */
static void expect_port_refused(const rt_config *cfg, int share)
{
	rt_hub *hub = (rt_hub *) 1;
	char err[256] = "", want[96];
	int r = rt_hub_start(&hub, cfg, NULL, -1, share, err, sizeof(err));

	if (r == 0) {
		rt_hub_stop(hub);
		RT_FAIL_("a hub (share_port=%d) started on a port already served", share);
		return;
	}
	RT_ASSERT_EQ_INT(r, -EADDRINUSE);
	RT_ASSERT(hub == NULL);
	snprintf(want, sizeof(want), "%s:%d", cfg->host, cfg->port);
	RT_ASSERT(strstr(err, "realtime.listen") != NULL);
	RT_ASSERT(strstr(err, want) != NULL);
}

RT_TEST(lone_server_port_not_shared)
{
	fx f;

	if (fx_begin(&f, NULL) != 0) {
		return;
	}
	expect_port_refused(&f.cfg, 0);
	expect_port_refused(&f.cfg, 1);
	RT_ASSERT(open_client(&f, NULL, 0) >= 0); /* the first one is unharmed */
	fx_end(&f);
}

RT_TEST(pool_port_not_taken_by_lone_server)
{
	fx f;
	rt_hub *worker = NULL;
	char err[256] = "";

	if (fx_begin(&f, NULL) != 0) {
		return;
	}
	RT_ASSERT_EQ_INT(rt_hub_stop(f.hub), 0);
	f.hub = NULL;
	if (rt_hub_start(&worker, &f.cfg, NULL, -1, 1, err, sizeof(err)) != 0) {
		RT_FAIL_("worker: %s", err);
		return;
	}
	expect_port_refused(&f.cfg, 0);
	RT_ASSERT_EQ_INT(rt_hub_stop(worker), 0);
}

RT_TEST(port_held_by_plain_socket)
{
	rt_config cfg;
	rt_hub *hub = (rt_hub *) 1;
	char err[256] = "", listen[64];
	int port, held = ws_listen_plain(&port);
	int r;

	RT_ASSERT(held >= 0);
	rt_config_defaults(&cfg);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (cfg_set(&cfg, "listen", listen) != 0) {
		close(held);
		return;
	}
	r = rt_hub_start(&hub, &cfg, NULL, -1, 1, err, sizeof(err));
	close(held);
	if (r == 0) {
		rt_hub_stop(hub);
		RT_FAIL_("rt_hub_start succeeded on a port held without SO_REUSEPORT");
		return;
	}
	RT_ASSERT_EQ_INT(r, -EADDRINUSE);
	RT_ASSERT(hub == NULL);
	RT_ASSERT(strstr(err, "realtime.listen") != NULL);
	RT_ASSERT(strstr(err, listen) != NULL);
}

/* The server's first process binds the port before forking (clients that
 * come early wait in its backlog); each worker's hub serves that socket
 * besides its own, and owns it from then on. */
RT_TEST(prebound_socket_is_served)
{
	fx f;
	rt_config cfg;
	char err[256] = "", listen[64];
	int port = ws_free_port(), fd, r;

	RT_ASSERT(port > 0);
	rt_config_defaults(&cfg);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (cfg_set(&cfg, "listen", listen) != 0 || cfg_set(&cfg, "allow_anonymous", "1") != 0
			|| cfg_set(&cfg, "ping_interval", "0") != 0) {
		return;
	}
	fd = rt_hub_prebind(&cfg, err, sizeof(err));
	if (fd < 0) {
		RT_FAIL_("rt_hub_prebind: %d %s", fd, err);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.port = port;
	f.share_port = 1;
	r = rt_hub_start(&f.hub, &f.cfg, NULL, fd, 1, err, sizeof(err));
	if (r != 0) {
		close(fd);
		RT_FAIL_("rt_hub_start with a prebound socket: %d %s", r, err);
		return;
	}
	/* Whichever socket the kernel picks, the hub answers. */
	for (int i = 0; i < 8 && !rt_test_cur_failed_; i++) {
		int c = open_client(&f, NULL, 0);
		if (c >= 0) {
			subscribe(c, "pre");
		}
	}
	fx_end(&f);
	/* The hub closed the prebound socket when it stopped. */
	errno = 0;
	RT_ASSERT(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
}

RT_TEST(prebind_port_held_by_plain_socket)
{
	rt_config cfg;
	char err[256] = "", listen[64];
	int port, held = ws_listen_plain(&port), fd;

	RT_ASSERT(held >= 0);
	rt_config_defaults(&cfg);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (cfg_set(&cfg, "listen", listen) != 0) {
		close(held);
		return;
	}
	fd = rt_hub_prebind(&cfg, err, sizeof(err));
	close(held);
	if (fd >= 0) {
		close(fd);
		RT_FAIL_("rt_hub_prebind succeeded on a port held without SO_REUSEPORT");
		return;
	}
	RT_ASSERT_EQ_INT(fd, -EADDRINUSE);
	RT_ASSERT(strstr(err, "realtime.listen") != NULL);
	RT_ASSERT(strstr(err, listen) != NULL);
}

RT_TEST(start_and_stop_repeatedly)
{
	for (int i = 0; i < 5; i++) {
		fx f;
		if (fx_begin(&f, NULL) != 0) {
			return;
		}
		if (i % 2) {
			open_client(&f, NULL, 0);
		}
		fx_end(&f);
		if (rt_test_cur_failed_) {
			return;
		}
	}
}

/* ---- a broker whose history answers later (as redis does) ---- */

#define HOLD_EPOCH 0xe7ull
#define HOLD_TOP 5u

/* Answers every history read HOLD_DELAY_MS later with offsets since+1 up
 * to HOLD_TOP; publishes come straight back (rt_hub_deliver). */
#define HOLD_DELAY_MS 400
typedef struct slow_hist {
	rt_hub *hub;
	uv_timer_t timer;
	void (*done)(void *arg, const rt_hub_history *res);
	void *arg;
	uint64_t since;
	uint64_t top;              /* 0: HOLD_TOP */
	_Atomic int reads;
} slow_hist;

static rt_msg *positioned(const char *channel, uint64_t offset)
{
	rt_str ch = str(channel);
	char data[32];
	rt_pos pos = {offset, HOLD_EPOCH};
	rt_msg_fields fl = {0};

	snprintf(data, sizeof(data), "{\"n\":%llu}", (unsigned long long) offset);
	fl.channels = &ch;
	fl.channel_count = 1;
	fl.data = str(data);
	fl.positions = &pos;
	return rt_msg_new(RT_MSG_PUBLISH, &fl);
}

static void slow_answer(uv_timer_t *t)
{
	slow_hist *h = t->data;
	rt_hub_history res = {0};
	rt_msg *msgs[16];
	uint64_t top = h->top != 0 ? h->top : HOLD_TOP;

	res.status = 1;
	res.top.offset = top;
	res.top.epoch = HOLD_EPOCH;
	res.msgs = msgs;
	for (uint64_t o = h->since + 1; o <= top && res.count < 16; o++) {
		msgs[res.count++] = positioned("chat-1", o);
	}
	h->done(h->arg, &res);
	for (uint32_t i = 0; i < res.count; i++) {
		rt_msg_free(msgs[i]);
	}
}

static int slow_start(void *ctx, rt_hub *hub, uv_loop_t *loop)
{
	slow_hist *h = ctx;

	h->hub = hub;
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	return 0;
}

static int slow_publish(void *ctx, rt_msg *msg)
{
	rt_hub_deliver(((slow_hist *) ctx)->hub, msg);
	return 0;
}

static void slow_stop(void *ctx)
{
	uv_close((uv_handle_t *) &((slow_hist *) ctx)->timer, NULL);
}

static void slow_history(void *ctx, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*done)(void *arg, const rt_hub_history *res), void *arg)
{
	slow_hist *h = ctx;

	(void) channel;
	(void) len;
	(void) limit;
	h->done = done;
	h->arg = arg;
	h->since = since != NULL ? since->offset : HOLD_TOP;
	atomic_fetch_add(&h->reads, 1);
	uv_timer_start(&h->timer, slow_answer, HOLD_DELAY_MS, 0);
}

/* Offset of a native "message" frame, 0 for anything else. */
static uint64_t message_offset(int fd)
{
	char *got = ws_recv_text(fd, WS_TIMEOUT_MS);
	json_t *j = got != NULL ? json_loads(got, 0, NULL) : NULL;
	const char *type = j != NULL ? json_string_value(json_object_get(j, "type")) : NULL;
	uint64_t offset = type != NULL && strcmp(type, "message") == 0
			? (uint64_t) json_integer_value(json_object_get(j, "offset")) : 0;

	if (offset == 0) {
		RT_FAIL_("expected a message, got %s", got != NULL ? got : "(nothing)");
	}
	json_decref(j);
	free(got);
	return offset;
}

static int hold_config_v(fx *f, ...)
{
	va_list ap;
	int r;

	va_start(ap, f);
	r = fx_config(f, ap);
	va_end(ap);
	return r;
}

static int hold_config(fx *f, const char *hold)
{
	return hold_config_v(f, "history", "chat-*:100:300", "history_hold", hold, NULL);
}

/* A hub on a link whose history reads answer late (h), with
 * realtime.history_hold = hold, and a client of it: the client's fd, or -1
 * (f can be ended either way). */
static int slow_hub_client(fx *f, slow_hist *h, rt_hub_link *link, const char *hold)
{
	char err[256] = "";

	link->ctx = h;
	link->start = slow_start;
	link->publish = slow_publish;
	link->stop = slow_stop;
	link->history = slow_history;
	link->history_async = 1;
	if (hold_config(f, hold) != 0) {
		return -1;
	}
	if (rt_hub_start(&f->hub, &f->cfg, link, -1, 0, err, sizeof(err)) != 0) {
		RT_FAIL_("rt_hub_start: %s", err);
		return -1;
	}
	return open_client(f, NULL, 0);
}

/* Live messages that arrive while a subscribe's history read is out wait
 * for the replay, then go out without those it covered; past
 * realtime.history_hold the subscribe answers recovered:false. */
static void hold_run(const char *hold, int want_recovered)
{
	slow_hist h = {0};
	rt_hub_link link = {0};
	fx f;
	int fd;
	json_t *j;

	fd = slow_hub_client(&f, &h, &link, hold);
	if (fd >= 0) {
		int64_t deadline = ws_deadline(WS_TIMEOUT_MS);
		ws_send_text(fd, "{\"action\":\"subscribe\",\"channel\":\"chat-1\","
				"\"since\":{\"offset\":3,\"epoch\":\"00000000000000e7\"}}");
		while (atomic_load(&h.reads) == 0 && ws_now_ms() < deadline) {
			struct timespec ts = {0, 2000000};
			nanosleep(&ts, NULL);
		}
		RT_ASSERT_EQ_INT(atomic_load(&h.reads), 1);
		for (uint64_t o = HOLD_TOP; o <= HOLD_TOP + 2; o++) {
			RT_ASSERT_EQ_INT(rt_hub_post(f.hub, positioned("chat-1", o)), 0);
		}
		j = expect_json(fd, "subscribed", NULL);
		if (j != NULL) {
			RT_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "offset")), HOLD_TOP);
			RT_ASSERT(json_is_true(json_object_get(j, "recovered")) == want_recovered);
			json_decref(j);
		}
		if (want_recovered) {
			/* 4 and 5 from the history, then 6 and 7 held; 5 not twice. */
			for (uint64_t o = 4; o <= HOLD_TOP + 2; o++) {
				RT_ASSERT_EQ_INT(message_offset(fd), o);
			}
		}
		RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\"}"), 0);
		expect_type(fd, "pong", NULL);
	}
	fx_end(&f);
}

/* A live message that skips offsets (the broker lost some on the way to
 * this hub): the hub reads them from the history and sends them first. */
RT_TEST(history_gap_is_filled_before_live)
{
	slow_hist h = {0};
	rt_hub_link link = {0};
	fx f;
	int fd;

	fd = slow_hub_client(&f, &h, &link, "1000");
	if (fd >= 0) {
		json_t *j;
		RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"subscribe\",\"channel\":\"chat-1\"}"), 0);
		j = expect_json(fd, "subscribed", NULL);
		RT_ASSERT(j != NULL);
		RT_ASSERT_EQ_INT(json_integer_value(json_object_get(j, "offset")), HOLD_TOP);
		json_decref(j);
		RT_ASSERT_EQ_INT(rt_hub_post(f.hub, positioned("chat-1", HOLD_TOP + 1)), 0);
		RT_ASSERT_EQ_INT(message_offset(fd), HOLD_TOP + 1);
		/* 7 and 8 never reach this hub live. */
		h.top = HOLD_TOP + 4;
		RT_ASSERT_EQ_INT(rt_hub_post(f.hub, positioned("chat-1", HOLD_TOP + 4)), 0);
		for (uint64_t o = HOLD_TOP + 2; o <= HOLD_TOP + 4; o++) {
			RT_ASSERT_EQ_INT(message_offset(fd), o);
		}
		RT_ASSERT_EQ_INT(atomic_load(&h.reads), 2);
		RT_ASSERT_EQ_INT(ws_send_text(fd, "{\"action\":\"ping\"}"), 0);
		expect_type(fd, "pong", NULL);
	}
	fx_end(&f);
}

RT_TEST(history_hold_replays_then_live_once)
{
	hold_run("1000", 1);
}

RT_TEST(history_hold_overflow_is_not_recovered)
{
	hold_run("1", 0);
}

int main(void)
{
	RT_RUN(connected_message);
	RT_RUN(config_is_copied);
	RT_RUN(frame_before_101_refused);
	RT_RUN(anonymous_refused_by_default);
	RT_RUN(subscribe_and_publish);
	RT_RUN(publish_with_event);
	RT_RUN(publish_to_several_channels);
	RT_RUN(two_clients_both_receive);
	RT_RUN(exclude_by_connection_id);
	RT_RUN(unsubscribe_stops_delivery);
	RT_RUN(duplicate_subscribe_delivers_once);
	RT_RUN(publish_to_empty_channel);
	RT_RUN(fan_out_in_order);
	RT_RUN(large_message);
	RT_RUN(invalid_json);
	RT_RUN(protocol_errors);
	RT_RUN(request_ids_echoed);
	RT_RUN(too_many_subscriptions);
	RT_RUN(unmasked_frame_closes_1002);
	RT_RUN(reserved_bits_close_1002);
	RT_RUN(oversized_ping_closes_1002);
	RT_RUN(fragmented_ping_closes_1002);
	RT_RUN(ping_125_bytes_ponged);
	RT_RUN(binary_frame_closes_1003);
	RT_RUN(oversized_message_closes_1009);
	RT_RUN(oversized_fragmented_message_closes_1009);
	RT_RUN(fragmented_message_reassembled);
	RT_RUN(unanswered_close_is_dropped);
	RT_RUN(invalid_utf8_closes_1007);
	RT_RUN(client_close_is_answered);
	RT_RUN(abrupt_disconnect_cleans_up);
	RT_RUN(health);
	RT_RUN(stop_bounded_by_shutdown_timeout);
	RT_RUN(health_without_key);
	RT_RUN(http_keep_alive);
	RT_RUN(http_errors);
	RT_RUN(custom_path);
	RT_RUN(max_connections);
	RT_RUN(handshake_timeout);
	RT_RUN(ping_and_pong);
	RT_RUN(ping_interval_1_answered);
	RT_RUN(ping_timeout_closes_4000);
	RT_RUN(slow_consumer_closes_4008);
	RT_RUN(ping_flood_pongs_coalesced);
	RT_RUN(ping_burst_each_ponged);
	RT_RUN(stats_counters);
	RT_RUN(stop_closes_clients_1001);
	RT_RUN(stop_with_half_open_handshake);
	RT_RUN(pool_workers_share_the_port);
	RT_RUN(lone_server_port_not_shared);
	RT_RUN(pool_port_not_taken_by_lone_server);
	RT_RUN(port_held_by_plain_socket);
	RT_RUN(prebound_socket_is_served);
	RT_RUN(prebind_port_held_by_plain_socket);
	RT_RUN(start_and_stop_repeatedly);
	RT_RUN(history_hold_replays_then_live_once);
	RT_RUN(history_hold_overflow_is_not_recovered);
	RT_RUN(history_gap_is_filled_before_live);
	return rt_test_summary();
}
