/* broker/redis.c: PHP's publishes handed to the hub thread. A real
 * redis-server on a free loopback port (stopped with SIGSTOP to stall it), a
 * real hub linked to it, and a plain hiredis subscriber reading what Redis
 * passes on: order and no loss through the hand-off queue at its limit
 * (realtime.redis_publish_queue), the confirmation path, and a stalled Redis
 * (calls return at once until the limit, then wait at most
 * realtime.redis_timeout; what Redis never answered is counted). History
 * channels: the publish and read scripts through the hub and without one,
 * after SCRIPT FLUSH too, and a client recovering through the hub. */
#include "rt_test.h"
#include "wsclient.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/broker.h"
#include "broker/redis.h"
#include "hub/core/hub.h"
#include "hub/model/config.h"
#include "hub/model/msg.h"

#define QUEUE "50"
#define TIMEOUT_MS 300

static pid_t redis_pid = -1;
static int redis_port;
/* realtime.history of the next setup() (NULL: none). */
static const char *setup_history;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static redisContext *redis_connect(void)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", redis_port, tv);

	if (c != NULL && c->err) {
		redisFree(c);
		return NULL;
	}
	if (c != NULL) {
		redisSetTimeout(c, tv);
	}
	return c;
}

static int start_redis(void)
{
	char port[16];
	uint64_t deadline;

	redis_port = ws_free_port();
	snprintf(port, sizeof(port), "%d", redis_port);
	redis_pid = fork();
	if (redis_pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		/* Gone with the test, even when it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
				"--appendonly", "no", "--loglevel", "warning", (char *) NULL);
		_exit(127);
	}
	if (redis_pid < 0) {
		return -1;
	}
	for (deadline = now_ms() + 10000; now_ms() < deadline; usleep(20000)) {
		redisContext *c = redis_connect();
		redisReply *r = c ? redisCommand(c, "PING") : NULL;
		int ok = r != NULL && r->type == REDIS_REPLY_STATUS;
		freeReplyObject(r);
		redisFree(c);
		if (ok) {
			return 0;
		}
	}
	return -1;
}

static void stop_redis(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, NULL, 0);
		redis_pid = -1;
	}
}

static void stats(rt_broker *b, rt_broker_stats *st)
{
	memset(st, 0, sizeof(*st));
	rt_broker_redis.stats(b, st);
}

/* Waits up to ms for the hub's connection to be (up) or not be (!up) usable. */
static int wait_connected(rt_broker *b, int up, uint32_t ms)
{
	rt_broker_stats st;
	uint64_t deadline = now_ms() + ms;

	do {
		stats(b, &st);
		if ((st.broker_connected == 1) == up) {
			return 0;
		}
		usleep(5000);
	} while (now_ms() < deadline);
	return -1;
}

static int wait_settled(rt_broker *b, uint64_t failed, uint32_t ms)
{
	rt_broker_stats st;
	uint64_t deadline = now_ms() + ms;

	do {
		stats(b, &st);
		if (st.redis_publish_waiting == 0 && st.redis_publish_failed >= failed) {
			return 0;
		}
		usleep(5000);
	} while (now_ms() < deadline);
	return -1;
}

/* msg: a publish of data on channel, viewing ch and f (kept by the caller). */
static void publish_view(rt_msg *msg, rt_str *ch, rt_msg_fields *f, const char *channel,
		const char *data)
{
	ch->ptr = channel;
	ch->len = strlen(channel);
	memset(f, 0, sizeof(*f));
	f->channels = ch;
	f->channel_count = 1;
	f->data.ptr = data;
	f->data.len = strlen(data);
	rt_msg_view(msg, RT_MSG_PUBLISH, f);
}

static int publish(rt_broker *b, const char *channel, const char *data)
{
	rt_str ch;
	rt_msg_fields f;
	rt_msg msg;
	char err[256] = "";
	int r;

	publish_view(&msg, &ch, &f, channel, data);
	r = rt_broker_redis.publish(b, &msg, err, sizeof(err));
	if (r != 0 && getenv("RT_TEST_VERBOSE") != NULL) {
		fprintf(stderr, "# publish %s: %d %s\n", data, r, err);
	}
	return r;
}

/* The data of the next message on sub, or NULL. */
static char *next_data(redisContext *sub)
{
	redisReply *r = NULL;
	char *out = NULL;

	if (redisGetReply(sub, (void **) &r) == REDIS_OK && r != NULL && r->type == REDIS_REPLY_ARRAY
			&& r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING) {
		rt_msg *m = rt_msg_decode(r->element[2]->str, r->element[2]->len);
		if (m != NULL) {
			out = strndup(m->data.ptr, m->data.len);
			rt_msg_free(m);
		}
	}
	freeReplyObject(r);
	return out;
}

typedef struct fixture {
	rt_config cfg;
	rt_broker *b;
	rt_hub *hub;
	redisContext *sub;
} fixture;

static int set(rt_config *cfg, const char *name, const char *value)
{
	char err[256];

	if (rt_config_set(cfg, name, value, err, sizeof(err)) != 0) {
		RT_FAIL_("realtime.%s = %s: %s", name, value, err);
		return -1;
	}
	return 0;
}

static int setup(fixture *f, const char *channel)
{
	char addr[64], listen[64], err[256] = "";
	redisReply *r;

	memset(f, 0, sizeof(*f));
	if (start_redis() != 0) {
		RT_FAIL_("redis-server did not start on port %d", redis_port);
		return -1;
	}
	rt_config_defaults(&f->cfg);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", redis_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", ws_free_port());
	if (set(&f->cfg, "listen", listen) || set(&f->cfg, "broker", "redis")
			|| set(&f->cfg, "redis_address", addr) || set(&f->cfg, "redis_publish_queue", QUEUE)
			|| set(&f->cfg, "redis_timeout", "300") || set(&f->cfg, "ping_interval", "0")
			|| set(&f->cfg, "allow_anonymous", "1")
			|| (setup_history != NULL && set(&f->cfg, "history", setup_history))) {
		return -1;
	}
	if (rt_broker_redis.open(&f->b, &f->cfg, err, sizeof(err)) != 0) {
		RT_FAIL_("open: %s", err);
		return -1;
	}
	if (rt_hub_start(&f->hub, &f->cfg, rt_broker_redis.link(f->b), -1, 0, err, sizeof(err)) != 0) {
		RT_FAIL_("rt_hub_start: %s", err);
		return -1;
	}
	rt_broker_redis.attach(f->b, f->hub);
	if (wait_connected(f->b, 1, 5000) != 0) {
		RT_FAIL_("the hub did not connect to Redis");
		return -1;
	}
	f->sub = redis_connect();
	r = f->sub ? redisCommand(f->sub, "SUBSCRIBE realtime:0:c:%s", channel) : NULL;
	if (r == NULL) {
		RT_FAIL_("cannot subscribe");
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static void teardown(fixture *f)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGCONT);
	}
	if (f->hub != NULL) {
		rt_hub_stop(f->hub);
	}
	if (f->b != NULL) {
		rt_broker_redis.close(f->b);
	}
	redisFree(f->sub);
	stop_redis();
}

