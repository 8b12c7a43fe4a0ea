/* Handoff (hub/handoff.c): a hub that stops hands its open connections to
 * another hub of the app, and the clients notice nothing: no close frame,
 * the same connection id, every message once and in order, a half-sent
 * frame and a full outbound queue moved intact, no presence leave or join
 * seen by another member. Real hubs sharing a real ring in this process
 * (threads stand in for a pool's workers), real sockets. */
#include "rt_test.h"
#include "wsclient.h"
#include "segment_drop.h"

#include <jansson.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "hub/core/hub.h"
#include "hub/model/config.h"
#include "hub/model/msg.h"
#include "hub/model/token.h"
#include "hub/model/handoff_record.h"
#include "hub/net/fdpass.h"

#include <sys/stat.h>
#include <sys/wait.h>

#define SECRET "unit-test-secret"
#define APP_KEY "handoff-key"
#define HUBS 3
/* 16 KB messages for a client that reads nothing: 6 MB, more than the
 * kernel buffers of a loopback connection hold (tcp_wmem 4 MB at most). */
#define BULK 384

static int set(rt_config *cfg, const char *name, const char *value)
{
	char err[256];

	if (rt_config_set(cfg, name, value, err, sizeof(err)) != 0) {
		RT_FAIL_("realtime.%s = %s: %s", name, value, err);
		return -1;
	}
	return 0;
}

typedef struct fixture {
	rt_config cfg;
	int port, hubs;
	rt_broker *b[HUBS];
	rt_hub *h[HUBS];
	ws_fdset fds;
} fixture;

static void down(fixture *f)
{
	ws_fdset_close_all(&f->fds);
	for (int i = 0; i < f->hubs; i++) {
		if (f->b[i] != NULL) {
			rt_broker_memory.attach(f->b[i], NULL);
		}
	}
	for (int i = 0; i < f->hubs; i++) {
		if (f->h[i] != NULL && rt_hub_stop(f->h[i]) != 0) {
			RT_FAIL_("rt_hub_stop of hub %d failed", i);
		}
		f->h[i] = NULL;
	}
	for (int i = 0; i < f->hubs; i++) {
		if (f->b[i] != NULL) {
			rt_broker_memory.close(f->b[i]);
		}
	}
	rt_broker_memory.postfork_shutdown();
	segment_drop(&f->cfg);
}

