/* The redis broker: the hubs of an app on many hosts meet in one Redis.
 *
 * Routes (all under realtime.redis_prefix):
 *   c:<channel>  messages for a channel; a hub subscribes while it has a
 *                local subscriber, so no host receives what it cannot use
 *   u:<user>     messages for a user's connections, likewise
 *   n:<node>     messages for one connection of hub <node>
 *   state        the app-wide view (hub/model/view.h): state, syncs and
 *                departures; every hub subscribes
 *   node:<node>  a key each hub refreshes as its heartbeat
 * Pub/Sub delivers at most once: a message published while a hub is
 * disconnected is lost to that hub (docs/redis.md says what clients do).
 * Each hub subscribes and publishes over hiredis's async API on its own
 * loop. PHP's publishes are handed to this process's hub (a bounded queue,
 * realtime.redis_publish_queue) so a request never waits for Redis; a
 * process without a connected hub (CLI, a hub not up yet or cut off from
 * Redis) publishes over one synchronous connection of its own. */
#include "broker/broker.h"
#include "hub/util/log.h"

#include "broker/redis.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include "broker/redis_reader.h"
#include "broker/redis_hist.h"
#include <openssl/sha.h>
#include "broker/redis_uv.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define RT_BEAT_MS 5000
#define RT_BEAT_TTL_MS 15000   /* a silent hub is gone after this (docs: at most 20 s) */
#define RT_SETUP_MIN_MS 1000   /* longest wait for a connection to be usable */
#define RT_PENDING_MAX 10000   /* state changes kept while Redis is away */
#define RT_RETRY_MIN_MS 250
#define RT_RETRY_MAX_MS 10000
#define RT_KNOWN_ORIGINS 1024
#define RT_PROBE_MIN_MS 50     /* shortest period of the liveness probe */

/* A PHP caller of Realtime\broadcastConfirmed() waiting for Redis's answers
 * to its publishes; freed by whichever of it and the hub lets go last. */
typedef struct rt__wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint32_t left;             /* PUBLISHes not answered yet */
	int refs;
	int failed;
	char err[160];
	rt_pos *pos;               /* one per channel: where the history put it (offset 0: none) */
	uint32_t npos;
} rt__wait;

/* A publish of PHP code on its way to the hub thread. */
typedef struct rt__handed {
	struct rt__handed *next;
	rt_msg *msg;
	rt__wait *wait;            /* NULL: nobody waits */
	uint32_t cost;             /* PUBLISHes it makes (one per channel) */
} rt__handed;

typedef struct rt__seen {
	uint32_t origin;
	uint64_t since_ms;
} rt__seen;

struct rt_broker {
	rt_config cfg;
	char ns[96];               /* prefix and database: Pub/Sub channels are not per database */
	char sha_publish[41], sha_read[41]; /* of the history scripts (EVALSHA) */
	/* PHP side: the synchronous connection, for history reads and for
	 * publishes while no hub of this process takes them. PHP threads of
	 * one process (ZTS) share it under sync_lock: a hiredis context is not
	 * thread-safe, and this path is the rare one (a hub's process hands
	 * its publishes to the hub's connection under hand_lock instead). */
	pthread_mutex_t sync_lock;
	redisContext *sync;
	pid_t sync_pid;
	rt_pos *sync_pos;          /* where rt__hsend_sync puts positions, or NULL */
	rt_hub_link link;
	/* hub side */
	rt_hub *hub;
	uv_loop_t *loop;
	redisAsyncContext *sub, *cmd;
	int sub_up, cmd_up, down_logged, stopping;
	uint32_t attempts;
	uv_timer_t retry, beat, guard, probe;
	int timers;
	/* Liveness: a PING (cmd) and a repeated SUBSCRIBE (sub) out since
	 * probe_sent_ms, each cleared by its answer. */
	int cmd_waiting, sub_waiting;
	uint64_t probe_sent_ms;
	/* Counters for status() (rt_broker_stats), written on the hub thread. */
	_Atomic uint64_t stat_local_only, stat_unconfirmed, stat_queue_full, stat_outages;
	_Atomic uint64_t stat_undecodable;
	_Atomic int stat_connected;
	uint64_t stat_reconnects;      /* hub thread only: back after a loss (/metrics) */
	int ever_up;
	uint64_t down_since;
	int tearing_down;
	/* State changes made while Redis was away, replayed when it is back. */
	rt_msg *pending, **pending_tail;
	size_t pending_count;
	int pending_overflow;
	/* PHP -> hub hand-off of publishes. hand_lock guards the list and
	 * hand_open (hand_wake is live: the hub of hand_pid runs its loop). */
	pthread_mutex_t hand_lock;
	pthread_cond_t hand_room;        /* signalled as Redis answers, for callers at the limit */
	_Atomic int hand_waiters;
	uv_async_t hand_wake;
	int hand_open;
	_Atomic pid_t hand_pid;
	rt__handed *hand_head, **hand_tail;
	_Atomic uint32_t hand_inflight;  /* handed PUBLISHes Redis has not answered */
	rt__wait *sending_wait;          /* hub thread: the waiter of what is being routed */
	uint32_t sending_count;          /* hub thread: PUBLISHes issued for it so far */
	_Atomic uint64_t stat_handed, stat_publish_failed, stat_publish_dropped;
	/* When each hub was first heard of: one is taken for dead only after a
	 * whole heartbeat lifetime without its key. */
	rt__seen seen[RT_KNOWN_ORIGINS];
	size_t seen_count;
};

/* ---- addresses and routes ---- */

static int rt__route(const rt_broker *b, char kind, const char *name, size_t len, char *out,
		size_t outlen)
{
	int n = snprintf(out, outlen, "%s%c:%.*s", b->ns, kind, (int) len, name);
	return (n > 0 && (size_t) n < outlen) ? n : -1;
}

static int rt__node_route(const rt_broker *b, const char *conn_id, size_t len, char *out,
		size_t outlen)
{
	const char *dot = memchr(conn_id, '.', len);
	return dot ? rt__route(b, 'n', conn_id, (size_t) (dot - conn_id), out, outlen) : -1;
}

/* hiredis reports a timed-out socket read as EAGAIN's text. */
static const char *rt__why(const rt_config *cfg, const char *errstr, char *buf, size_t buflen)
{
	if (errstr != NULL && strstr(errstr, "temporarily unavailable") != NULL) {
		snprintf(buf, buflen, "no answer within %u ms (realtime.redis_timeout): is it a Redis server?",
				cfg->redis_timeout);
		return buf;
	}
	return errstr;
}

/* ---- PHP side: a synchronous connection per process ---- */

/* hiredis opens its sockets without close-on-exec; set it at once, so a
 * child PHP starts (proc_open, exec) does not inherit the Redis connection. */
