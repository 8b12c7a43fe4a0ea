/* The redis broker: the hubs of an app on many hosts meet in one Redis.
 *
 * Routes (all under realtime.redis_prefix):
 *   c:<channel>  messages for a channel; a hub subscribes while it has a
 *                local subscriber, so no host receives what it cannot use
 *   u:<user>     messages for a user's connections, likewise
 *   n:<node>     messages for one connection of hub <node>
 *   state        the app-wide view (hub/view.h): state, syncs and
 *                departures; every hub subscribes
 *   node:<node>  a key each hub refreshes as its heartbeat
 * Pub/Sub delivers at most once: a message published while a hub is
 * disconnected is lost to that hub (docs/redis.md says what clients do).
 * PHP publishes over one synchronous connection per process; each hub
 * subscribes over hiredis's async API on its own loop. */
#include "broker/broker.h"
#include "hub/log.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define RT_BEAT_MS 5000
#define RT_BEAT_TTL_MS 15000   /* a silent hub is gone after this (docs: at most 20 s) */
#define RT_RETRY_MIN_MS 250
#define RT_RETRY_MAX_MS 10000
#define RT_KNOWN_ORIGINS 1024

struct rt_broker {
	rt_config cfg;
	/* PHP side */
	redisContext *sync;
	pid_t sync_pid;
	rt_hub_link link;
	/* hub side */
	rt_hub *hub;
	uv_loop_t *loop;
	redisAsyncContext *sub, *cmd;
	int sub_up, cmd_up, down_logged, stopping;
	uint32_t attempts;
	uv_timer_t retry, beat;
	int timers;
	uint64_t down_since;
};

/* ---- addresses and routes ---- */

static int rt__route(const rt_config *cfg, char kind, const char *name, size_t len, char *out,
		size_t outlen)
{
	int n = snprintf(out, outlen, "%s%c:%.*s", cfg->redis_prefix, kind, (int) len, name);
	return (n > 0 && (size_t) n < outlen) ? n : -1;
}

static int rt__node_route(const rt_config *cfg, const char *conn_id, size_t len, char *out,
		size_t outlen)
{
	const char *dot = memchr(conn_id, '.', len);
	return dot ? rt__route(cfg, 'n', conn_id, (size_t) (dot - conn_id), out, outlen) : -1;
}

/* ---- PHP side: a synchronous connection per process ---- */