/* 1000 publishes back to back, 20 times the queue's limit: each call
 * returns 0 (the callers at the limit wait for room), and Redis passes on
 * every message once, in order. */
RT_TEST(order_through_the_limit)
{
	fixture f;
	rt_broker_stats st;
	char data[32];
	int bad = 0;

	if (setup(&f, "burst") == 0) {
		for (int i = 0; i < 1000; i++) {
			snprintf(data, sizeof(data), "%d", i);
			if (publish(f.b, "burst", data) != 0) {
				bad++;
			}
		}
		RT_ASSERT_EQ_INT(bad, 0);
		for (int i = 0; i < 1000; i++) {
			char *got = next_data(f.sub);
			snprintf(data, sizeof(data), "%d", i);
			if (got == NULL || strcmp(got, data) != 0) {
				RT_FAIL_("message %d: got %s", i, got ? got : "nothing");
				free(got);
				break;
			}
			free(got);
		}
		RT_ASSERT_EQ_INT(wait_settled(f.b, 0, 5000), 0);
		stats(f.b, &st);
		RT_ASSERT_EQ_INT(st.redis_publish_handed, 1000);
		RT_ASSERT_EQ_INT(st.redis_publish_failed, 0);
		RT_ASSERT_EQ_INT(st.redis_publish_dropped, 0);
	}
	teardown(&f);
}