static void rt__cloexec(int fd)
{
	int flags = fd >= 0 ? fcntl(fd, F_GETFD) : -1;

	if (flags >= 0) {
		fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
}

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
		char why[128];
		snprintf(err, errlen, "cannot connect to Redis at %s (realtime.redis_address): %s",
				cfg->redis_address, c ? rt__why(cfg, c->errstr, why, sizeof(why)) : "out of memory");
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	rt__cloexec(c->fd);
	rt_redis_reader_limit_history(c->reader);
	if (cfg->redis_password[0]) {
		r = redisCommand(c, "AUTH %s", cfg->redis_password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			char why[128];
			snprintf(err, errlen, "Redis at %s refused the password (realtime.redis_password): %s",
					cfg->redis_address, r ? r->str : rt__why(cfg, c->errstr, why, sizeof(why)));
			freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	r = redisCommand(c, "SELECT %u", cfg->redis_database);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		char why[128];
		snprintf(err, errlen, "Redis at %s: %s", cfg->redis_address,
				r ? r->str : (c->errstr[0] ? rt__why(cfg, c->errstr, why, sizeof(why))
						: "no answer: is it a Redis server?"));
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
		{
			char why[128];
			snprintf(err, errlen, "Redis at %s: %s", b->cfg.redis_address,
					r ? r->str : rt__why(&b->cfg, b->sync->errstr, why, sizeof(why)));
		}
		freeReplyObject(r);
		/* A connection broken since the last call gets one fresh try. */
		redisFree(b->sync);
		b->sync = NULL;
	}
	return -EIO;
}

/* ---- history (realtime.history): broker/redis_hist.h ---- */

/* The arguments of one EVALSHA of a history script, in one allocation so
 * a command Redis answers NOSCRIPT can be sent again as EVAL. */
typedef struct rt__eval {
	int argc;
	const char *argv[11];
	size_t lens[11];
	char *mem;
} rt__eval;

static void rt__eval_free(rt__eval *e)
{
	free(e->mem);
	e->mem = NULL;
}

static int rt__eval_add(rt__eval *e, char **at, const char *bytes, size_t len)
{
	memcpy(*at, bytes, len);
	e->argv[e->argc] = *at;
	e->lens[e->argc] = len;
	e->argc++;
	*at += len;
	return 0;
}

/* EVALSHA sha 2 <stream> <meta> extra[0..n): the keys of channel. */
static int rt__eval_make(rt__eval *e, const rt_broker *b, const char *sha, const rt_str *channel,
		const rt_str *extra, int n)
{
	size_t need = 40 + 1 + 2 * (strlen(b->ns) + 5 + channel->len + 5) + 1;
	char *at, num[4] = "2";

	for (int i = 0; i < n; i++) {
		need += extra[i].len;
	}
	e->argc = 0;
	e->mem = malloc(need);
	if (e->mem == NULL) {
		return -ENOMEM;
	}
	at = e->mem;
	e->argv[e->argc] = "EVALSHA";
	e->lens[e->argc++] = 7;
	rt__eval_add(e, &at, sha, 40);
	rt__eval_add(e, &at, num, 1);
	e->argv[e->argc] = at;
	at += sprintf(at, "%shist:%.*s", b->ns, (int) channel->len, channel->ptr);
	e->lens[e->argc] = (size_t) (at - e->argv[e->argc]);
	e->argc++;
	rt__eval_add(e, &at, e->argv[3], e->lens[3]);
	rt__eval_add(e, &at, ":meta", 5);
	e->lens[4] += e->lens[5];
	e->argc--;
	for (int i = 0; i < n; i++) {
		rt__eval_add(e, &at, extra[i].ptr != NULL ? extra[i].ptr : "", extra[i].len);
	}
	return 0;
}

/* NOSCRIPT: the server lost its script cache (restarted, SCRIPT FLUSH). */
static int rt__noscript(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ERROR && r->str != NULL && r->len >= 8
			&& memcmp(r->str, "NOSCRIPT", 8) == 0;
}

static void rt__eval_as_script(rt__eval *e, const char *script)
{
	e->argv[0] = "EVAL";
	e->lens[0] = 4;
	e->argv[1] = script;
	e->lens[1] = strlen(script);
}

static uint64_t rt__fresh_epoch(void)
{
	uint64_t e = 0;

	while (e == 0) {
		if (getrandom(&e, sizeof(e), GRND_NONBLOCK) != sizeof(e)) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			e = ((uint64_t) ts.tv_sec << 32) ^ (uint64_t) ts.tv_nsec ^ ((uint64_t) getpid() << 16);
		}
	}
	return e;
}

/* The publish script's arguments for one channel's message. */
static int rt__eval_publish(rt__eval *e, const rt_broker *b, const char *route, const rt_msg *one,
		const rt_history_rule *rule)
{
	char *head, tail[8], epoch[8], max[16], ttl[24];
	size_t head_len, tail_len;
	rt_str extra[6];
	int r = rt_redis_hist_split(one, &head, &head_len, tail, &tail_len);

	if (r != 0) {
		return r;
	}
	rt_redis_hist_epoch_bytes(rt__fresh_epoch(), epoch);
	snprintf(max, sizeof(max), "%u", rule->max_messages);
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long) rule->max_seconds * 1000ull);
	extra[0] = (rt_str) {route, strlen(route)};
	extra[1] = (rt_str) {head, head_len};
	extra[2] = (rt_str) {tail, tail_len};
	extra[3] = (rt_str) {epoch, 8};
	extra[4] = (rt_str) {max, strlen(max)};
	extra[5] = (rt_str) {ttl, strlen(ttl)};
	r = rt__eval_make(e, b, b->sha_publish, &one->channels[0], extra, 6);
	free(head);
	return r;
}

/* The read script's arguments; limit already capped by the rule. */
static int rt__eval_read(rt__eval *e, const rt_broker *b, const char *channel, size_t len,
		const rt_pos *since, uint32_t limit, const rt_history_rule *rule)
{
	char off[24] = "", epoch[8] = {0}, lim[16], ttl[24];
	rt_str ch = {channel, len}, extra[4];

	if (since != NULL) {
		snprintf(off, sizeof(off), "%llu", (unsigned long long) since->offset);
		rt_redis_hist_epoch_bytes(since->epoch, epoch);
	}
	snprintf(lim, sizeof(lim), "%u", limit);
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long) rule->max_seconds * 1000ull);
	extra[0] = (rt_str) {off, strlen(off)};
	extra[1] = (rt_str) {epoch, 8};
	extra[2] = (rt_str) {lim, strlen(lim)};
	extra[3] = (rt_str) {ttl, strlen(ttl)};
	return rt__eval_make(e, b, b->sha_read, &ch, extra, 4);
}

/* How many messages a read may return: the caller's limit within the
 * channel's rule. */
static uint32_t rt__read_cap(const rt_history_rule *rule, uint32_t limit)
{
	if (limit > RT_HISTORY_MAX_MESSAGES) {
		limit = RT_HISTORY_MAX_MESSAGES;
	}
	return limit > rule->max_messages ? rule->max_messages : limit;
}

static void rt__sha1_hex(const char *text, char out[41])
{
	unsigned char md[SHA_DIGEST_LENGTH];

	SHA1((const unsigned char *) text, strlen(text), md);
	for (int i = 0; i < SHA_DIGEST_LENGTH; i++) {
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	}
}

/* Sends msg where it is needed, one message per channel so a hub that has
 * several of them delivers each once. send returns 0 or a negative errno;
 * hsend, for a channel with a history, makes its message one of the
 * history through the publish script (index: the channel's). */
typedef int (*rt__send_fn)(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen);
typedef int (*rt__hsend_fn)(rt_broker *b, const char *route, const rt_msg *one,
		const rt_history_rule *rule, uint32_t index, char *err, size_t errlen);

static int rt__route_msg(rt_broker *b, const rt_msg *msg, rt__send_fn send, rt__hsend_fn hsend,
		char *err, size_t errlen)
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
			const rt_history_rule *rule;
			one.channels = &msg->channels[i];
			one.channel_count = 1;
			one.positions = NULL;
			if (rt__route(b, 'c', msg->channels[i].ptr, msg->channels[i].len, route,
					sizeof(route)) < 0) {
				continue;
			}
			rule = hsend != NULL ? rt_history_rule_for(&b->cfg.history, msg->channels[i].ptr,
					msg->channels[i].len) : NULL;
			if (rule != NULL) {
				r = hsend(b, route, &one, rule, i, err, errlen);
				continue;
			}
			n = rt_msg_encode(&one, buf, cap);
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	case RT_MSG_WHISPER:
		n = rt_msg_encode(msg, buf, cap);
		if (rt__route(b, 'c', msg->channels[0].ptr, msg->channels[0].len, route,
				sizeof(route)) >= 0) {
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	case RT_MSG_TO_USER:
	case RT_MSG_DISCONNECT_USER:
		n = rt_msg_encode(msg, buf, cap);
		if (rt__route(b, 'u', msg->target.ptr, msg->target.len, route, sizeof(route)) >= 0) {
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	case RT_MSG_TO_CONNECTION:
		n = rt_msg_encode(msg, buf, cap);
		if (rt__node_route(b, msg->target.ptr, msg->target.len, route, sizeof(route)) >= 0) {
			r = send(b, route, buf, n, err, errlen);
		}
		break;
	default:
		n = rt_msg_encode(msg, buf, cap);
		snprintf(route, sizeof(route), "%sstate", b->ns);
		r = send(b, route, buf, n, err, errlen);
	}
	free(buf);
	return r;
}

/* ---- hub side ---- */

static void rt__connect_async(rt_broker *b);
static void rt__link_stats(void *ctx, uint64_t *out);
static int rt__send_async(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen);
static void rt__hand_open(rt_broker *b);

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

/* Lets go of both connections at once; hiredis defers the free when
 * called from one of its own callbacks. */