static redisContext *rt__connect_sync(const rt_config *cfg, char *err, size_t errlen)
{
	struct timeval tv = {cfg->redis_timeout / 1000, (cfg->redis_timeout % 1000) * 1000};
	redisContext *c;
	redisReply *r;

	if (cfg->redis_address[0] == '/') {
		c = redisConnectUnixWithTimeout(cfg->redis_address, tv);
	} else {
		char host[256];
		const char *colon = strrchr(cfg->redis_address, ':');
		snprintf(host, sizeof(host), "%.*s", (int) (colon - cfg->redis_address), cfg->redis_address);
		c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
	}
	if (c == NULL || c->err) {
		snprintf(err, errlen, "cannot connect to Redis at %s (realtime.redis_address): %s",
				cfg->redis_address, c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (cfg->redis_password[0]) {
		r = redisCommand(c, "AUTH %s", cfg->redis_password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(err, errlen, "Redis at %s refused the password (realtime.redis_password): %s",
					cfg->redis_address, r ? r->str : c->errstr);
			freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	r = redisCommand(c, "SELECT %u", cfg->redis_database);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "Redis at %s: %s", cfg->redis_address,
				r ? r->str : (c->errstr[0] ? c->errstr : "no answer: is it a Redis server?"));
		freeReplyObject(r);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	return c;
}

static int rt__publish_one(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen)
{
	redisReply *r;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (b->sync == NULL || b->sync_pid != getpid()) {
			b->sync = rt__connect_sync(&b->cfg, err, errlen);
			b->sync_pid = getpid();
			if (b->sync == NULL) {
				return -ECONNREFUSED;
			}
		}
		r = redisCommand(b->sync, "PUBLISH %s %b", route, data, len);
		if (r != NULL && r->type != REDIS_REPLY_ERROR) {
			freeReplyObject(r);
			return 0;
		}
		snprintf(err, errlen, "Redis at %s: %s", b->cfg.redis_address,
				r ? r->str : b->sync->errstr);
		freeReplyObject(r);
		/* A connection broken since the last call gets one fresh try. */
		redisFree(b->sync);
		b->sync = NULL;
	}
	return -EIO;
}

/* Sends msg where it is needed, one message per channel so a hub that has
 * several of them delivers each once. send returns 0 or a negative errno. */
typedef int (*rt__send_fn)(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen);

static int rt__route_msg(rt_broker *b, const rt_msg *msg, rt__send_fn send, char *err,
		size_t errlen)
{
	char route[320], *buf;
	size_t cap = rt_msg_encoded_size(msg) + 16, n;
	int r = 0;

	buf = malloc(cap);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	switch (msg->type) {
	case RT_MSG_PUBLISH:
		for (uint32_t i = 0; i < msg->channel_count && r == 0; i++) {
			rt_msg one = *msg;
			one.channels = &msg->channels[i];
			one.channel_count = 1;
			n = rt_msg_encode(&one, buf, cap);
			if (rt__route(&b->cfg, 'c', msg->channels[i].ptr, msg->channels[i].len, route,
					sizeof(route)) < 0) {
				continue;
			}
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	case RT_MSG_WHISPER:
		n = rt_msg_encode(msg, buf, cap);
		if (rt__route(&b->cfg, 'c', msg->channels[0].ptr, msg->channels[0].len, route,
				sizeof(route)) >= 0) {
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	case RT_MSG_TO_USER:
	case RT_MSG_DISCONNECT_USER:
		n = rt_msg_encode(msg, buf, cap);
		if (rt__route(&b->cfg, 'u', msg->target.ptr, msg->target.len, route, sizeof(route)) >= 0) {
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	case RT_MSG_TO_CONNECTION:
		n = rt_msg_encode(msg, buf, cap);
		if (rt__node_route(&b->cfg, msg->target.ptr, msg->target.len, route, sizeof(route)) >= 0) {
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	default:
		n = rt_msg_encode(msg, buf, cap);
		snprintf(route, sizeof(route), "%sstate", b->cfg.redis_prefix);
		r = send(b, route, buf, n, err, errlen);
	}
	free(buf);
	return r;
}

/* ---- hub side ---- */

static void rt__connect_async(rt_broker *b);

static uint64_t rt__now_ms(rt_broker *b)
{
	return uv_now(b->loop);
}

static void rt__on_retry(uv_timer_t *t)
{
	rt__connect_async(t->data);
}

/* Exponential backoff with jitter, so hubs do not all come back at once. */
static void rt__schedule_retry(rt_broker *b)
{
	uint32_t delay = RT_RETRY_MIN_MS << (b->attempts < 6 ? b->attempts : 6);
	uint32_t jitter;

	if (b->stopping) {
		return;
	}
	if (delay > RT_RETRY_MAX_MS) {
		delay = RT_RETRY_MAX_MS;
	}
	if (getrandom(&jitter, sizeof(jitter), GRND_NONBLOCK) != sizeof(jitter)) {
		jitter = (uint32_t) rt__now_ms(b);
	}
	delay = delay / 2 + jitter % (delay / 2 + 1);
	b->attempts++;
	uv_timer_start(&b->retry, rt__on_retry, delay, 0);
}

static void rt__went_down(rt_broker *b, const char *why)
{
	int was_up = b->sub_up && b->cmd_up;

	b->sub_up = b->cmd_up = 0;
	if (b->sub != NULL) {
		redisAsyncContext *c = b->sub;
		b->sub = NULL;
		redisAsyncDisconnect(c);
	}
	if (b->cmd != NULL) {
		redisAsyncContext *c = b->cmd;
		b->cmd = NULL;
		redisAsyncDisconnect(c);
	}
	if (was_up || !b->down_logged) {
		rt_log(RT_LOG_ERROR, "Redis at %s unavailable (%s): serving local clients only, "
				"reconnecting", b->cfg.redis_address, why);
		b->down_logged = 1;
		b->down_since = rt__now_ms(b);
	}
	rt__schedule_retry(b);
}

static void rt__on_message(redisAsyncContext *c, void *reply, void *privdata)
{
	rt_broker *b = privdata;
	redisReply *r = reply;
	rt_msg *msg;
	(void) c;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3
			|| r->element[0]->type != REDIS_REPLY_STRING
			|| strcmp(r->element[0]->str, "message") != 0) {
		return;
	}
	msg = rt_msg_decode(r->element[2]->str, r->element[2]->len);
	if (msg != NULL) {
		rt_hub_deliver(b->hub, msg);
	}
}

static void rt__subscribe(void *ctx, char kind, const char *name, size_t len)
{
	rt_broker *b = ctx;
	char route[320];

	if (b->sub != NULL && b->sub_up && rt__route(&b->cfg, kind, name, len, route, sizeof(route)) > 0) {
		redisAsyncCommand(b->sub, rt__on_message, b, "SUBSCRIBE %s", route);
	}
}

static void rt__both_up(rt_broker *b)
{
	char route[320];
	rt_msg_fields f = {0};
	rt_msg *sync;

	if (b->down_logged) {
		rt_log(RT_LOG_INFO, "Redis at %s is back after %llu ms; resubscribed",
				b->cfg.redis_address, (unsigned long long) (rt__now_ms(b) - b->down_since));
		b->down_logged = 0;
	}
	b->attempts = 0;
	snprintf(route, sizeof(route), "%sstate", b->cfg.redis_prefix);
	redisAsyncCommand(b->sub, rt__on_message, b, "SUBSCRIBE %s", route);
	snprintf(route, sizeof(route), "%sn:%u", b->cfg.redis_prefix, rt_hub_node_id(b->hub));
	redisAsyncCommand(b->sub, rt__on_message, b, "SUBSCRIBE %s", route);
	rt_hub_each_interest(b->hub, rt__subscribe, b);
	/* What the others hold, and what we hold, may have changed unseen. */
	f.origin = rt_hub_node_id(b->hub);
	sync = rt_msg_new(RT_MSG_SYNC, &f);
	if (sync != NULL) {
		b->link.publish(b, sync);
	}
	rt_hub_report_state(b->hub);
}

static void rt__on_setup_reply(redisAsyncContext *c, void *reply, void *privdata)
{
	rt_broker *b = privdata;
	redisReply *r = reply;

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		char why[200];
		snprintf(why, sizeof(why), "%s", r ? r->str : "no reply");
		if (r != NULL && strstr(r->str, "NOAUTH") == NULL && strstr(r->str, "WRONGPASS") == NULL
				&& strstr(r->str, "invalid password") == NULL) {
			rt_log(RT_LOG_ERROR, "Redis at %s: %s", b->cfg.redis_address, r->str);
		} else if (r != NULL) {
			rt_log(RT_LOG_ERROR, "Redis at %s refused the password (realtime.redis_password): %s",
					b->cfg.redis_address, r->str);
		}
		rt__went_down(b, why);
		return;
	}
	if (c == b->sub) {
		b->sub_up = 1;
	} else if (c == b->cmd) {
		b->cmd_up = 1;
	}
	if (b->sub_up && b->cmd_up) {
		rt__both_up(b);
	}
}

static void rt__on_connect(const redisAsyncContext *c, int status)
{
	rt_broker *b = c->data;

	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback. */
		if (c == b->sub) {
			b->sub = NULL;
		} else if (c == b->cmd) {
			b->cmd = NULL;
		}
		rt__went_down(b, c->errstr);
		return;
	}
	/* AUTH then SELECT; the last reply says whether the link is usable. */
	if (b->cfg.redis_password[0]) {
		redisAsyncCommand((redisAsyncContext *) c, NULL, NULL, "AUTH %s", b->cfg.redis_password);
	}
	redisAsyncCommand((redisAsyncContext *) c, rt__on_setup_reply, b, "SELECT %u",
			b->cfg.redis_database);
}

static void rt__on_disconnect(const redisAsyncContext *c, int status)
{
	rt_broker *b = c->data;
	(void) status;

	if (c == b->sub) {
		b->sub = NULL;
	} else if (c == b->cmd) {
		b->cmd = NULL;
	} else {
		return; /* one we let go of on purpose */
	}
	rt__went_down(b, c->errstr[0] ? c->errstr : "connection closed");
}

static redisAsyncContext *rt__open_async(rt_broker *b)
{
	redisAsyncContext *c;

	if (b->cfg.redis_address[0] == '/') {
		c = redisAsyncConnectUnix(b->cfg.redis_address);
	} else {
		char host[256];
		const char *colon = strrchr(b->cfg.redis_address, ':');
		snprintf(host, sizeof(host), "%.*s", (int) (colon - b->cfg.redis_address),
				b->cfg.redis_address);
		c = redisAsyncConnect(host, atoi(colon + 1));
	}
	if (c == NULL || c->err) {
		if (c) {
			redisAsyncFree(c);
		}
		return NULL;
	}
	c->data = b;
	redisLibuvAttach(c, b->loop);
	redisAsyncSetConnectCallback(c, rt__on_connect);
	redisAsyncSetDisconnectCallback(c, rt__on_disconnect);
	return c;
}

static void rt__connect_async(rt_broker *b)
{
	if (b->stopping || b->sub != NULL || b->cmd != NULL) {
		return;
	}
	b->sub = rt__open_async(b);
	b->cmd = b->sub ? rt__open_async(b) : NULL;
	if (b->sub == NULL || b->cmd == NULL) {
		rt__went_down(b, "cannot open a connection");
	}
}

/* Hubs whose heartbeat expired are gone: the first hub to claim one tells all. */
static void rt__on_claim(redisAsyncContext *c, void *reply, void *privdata)
{
	rt_broker *b = c->data;
	redisReply *r = reply;
	uint32_t origin = (uint32_t) (uintptr_t) privdata;
	rt_msg_fields f = {0};
	rt_msg *msg;

	if (r == NULL || r->type != REDIS_REPLY_STATUS) {
		return; /* another hub claimed it */
	}
	rt_log(RT_LOG_WARNING, "hub %u stopped answering; forgetting its clients", origin);
	f.origin = origin;
	f.count = rt_hub_node_id(b->hub);
	msg = rt_msg_new(RT_MSG_GONE, &f);
	if (msg != NULL) {
		b->link.publish(b, msg);
	}
}

static void rt__on_exists(redisAsyncContext *c, void *reply, void *privdata)
{
	rt_broker *b = c->data;
	redisReply *r = reply;
	uint32_t origin = (uint32_t) (uintptr_t) privdata;

	if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 0 && b->cmd != NULL) {
		redisAsyncCommand(b->cmd, rt__on_claim, privdata, "SET %sgone:%u %u NX PX 60000",
				b->cfg.redis_prefix, origin, rt_hub_node_id(b->hub));
	}
}

static void rt__on_beat(uv_timer_t *t)
{
	rt_broker *b = t->data;
	uint32_t origins[RT_KNOWN_ORIGINS];
	size_t n;

	if (!(b->sub_up && b->cmd_up)) {
		return;
	}
	redisAsyncCommand(b->cmd, NULL, NULL, "SET %snode:%u 1 PX %d", b->cfg.redis_prefix,
			rt_hub_node_id(b->hub), RT_BEAT_TTL_MS);
	n = rt_hub_known_origins(b->hub, origins, RT_KNOWN_ORIGINS);
	for (size_t i = 0; i < n; i++) {
		redisAsyncCommand(b->cmd, rt__on_exists, (void *) (uintptr_t) origins[i],
				"EXISTS %snode:%u", b->cfg.redis_prefix, origins[i]);
	}
}

static int rt__link_start(void *ctx, rt_hub *hub, uv_loop_t *loop)
{
	rt_broker *b = ctx;

	b->hub = hub;
	b->loop = loop;
	uv_timer_init(loop, &b->retry);
	uv_timer_init(loop, &b->beat);
	b->retry.data = b->beat.data = b;
	b->timers = 1;
	uv_timer_start(&b->beat, rt__on_beat, 100, RT_BEAT_MS);
	rt__connect_async(b);
	return 0;
}

static int rt__send_async(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen)
{
	(void) err;
	(void) errlen;
	redisAsyncCommand(b->cmd, NULL, NULL, "PUBLISH %s %b", route, data, len);
	return 0;
}

static void rt__link_publish(void *ctx, rt_msg *msg)
{
	rt_broker *b = ctx;
	char err[160];

	if (b->cmd != NULL && b->cmd_up && b->sub_up) {
		rt__route_msg(b, msg, rt__send_async, err, sizeof(err));
		rt_msg_free(msg);
	} else if (msg->type != RT_MSG_SYNC) {
		/* Redis is away: this hub's own clients still get what is meant for them. */
		rt_hub_deliver(b->hub, msg);
	} else {
		rt_msg_free(msg);
	}
}

static void rt__link_tick(void *ctx)
{
	(void) ctx;
}

static void rt__link_stop(void *ctx)
{
	rt_broker *b = ctx;
	rt_msg_fields f = {0};
	rt_msg *msg;
	char err[160];

	if (b->stopping) {
		return;
	}
	/* Leave now, announcing ourselves as the reporter: the hub that
	 * notices a departure is the one that sends its webhooks. */
	f.origin = rt_hub_node_id(b->hub);
	f.count = 0;
	msg = rt_msg_new(RT_MSG_GONE, &f);
	if (msg != NULL && b->cmd != NULL && b->cmd_up) {
		rt__route_msg(b, msg, rt__send_async, err, sizeof(err));
		redisAsyncCommand(b->cmd, NULL, NULL, "DEL %snode:%u", b->cfg.redis_prefix,
				rt_hub_node_id(b->hub));
	}
	rt_msg_free(msg);
	b->stopping = 1;
	if (b->sub != NULL) {
		redisAsyncContext *c = b->sub;
		b->sub = NULL;
		redisAsyncDisconnect(c);
	}
	if (b->cmd != NULL) {
		redisAsyncContext *c = b->cmd;
		b->cmd = NULL;
		redisAsyncDisconnect(c);
	}
	if (b->timers) {
		uv_timer_stop(&b->retry);
		uv_timer_stop(&b->beat);
		uv_close((uv_handle_t *) &b->retry, NULL);
		uv_close((uv_handle_t *) &b->beat, NULL);
		b->timers = 0;
	}
}

static void rt__link_interest(void *ctx, char kind, const char *name, size_t len, int on)
{
	rt_broker *b = ctx;
	char route[320];

	if (b->sub == NULL || !b->sub_up || rt__route(&b->cfg, kind, name, len, route, sizeof(route)) < 0) {
		return; /* resubscribed from the hub's state on reconnect */
	}
	redisAsyncCommand(b->sub, on ? rt__on_message : NULL, b, on ? "SUBSCRIBE %s" : "UNSUBSCRIBE %s",
			route);
}

/* ---- PHP side ---- */

static int rt__open(rt_broker **out, const rt_config *cfg, char *err, size_t errlen)
{
	rt_broker *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->cfg = *cfg;
	b->link.ctx = b;
	b->link.start = rt__link_start;
	b->link.publish = rt__link_publish;
	b->link.tick = rt__link_tick;
	b->link.stop = rt__link_stop;
	b->link.interest = rt__link_interest;
	*out = b;
	return 0;
}

static const rt_hub_link *rt__link(rt_broker *b)
{
	return &b->link;
}

static void rt__attach(rt_broker *b, rt_hub *hub)
{
	(void) b;
	(void) hub;
}

static int rt__sync_send(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen)
{
	return rt__publish_one(b, route, data, len, err, errlen);
}

static int rt__publish(rt_broker *b, rt_msg *msg, char *err, size_t errlen)
{
	int r = rt__route_msg(b, msg, rt__sync_send, err, errlen);
	rt_msg_free(msg);
	return r;
}

static void rt__close(rt_broker *b)
{
	if (b->sync != NULL && b->sync_pid == getpid()) {
		redisFree(b->sync);
	}
	free(b);
}

const rt_broker_ops rt_broker_redis = {
	.name = "redis",
	.open = rt__open,
	.link = rt__link,
	.attach = rt__attach,
	.publish = rt__publish,
	.close = rt__close,
};