/* extra: more settings, name then value, NULL-terminated (or NULL). */
static int up_auth(fixture *f, int hubs, const char *handoff, const char *auth_endpoint,
		const char *const *extra)
{
	char err[256] = "", listen[64];

	memset(f, 0, sizeof(*f));
	f->hubs = hubs;
	f->port = ws_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", f->port);
	rt_config_defaults(&f->cfg);
	if (set(&f->cfg, "listen", listen) != 0 || set(&f->cfg, "allow_anonymous", "1") != 0
			|| set(&f->cfg, "ping_interval", "0") != 0 || set(&f->cfg, "secret", SECRET) != 0
			|| set(&f->cfg, "app_key", APP_KEY) != 0 || set(&f->cfg, "batch_window", "0") != 0
			|| set(&f->cfg, "max_outbound", "16777216") != 0
			|| set(&f->cfg, "pool_memory", "33554432") != 0
			|| set(&f->cfg, "handoff", handoff) != 0
			|| (auth_endpoint && set(&f->cfg, "auth_endpoint", auth_endpoint) != 0)) {
		return -1;
	}
	for (; extra != NULL && extra[0] != NULL; extra += 2) {
		if (set(&f->cfg, extra[0], extra[1]) != 0) {
			return -1;
		}
	}
	if (rt_broker_memory.prefork(&f->cfg, err, sizeof(err)) != 0) {
		RT_FAIL_("prefork: %s", err);
		return -1;
	}
	for (int i = 0; i < hubs; i++) {
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
	return 0;
}

static int up(fixture *f, int hubs, const char *handoff)
{
	return up_auth(f, hubs, handoff, NULL, NULL);
}

static rt_msg *msg_of(rt_msg_type type, const char *channel, const char *event, const char *data,
		const char *target)
{
	rt_str ch = {channel, channel ? strlen(channel) : 0};
	rt_msg_fields fl = {0};

	memset(&fl, 0, sizeof(fl));
	if (channel != NULL) {
		fl.channels = &ch;
		fl.channel_count = 1;
	}
	if (event != NULL) {
		fl.event.ptr = event;
		fl.event.len = strlen(event);
	}
	fl.data.ptr = data;
	fl.data.len = strlen(data);
	if (target != NULL) {
		fl.target.ptr = target;
		fl.target.len = strlen(target);
	}
	return rt_msg_new(type, &fl);
}

static int publish(rt_broker *b, rt_msg_type type, const char *channel, const char *event,
		const char *data, const char *target)
{
	char err[256];
	rt_msg *m = msg_of(type, channel, event, data, target);
	int r = m ? rt_broker_memory.publish(b, m, err, sizeof(err)) : -1;

	rt_msg_free(m);
	return r;
}

/* A connection on hub want (reconnecting until the kernel picks it):
 * small receive buffer when rcvbuf > 0. Returns the fd, id in id. */
static int open_on(fixture *f, int want, const char *path, int rcvbuf, char *id, size_t idlen)
{
	for (int tries = 0; tries < 200; tries++) {
		struct sockaddr_in a;
		char *hello;
		const char *p;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		unsigned long node;
		size_t n = 0;

		if (fd < 0) {
			return -1;
		}
		if (rcvbuf > 0) {
			setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		}
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_port = htons((uint16_t) f->port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
			close(fd);
			return -1;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (ws_send_upgrade(fd, path, NULL, NULL, 0) != 0 || ws_expect_101(fd, WS_TIMEOUT_MS) != 0
				|| (hello = ws_recv_text(fd, WS_TIMEOUT_MS)) == NULL) {
			close(fd);
			return -1;
		}
		/* native: "connection_id":"N.M"; Pusher: \"socket_id\":\"N.M\" */
		p = strstr(hello, "connection_id\":\"");
		p = p ? p + 16 : ((p = strstr(hello, "socket_id\\\":\\\"")) ? p + 14 : NULL);
		while (p != NULL && n + 1 < idlen && (p[n] == '.' || (p[n] >= '0' && p[n] <= '9'))) {
			id[n] = p[n];
			n++;
		}
		id[n] = '\0';
		free(hello);
		node = strtoul(id, NULL, 10);
		if (n > 0 && node == rt_hub_node_id(f->h[want])) {
			ws_fdset_add(&f->fds, fd);
			return fd;
		}
		close(fd);
	}
	RT_FAIL_("no connection landed on hub %d", want);
	return -1;
}

static int expect_substr(int fd, const char *needle)
{
	char *got = ws_recv_text(fd, WS_TIMEOUT_MS);
	int ok = got != NULL && strstr(got, needle) != NULL;

	if (!ok) {
		RT_FAIL_("expected a frame with %s, got %s", needle, got ? got : "(none)");
	}
	free(got);
	return ok ? 0 : -1;
}

static int native_subscribe(int fd, const char *channel)
{
	char msg[256], ack[256];

	snprintf(msg, sizeof(msg), "{\"action\":\"subscribe\",\"channel\":\"%s\"}", channel);
	snprintf(ack, sizeof(ack), "{\"type\":\"subscribed\",\"channel\":\"%s\"}", channel);
	if (ws_send_text(fd, msg) != 0) {
		return -1;
	}
	return expect_substr(fd, ack);
}

static int pusher_presence(int fd, const char *socket_id, const char *channel, const char *user)
{
	char data[128], subject[256], sig[65], msg[1024];

	snprintf(data, sizeof(data), "{\"user_id\":\"%s\"}", user);
	snprintf(subject, sizeof(subject), "%s:%s:%s", socket_id, channel, data);
	rt_hmac_sha256_hex(SECRET, strlen(SECRET), subject, strlen(subject), sig);
	snprintf(msg, sizeof(msg), "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"%s\","
			"\"auth\":\"%s:%s\",\"channel_data\":\"{\\\"user_id\\\":\\\"%s\\\"}\"}}", channel,
			APP_KEY, sig, user);
	if (ws_send_text(fd, msg) != 0) {
		return -1;
	}
	return expect_substr(fd, "subscription_succeeded");
}

/* Reads numbered messages ("data":N) until last: each once, in order. */
static void expect_numbers(int fd, const char *label, int first, int last)
{
	int want = first;

	while (want <= last) {
		char *got = ws_recv_text(fd, WS_TIMEOUT_MS);
		json_t *j = got ? json_loads(got, 0, NULL) : NULL;
		json_t *d = j ? json_object_get(j, "data") : NULL;
		int n = json_is_integer(d) ? (int) json_integer_value(d) : -1;
		if (got == NULL || n != want) {
			RT_FAIL_("%s: expected message %d, got %s", label, want, got ? got : "(none)");
			json_decref(j);
			free(got);
			return;
		}
		json_decref(j);
		free(got);
		want++;
	}
}

typedef struct publisher {
	rt_broker *b;
	const char *channel;
	int count, failed;
} publisher;

static void *publish_numbers(void *arg)
{
	publisher *p = arg;
	char data[32];

	for (int i = 1; i <= p->count; i++) {
		struct timespec pace = {0, 200000}; /* spreads them over the stop */
		snprintf(data, sizeof(data), "%d", i);
		if (publish(p->b, RT_MSG_PUBLISH, p->channel, NULL, data, NULL) != 0) {
			p->failed++;
		}
		nanosleep(&pace, NULL);
	}
	return NULL;
}

static uint64_t totals(int which)
{
	uint64_t v[3];

	rt_hub_handoff_totals(&v[0], &v[1], &v[2]);
	return v[which];
}

static rt_hub_stats stats_of(rt_hub *h)
{
	rt_hub_stats st;

	rt_hub_stats_get(h, &st);
	return st;
}

RT_TEST(handoff_moves_clients_intact)
{
	fixture f;
	char id_news[32], id_half[32], id_bulk[32], id_u1[32], id_u2[32], data[64], path[64];
	int news, half, bulk, u1, u2;
	uint8_t frame[256];
	size_t frame_len;
	publisher pub;
	pthread_t thread;
	uint64_t handed = totals(0), closed = totals(2);
	char big[16 * 1024 + 16];

	if (up(&f, 2, "1") != 0) {
		down(&f);
		return;
	}
	snprintf(path, sizeof(path), "/app/%s", APP_KEY);
	news = open_on(&f, 0, "/ws", 0, id_news, sizeof(id_news));
	half = open_on(&f, 0, "/ws", 0, id_half, sizeof(id_half));
	bulk = open_on(&f, 0, "/ws", 4096, id_bulk, sizeof(id_bulk));
	u1 = open_on(&f, 0, path, 0, id_u1, sizeof(id_u1));
	u2 = open_on(&f, 1, path, 0, id_u2, sizeof(id_u2));
	RT_ASSERT(news >= 0 && half >= 0 && bulk >= 0 && u1 >= 0 && u2 >= 0);
	RT_ASSERT_EQ_INT(native_subscribe(news, "news"), 0);
	RT_ASSERT_EQ_INT(native_subscribe(bulk, "bulk"), 0);
	RT_ASSERT_EQ_INT(pusher_presence(u2, id_u2, "presence-room", "u2"), 0);
	RT_ASSERT_EQ_INT(pusher_presence(u1, id_u1, "presence-room", "u1"), 0);
	RT_ASSERT_EQ_INT(expect_substr(u2, "member_added"), 0);

	/* A frame cut in two: the first half is in the hub that stops. */
	frame_len = ws_build_frame(frame, sizeof(frame), 0x81,
			"{\"action\":\"subscribe\",\"channel\":\"later\"}", 40, 1);
	RT_ASSERT_EQ_INT(ws_send_all(half, frame, 7), 0);
	/* A client that reads nothing while messages pile up for it. */
	memset(big, 'x', sizeof(big));
	for (int i = 1; i <= BULK; i++) {
		snprintf(big, sizeof(big), "{\"n\":%d,\"pad\":\"", i);
		memset(big + strlen(big), 'x', 16 * 1024 - strlen(big));
		strcpy(big + 16 * 1024, "\"}");
		RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_PUBLISH, "bulk", NULL, big, NULL), 0);
	}
	/* Half-sent frame and queue are in place once a later message reached
	 * a client of the same hub. */
	RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_PUBLISH, "news", NULL, "0", NULL), 0);
	expect_numbers(news, "news before", 0, 0);

	pub.b = f.b[1];
	pub.channel = "news";
	pub.count = 400;
	pub.failed = 0;
	RT_ASSERT_EQ_INT(pthread_create(&thread, NULL, publish_numbers, &pub), 0);
	/* The worker ends: its hub stops while messages flow. */
	rt_broker_memory.attach(f.b[0], NULL);
	RT_ASSERT_EQ_INT(rt_hub_stop(f.h[0]), 0);
	f.h[0] = NULL;
	pthread_join(thread, NULL);
	RT_ASSERT_EQ_INT(pub.failed, 0);

	RT_ASSERT_EQ_INT((int) (totals(0) - handed), 4);
	RT_ASSERT_EQ_INT((int) (totals(2) - closed), 0);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 4);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).connections, 5);

	/* Every number once, in order, with no close frame before them. */
	expect_numbers(news, "news", 1, 400);
	/* Addressed by its id, it is still reached. */
	RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_TO_CONNECTION, NULL, NULL, "\"direct\"", id_news), 0);
	RT_ASSERT_EQ_INT(expect_substr(news, "direct"), 0);
	/* The rest of the cut frame completes the message on the new hub. */
	RT_ASSERT_EQ_INT(ws_send_all(half, frame + 7, frame_len - 7), 0);
	RT_ASSERT_EQ_INT(expect_substr(half, "{\"type\":\"subscribed\",\"channel\":\"later\"}"), 0);
	/* The queued messages arrive whole, in order. */
	for (int i = 1; i <= BULK; i++) {
		char *got = ws_recv_text(bulk, WS_TIMEOUT_MS);
		snprintf(data, sizeof(data), "{\"n\":%d,", i);
		if (got == NULL || strstr(got, data) == NULL || strlen(got) < 16 * 1024) {
			RT_FAIL_("bulk: expected message %d intact, got %.80s", i, got ? got : "(none)");
			free(got);
			break;
		}
		free(got);
	}
	/* The other member saw no leave and no join: its next frame is this. */
	RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_PUBLISH, "presence-room", "marker", "1", NULL), 0);
	RT_ASSERT_EQ_INT(expect_substr(u2, "marker"), 0);
	RT_ASSERT_EQ_INT(expect_substr(u1, "marker"), 0);
	/* The moved Pusher client still speaks: a ping gets its pong. */
	RT_ASSERT_EQ_INT(ws_send_text(u1, "{\"event\":\"pusher:ping\",\"data\":{}}"), 0);
	RT_ASSERT_EQ_INT(expect_substr(u1, "pusher:pong"), 0);
	down(&f);
}