static void rt__drop_connections(rt_broker *b)
{
	redisAsyncContext *sub = b->sub, *cmd = b->cmd;

	b->sub = b->cmd = NULL;
	b->sub_up = b->cmd_up = 0;
	b->tearing_down = 1;
	if (sub != NULL) {
		redisAsyncFree(sub);
	}
	if (cmd != NULL) {
		redisAsyncFree(cmd);
	}
	b->tearing_down = 0;
}

static void rt__went_down(rt_broker *b, const char *why)
{
	int was_up = b->sub_up && b->cmd_up;

	if (b->tearing_down) {
		return;
	}
	uv_timer_stop(&b->guard);
	uv_timer_stop(&b->probe);
	atomic_store(&b->stat_connected, 0);
	rt__drop_connections(b);
	if (was_up || !b->down_logged) {
		atomic_fetch_add_explicit(&b->stat_outages, 1, memory_order_relaxed);
		rt_log(RT_LOG_ERROR, "Redis at %s unavailable (%s): serving local clients only, "
				"reconnecting", b->cfg.redis_address, why);
		b->down_logged = 1;
		b->down_since = rt__now_ms(b);
	}
	rt__schedule_retry(b);
}

static void rt__on_message(redisAsyncContext *c, void *reply, void *privdata);

/* A publish on the every-channel pattern (Mercure selectors): delivered
 * unless the hub has local subscribers on its channel, whose own
 * subscription brings it. Only single-channel publishes travel on channel
 * routes (rt__route_msg splits them); anything else here is dropped. */
static void rt__on_pmessage(rt_broker *b, redisReply *r)
{
	redisReply *payload = r->element[3];
	rt_msg *msg = payload != NULL && payload->type == REDIS_REPLY_STRING && payload->str != NULL
			? rt_msg_decode(payload->str, payload->len) : NULL;

	for (uint32_t i = 0; msg != NULL && msg->positions != NULL && i < msg->channel_count; i++) {
		if (msg->positions[i].offset == 0 || msg->positions[i].offset > RT_REDIS_HIST_MAX_OFFSET
				|| msg->positions[i].epoch == 0) {
			rt_msg_free(msg);
			msg = NULL;
		}
	}
	if (msg == NULL || msg->type != RT_MSG_PUBLISH || msg->channel_count != 1
			|| rt_hub_has_channel(b->hub, msg->channels[0].ptr, msg->channels[0].len)) {
		rt_msg_free(msg);
		return;
	}
	rt_hub_deliver(b->hub, msg);
}

static void rt__on_message(redisAsyncContext *c, void *reply, void *privdata)
{
	rt_broker *b = privdata;
	redisReply *r = reply;
	rt_msg *msg;

	if (r != NULL && c == b->sub) {
		b->sub_waiting = 0; /* any answer shows the connection alive */
	}
	if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 4 && r->element != NULL
			&& r->element[0] != NULL && r->element[0]->type == REDIS_REPLY_STRING
			&& r->element[0]->len == 8 && memcmp(r->element[0]->str, "pmessage", 8) == 0) {
		rt__on_pmessage(b, r);
		return;
	}
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element == NULL
			|| r->element[0] == NULL || r->element[0]->type != REDIS_REPLY_STRING
			|| r->element[0]->str == NULL || r->element[0]->len != 7
			|| memcmp(r->element[0]->str, "message", 7) != 0) {
		return; /* subscribe confirmations and the like */
	}
	/* What a Redis server sends is checked as any network input is (anyone
	 * who can PUBLISH on this Redis can send bytes here): the payload must
	 * be a string whose length the reply itself vouches for. */
	msg = (r->element[2] != NULL && r->element[2]->type == REDIS_REPLY_STRING
			&& r->element[2]->str != NULL)
			? rt_msg_decode(r->element[2]->str, r->element[2]->len) : NULL;
	/* A position no publish script gives (offset 0 or past 2^53, epoch 0)
	 * would move subscribers' positions where no real message follows. */
	for (uint32_t i = 0; msg != NULL && msg->positions != NULL && i < msg->channel_count; i++) {
		if (msg->positions[i].offset == 0 || msg->positions[i].offset > RT_REDIS_HIST_MAX_OFFSET
				|| msg->positions[i].epoch == 0) {
			rt_msg_free(msg);
			msg = NULL;
		}
	}
	if (msg == NULL) {
		static rt_log_limit undecodable_log;
		size_t len = r->element[2] != NULL && r->element[2]->str != NULL ? r->element[2]->len : 0;
		atomic_fetch_add_explicit(&b->stat_undecodable, 1, memory_order_relaxed);
		rt_hub_count_lost(b->hub, len);
		int route_ok = r->element[1] != NULL && r->element[1]->type == REDIS_REPLY_STRING
				&& r->element[1]->str != NULL;
		rt_log_limited(&undecodable_log, RT_LOG_WARNING, "Redis at %s: dropped an undecodable "
				"message of %zu bytes on %.*s (another program on the channel, or a hub of "
				"another version)", b->cfg.redis_address, len,
				route_ok ? (int) (r->element[1]->len > 200 ? 200 : r->element[1]->len) : 1,
				route_ok ? r->element[1]->str : "?");
		return;
	}
	rt_hub_deliver(b->hub, msg);
}

static void rt__subscribe(void *ctx, char kind, const char *name, size_t len)
{
	rt_broker *b = ctx;
	char route[320];

	if (kind == '*') {
		if (b->sub != NULL && b->sub_up) {
			redisAsyncCommand(b->sub, rt__on_message, b, "PSUBSCRIBE %sc:*", b->ns);
		}
		return;
	}
	if (b->sub != NULL && b->sub_up && rt__route(b, kind, name, len, route, sizeof(route)) > 0) {
		redisAsyncCommand(b->sub, rt__on_message, b, "SUBSCRIBE %s", route);
	}
}

static void rt__heartbeat(rt_broker *b)
{
	redisAsyncCommand(b->cmd, NULL, NULL, "SET %snode:%u 1 PX %d", b->ns, rt_hub_node_id(b->hub),
			RT_BEAT_TTL_MS);
}

/* How often both connections are probed once up. A Redis that stops
 * answering (stopped, or behind a proxy that stopped forwarding) is taken
 * for gone when a probe waits realtime.redis_timeout: within redis_timeout
 * + 2 periods of the stall, that is 2 x redis_timeout (at least
 * redis_timeout + 100 ms), as docs/redis.md says. */
static uint32_t rt__probe_ms(const rt_broker *b)
{
	uint32_t p = b->cfg.redis_timeout / 2;

	return p < RT_PROBE_MIN_MS ? RT_PROBE_MIN_MS : p;
}

static void rt__on_pong(redisAsyncContext *c, void *reply, void *privdata)
{
	rt_broker *b = privdata;

	if (reply != NULL && c == b->cmd) {
		b->cmd_waiting = 0;
	}
}

static void rt__on_probe(uv_timer_t *t)
{
	rt_broker *b = t->data;
	uint64_t now = rt__now_ms(b);
	char route[320], why[128];

	if (b->cmd == NULL || b->sub == NULL || !(b->sub_up && b->cmd_up)) {
		return;
	}
	if (b->cmd_waiting || b->sub_waiting) {
		if (now - b->probe_sent_ms >= b->cfg.redis_timeout) {
			snprintf(why, sizeof(why), "no answer within %u ms (realtime.redis_timeout)",
					b->cfg.redis_timeout);
			rt__went_down(b, why);
		}
		return;
	}
	b->cmd_waiting = b->sub_waiting = 1;
	b->probe_sent_ms = now;
	redisAsyncCommand(b->cmd, rt__on_pong, b, "PING");
	/* A subscribed connection answers SUBSCRIBE (again) for any version of
	 * Redis and hiredis: this hub's own route, already subscribed. */
	snprintf(route, sizeof(route), "%sn:%u", b->ns, rt_hub_node_id(b->hub));
	redisAsyncCommand(b->sub, rt__on_message, b, "SUBSCRIBE %s", route);
}