/* Confirmation: the call returns once Redis has it, after what came before. */
RT_TEST(confirmed_after_handed)
{
	fixture f;
	char *got;

	if (setup(&f, "conf") == 0) {
		RT_ASSERT_EQ_INT(publish(f.b, "conf", "\"first\""), 0);
		rt_broker_redis_confirm(1);
		RT_ASSERT_EQ_INT(publish(f.b, "conf", "\"second\""), 0);
		rt_broker_redis_confirm(0);
		got = next_data(f.sub);
		RT_ASSERT(got != NULL && strcmp(got, "\"first\"") == 0);
		free(got);
		got = next_data(f.sub);
		RT_ASSERT(got != NULL && strcmp(got, "\"second\"") == 0);
		free(got);
	}
	teardown(&f);
}

/* A stalled Redis: the queue's worth of calls return at once, the next one
 * gives up within about realtime.redis_timeout (twice, through the
 * synchronous path, when the hub noticed the stall meanwhile); once the hub
 * drops the connection every unanswered publish counts as failed; a
 * confirmed call times out; after SIGCONT the hub reconnects. */
RT_TEST(stalled_redis_is_counted)
{
	fixture f;
	rt_broker_stats st;
	uint64_t t0, slowest = 0;
	int bad = 0, r;

	if (setup(&f, "stall") == 0) {
		kill(redis_pid, SIGSTOP);
		for (int i = 0; i < 50; i++) {
			t0 = now_ms();
			if (publish(f.b, "stall", "1") != 0) {
				bad++;
			}
			if (now_ms() - t0 > slowest) {
				slowest = now_ms() - t0;
			}
		}
		RT_ASSERT_EQ_INT(bad, 0);
		RT_ASSERT(slowest < 200);
		t0 = now_ms();
		r = publish(f.b, "stall", "1");
		RT_ASSERT(r < 0);
		RT_ASSERT(now_ms() - t0 < 3 * TIMEOUT_MS + 1000);
		/* The hub takes Redis for gone within 2 x redis_timeout. */
		RT_ASSERT_EQ_INT(wait_connected(f.b, 0, 5000), 0);
		RT_ASSERT_EQ_INT(wait_settled(f.b, 50, 5000), 0);
		stats(f.b, &st);
		RT_ASSERT_EQ_INT(st.redis_publish_handed, 50);
		RT_ASSERT_EQ_INT(st.redis_publish_failed, 50);
		RT_ASSERT(st.redis_publish_dropped <= 1);
		kill(redis_pid, SIGCONT);
		RT_ASSERT_EQ_INT(wait_connected(f.b, 1, 10000), 0);
		rt_broker_redis_confirm(1);
		RT_ASSERT_EQ_INT(publish(f.b, "stall", "\"back\""), 0);
		rt_broker_redis_confirm(0);
		/* Stalled again: a confirmed call gives up after redis_timeout. */
		kill(redis_pid, SIGSTOP);
		rt_broker_redis_confirm(1);
		t0 = now_ms();
		r = publish(f.b, "stall", "\"unanswered\"");
		rt_broker_redis_confirm(0);
		RT_ASSERT_EQ_INT(r, -ETIMEDOUT);
		RT_ASSERT(now_ms() - t0 >= TIMEOUT_MS - 5 && now_ms() - t0 < TIMEOUT_MS + 1000);
		kill(redis_pid, SIGCONT);
	}
	teardown(&f);
}

/* A hub stopped and started again on the same broker (a CLI script's
 * Realtime\stop() then start()): between the two, publishes take the
 * synchronous path; the new hub connects and takes them over again. */