/* Three hubs: the connections spread over both takers by load. */
RT_TEST(handoff_spreads_over_takers)
{
	fixture f;
	char id[32];
	int fds[6];
	uint64_t handed = totals(0);

	if (up(&f, 3, "1") != 0) {
		down(&f);
		return;
	}
	for (int i = 0; i < 6; i++) {
		fds[i] = open_on(&f, 0, "/ws", 0, id, sizeof(id));
		RT_ASSERT(fds[i] >= 0);
		RT_ASSERT_EQ_INT(native_subscribe(fds[i], "news"), 0);
	}
	rt_broker_memory.attach(f.b[0], NULL);
	RT_ASSERT_EQ_INT(rt_hub_stop(f.h[0]), 0);
	f.h[0] = NULL;
	RT_ASSERT_EQ_INT((int) (totals(0) - handed), 6);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 3);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[2]).taken_over, 3);
	RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_PUBLISH, "news", NULL, "7", NULL), 0);
	for (int i = 0; i < 6; i++) {
		expect_numbers(fds[i], "spread", 7, 7);
	}
	down(&f);
}

/* realtime.handoff=0: the clients get 1001 as before, and nothing is
 * counted as handed off. */
RT_TEST(handoff_off_closes_with_1001)
{
	fixture f;
	char id[32];
	int fd;
	uint64_t handed = totals(0);

	if (up(&f, 2, "0") != 0) {
		down(&f);
		return;
	}
	fd = open_on(&f, 0, "/ws", 0, id, sizeof(id));
	RT_ASSERT(fd >= 0);
	rt_broker_memory.attach(f.b[0], NULL);
	RT_ASSERT_EQ_INT(rt_hub_stop(f.h[0]), 0);
	f.h[0] = NULL;
	RT_ASSERT_EQ_INT(ws_recv_close(fd, WS_TIMEOUT_MS), 1001);
	RT_ASSERT_EQ_INT((int) (totals(0) - handed), 0);
	down(&f);
}

/* The last hub of the app has no taker: 1001, counted as closed. */
RT_TEST(handoff_without_taker_counts_closed)
{
	fixture f;
	char id[32];
	int fd;
	uint64_t closed = totals(2);

	if (up(&f, 1, "1") != 0) {
		down(&f);
		return;
	}
	fd = open_on(&f, 0, "/ws", 0, id, sizeof(id));
	RT_ASSERT(fd >= 0);
	rt_broker_memory.attach(f.b[0], NULL);
	RT_ASSERT_EQ_INT(rt_hub_stop(f.h[0]), 0);
	f.h[0] = NULL;
	RT_ASSERT_EQ_INT(ws_recv_close(fd, WS_TIMEOUT_MS), 1001);
	RT_ASSERT_EQ_INT((int) (totals(2) - closed), 1);
	down(&f);
}