static void rt__both_up(rt_broker *b)
{
	char route[320];
	rt_msg_fields f = {0};
	rt_msg *sync, *pending;
	char err[160];

	if (b->down_logged) {
		rt_log(RT_LOG_INFO, "Redis at %s is back after %llu ms; resubscribed",
				b->cfg.redis_address, (unsigned long long) (rt__now_ms(b) - b->down_since));
		b->down_logged = 0;
	}
	b->attempts = 0;
	uv_timer_stop(&b->guard);
	b->stat_reconnects += b->ever_up ? 1 : 0;
	b->ever_up = 1;
	atomic_store(&b->stat_connected, 1);
	b->cmd_waiting = b->sub_waiting = 0;
	uv_timer_start(&b->probe, rt__on_probe, rt__probe_ms(b), rt__probe_ms(b));
	/* Alive before anyone may ask; every hub gets a new grace period. */
	rt__heartbeat(b);
	b->seen_count = 0;
	snprintf(route, sizeof(route), "%sstate", b->ns);
	redisAsyncCommand(b->sub, rt__on_message, b, "SUBSCRIBE %s", route);
	snprintf(route, sizeof(route), "%sn:%u", b->ns, rt_hub_node_id(b->hub));
	redisAsyncCommand(b->sub, rt__on_message, b, "SUBSCRIBE %s", route);
	rt_hub_each_interest(b->hub, rt__subscribe, b);
	/* Changes made while Redis was away, in order (each is an absolute
	 * count, so the last one wins); past the limit, start over cleanly. */
	if (b->pending_overflow) {
		rt_msg_fields g = {0};
		rt_msg *gone;
		g.origin = rt_hub_node_id(b->hub);
		g.count = rt_hub_node_id(b->hub);
		gone = rt_msg_new(RT_MSG_GONE, &g);
		if (gone != NULL) {
			rt__route_msg(b, gone, rt__send_async, NULL, err, sizeof(err));
			rt_msg_free(gone);
		}
	}
	pending = b->pending;
	b->pending = NULL;
	b->pending_tail = &b->pending;
	b->pending_count = 0;
	b->pending_overflow = 0;
	while (pending != NULL) {
		rt_msg *next = pending->next;
		rt__route_msg(b, pending, rt__send_async, NULL, err, sizeof(err));
		rt_msg_free(pending);
		pending = next;
	}
	/* What the others hold may have changed unseen too. */
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

static redisAsyncContext *rt__open_async(rt_broker *b, int reads_history)
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
	rt__cloexec(c->c.fd);
	if (reads_history) {
		rt_redis_reader_limit_history(c->c.reader);
	} else {
		rt_redis_reader_limit(c->c.reader);
	}
	if (rt_redis_uv_attach(c, b->loop) != REDIS_OK) {
		redisAsyncFree(c);
		return NULL;
	}
	redisAsyncSetConnectCallback(c, rt__on_connect);
	redisAsyncSetDisconnectCallback(c, rt__on_disconnect);
	return c;
}

/* How long a new connection may take to become usable. */
static uint32_t rt__guard_ms(const rt_broker *b)
{
	uint32_t wait = b->cfg.redis_timeout * 2;

	return wait < RT_SETUP_MIN_MS ? RT_SETUP_MIN_MS : wait;
}

static void rt__on_guard(uv_timer_t *t)
{
	rt_broker *b = t->data;
	char why[128];

	if (!(b->sub_up && b->cmd_up)) {
		/* (t->timeout is the due time on the loop clock, not the wait.) */
		snprintf(why, sizeof(why), "not ready within %u ms", rt__guard_ms(b));
		rt__went_down(b, why);
	}
}

static void rt__connect_async(rt_broker *b)
{
	if (b->stopping || b->sub != NULL || b->cmd != NULL) {
		return;
	}
	b->sub = rt__open_async(b, 0);
	b->cmd = b->sub ? rt__open_async(b, 1) : NULL;
	if (b->sub == NULL || b->cmd == NULL) {
		rt__went_down(b, "cannot open a connection");
		return;
	}
	/* A server that accepts and never answers must not hold the hub. */
	uv_timer_start(&b->guard, rt__on_guard, rt__guard_ms(b), 0);
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
				b->ns, origin, rt_hub_node_id(b->hub));
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
	rt__heartbeat(b);
	n = rt_hub_known_origins(b->hub, origins, RT_KNOWN_ORIGINS);
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < b->seen_count && b->seen[k].origin != origins[i]; k++) {
		}
		if (k == b->seen_count) {
			if (k < RT_KNOWN_ORIGINS) {
				b->seen[b->seen_count].origin = origins[i];
				b->seen[b->seen_count].since_ms = rt__now_ms(b);
				b->seen_count++;
			}
			continue;
		}
		if (rt__now_ms(b) - b->seen[k].since_ms < RT_BEAT_TTL_MS) {
			continue;
		}
		redisAsyncCommand(b->cmd, rt__on_exists, (void *) (uintptr_t) origins[i],
				"EXISTS %snode:%u", b->ns, origins[i]);
	}
}

static int rt__link_start(void *ctx, rt_hub *hub, uv_loop_t *loop)
{
	rt_broker *b = ctx;

	b->hub = hub;
	b->loop = loop;
	/* A hub started again in this process (Realtime\stop() then start())
	 * reuses the broker: the last hub's stop is over. */
	b->stopping = 0;
	b->sub_up = b->cmd_up = 0;
	b->cmd_waiting = b->sub_waiting = 0;
	b->down_logged = 0;
	b->attempts = 0;
	uv_timer_init(loop, &b->retry);
	uv_timer_init(loop, &b->beat);
	uv_timer_init(loop, &b->guard);
	uv_timer_init(loop, &b->probe);
	b->retry.data = b->beat.data = b->guard.data = b->probe.data = b;
	b->timers = 1;
	uv_timer_start(&b->beat, rt__on_beat, 100, RT_BEAT_MS);
	rt__connect_async(b);
	rt__hand_open(b);
	return 0;
}

/* hiredis answers a command with no reply (NULL) when it drops the
 * connection first: Redis may or may not have had the message. */
static void rt__on_published(redisAsyncContext *c, void *reply, void *privdata)
{
	static rt_log_limit unconfirmed_log;
	rt_broker *b = privdata;
	(void) c;

	if (reply == NULL) {
		atomic_fetch_add_explicit(&b->stat_unconfirmed, 1, memory_order_relaxed);
		rt_log_limited(&unconfirmed_log, RT_LOG_WARNING, "Redis at %s: a message was sent "
				"but never confirmed before the connection was dropped; it may be lost",
				b->cfg.redis_address);
	}
}

static int rt__send_async(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen)
{
	(void) err;
	(void) errlen;
	if (redisAsyncCommand(b->cmd, rt__on_published, b, "PUBLISH %s %b", route, data, len)
			!= REDIS_OK) {
		snprintf(err, errlen, "Redis at %s: cannot queue the message", b->cfg.redis_address);
		return -EIO;
	}
	return 0;
}

/* A history publish the hub sent, until Redis answers it. */
typedef struct rt__hcmd {
	rt_broker *b;
	rt__wait *wait;            /* a waiting PHP caller's, or NULL */
	int handed;                /* a PHP publish (counted in hand_inflight) */
	int resent;                /* sent again as EVAL after NOSCRIPT */
	uint32_t index;            /* the message's channel it is for */
	rt__eval ev;
} rt__hcmd;

static void rt__on_hist_published(redisAsyncContext *c, void *reply, void *privdata);

static int rt__hsend(rt_broker *b, const char *route, const rt_msg *one,
		const rt_history_rule *rule, uint32_t index, rt__wait *wait, int handed, char *err,
		size_t errlen)
{
	rt__hcmd *h = calloc(1, sizeof(*h));

	if (h == NULL || rt__eval_publish(&h->ev, b, route, one, rule) != 0) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->b = b;
	h->wait = wait;
	h->handed = handed;
	h->index = index;
	if (redisAsyncCommandArgv(b->cmd, rt__on_hist_published, h, h->ev.argc, h->ev.argv,
			h->ev.lens) != REDIS_OK) {
		rt__eval_free(&h->ev);
		free(h);
		snprintf(err, errlen, "Redis at %s: cannot queue the message", b->cfg.redis_address);
		return -EIO;
	}
	return 0;
}

static int rt__hsend_async(rt_broker *b, const char *route, const rt_msg *one,
		const rt_history_rule *rule, uint32_t index, char *err, size_t errlen)
{
	return rt__hsend(b, route, one, rule, index, NULL, 0, err, errlen);
}

