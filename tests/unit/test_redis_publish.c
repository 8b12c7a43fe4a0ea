/* broker/redis.c: PHP's publishes handed to the hub thread. A real
 * redis-server on a free loopback port (stopped with SIGSTOP to stall it), a
 * real hub linked to it, and a plain hiredis subscriber reading what Redis
 * passes on: order and no loss through the hand-off queue at its limit
 * (realtime.redis_publish_queue), the confirmation path, and a stalled Redis
 * (calls return at once until the limit, then wait at most
 * realtime.redis_timeout; what Redis never answered is counted). */
#include "rt_test.h"
#include "wsclient.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
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

static int publish(rt_broker *b, const char *channel, const char *data)
{
	rt_str ch = {channel, strlen(channel)};
	rt_msg_fields f;
	rt_msg msg;
	char err[256] = "";
	int r;

	memset(&f, 0, sizeof(f));
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = data;
	f.data.len = strlen(data);
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
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
			|| set(&f->cfg, "redis_timeout", "300") || set(&f->cfg, "ping_interval", "0")) {
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

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RT_RUN(order_through_the_limit);
	RT_RUN(confirmed_after_handed);
	RT_RUN(stalled_redis_is_counted);
	RT_RUN(restarted_hub_reconnects);
	return rt_test_summary();
}