/* Waits for the hub to close a handoff link: 0 on EOF. */
static int wait_eof(int fd)
{
	uint8_t buf[64];
	int got;
	int64_t deadline = ws_deadline(WS_TIMEOUT_MS);

	while (ws_now_ms() < deadline) {
		ssize_t n = rt_fdpass_recv(fd, buf, sizeof(buf), &got);
		if (got >= 0) {
			close(got);
		}
		if (n == 0 || (n < 0 && n != -EAGAIN)) {
			return 0;
		}
		ws_wait_readable(fd, deadline);
	}
	return -1;
}

/* The handoff socket takes hostile input: a process that is not a hub of
 * the app is turned away, a malformed datagram or a descriptor where none
 * belongs ends the link, and the hub goes on serving. */
RT_TEST(handoff_socket_refuses_strangers_and_garbage)
{
	fixture f;
	char id[32];
	uint8_t hello[16];
	size_t n;
	int fd, client;
	pid_t child;

	if (up(&f, 2, "1") != 0) {
		down(&f);
		return;
	}
	client = open_on(&f, 1, "/ws", 0, id, sizeof(id));
	RT_ASSERT(client >= 0);
	RT_ASSERT_EQ_INT(native_subscribe(client, "news"), 0);
	/* Another process (not in the pool's slot table) is refused. */
	child = fork();
	if (child == 0) {
		int c = rt_fdpass_connect((int) getppid(), rt_hub_node_id(f.h[1]));
		_exit(c >= 0 && wait_eof(c) == 0 ? 0 : 1);
	}
	RT_ASSERT(child > 0);
	{
		int status = 0;
		waitpid(child, &status, 0);
		RT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* Garbage from a process that is a hub of the app: link closed. */
	fd = rt_fdpass_connect((int) getpid(), rt_hub_node_id(f.h[1]));
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(rt_fdpass_send(fd, "Zgarbage", 8, -1), 0);
	RT_ASSERT_EQ_INT(wait_eof(fd), 0);
	close(fd);
	/* A descriptor on a HELLO: link closed, the descriptor not kept. */
	fd = rt_fdpass_connect((int) getpid(), rt_hub_node_id(f.h[1]));
	RT_ASSERT(fd >= 0);
	n = rt_handoff_dgram_head(hello, RT_HANDOFF_HELLO, 1, rt_hub_node_id(f.h[0]));
	RT_ASSERT_EQ_INT(rt_fdpass_send(fd, hello, n, client), 0);
	RT_ASSERT_EQ_INT(wait_eof(fd), 0);
	close(fd);
	/* A record before any HELLO: link closed. */
	fd = rt_fdpass_connect((int) getpid(), rt_hub_node_id(f.h[1]));
	RT_ASSERT(fd >= 0);
	n = rt_handoff_dgram_head(hello, RT_HANDOFF_RECORD, 0, 4);
	memcpy(hello + n, "RTH1", 4);
	RT_ASSERT_EQ_INT(rt_fdpass_send(fd, hello, n + 4, -1), 0);
	RT_ASSERT_EQ_INT(wait_eof(fd), 0);
	close(fd);
	/* The hub still serves its client. */
	RT_ASSERT_EQ_INT(publish(f.b[0], RT_MSG_PUBLISH, "news", NULL, "5", NULL), 0);
	expect_numbers(client, "after garbage", 5, 5);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 0);
	down(&f);
}

/* Until the handoff socket of hub node answers (want 1) or is gone (want 0). */
static int wait_handoff_socket(uint32_t node, int want)
{
	int64_t deadline = ws_deadline(WS_TIMEOUT_MS);

	while (ws_now_ms() < deadline) {
		int probe = rt_fdpass_connect((int) getpid(), node);
		if (probe >= 0) {
			close(probe);
		}
		if ((probe >= 0) == want) {
			return 0;
		}
		struct timespec nap = {0, 5 * 1000000L};
		nanosleep(&nap, NULL);
	}
	return -1;
}

/* Two hubs, a client of hub `on` subscribed to "news", and hub 1's handoff
 * socket answering. extra: see up_auth. The client's fd, or -1 with the
 * test marked failed. */
static int up_two_with_reader_id(fixture *f, const char *const *extra, int on, char *id,
		size_t idlen)
{
	int fd;

	if (up_auth(f, 2, "1", NULL, extra) != 0) {
		return -1;
	}
	fd = open_on(f, on, "/ws", 0, id, idlen);
	if (fd < 0 || native_subscribe(fd, "news") != 0
			|| wait_handoff_socket(rt_hub_node_id(f->h[1]), 1) != 0) {
		RT_FAIL_("a reader of news on hub %d, hub 1 ready to take over", on);
		return -1;
	}
	return fd;
}

static int up_two_with_reader(fixture *f, const char *const *extra, int on)
{
	char id[32];

	return up_two_with_reader_id(f, extra, on, id, sizeof(id));
}

/* The fence a sender `from` publishes for its round `count`, naming the
 * taker `to`, through broker b (as rt__round does). 0, or -1. */
static int publish_fence(rt_broker *b, uint32_t from, uint32_t count, uint32_t to)
{
	char err[256], list[16];
	rt_msg_fields fl = {0};
	rt_msg *fence;
	int r;

	snprintf(list, sizeof(list), "%u", to);
	fl.origin = from;
	fl.count = count;
	fl.data.ptr = list;
	fl.data.len = strlen(list);
	fence = rt_msg_new(RT_MSG_HANDOFF, &fl);
	if (fence == NULL) {
		return -1;
	}
	r = rt_broker_memory.publish(b, fence, err, sizeof(err));
	rt_msg_free(fence);
	return r == 0 ? 0 : -1;
}

/* While a handoff to a hub is under way (a sender's fence seen, its
 * connections not in yet), the hub's own clients get publishes at once:
 * only the sessions on their way wait for them. Here the sender is a link
 * opened by hand that never sends its records: with the longest
 * realtime.handoff_timeout, a client held until then would wait 10 s. */