static void rt__keep_pending(rt_broker *b, const rt_msg *msg)
{
	size_t len = rt_msg_encoded_size(msg);
	char *buf;
	rt_msg *copy;

	if (b->pending_count >= RT_PENDING_MAX) {
		static rt_log_limit full_log;
		/* Not lost for good: past the limit, this hub resends its whole
		 * state on return (rt__both_up). */
		b->pending_overflow = 1;
		atomic_fetch_add_explicit(&b->stat_queue_full, 1, memory_order_relaxed);
		rt_log_limited(&full_log, RT_LOG_WARNING, "more than %d state changes while Redis is "
				"away: dropping them, a full report follows when it is back", RT_PENDING_MAX);
		return;
	}
	buf = malloc(len);
	copy = buf ? rt_msg_decode(buf, rt_msg_encode(msg, buf, len)) : NULL;
	free(buf);
	if (copy == NULL) {
		b->pending_overflow = 1;
		return;
	}
	copy->next = NULL;
	*b->pending_tail = copy;
	b->pending_tail = &copy->next;
	b->pending_count++;
}

static int rt__link_up(void *ctx)
{
	rt_broker *b = ctx;

	return b->cmd != NULL && b->cmd_up && b->sub_up;
}

static int rt__link_publish(void *ctx, rt_msg *msg)
{
	static rt_log_limit local_log;
	rt_broker *b = ctx;
	char err[160];
	int r = 0;

	if (rt__link_up(b)) {
		static rt_log_limit refused_log;
		r = rt__route_msg(b, msg, rt__send_async, rt__hsend_async, err, sizeof(err));
		if (r != 0) {
			rt_log_limited(&refused_log, RT_LOG_ERROR, "message not delivered: %s", err);
		}
		rt_msg_free(msg);
	} else if (msg->type != RT_MSG_SYNC) {
		/* Redis is away: this hub's own clients still get what is meant for
		 * them, and state changes wait to be told to the others. */
		if (msg->type == RT_MSG_STATE) {
			rt__keep_pending(b, msg);
		} else if (msg->type <= RT_MSG_DISCONNECT_USER || msg->type == RT_MSG_WHISPER) {
			atomic_fetch_add_explicit(&b->stat_local_only, 1, memory_order_relaxed);
			rt_log_limited(&local_log, RT_LOG_WARNING, "Redis at %s is away: a message "
					"reached this hub's clients only", b->cfg.redis_address);
		}
		rt_hub_deliver(b->hub, msg);
	} else {
		rt_msg_free(msg);
	}
	return r;
}

/* A history read of the hub, until Redis answers it. */
typedef struct rt__hread {
	rt_broker *b;
	void (*done)(void *arg, const rt_hub_history *res);
	void *arg;
	int has_since, resent;
	rt_pos since;
	uint32_t cap;
	rt__eval ev;
	size_t len;
	char channel[];
} rt__hread;

static void rt__on_hist_read(redisAsyncContext *c, void *reply, void *privdata)
{
	static rt_log_limit bad_log;
	rt__hread *h = privdata;
	rt_broker *b = h->b;
	redisReply *r = reply;
	rt_hub_history res = {0};
	rt_redis_hist_read rd = {0};

	if (rt__noscript(r) && !h->resent && c != NULL && c == b->cmd) {
		h->resent = 1;
		rt__eval_as_script(&h->ev, rt_redis_hist_read_lua);
		if (redisAsyncCommandArgv(b->cmd, rt__on_hist_read, h, h->ev.argc, h->ev.argv,
				h->ev.lens) == REDIS_OK) {
			return;
		}
		r = NULL;
	}
	if (r == NULL) {
		res.status = -EIO;
	} else if (r->type == REDIS_REPLY_ERROR) {
		res.status = -EIO;
		rt_log_limited(&bad_log, RT_LOG_ERROR, "Redis at %s: a history read failed: %.*s",
				b->cfg.redis_address, (int) (r->len > 150 ? 150 : r->len),
				r->str != NULL ? r->str : "");
	} else {
		res.status = rt_redis_hist_check(r, h->channel, h->len, h->has_since ? &h->since : NULL,
				h->cap, &rd);
		if (res.status == -EPROTO) {
			rt_log_limited(&bad_log, RT_LOG_ERROR, "Redis at %s: a history read of %.*s was "
					"answered with something that is not its history: not recovered",
					b->cfg.redis_address, (int) (h->len > 200 ? 200 : h->len), h->channel);
		}
		if (res.status == 0) {
			res.status = rd.status;
			res.top = rd.top;
			res.msgs = rd.msgs;
			res.count = rd.count;
		}
	}
	h->done(h->arg, &res);
	rt_redis_hist_read_free(&rd);
	rt__eval_free(&h->ev);
	free(h);
}

/* rt_hub_link.history: answered later, from Redis's reply on the command
 * connection; the hub holds the subscriber's live messages meanwhile
 * (rt_session_hold). */
static void rt__link_history(void *ctx, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*done)(void *arg, const rt_hub_history *res), void *arg)
{
	rt_broker *b = ctx;
	const rt_history_rule *rule = rt_history_rule_for(&b->cfg.history, channel, len);
	rt_hub_history res = {0};
	rt__hread *h;

	if (rule == NULL) {
		res.status = -ENOENT;
		done(arg, &res);
		return;
	}
	if (!rt__link_up(b)) {
		res.status = -EAGAIN; /* Redis is away: no position to give */
		done(arg, &res);
		return;
	}
	h = calloc(1, sizeof(*h) + len);
	if (h == NULL) {
		res.status = -ENOMEM;
		done(arg, &res);
		return;
	}
	h->b = b;
	h->done = done;
	h->arg = arg;
	h->has_since = since != NULL;
	h->since = since != NULL ? *since : (rt_pos) {0, 0};
	h->cap = rt__read_cap(rule, limit);
	h->len = len;
	memcpy(h->channel, channel, len);
	if (rt__eval_read(&h->ev, b, channel, len, since, h->cap, rule) != 0
			|| redisAsyncCommandArgv(b->cmd, rt__on_hist_read, h, h->ev.argc, h->ev.argv,
					h->ev.lens) != REDIS_OK) {
		rt__eval_free(&h->ev);
		free(h);
		res.status = -EIO;
		done(arg, &res);
	}
}

/* ---- PHP -> hub hand-off of publishes ---- */

/* ms from now on CLOCK_MONOTONIC, the clock of the hand-off's conditions. */
static void rt__deadline(struct timespec *ts, uint32_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long) (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void rt__cond_init(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

static void rt__wait_release(rt__wait *w)
{
	int last;

	pthread_mutex_lock(&w->lock);
	last = --w->refs == 0;
	pthread_mutex_unlock(&w->lock);
	if (last) {
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w->pos);
		free(w);
	}
}

/* n of the waiter's PUBLISHes are settled (why: NULL when Redis took them). */
static void rt__wait_settle(rt__wait *w, uint32_t n, const char *why)
{
	int done;

	pthread_mutex_lock(&w->lock);
	if (why != NULL && !w->failed) {
		w->failed = 1;
		snprintf(w->err, sizeof(w->err), "%s", why);
	}
	w->left = n < w->left ? w->left - n : 0;
	done = w->left == 0;
	if (done) {
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	if (done) {
		rt__wait_release(w); /* the hub's reference */
	}
}

/* n handed PUBLISHes are settled: room for callers waiting at the limit. */
static void rt__hand_settled(rt_broker *b, uint32_t n)
{
	/* Sequentially consistent with rt__hand's waiter count then inflight:
	 * either this sees the waiter or the waiter sees this decrement. */
	atomic_fetch_sub(&b->hand_inflight, n);
	if (atomic_load(&b->hand_waiters) > 0) {
		pthread_mutex_lock(&b->hand_lock);
		pthread_cond_broadcast(&b->hand_room);
		pthread_mutex_unlock(&b->hand_lock);
	}
}

/* n handed PUBLISHes did not make it to Redis (or may not have). */
static void rt__hand_failed(rt_broker *b, uint32_t n, const char *why)
{
	static rt_log_limit failed_log;

	atomic_fetch_add_explicit(&b->stat_publish_failed, n, memory_order_relaxed);
	rt_log_limited(&failed_log, RT_LOG_WARNING, "Redis at %s: a publish of this process's PHP "
			"code failed: %s", b->cfg.redis_address, why);
}

/* Redis's answer to a handed PUBLISH; privdata is its waiter or NULL. */
static void rt__on_handed(redisAsyncContext *c, void *reply, void *privdata)
{
	rt_broker *b = c->data;
	redisReply *r = reply;
	char why[200];
	const char *fail = NULL;

	if (r == NULL) {
		fail = "the connection was dropped before Redis answered; it may be lost";
	} else if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "Redis answered %.*s", (int) (r->len > 150 ? 150 : r->len),
				r->str != NULL ? r->str : "");
		fail = why;
	}
	if (fail != NULL) {
		rt__hand_failed(b, 1, fail);
	}
	rt__hand_settled(b, 1);
	if (privdata != NULL) {
		rt__wait_settle(privdata, 1, fail);
	}
}