RT_TEST(restarted_hub_reconnects)
{
	fixture f;
	rt_broker_stats st;
	char err[256] = "", *got;

	if (setup(&f, "again") == 0) {
		RT_ASSERT_EQ_INT(publish(f.b, "again", "\"one\""), 0);
		rt_broker_redis.attach(f.b, NULL);
		RT_ASSERT_EQ_INT(rt_hub_stop(f.hub), 0);
		f.hub = NULL;
		stats(f.b, &st);
		RT_ASSERT_EQ_INT(st.broker_connected, 0);
		RT_ASSERT_EQ_INT(publish(f.b, "again", "\"two\""), 0); /* synchronous */
		if (rt_hub_start(&f.hub, &f.cfg, rt_broker_redis.link(f.b), -1, 0, err,
				sizeof(err)) != 0) {
			RT_FAIL_("rt_hub_start again: %s", err);
		} else {
			rt_broker_redis.attach(f.b, f.hub);
			RT_ASSERT_EQ_INT(wait_connected(f.b, 1, 5000), 0);
			RT_ASSERT_EQ_INT(publish(f.b, "again", "\"three\""), 0);
		}
		for (int i = 0; i < 3; i++) {
			static const char *const want[] = {"\"one\"", "\"two\"", "\"three\""};
			got = next_data(f.sub);
			if (got == NULL || strcmp(got, want[i]) != 0) {
				RT_FAIL_("message %d: got %s, expected %s", i, got ? got : "nothing", want[i]);
			}
			free(got);
		}
		RT_ASSERT_EQ_INT(wait_settled(f.b, 0, 5000), 0);
		stats(f.b, &st);
		RT_ASSERT_EQ_INT(st.redis_publish_handed, 2);
		RT_ASSERT_EQ_INT(st.redis_publish_failed, 0);
	}
	teardown(&f);
}

/* ---- history (broker/redis_hist.h) ---- */


/* The offset and epoch of the next message on sub, offset 0 when none. */
static rt_pos next_pos(redisContext *sub)
{
	redisReply *r = NULL;
	rt_pos pos = {0, 0};

	if (redisGetReply(sub, (void **) &r) == REDIS_OK && r != NULL && r->type == REDIS_REPLY_ARRAY
			&& r->elements == 3 && r->element[2]->type == REDIS_REPLY_STRING) {
		rt_msg *m = rt_msg_decode(r->element[2]->str, r->element[2]->len);
		if (m != NULL && m->positions != NULL) {
			pos = m->positions[0];
		}
		rt_msg_free(m);
	}
	freeReplyObject(r);
	return pos;
}

static int publish_at(rt_broker *b, const char *channel, const char *data, rt_pos *pos)
{
	rt_str ch;
	rt_msg_fields f;
	rt_msg msg;
	char err[256] = "";

	publish_view(&msg, &ch, &f, channel, data);
	rt_broker_redis_confirm(1);
	return rt_broker_redis.publish_at(b, &msg, pos, err, sizeof(err));
}

static void script_flush(void)
{
	redisContext *c = redis_connect();
	redisReply *r = c != NULL ? redisCommand(c, "SCRIPT FLUSH") : NULL;

	if (r == NULL || r->type != REDIS_REPLY_STATUS) {
		RT_FAIL_("SCRIPT FLUSH failed");
	}
	freeReplyObject(r);
	redisFree(c);
}

typedef struct taken {
	uint64_t offsets[16];
	int count;
} taken;

static void take(void *ctx, const rt_pos *pos, const unsigned char *bytes, size_t len)
{
	taken *t = ctx;
	rt_msg *m = rt_msg_decode((const char *) bytes, len);

	if (m != NULL && t->count < 16) {
		t->offsets[t->count++] = pos->offset;
	}
	rt_msg_free(m);
}

/* The "offset" of the next native frame of type type on fd (-1: another). */
static int64_t frame_offset(int fd, const char *type, int *recovered)
{
	char *got = ws_recv_text(fd, 3000);
	json_t *j = got != NULL ? json_loads(got, 0, NULL) : NULL;
	const char *t = j != NULL ? json_string_value(json_object_get(j, "type")) : NULL;
	int64_t offset = -1;

	if (t != NULL && strcmp(t, type) == 0) {
		offset = json_integer_value(json_object_get(j, "offset"));
		if (recovered != NULL) {
			*recovered = json_is_true(json_object_get(j, "recovered"));
		}
	} else {
		RT_FAIL_("expected %s, got %s", type, got != NULL ? got : "nothing");
	}
	json_decref(j);
	free(got);
	return offset;
}

/* Publishes on a history channel through the hub (handed, confirmed with
 * positions, after a SCRIPT FLUSH) and without one, reads the history from
 * PHP and recovers a client through the hub: every path of the scripts. */