RT_TEST(handoff_under_way_does_not_hold_the_takers_clients)
{
	fixture f;
	uint8_t hello[16];
	uint32_t node0;
	size_t n;
	int fd, client;
	static const char *const slow[] = {"handoff_timeout", "10000", NULL};

	client = up_two_with_reader(&f, slow, 1);
	if (client < 0) {
		down(&f);
		return;
	}
	/* Hub 0's name on a link of this process, then its fence. */
	node0 = rt_hub_node_id(f.h[0]);
	fd = rt_fdpass_connect((int) getpid(), rt_hub_node_id(f.h[1]));
	RT_ASSERT(fd >= 0);
	n = rt_handoff_dgram_head(hello, RT_HANDOFF_HELLO, 77, node0);
	RT_ASSERT_EQ_INT(rt_fdpass_send(fd, hello, n, -1), 0);
	RT_ASSERT_EQ_INT(publish_fence(f.b[0], node0, 77, rt_hub_node_id(f.h[1])), 0);
	RT_ASSERT_EQ_INT(publish(f.b[0], RT_MSG_PUBLISH, "news", NULL, "6", NULL), 0);
	{
		char *got = ws_recv_text(client, WS_TIMEOUT_MS / 2);
		RT_ASSERT(got != NULL && strstr(got, "\"data\":6") != NULL);
		free(got);
	}
	close(fd);
	down(&f);
}

/* A handoff link with nothing to hand over, to hub `node` under this
 * hub's own name (a live hub of the app): HELLO and DONE, DONE answered.
 * 0, or -1 with the test marked failed. */
static int empty_handoff(int link, uint32_t node, uint64_t fence)
{
	uint8_t dgram[32], ack[64];
	rt_handoff_dgram d;
	ssize_t got;
	size_t n;
	int passed;

	n = rt_handoff_dgram_head(dgram, RT_HANDOFF_HELLO, fence, node);
	if (rt_fdpass_send(link, dgram, n, -1) != 0) {
		RT_FAIL_("HELLO not sent");
		return -1;
	}
	n = rt_handoff_dgram_head(dgram, RT_HANDOFF_DONE, 0, 0);
	if (rt_fdpass_send(link, dgram, n, -1) != 0) {
		RT_FAIL_("DONE not sent");
		return -1;
	}
	ws_wait_readable(link, ws_deadline(WS_TIMEOUT_MS));
	got = rt_fdpass_recv(link, ack, sizeof(ack), &passed);
	if (got <= 0 || passed >= 0 || rt_handoff_dgram_parse(&d, ack, (size_t) got) != 0
			|| d.type != RT_HANDOFF_ACK) {
		RT_FAIL_("DONE not answered");
		return -1;
	}
	return 0;
}

/* A sender that gives this hub nothing finishes at once: its DONE is
 * answered and it closes the link, while its fence may still be on its
 * way through the broker (a busy hub drains the ring late). That late
 * fence must find the closed link. It used to leave a placeholder that
 * held every message addressed to a connection, a user or a whisper for
 * realtime.handoff_timeout, and with it other senders' fences, whose
 * clients were then refused (Apache children ending together). */
RT_TEST(handoff_late_fence_of_a_finished_link_holds_nothing)
{
	fixture f;
	char id[32];
	uint32_t node0;
	int fd, probe, client;
	static const char *const slow[] = {"handoff_timeout", "10000", NULL};

	client = up_two_with_reader_id(&f, slow, 1, id, sizeof(id));
	if (client < 0) {
		down(&f);
		return;
	}
	/* Hub 0's name on a link of this process: HELLO, DONE with no record,
	 * the DONE answered, the link closed. */
	node0 = rt_hub_node_id(f.h[0]);
	fd = rt_fdpass_connect((int) getpid(), rt_hub_node_id(f.h[1]));
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(empty_handoff(fd, node0, 78), 0);
	close(fd);
	/* Once hub 1 has closed a later link, it has read the first one's end
	 * too (both in one turn of its loop at the latest). */
	probe = rt_fdpass_connect((int) getpid(), rt_hub_node_id(f.h[1]));
	RT_ASSERT(probe >= 0);
	RT_ASSERT_EQ_INT(rt_fdpass_send(probe, "Zgarbage", 8, -1), 0);
	RT_ASSERT_EQ_INT(wait_eof(probe), 0);
	close(probe);
	/* Now the fence, then a message for the client alone, which a
	 * placeholder would hold for 10 s. */
	RT_ASSERT_EQ_INT(publish_fence(f.b[0], node0, 78, rt_hub_node_id(f.h[1])), 0);
	RT_ASSERT_EQ_INT(publish(f.b[0], RT_MSG_TO_CONNECTION, NULL, NULL, "7", id), 0);
	{
		char *msg = ws_recv_text(client, WS_TIMEOUT_MS / 2);
		RT_ASSERT(msg != NULL && strstr(msg, "\"data\":7") != NULL);
		free(msg);
	}
	down(&f);
}

/* Open descriptors of this process (hubs included), below 1024. */
static void open_fds(char *open)
{
	for (int i = 0; i < 1024; i++) {
		open[i] = fcntl(i, F_GETFD) >= 0;
	}
}

/* After a link was accepted: the hub's end of it, the one unix socket
 * opened since `before` other than the link itself (-1: none). */
static int hub_end_of(int link, const char *before)
{
	int end = -1;

	for (int i = 0; i < 1024; i++) {
		struct stat st;
		int type = 0;
		socklen_t len = sizeof(type);
		if (i == link || before[i] || fstat(i, &st) != 0 || !S_ISSOCK(st.st_mode)
				|| getsockopt(i, SOL_SOCKET, SO_TYPE, &type, &len) != 0
				|| type != SOCK_SEQPACKET) {
			continue;
		}
		end = i;
	}
	return end;
}

/* A link that sends a record and never its DONE: the hub's timer refuses
 * the record at realtime.handoff_timeout (a NACK back). Returns the link
 * once the NACK is in: the timer has run, and with nothing else under way
 * it stopped in that turn. -1 on failure. */