static int rt__send_handed(rt_broker *b, const char *route, const char *data, size_t len,
		char *err, size_t errlen)
{
	if (redisAsyncCommand(b->cmd, rt__on_handed, b->sending_wait, "PUBLISH %s %b", route, data,
			len) != REDIS_OK) {
		snprintf(err, errlen, "Redis at %s: cannot queue the message", b->cfg.redis_address);
		return -EIO;
	}
	b->sending_count++;
	return 0;
}

static int rt__hsend_handed(rt_broker *b, const char *route, const rt_msg *one,
		const rt_history_rule *rule, uint32_t index, char *err, size_t errlen)
{
	int r = rt__hsend(b, route, one, rule, index, b->sending_wait, 1, err, errlen);

	if (r == 0) {
		b->sending_count++;
	}
	return r;
}

/* Redis's answer to the publish script: the message's position, which a
 * waiting caller gets. A reply that is not a position is not trusted: the
 * message went out (or not) as Redis says, its position stays unknown. */
static void rt__on_hist_published(redisAsyncContext *c, void *reply, void *privdata)
{
	static rt_log_limit bad_log, unconfirmed_log;
	rt__hcmd *h = privdata;
	rt_broker *b = h->b;
	redisReply *r = reply;
	char why[200];
	const char *fail = NULL;
	rt_pos pos = {0, 0};

	if (rt__noscript(r) && !h->resent && c != NULL && c == b->cmd) {
		h->resent = 1;
		rt__eval_as_script(&h->ev, rt_redis_hist_publish_lua);
		if (redisAsyncCommandArgv(b->cmd, rt__on_hist_published, h, h->ev.argc, h->ev.argv,
				h->ev.lens) == REDIS_OK) {
			return;
		}
		r = NULL;
	}
	if (r == NULL) {
		fail = "the connection was dropped before Redis answered; it may be lost";
		if (!h->handed) {
			atomic_fetch_add_explicit(&b->stat_unconfirmed, 1, memory_order_relaxed);
			rt_log_limited(&unconfirmed_log, RT_LOG_WARNING, "Redis at %s: a message was sent "
					"but never confirmed before the connection was dropped; it may be lost",
					b->cfg.redis_address);
		}
	} else if (r->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "Redis answered %.*s", (int) (r->len > 150 ? 150 : r->len),
				r->str != NULL ? r->str : "");
		fail = why;
		rt_log_limited(&bad_log, RT_LOG_ERROR, "Redis at %s: the history publish script "
				"failed: %s", b->cfg.redis_address, why);
	} else if (rt_redis_hist_published(r, &pos) != 0) {
		rt_log_limited(&bad_log, RT_LOG_ERROR, "Redis at %s: the history publish script "
				"answered something that is not a position; ignored", b->cfg.redis_address);
		pos.offset = pos.epoch = 0;
	}
	if (h->handed) {
		if (fail != NULL) {
			rt__hand_failed(b, 1, fail);
		}
		rt__hand_settled(b, 1);
		if (h->wait != NULL) {
			pthread_mutex_lock(&h->wait->lock);
			if (h->index < h->wait->npos && h->wait->pos != NULL) {
				h->wait->pos[h->index] = pos;
			}
			pthread_mutex_unlock(&h->wait->lock);
			rt__wait_settle(h->wait, 1, fail);
		}
	}
	rt__eval_free(&h->ev);
	free(h);
}

/* On the hub thread: sends what PHP handed over, in the order it came. */
static void rt__hand_flush(rt_broker *b)
{
	static rt_log_limit away_log;
	rt__handed *h;
	char err[160];

	pthread_mutex_lock(&b->hand_lock);
	h = b->hand_head;
	b->hand_head = NULL;
	b->hand_tail = &b->hand_head;
	pthread_mutex_unlock(&b->hand_lock);
	while (h != NULL) {
		rt__handed *next = h->next;
		uint32_t unsent = h->cost;
		if (rt__link_up(b)) {
			b->sending_wait = h->wait;
			b->sending_count = 0;
			err[0] = '\0';
			rt__route_msg(b, h->msg, rt__send_handed, rt__hsend_handed, err, sizeof(err));
			b->sending_wait = NULL;
			unsent = b->sending_count < h->cost ? h->cost - b->sending_count : 0;
			rt_msg_free(h->msg);
			if (unsent > 0) {
				rt__hand_failed(b, unsent, err[0] ? err : "a route too long for Redis");
			}
		} else {
			/* Redis went away after the call: like the hub's own messages
			 * then, this hub's clients get it (unless the caller waits for
			 * Redis and will hear of the failure). */
			snprintf(err, sizeof(err), "Redis at %.100s is away", b->cfg.redis_address);
			rt__hand_failed(b, unsent, err);
			if (h->wait == NULL) {
				atomic_fetch_add_explicit(&b->stat_local_only, 1, memory_order_relaxed);
				rt_log_limited(&away_log, RT_LOG_WARNING, "Redis at %s is away: a publish of "
						"this process reached this hub's clients only", b->cfg.redis_address);
				rt_hub_deliver(b->hub, h->msg);
			} else {
				rt_msg_free(h->msg);
			}
		}
		if (unsent > 0) {
			rt__hand_settled(b, unsent);
			if (h->wait != NULL) {
				rt__wait_settle(h->wait, unsent, err[0] ? err : "not sent");
			}
		}
		free(h);
		h = next;
	}
}

static void rt__on_hand_wake(uv_async_t *a)
{
	rt__hand_flush(a->data);
}

/* PUBLISHes msg makes: one per channel. */
static uint32_t rt__publish_cost(const rt_msg *msg)
{
	return msg->type == RT_MSG_PUBLISH ? (msg->channel_count > 0 ? msg->channel_count : 1) : 1;
}

/* On a PHP thread: 0 when msg went to this process's hub, 1 when it has
 * none connected to Redis (publish synchronously), or a negative errno
 * with err set. */