RT_TEST(history_through_the_hub_and_without)
{
	fixture f;
	rt_pos p1, p2, pos = {0, 0}, since, top;
	taken t = {0};
	char err[256] = "", epoch[17], sub[256];
	int fd, recovered = 0;

	setup_history = "h-*:100:300";
	if (setup(&f, "h-1") == 0) {
		RT_ASSERT_EQ_INT(publish(f.b, "h-1", "1"), 0);
		RT_ASSERT_EQ_INT(publish_at(f.b, "h-1", "2", &pos), 0);
		RT_ASSERT_EQ_INT(pos.offset, 2);
		RT_ASSERT(pos.epoch != 0);
		p1 = next_pos(f.sub);
		p2 = next_pos(f.sub);
		RT_ASSERT_EQ_INT(p1.offset, 1);
		RT_ASSERT_EQ_INT(p2.offset, 2);
		RT_ASSERT(p1.epoch == pos.epoch && p2.epoch == pos.epoch);
		/* The hub's cached script is gone: NOSCRIPT, then EVAL. */
		script_flush();
		RT_ASSERT_EQ_INT(publish_at(f.b, "h-1", "3", &pos), 0);
		RT_ASSERT_EQ_INT(pos.offset, 3);
		RT_ASSERT_EQ_INT(next_pos(f.sub).offset, 3);
		/* Realtime\history(), on the PHP side's own connection. */
		script_flush();
		RT_ASSERT_EQ_INT(rt_broker_redis.history(f.b, "h-1", 3, NULL, 10, take, &t, &top, err,
				sizeof(err)), 1);
		RT_ASSERT_EQ_INT(t.count, 3);
		RT_ASSERT_EQ_INT(t.offsets[0], 1);
		RT_ASSERT_EQ_INT(top.offset, 3);
		since.offset = 1;
		since.epoch = pos.epoch;
		t.count = 0;
		RT_ASSERT_EQ_INT(rt_broker_redis.history(f.b, "h-1", 3, &since, 10, take, &t, &top, err,
				sizeof(err)), 1);
		RT_ASSERT_EQ_INT(t.count, 2);
		since.epoch ^= 1;
		RT_ASSERT_EQ_INT(rt_broker_redis.history(f.b, "h-1", 3, &since, 10, take, &t, &top, err,
				sizeof(err)), 0);
		RT_ASSERT_EQ_INT(rt_broker_redis.history(f.b, "news", 4, NULL, 10, take, &t, &top, err,
				sizeof(err)), -ENOENT);
		/* A client recovers through the hub's asynchronous read. */
		script_flush();
		fd = ws_open(f.cfg.port, "/ws");
		RT_ASSERT(fd >= 0);
		free(ws_recv_text(fd, 3000)); /* connected */
		snprintf(epoch, sizeof(epoch), "%016llx", (unsigned long long) pos.epoch);
		snprintf(sub, sizeof(sub), "{\"action\":\"subscribe\",\"channel\":\"h-1\","
				"\"since\":{\"offset\":1,\"epoch\":\"%s\"}}", epoch);
		RT_ASSERT_EQ_INT(ws_send_text(fd, sub), 0);
		RT_ASSERT_EQ_INT(frame_offset(fd, "subscribed", &recovered), 3);
		RT_ASSERT(recovered);
		RT_ASSERT_EQ_INT(frame_offset(fd, "message", NULL), 2);
		RT_ASSERT_EQ_INT(frame_offset(fd, "message", NULL), 3);
		close(fd);
		/* Without a hub: the script on the synchronous connection. */
		rt_broker_redis.attach(f.b, NULL);
		RT_ASSERT_EQ_INT(rt_hub_stop(f.hub), 0);
		f.hub = NULL;
		RT_ASSERT_EQ_INT(publish_at(f.b, "h-1", "4", &pos), 0);
		RT_ASSERT_EQ_INT(pos.offset, 4);
		RT_ASSERT_EQ_INT(next_pos(f.sub).offset, 4);
	}
	setup_history = NULL;
	teardown(&f);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RT_RUN(order_through_the_limit);
	RT_RUN(confirmed_after_handed);
	RT_RUN(stalled_redis_is_counted);
	RT_RUN(restarted_hub_reconnects);
	RT_RUN(history_through_the_hub_and_without);
	return rt_test_summary();
}