static int expired_link(uint32_t node, uint64_t fence)
{
	uint8_t dgram[32], ack[64];
	rt_handoff_dgram d;
	ssize_t got;
	size_t n;
	int link = rt_fdpass_connect((int) getpid(), node), passed, dummy[2];

	if (link < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dummy) != 0) {
		return -1;
	}
	n = rt_handoff_dgram_head(dgram, RT_HANDOFF_HELLO, fence, node);
	rt_fdpass_send(link, dgram, n, -1);
	n = rt_handoff_dgram_head(dgram, RT_HANDOFF_RECORD, 0, 4);
	memcpy(dgram + n, "RTH1", 4);
	rt_fdpass_send(link, dgram, n + 4, dummy[0]);
	close(dummy[0]);
	close(dummy[1]);
	ws_wait_readable(link, ws_deadline(WS_TIMEOUT_MS));
	got = rt_fdpass_recv(link, ack, sizeof(ack), &passed);
	if (got <= 0 || rt_handoff_dgram_parse(&d, ack, (size_t) got) != 0
			|| d.type != RT_HANDOFF_NACK) {
		close(link);
		return -1;
	}
	return link;
}

/* A handoff link's descriptor number, once the link is closed, is free
 * for the next socket the process opens: here the hub's next link (a
 * client's, where the limit on descriptors keeps them below 1024, as in
 * Apache). The link's poll handle used to be closed only when the closed
 * link was freed, at the handoff timer's next turn, and closing it took
 * that number out of the loop's epoll: the socket now holding it was
 * never read again (a link whose DONE went unread, a client stuck
 * "connecting": the e2e suite's rare failures). */
RT_TEST(handoff_closed_link_leaves_the_next_socket_heard)
{
	fixture f;
	uint32_t node;
	int link, end = -1, w1 = -1, w2 = -1, next = -1, reused = 0;
	static const char *const quick[] = {"handoff_timeout", "200", NULL};
	static char before[1024];

	if (up_auth(&f, 1, "1", NULL, quick) != 0) {
		down(&f);
		return;
	}
	node = rt_hub_node_id(f.h[0]);
	RT_ASSERT_EQ_INT(wait_handoff_socket(node, 1), 0);
	for (int attempt = 0; attempt < 8 && !reused; attempt++) {
		int fillers[64], nfillers = 0;
		int64_t deadline;
		open_fds(before);
		link = rt_fdpass_connect((int) getpid(), node);
		RT_ASSERT(link >= 0 && link < 1024);
		RT_ASSERT_EQ_INT(empty_handoff(link, node, 79 + (uint64_t) attempt), 0);
		end = hub_end_of(link, before);
		RT_ASSERT(end >= 0);
		/* The hub's timer runs out and stops... */
		w1 = expired_link(node, 200 + (uint64_t) attempt);
		RT_ASSERT(w1 >= 0);
		/* ... the next link's socket is made while the number is taken... */
		next = rt_fdpass_socket();
		RT_ASSERT(next >= 0);
		/* ... the first link closes, and its end in the hub with it. */
		close(link);
		deadline = ws_deadline(WS_TIMEOUT_MS);
		while (fcntl(end, F_GETFD) >= 0 && ws_now_ms() < deadline) {
			ws_wait_readable(-1, ws_now_ms() + 2);
		}
		RT_ASSERT(fcntl(end, F_GETFD) < 0);
		/* The next link connects: the hub's accept takes the lowest free
		 * number, that one (lower free ones filled meanwhile). */
		for (int x; nfillers < 64 && (x = dup(0)) >= 0;) {
			if (x >= end) {
				close(x);
				break;
			}
			fillers[nfillers++] = x;
		}
		open_fds(before);
		RT_ASSERT_EQ_INT(rt_fdpass_connect_fd(next, (int) getpid(), node), 0);
		RT_ASSERT_EQ_INT(empty_handoff(next, node, 99 + (uint64_t) attempt), 0);
		for (int i = 0; i < nfillers; i++) {
			close(fillers[i]);
		}
		reused = fcntl(end, F_GETFD) >= 0 && !before[end];
		if (!reused) {
			close(next);
			close(w1);
		}
	}
	RT_ASSERT(reused); /* else this test would prove nothing */
	/* The timer turns again (another link runs out): the first link is
	 * freed now. */
	w2 = expired_link(node, 300);
	RT_ASSERT(w2 >= 0);
	/* The next link is still read: garbage on it ends it. */
	RT_ASSERT_EQ_INT(rt_fdpass_send(next, "Zgarbage", 8, -1), 0);
	RT_ASSERT_EQ_INT(wait_eof(next), 0);
	close(next);
	close(w1);
	close(w2);
	down(&f);
}

/* A cut with no time left (the kill is at hand): with a live taker at
 * hand the hub hands nothing off, and its client is told to reconnect
 * (1012) by its own hub. */
RT_TEST(handoff_cut_before_the_stop_closes_with_1012)
{
	fixture f;
	char id[32], reason[64];
	int fd;
	uint64_t handed = totals(0);

	if (up(&f, 2, "1") != 0) {
		down(&f);
		return;
	}
	fd = open_on(&f, 0, "/ws", 0, id, sizeof(id));
	RT_ASSERT(fd >= 0);
	/* Hub 1 could take it: its handoff socket answers. */
	RT_ASSERT_EQ_INT(wait_handoff_socket(rt_hub_node_id(f.h[1]), 1), 0);
	rt_broker_memory.attach(f.b[0], NULL);
	rt_hub_mark_restart(f.h[0]);
	rt_hub_cut_handoff(f.h[0], 0);
	RT_ASSERT_EQ_INT(rt_hub_stop(f.h[0]), 0);
	f.h[0] = NULL;
	RT_ASSERT_EQ_INT(ws_recv_close_reason(fd, WS_TIMEOUT_MS, reason, sizeof(reason)), 1012);
	RT_ASSERT_EQ_STR(reason, "server restarting: reconnect now");
	RT_ASSERT_EQ_INT((int) (totals(0) - handed), 0);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 0);
	down(&f);
}

typedef struct stopper {
	rt_hub *hub;
	int r;
	int over;
} stopper;