static int rt__hand(rt_broker *b, const rt_msg *msg, rt__wait *wait, char *err, size_t errlen)
{
	static rt_log_limit full_log;
	uint32_t cost = rt__publish_cost(msg), inflight;
	rt__handed *h;

	/* A forked child must not touch its parent's hub (nor its lock). */
	if (atomic_load_explicit(&b->hand_pid, memory_order_acquire) != getpid()
			|| !atomic_load(&b->stat_connected)) {
		return 1;
	}
	h = malloc(sizeof(*h));
	if (h == NULL || (h->msg = rt_msg_copy(msg)) == NULL) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->next = NULL;
	h->wait = wait;
	h->cost = cost;
	pthread_mutex_lock(&b->hand_lock);
	if (!b->hand_open) {
		pthread_mutex_unlock(&b->hand_lock);
		rt_msg_free(h->msg);
		free(h);
		return 1;
	}
	/* At the limit, the caller waits for Redis to answer (backpressure: a
	 * burst goes at Redis's pace), at most realtime.redis_timeout. A
	 * message larger than the limit alone still goes. */
	inflight = atomic_load_explicit(&b->hand_inflight, memory_order_relaxed);
	if (inflight > 0 && inflight + cost > b->cfg.redis_publish_queue) {
		struct timespec deadline;
		rt__deadline(&deadline, b->cfg.redis_timeout);
		atomic_fetch_add(&b->hand_waiters, 1);
		for (;;) {
			inflight = atomic_load(&b->hand_inflight);
			if (!b->hand_open || !atomic_load(&b->stat_connected) || inflight == 0
					|| inflight + cost <= b->cfg.redis_publish_queue
					|| pthread_cond_timedwait(&b->hand_room, &b->hand_lock, &deadline)
							== ETIMEDOUT) {
				break;
			}
		}
		atomic_fetch_sub(&b->hand_waiters, 1);
		inflight = atomic_load(&b->hand_inflight);
		if (!b->hand_open || !atomic_load(&b->stat_connected)) {
			pthread_mutex_unlock(&b->hand_lock);
			rt_msg_free(h->msg);
			free(h);
			return 1; /* the hub lost Redis meanwhile: the synchronous path says so */
		}
	}
	if (inflight > 0 && inflight + cost > b->cfg.redis_publish_queue) {
		pthread_mutex_unlock(&b->hand_lock);
		rt_msg_free(h->msg);
		free(h);
		atomic_fetch_add_explicit(&b->stat_publish_dropped, 1, memory_order_relaxed);
		rt_log_limited(&full_log, RT_LOG_ERROR, "Redis at %s is not keeping up: %u publishes "
				"wait for it (realtime.redis_publish_queue %u); message refused",
				b->cfg.redis_address, inflight, b->cfg.redis_publish_queue);
		snprintf(err, errlen, "Redis at %s is not keeping up: %u publishes of this process still "
				"wait for it after %u ms (realtime.redis_publish_queue %u)", b->cfg.redis_address,
				inflight, b->cfg.redis_timeout, b->cfg.redis_publish_queue);
		return -ENOBUFS;
	}
	atomic_fetch_add_explicit(&b->hand_inflight, cost, memory_order_relaxed);
	*b->hand_tail = h;
	b->hand_tail = &h->next;
	uv_async_send(&b->hand_wake);
	pthread_mutex_unlock(&b->hand_lock);
	atomic_fetch_add_explicit(&b->stat_handed, 1, memory_order_relaxed);
	return 0;
}

/* On the hub thread, from link_start. */
static void rt__hand_open(rt_broker *b)
{
	if (uv_async_init(b->loop, &b->hand_wake, rt__on_hand_wake) != 0) {
		rt_log(RT_LOG_WARNING, "Redis broker: no hand-off to the hub; PHP publishes "
				"synchronously");
		return;
	}
	b->hand_wake.data = b;
	pthread_mutex_lock(&b->hand_lock);
	b->hand_open = 1;
	pthread_mutex_unlock(&b->hand_lock);
	atomic_store_explicit(&b->hand_pid, getpid(), memory_order_release);
}

/* On the hub thread, from link_stop: what was handed goes out first. */
static void rt__hand_close(rt_broker *b)
{
	int open;

	pthread_mutex_lock(&b->hand_lock);
	open = b->hand_open;
	b->hand_open = 0;
	pthread_cond_broadcast(&b->hand_room);
	pthread_mutex_unlock(&b->hand_lock);
	atomic_store(&b->hand_pid, 0);
	if (open) {
		rt__hand_flush(b);
		uv_close((uv_handle_t *) &b->hand_wake, NULL);
	}
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
	rt__hand_close(b);
	/* Leave now, announcing ourselves as the reporter: the hub that
	 * notices a departure is the one that sends its webhooks. */
	f.origin = rt_hub_node_id(b->hub);
	f.count = 0;
	msg = rt_msg_new(RT_MSG_GONE, &f);
	if (msg != NULL && b->cmd != NULL && b->cmd_up) {
		rt__route_msg(b, msg, rt__send_async, NULL, err, sizeof(err));
		redisAsyncCommand(b->cmd, NULL, NULL, "DEL %snode:%u", b->ns, rt_hub_node_id(b->hub));
	}
	rt_msg_free(msg);
	b->stopping = 1;
	/* PHP publishes synchronously again until a hub is connected. */
	atomic_store(&b->stat_connected, 0);
	/* Disconnect (not free): the departure and the DEL are still queued. */
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
	while (b->pending != NULL) {
		rt_msg *next = b->pending->next;
		rt_msg_free(b->pending);
		b->pending = next;
	}
	/* A hub started again (stop() then start()) appends to an empty list,
	 * not through the tail of the freed one. */
	b->pending_tail = &b->pending;
	b->pending_count = 0;
	b->pending_overflow = 0;
	if (b->timers) {
		uv_timer_stop(&b->retry);
		uv_timer_stop(&b->beat);
		uv_timer_stop(&b->guard);
		uv_timer_stop(&b->probe);
		uv_close((uv_handle_t *) &b->retry, NULL);
		uv_close((uv_handle_t *) &b->beat, NULL);
		uv_close((uv_handle_t *) &b->guard, NULL);
		uv_close((uv_handle_t *) &b->probe, NULL);
		b->timers = 0;
	}
}

static void rt__link_interest(void *ctx, char kind, const char *name, size_t len, int on)
{
	rt_broker *b = ctx;
	char route[320];

	if (kind == '*') {
		if (b->sub != NULL && b->sub_up) {
			redisAsyncCommand(b->sub, on ? rt__on_message : NULL, b,
					on ? "PSUBSCRIBE %sc:*" : "PUNSUBSCRIBE %sc:*", b->ns);
		}
		return; /* resubscribed from the hub's state on reconnect */
	}
	if (b->sub == NULL || !b->sub_up || rt__route(b, kind, name, len, route, sizeof(route)) < 0) {
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
	snprintf(b->ns, sizeof(b->ns), "%s%u:", cfg->redis_prefix, cfg->redis_database);
	b->pending_tail = &b->pending;
	b->hand_tail = &b->hand_head;
	pthread_mutex_init(&b->hand_lock, NULL);
	pthread_mutex_init(&b->sync_lock, NULL);
	rt__cond_init(&b->hand_room);
	b->link.ctx = b;
	b->link.start = rt__link_start;
	b->link.publish = rt__link_publish;
	b->link.up = rt__link_up;
	b->link.stop = rt__link_stop;
	b->link.interest = rt__link_interest;
	b->link.stats = rt__link_stats;
	b->link.history = rt__link_history;
	b->link.history_async = 1;
	rt__sha1_hex(rt_redis_hist_publish_lua, b->sha_publish);
	rt__sha1_hex(rt_redis_hist_read_lua, b->sha_read);
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

/* Runs one history script on the PHP thread's connection (made on demand,
 * once more after a broken one), EVAL after NOSCRIPT. Returns the reply,
 * or NULL with err set. */
static redisReply *rt__sync_eval(rt_broker *b, rt__eval *ev, const char *script, char *err,
		size_t errlen)
{
	redisReply *r = NULL;

	for (int attempt = 0; attempt < 3; attempt++) {
		if (b->sync == NULL || b->sync_pid != getpid()) {
			b->sync = rt__connect_sync(&b->cfg, err, errlen);
			b->sync_pid = getpid();
			if (b->sync == NULL) {
				return NULL;
			}
		}
		r = redisCommandArgv(b->sync, ev->argc, ev->argv, ev->lens);
		if (rt__noscript(r)) {
			freeReplyObject(r);
			rt__eval_as_script(ev, script);
			continue;
		}
		if (r != NULL && r->type != REDIS_REPLY_ERROR) {
			return r;
		}
		{
			char why[128];
			snprintf(err, errlen, "Redis at %s: %.*s", b->cfg.redis_address,
					r ? (int) (r->len > 200 ? 200 : r->len) : 127,
					r ? r->str : rt__why(&b->cfg, b->sync->errstr, why, sizeof(why)));
		}
		if (r != NULL) {
			freeReplyObject(r);
			return NULL; /* Redis refused it: trying again gets the same answer */
		}
		redisFree(b->sync);
		b->sync = NULL;
	}
	return NULL;
}

/* PHP thread, no hub: the publish script on the synchronous connection;
 * the position goes to b->sync_pos[index] when the caller wants it. */
static int rt__hsend_sync(rt_broker *b, const char *route, const rt_msg *one,
		const rt_history_rule *rule, uint32_t index, char *err, size_t errlen)
{
	rt__eval ev;
	redisReply *r;
	rt_pos pos;

	if (rt__eval_publish(&ev, b, route, one, rule) != 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = rt__sync_eval(b, &ev, rt_redis_hist_publish_lua, err, errlen);
	rt__eval_free(&ev);
	if (r == NULL) {
		return -EIO;
	}
	if (rt_redis_hist_published(r, &pos) != 0) {
		static rt_log_limit bad_log;
		rt_log_limited(&bad_log, RT_LOG_ERROR, "Redis at %s: the history publish script "
				"answered something that is not a position; ignored", b->cfg.redis_address);
		pos.offset = pos.epoch = 0;
	}
	freeReplyObject(r);
	if (b->sync_pos != NULL) {
		b->sync_pos[index] = pos;
	}
	return 0;
}

static _Thread_local int rt__confirm_next;

void rt_broker_redis_confirm(int on)
{
	rt__confirm_next = on;
}

/* Hands msg to the hub and waits for Redis's answers, at most
 * realtime.redis_timeout. */
static int rt__publish_confirmed(rt_broker *b, const rt_msg *msg, rt_pos *out, char *err,
		size_t errlen)
{
	rt__wait *w = calloc(1, sizeof(*w));
	struct timespec deadline;
	int r, failed, timed_out = 0;

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&w->lock, NULL);
	rt__cond_init(&w->cond);
	w->left = rt__publish_cost(msg);
	w->refs = 2;
	if (out != NULL && msg->type == RT_MSG_PUBLISH && msg->channel_count > 0) {
		w->pos = calloc(msg->channel_count, sizeof(*w->pos));
		w->npos = w->pos != NULL ? msg->channel_count : 0;
	}
	r = rt__hand(b, msg, w, err, errlen);
	if (r != 0) {
		w->refs = 1;
		rt__wait_release(w);
		/* Without a hub the synchronous path answers only once Redis has it. */
		if (r != 1) {
			return r;
		}
		pthread_mutex_lock(&b->sync_lock);
		b->sync_pos = out;
		r = rt__route_msg(b, msg, rt__sync_send, rt__hsend_sync, err, errlen);
		b->sync_pos = NULL;
		pthread_mutex_unlock(&b->sync_lock);
		return r;
	}
	rt__deadline(&deadline, b->cfg.redis_timeout);
	pthread_mutex_lock(&w->lock);
	while (w->left > 0 && !timed_out) {
		timed_out = pthread_cond_timedwait(&w->cond, &w->lock, &deadline) == ETIMEDOUT;
	}
	failed = w->failed;
	if (w->left > 0) {
		snprintf(err, errlen, "Redis at %s: no answer within %u ms (realtime.redis_timeout); "
				"the message may still reach it", b->cfg.redis_address, b->cfg.redis_timeout);
		r = -ETIMEDOUT;
	} else if (failed) {
		snprintf(err, errlen, "%s", w->err);
		r = -EIO;
	} else if (out != NULL && w->pos != NULL) {
		memcpy(out, w->pos, w->npos * sizeof(*out));
	}
	pthread_mutex_unlock(&w->lock);
	rt__wait_release(w);
	return r;
}

static int rt__publish(rt_broker *b, const rt_msg *msg, char *err, size_t errlen)
{
	int r;

	if (rt__confirm_next) {
		rt__confirm_next = 0; /* one call's: never left on for the next request */
		return rt__publish_confirmed(b, msg, NULL, err, errlen);
	}
	r = rt__hand(b, msg, NULL, err, errlen);
	if (r == 1) {
		pthread_mutex_lock(&b->sync_lock);
		r = rt__route_msg(b, msg, rt__sync_send, rt__hsend_sync, err, errlen);
		pthread_mutex_unlock(&b->sync_lock);
	}
	return r;
}

/* A position needs Redis's answer: only Realtime\broadcastConfirmed()
 * (rt_broker_redis_confirm) waits for it; broadcast() hands the message to
 * the hub as publish does and knows no position (offset 0). */
static int rt__publish_at(rt_broker *b, const rt_msg *msg, rt_pos *out, char *err,
		size_t errlen)
{
	for (uint32_t i = 0; out != NULL && i < msg->channel_count; i++) {
		out[i].offset = 0;
		out[i].epoch = 0;
	}
	if (rt__confirm_next) {
		rt__confirm_next = 0;
		return rt__publish_confirmed(b, msg, out, err, errlen);
	}
	return rt__publish(b, msg, err, errlen);
}

/* Realtime\history() on the PHP thread's synchronous connection. */
static int rt__history(rt_broker *b, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*fn)(void *ctx, const rt_pos *pos, const unsigned char *bytes,
		size_t len), void *ctx, rt_pos *top, char *err, size_t errlen)
{
	const rt_history_rule *rule = rt_history_rule_for(&b->cfg.history, channel, len);
	rt_redis_hist_read rd;
	rt__eval ev;
	redisReply *r;
	uint32_t cap;
	int st;

	top->offset = top->epoch = 0;
	if (rule == NULL) {
		snprintf(err, errlen, "channel %.*s keeps no history (realtime.history does not name "
				"it)", (int) (len > 200 ? 200 : len), channel);
		return -ENOENT;
	}
	cap = rt__read_cap(rule, limit);
	if (rt__eval_read(&ev, b, channel, len, since, cap, rule) != 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_lock(&b->sync_lock);
	r = rt__sync_eval(b, &ev, rt_redis_hist_read_lua, err, errlen);
	pthread_mutex_unlock(&b->sync_lock);
	rt__eval_free(&ev);
	if (r == NULL) {
		return -EIO;
	}
	st = rt_redis_hist_check(r, channel, len, since, cap, &rd);
	if (st != 0) {
		snprintf(err, errlen, st == -ENOMEM ? "out of memory" : "Redis at %s answered a history "
				"read with something that is not this channel's history", b->cfg.redis_address);
		freeReplyObject(r);
		return st;
	}
	*top = rd.top;
	for (uint32_t i = 0; i < rd.count; i++) {
		fn(ctx, &rd.msgs[i]->positions[0], (const unsigned char *) rd.raw[i]->str,
				rd.raw[i]->len);
	}
	st = rd.status;
	rt_redis_hist_read_free(&rd);
	freeReplyObject(r);
	return st;
}

/* rt_hub_link.stats, on the hub thread. */
static void rt__link_stats(void *ctx, uint64_t *out)
{
	rt_broker *b = ctx;

	out[RT_STAT_BROKER_RECONNECTS] = b->stat_reconnects;
	out[RT_STAT_BROKER_PUBLISH_FAILED] = atomic_load_explicit(&b->stat_publish_failed,
			memory_order_relaxed) + atomic_load_explicit(&b->stat_publish_dropped,
			memory_order_relaxed) + atomic_load_explicit(&b->stat_local_only, memory_order_relaxed);
}

static void rt__stats(rt_broker *b, rt_broker_stats *out)
{
	out->redis_local_only = atomic_load_explicit(&b->stat_local_only, memory_order_relaxed);
	out->redis_unconfirmed = atomic_load_explicit(&b->stat_unconfirmed, memory_order_relaxed);
	out->dropped_queue_full = atomic_load_explicit(&b->stat_queue_full, memory_order_relaxed);
	out->broker_outages = atomic_load_explicit(&b->stat_outages, memory_order_relaxed);
	out->dropped_undecodable = atomic_load_explicit(&b->stat_undecodable, memory_order_relaxed);
	out->broker_connected = atomic_load(&b->stat_connected);
	out->redis_publish_handed = atomic_load_explicit(&b->stat_handed, memory_order_relaxed);
	out->redis_publish_failed = atomic_load_explicit(&b->stat_publish_failed,
			memory_order_relaxed);
	out->redis_publish_dropped = atomic_load_explicit(&b->stat_publish_dropped,
			memory_order_relaxed);
	out->redis_publish_waiting = atomic_load_explicit(&b->hand_inflight, memory_order_relaxed);
	out->publish_path = atomic_load(&b->hand_pid) == getpid() && atomic_load(&b->stat_connected)
			? "hub" : "redis";
}

static void rt__close(rt_broker *b)
{
	if (b->sync != NULL && b->sync_pid == getpid()) {
		redisFree(b->sync);
	}
	pthread_mutex_destroy(&b->hand_lock);
	pthread_mutex_destroy(&b->sync_lock);
	pthread_cond_destroy(&b->hand_room);
	free(b);
}

const rt_broker_ops rt_broker_redis = {
	.name = "redis",
	.open = rt__open,
	.link = rt__link,
	.attach = rt__attach,
	.publish = rt__publish,
	.publish_at = rt__publish_at,
	.history = rt__history,
	.stats = rt__stats,
	.close = rt__close,
};