static void *stop_hub_thread(void *arg)
{
	stopper *s = arg;

	s->r = rt_hub_stop(s->hub);
	__atomic_store_n(&s->over, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Stops hub i of f on a thread (st, thread): returns once its stop has
 * begun (its handoff socket is closed), 0, or -1. */
static int stop_in_background(fixture *f, int i, stopper *st, pthread_t *thread)
{
	uint32_t node = rt_hub_node_id(f->h[i]);

	rt_broker_memory.attach(f->b[i], NULL);
	st->hub = f->h[i];
	if (pthread_create(thread, NULL, stop_hub_thread, st) != 0) {
		return -1;
	}
	f->h[i] = NULL;
	return wait_handoff_socket(node, 0);
}

/* One hub whose client waits in its upgrade for the auth endpoint (alisten
 * listens for it, afd holds the call), then a second hub, ready to take
 * over. extra: more settings (see up_auth). On a failure the test is
 * marked failed (rt_test_cur_failed_): the caller checks that. */
typedef struct auth_pending {
	int alisten, afd, client;
} auth_pending;

static void up_auth_pending(fixture *f, const char *const *extra, auth_pending *ap)
{
	char url[64], err[256], req[4096];
	int aport;

	ap->afd = ap->client = -1;
	ap->alisten = ws_listen_plain(&aport);
	RT_ASSERT(ap->alisten >= 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/auth", aport);
	/* One hub first, so that the client's upgrade is its. */
	if (up_auth(f, 1, "1", url, extra) != 0) {
		RT_FAIL_("up_auth");
		return;
	}
	ap->client = ws_connect(f->port);
	RT_ASSERT(ap->client >= 0);
	ws_fdset_add(&f->fds, ap->client);
	RT_ASSERT_EQ_INT(ws_send_upgrade(ap->client, "/ws", NULL, NULL, 0), 0);
	RT_ASSERT_EQ_INT(ws_wait_readable(ap->alisten, ws_deadline(WS_TIMEOUT_MS)), 0);
	ap->afd = accept(ap->alisten, NULL, NULL);
	RT_ASSERT(ap->afd >= 0);
	RT_ASSERT(ws_recv_some(ap->afd, req, sizeof(req) - 1, ws_deadline(WS_TIMEOUT_MS)) > 0);
	/* The taker joins; its handoff socket listens once it has joined the pool. */
	f->hubs = 2;
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&f->b[1], &f->cfg, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_hub_start(&f->h[1], &f->cfg, rt_broker_memory.link(f->b[1]), -1, 1, err,
			sizeof(err)), 0);
	rt_broker_memory.attach(f->b[1], f->h[1]);
	RT_ASSERT_EQ_INT(wait_handoff_socket(rt_hub_node_id(f->h[1]), 1), 0);
}

/* A client whose upgrade waits for the app's auth endpoint when its hub
 * stops: it finishes within realtime.handoff_timeout, then moves. */
RT_TEST(handoff_waits_for_an_auth_call)
{
	fixture f;
	const char *answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			"Content-Length: 16\r\nConnection: close\r\n\r\n{\"user_id\":\"u9\"}";
	auth_pending ap;
	char *hello;
	stopper st;
	pthread_t thread;

	up_auth_pending(&f, NULL, &ap);
	if (rt_test_cur_failed_) {
		down(&f);
		return;
	}
	/* The stop begins while the auth call is in flight: hub 0's handoff
	 * socket closes then. */
	RT_ASSERT_EQ_INT(stop_in_background(&f, 0, &st, &thread), 0);
	RT_ASSERT_EQ_INT(ws_send_all(ap.afd, answer, strlen(answer)), 0);
	close(ap.afd);
	pthread_join(thread, NULL);
	RT_ASSERT_EQ_INT(st.r, 0);
	/* The client got its 101 and its id from hub 0, and is served by hub 1. */
	RT_ASSERT_EQ_INT(ws_expect_101(ap.client, WS_TIMEOUT_MS), 0);
	hello = ws_recv_text(ap.client, WS_TIMEOUT_MS);
	RT_ASSERT(hello != NULL && strstr(hello, "connection_id") != NULL);
	free(hello);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 1);
	RT_ASSERT_EQ_INT(native_subscribe(ap.client, "news"), 0);
	RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_PUBLISH, "news", NULL, "3", NULL), 0);
	expect_numbers(ap.client, "after auth", 3, 3);
	close(ap.alisten);
	down(&f);
}

/* A cut with time left (php-fpm's SIGTERM: a second before the kill):
 * a hub that stays still takes the clients in that time, unnoticed. */
RT_TEST(handoff_cut_with_time_left_still_moves_clients)
{
	fixture f;
	int fd;

	fd = up_two_with_reader(&f, NULL, 0);
	if (fd < 0) {
		down(&f);
		return;
	}
	rt_broker_memory.attach(f.b[0], NULL);
	rt_hub_mark_restart(f.h[0]);
	rt_hub_cut_handoff(f.h[0], 5000);
	RT_ASSERT_EQ_INT(rt_hub_stop(f.h[0]), 0);
	f.h[0] = NULL;
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 1);
	RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_PUBLISH, "news", NULL, "7", NULL), 0);
	expect_numbers(fd, "after the move", 7, 7);
	down(&f);
}

/* A handoff under way (waiting for a client's auth call, with the longest
 * realtime.handoff_timeout) is cut when the kill comes near (php-fpm's
 * SIGTERM): the stop ends at the cut, not at the timeout, and nothing moves. */
RT_TEST(handoff_cut_mid_way_ends_the_stop)
{
	fixture f;
	auth_pending ap;
	stopper st = {0};
	pthread_t thread;
	int64_t deadline;
	static const char *const slow[] = {"handoff_timeout", "10000", "shutdown_timeout", "100",
			NULL};

	up_auth_pending(&f, slow, &ap);
	if (rt_test_cur_failed_) {
		down(&f);
		return;
	}
	RT_ASSERT_EQ_INT(stop_in_background(&f, 0, &st, &thread), 0);
	/* The handoff now waits for the auth call, which never answers. */
	RT_ASSERT_EQ_INT(__atomic_load_n(&st.over, __ATOMIC_SEQ_CST), 0);
	rt_hub_cut_handoff(st.hub, 100);
	deadline = ws_deadline(WS_TIMEOUT_MS / 2);
	while (!__atomic_load_n(&st.over, __ATOMIC_SEQ_CST) && ws_now_ms() < deadline) {
		ws_wait_readable(ap.alisten, ws_now_ms() + 5);
	}
	RT_ASSERT_EQ_INT(__atomic_load_n(&st.over, __ATOMIC_SEQ_CST), 1);
	pthread_join(thread, NULL);
	f.h[0] = NULL;
	RT_ASSERT_EQ_INT(st.r, 0);
	/* The client in its handshake is let go: no 101, the socket closes. */
	RT_ASSERT(ws_expect_101(ap.client, WS_TIMEOUT_MS) != 0);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 0);
	close(ap.afd);
	close(ap.alisten);
	down(&f);
}

/* A taker that cannot take a connection (its realtime.max_connections
 * reached) refuses it: the client gets 1001 from its old hub, with the
 * stop's reason, counted. */
RT_TEST(handoff_refused_by_taker_closes_1001_counted)
{
	fixture f;
	rt_config full;
	char err[256], id[32], reason[64];
	int moving, there;
	uint64_t closed = totals(2), handed = totals(0);

	if (up(&f, 1, "1") != 0) {
		down(&f);
		return;
	}
	moving = open_on(&f, 0, "/ws", 0, id, sizeof(id));
	RT_ASSERT(moving >= 0);
	full = f.cfg;
	RT_ASSERT_EQ_INT(set(&full, "max_connections", "1"), 0);
	f.hubs = 2;
	RT_ASSERT_EQ_INT(rt_broker_memory.open(&f.b[1], &full, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_hub_start(&f.h[1], &full, rt_broker_memory.link(f.b[1]), -1, 1, err,
			sizeof(err)), 0);
	rt_broker_memory.attach(f.b[1], f.h[1]);
	there = open_on(&f, 1, "/ws", 0, id, sizeof(id));  /* its one connection */
	RT_ASSERT(there >= 0);
	rt_broker_memory.attach(f.b[0], NULL);
	RT_ASSERT_EQ_INT(rt_hub_stop(f.h[0]), 0);
	f.h[0] = NULL;
	RT_ASSERT_EQ_INT(ws_recv_close_reason(moving, WS_TIMEOUT_MS, reason, sizeof(reason)), 1001);
	RT_ASSERT_EQ_STR(reason, "server shutting down");
	RT_ASSERT_EQ_INT((int) (totals(2) - closed), 1);
	RT_ASSERT_EQ_INT((int) (totals(0) - handed), 0);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 0);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).connections, 1);
	down(&f);
}

/* Starts hub i of f (its broker too) with cfg. */
static int start_hub(fixture *f, int i, const rt_config *cfg)
{
	char err[256];

	if (rt_broker_memory.open(&f->b[i], cfg, err, sizeof(err)) != 0
			|| rt_hub_start(&f->h[i], cfg, rt_broker_memory.link(f->b[i]), -1, 1, err,
					sizeof(err)) != 0) {
		RT_FAIL_("hub %d: %s", i, err);
		return -1;
	}
	rt_broker_memory.attach(f->b[i], f->h[i]);
	if (f->hubs < i + 1) {
		f->hubs = i + 1;
	}
	return 0;
}

/* Where the server starts a worker while one ends (Apache), a hub with no
 * taker waits within realtime.handoff_timeout for one to start, and hands
 * its client to it: no close, the same subscriptions. */
RT_TEST(handoff_without_taker_waits_for_one_to_start)
{
	fixture f;
	rt_config cfg;
	char id[32];
	int fd;
	stopper st = {0};
	pthread_t thread;
	uint64_t closed = totals(2);
	static const char *const patient[] = {"handoff_timeout", "10000", NULL};

	if (up_auth(&f, 0, "1", NULL, patient) != 0) {
		down(&f);
		return;
	}
	cfg = f.cfg;
	cfg.handoff_await_taker = 1;
	if (start_hub(&f, 0, &cfg) != 0) {
		down(&f);
		return;
	}
	fd = open_on(&f, 0, "/ws", 0, id, sizeof(id));
	RT_ASSERT(fd >= 0);
	RT_ASSERT_EQ_INT(native_subscribe(fd, "news"), 0);
	/* Its stop has begun (its handoff socket is closed) with no other hub. */
	RT_ASSERT_EQ_INT(stop_in_background(&f, 0, &st, &thread), 0);
	RT_ASSERT_EQ_INT(start_hub(&f, 1, &f.cfg), 0);
	pthread_join(thread, NULL);
	RT_ASSERT_EQ_INT(st.r, 0);
	RT_ASSERT_EQ_INT((int) stats_of(f.h[1]).taken_over, 1);
	RT_ASSERT_EQ_INT((int) (totals(2) - closed), 0);
	RT_ASSERT_EQ_INT(publish(f.b[1], RT_MSG_PUBLISH, "news", NULL, "7", NULL), 0);
	expect_numbers(fd, "after the wait", 7, 7);
	down(&f);
}

int main(void)
{
	RT_RUN(handoff_moves_clients_intact);
	RT_RUN(handoff_spreads_over_takers);
	RT_RUN(handoff_off_closes_with_1001);
	RT_RUN(handoff_without_taker_counts_closed);
	RT_RUN(handoff_socket_refuses_strangers_and_garbage);
	RT_RUN(handoff_waits_for_an_auth_call);
	RT_RUN(handoff_refused_by_taker_closes_1001_counted);
	RT_RUN(handoff_under_way_does_not_hold_the_takers_clients);
	RT_RUN(handoff_late_fence_of_a_finished_link_holds_nothing);
	RT_RUN(handoff_closed_link_leaves_the_next_socket_heard);
	RT_RUN(handoff_cut_before_the_stop_closes_with_1012);
	RT_RUN(handoff_cut_with_time_left_still_moves_clients);
	RT_RUN(handoff_cut_mid_way_ends_the_stop);
	RT_RUN(handoff_without_taker_waits_for_one_to_start);
	return rt_test_summary();
}
