/* The memory broker. Inside a server whose processes share memory (the
 * named segment of broker/segment.h, mapped before the fork), a message
 * goes into the shared ring and every hub of the app reads it. A process
 * alone (php -S without workers, a CLI daemon with Realtime\start())
 * delivers to its own hub. A process with no hub (a CLI script) of the
 * segment's user appends to the same ring; any other posts to the server's
 * /publish endpoint. */
#include "broker/broker.h"
#include "hub/util/hot.h"
#include "broker/pool.h"
#include "broker/segment.h"
#include "hub/util/log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

struct rt_broker {
	rt_config cfg;
	uint64_t app;
	_Atomic(rt_hub *) hub;
	rt_hub_link link;
	/* Wake-up batching (realtime.batch_window), between this process's PHP
	 * thread and its hub thread: while the hub watches, a broadcast() only
	 * appends and leaves the wake-up it owes to the hub's next look. */
	_Atomic int watching;
	_Atomic int owed;
	_Atomic uint64_t published;
	_Atomic uint64_t batched;
	/* PHP thread side, without a hub: the connection to /publish. PHP
	 * threads of one process (ZTS: FrankenPHP, Apache's event MPM) share
	 * it and the segment below under php_lock; the path through this
	 * process's hub or the server's ring does not take it. */
	pthread_mutex_t php_lock;
	rt_remote *remote;
	/* ... or the server's named segment, looked at again at most once a
	 * second while its hubs live (made again? hubs still alive?), and at
	 * every call while none does: the first hub back after a reload is
	 * used at once, not up to a second later. Never a hub link: a hub of
	 * this process stays alone, as before. */
	rt_pool *seg;
	rt_segment_id seg_id;
	char seg_name[RT_SEGMENT_NAME_MAX];
	time_t seg_checked;
	int seg_live;
	char seg_why[400];      /* why this process posts to /publish instead */
	/* A burst of broadcast() through the segment wakes the hubs once per
	 * realtime.batch_window, not once per call: a helper thread (there is
	 * no hub thread here) pays what the calls leave owing, as a hub does
	 * for its own process (rt__wake_or_defer). */
	pthread_t waker;
	int waker_state;        /* 0 not started, 1 running, -1 could not start */
	int waker_stop;
	pthread_mutex_t waker_lock;
	pthread_cond_t waker_cond;
	_Atomic int seg_armed;  /* the waker looks again within batch_window */
	_Atomic int seg_owed;
	/* Hub thread side. */
	rt_hub *link_hub;
	rt_pool_member *member;
	uv_poll_t poll;
	int polling;
	uv_timer_t batch;
	int batching;
	uint64_t seen_published;
	uint32_t quiet_ms;
	/* Messages this hub lost to ring overruns (read by status()); after
	 * one, the next tick asks every hub for its state again. */
	_Atomic uint64_t overrun;
	int resync_due;
	char max_setting[48];   /* link.max_message_setting */
};

/* How long the hub keeps watching after its process last published. */
#define RT_BATCH_LINGER_MS 1000

/* Mapped in the server's first process, inherited by its workers. */
static rt_pool *rt__pool;
/* Its name, or "" when it is an anonymous mapping (the segment refused). */
static char rt__segment[RT_SEGMENT_NAME_MAX];
static const char *rt__segment_how = "";

/* The segment always holds a history region: Pusher's cache channels keep
 * their last message there even when realtime.history names no channel. */
static size_t rt__history_size(const rt_config *cfg)
{
	return cfg->history_memory;
}

static int rt__prefork(const rt_config *cfg, char *err, size_t errlen)
{
	char name[RT_SEGMENT_NAME_MAX], note[400], why[600];
	uid_t uid;
	gid_t gid;
	int r;

	if (rt__pool != NULL) {
		return 0;
	}
	rt_segment_name(name, sizeof(name), cfg->host, cfg->port);
	r = rt_segment_owner(cfg->shm_user, &uid, &gid, why, sizeof(why));
	if (r == 0) {
		r = rt_segment_open_ex(&rt__pool, name, cfg->pool_memory, rt__history_size(cfg), uid,
				gid, note, sizeof(note), why, sizeof(why));
	}
	if (r >= 0) {
		snprintf(rt__segment, sizeof(rt__segment), "%s", name);
		rt_pool_set_secret(rt__pool, cfg->secret);
		rt_pool_set_history(rt__pool, &cfg->history);
		rt_pool_publish_history_rules(rt__pool);
		if (r == RT_SEGMENT_RECREATED) {
			rt__segment_how = "made again at startup";
			rt_log(RT_LOG_WARNING, "%s: made it again, empty (hubs of an older generation "
					"keep the old one until they exit)", note);
		} else if (r == RT_SEGMENT_ATTACHED) {
			rt__segment_how = "found at startup: ring and hub table carried over";
			rt_log(RT_LOG_INFO, "shared memory segment %s: attached, the ring and the hub "
					"table carry over from the last start", name);
		} else {
			rt__segment_how = "made at startup";
		}
		return 0;
	}
	rt_log(RT_LOG_ERROR, "%s. This server's processes share an anonymous mapping instead: it "
			"does not outlive a reload, and CLI scripts publish through POST /publish", why);
	r = rt_pool_map_ex(&rt__pool, cfg->pool_memory, rt__history_size(cfg), err, errlen);
	if (r == 0) {
		rt_pool_set_history(rt__pool, &cfg->history);
	}
	return r;
}

static void rt__shutdown(void)
{
	/* Workers keep using the mapping until they exit; only the process
	 * that mapped it unmaps, at its own shutdown. The named segment stays
	 * for the next start (a reload re-runs MINIT). */
	rt_pool_unmap(rt__pool);
	rt__pool = NULL;
	rt__segment[0] = '\0';
}

/* ---- hub side ---- */

static void rt__deliver(void *ctx, rt_msg *msg)
{
	rt_hub_deliver(ctx, msg);
}

static void rt__drain(rt_broker *b)
{
	static rt_log_limit overrun_log, corrupt_log, nomem_log, undecodable_log;
	rt_pool_loss loss;
	uint64_t before = rt_pool_member_lost(b->member);
	uint64_t lost = rt_pool_drain_ex(b->member, rt__deliver, b->link_hub, &loss);
	uint64_t msgs = rt_pool_member_lost(b->member) - before;

	if (lost == 0 && msgs == 0) {
		return;
	}
	rt_hub_count_lost(b->link_hub, lost);
	if (loss.overrun > 0 || loss.corrupt > 0 || msgs > 0) {
		atomic_fetch_add_explicit(&b->overrun, msgs, memory_order_relaxed);
		/* State changes of the other hubs were among them: presence and
		 * counts are resynced from full reports (rt__link_tick). */
		b->resync_due = 1;
	}
	if (loss.overrun > 0) {
		rt_log_limited(&overrun_log, RT_LOG_ERROR, "this hub fell behind the shared ring and "
				"lost %llu messages (%llu bytes): raise realtime.pool_memory; resyncing "
				"presence and counts", (unsigned long long) msgs,
				(unsigned long long) loss.overrun);
	}
	if (loss.corrupt > 0) {
		rt_log_limited(&corrupt_log, RT_LOG_ERROR, "the shared ring held a malformed entry: "
				"skipped %llu bytes of messages to the newest; resyncing presence and counts",
				(unsigned long long) loss.corrupt);
	}
	if (loss.nomem > 0) {
		rt_log_limited(&nomem_log, RT_LOG_ERROR, "out of memory reading a message from the "
				"shared ring: lost %llu bytes", (unsigned long long) loss.nomem);
	}
	if (loss.undecodable > 0) {
		rt_log_limited(&undecodable_log, RT_LOG_ERROR, "the shared ring held %llu bytes that "
				"are not a well-formed message: dropped", (unsigned long long) loss.undecodable);
	}
}

/* A departure may have been among the lost messages too, and no report
 * will come from a hub that left: forget what the view holds of hubs that
 * no longer have a slot. Its webhooks go from here if this is the lowest
 * hub left (count 0), as for any departure: should the announcer have sent
 * them already, a member_removed twice beats none. */
static void rt__forget_departed(rt_broker *b)
{
	uint32_t origins[RT_POOL_SLOTS];
	size_t n = rt_hub_known_origins(b->link_hub, origins, RT_POOL_SLOTS);
	rt_msg_fields f = {0};

	for (size_t i = 0; i < n; i++) {
		rt_msg *gone;
		if (rt_pool_has_node(rt__pool, b->app, origins[i])) {
			continue;
		}
		f.origin = origins[i];
		f.count = 0;
		gone = rt_msg_new(RT_MSG_GONE, &f);
		if (gone != NULL) {
			rt_hub_deliver(b->link_hub, gone);
		}
	}
}

/* Every other hub answers a sync with a full report of its state. */
static void rt__publish_sync(rt_broker *b)
{
	rt_msg_fields f = {0};
	rt_msg *sync;
	char err[160];

	f.origin = rt_hub_node_id(b->link_hub);
	sync = rt_msg_new(RT_MSG_SYNC, &f);
	if (sync != NULL) {
		rt_pool_publish(rt__pool, b->app, sync, err, sizeof(err));
		rt_msg_free(sync);
	}
}

/* Pays what this process's PHP thread left owing: the other hubs get
 * their datagram, this one reads at once. */
static void rt__pay_owed(rt_broker *b)
{
	if (atomic_exchange(&b->owed, 0)) {
		rt_pool_wake(rt__pool, b->app, b->member);
		rt__drain(b);
	}
}

static void rt__on_batch(uv_timer_t *timer)
{
	rt_broker *b = timer->data;
	uint64_t published = atomic_load(&b->published);

	rt__pay_owed(b);
	if (published != b->seen_published) {
		b->seen_published = published;
		b->quiet_ms = 0;
		return;
	}
	b->quiet_ms += b->cfg.batch_window;
	if (b->quiet_ms < RT_BATCH_LINGER_MS) {
		return;
	}
	uv_timer_stop(&b->batch);
	/* The PHP thread sets owed before it looks at watching: whichever of
	 * the two comes second sees the other's store, so nothing is left owed. */
	atomic_store(&b->watching, 0);
	rt__pay_owed(b);
}

/* A process that publishes is likely to publish again soon: watch for it. */
static void rt__watch(rt_broker *b)
{
	uint64_t published = atomic_load(&b->published);

	if (!b->batching || atomic_load(&b->watching) || published == b->seen_published) {
		return;
	}
	b->seen_published = published;
	b->quiet_ms = 0;
	atomic_store(&b->watching, 1);
	uv_timer_start(&b->batch, rt__on_batch, b->cfg.batch_window, b->cfg.batch_window);
}

static void rt__on_wake(uv_poll_t *handle, int status, int events)
{
	rt_broker *b = handle->data;
	(void) status;
	(void) events;

	rt__drain(b);
	rt__watch(b);
}

static void rt__publish_gone(rt_broker *b, uint32_t node, uint32_t announcer)
{
	rt_msg_fields f = {0};
	rt_msg *msg;
	char err[128];

	f.origin = node;
	f.count = announcer;
	msg = rt_msg_new(RT_MSG_GONE, &f);
	if (msg != NULL) {
		rt_pool_publish(rt__pool, b->app, msg, err, sizeof(err));
		rt_msg_free(msg);
	}
}

static int rt__link_start(void *ctx, rt_hub *hub, uv_loop_t *loop)
{
	rt_broker *b = ctx;
	char err[160];

	b->link_hub = hub;
	if (rt_pool_join(rt__pool, b->app, rt_hub_node_id(hub), &b->member, err, sizeof(err)) != 0) {
		rt_log(RT_LOG_ERROR, "%s", err);
		return -1;
	}
	uv_poll_init(loop, &b->poll, rt_pool_member_fd(b->member));
	b->poll.data = b;
	uv_poll_start(&b->poll, UV_READABLE, rt__on_wake);
	b->polling = 1;
	if (b->cfg.batch_window > 0) {
		uv_timer_init(loop, &b->batch);
		b->batch.data = b;
		b->batching = 1;
	}
	/* Ask the hubs already running for what they hold. */
	rt__publish_sync(b);
	return 0;
}

static int rt__link_publish(void *ctx, rt_msg *msg)
{
	static rt_log_limit refused_log;
	rt_broker *b = ctx;
	char err[200];
	int r = rt_pool_publish(rt__pool, b->app, msg, err, sizeof(err));

	if (r != 0) {
		rt_log_limited(&refused_log, RT_LOG_ERROR, "message not delivered: %s", err);
	}
	rt_msg_free(msg);
	return r;
}

static void rt__link_tick(void *ctx)
{
	rt_broker *b = ctx;
	uint32_t dead[16];
	int n = rt_pool_reap(rt__pool, b->app, dead, 16);

	/* A publisher that died owing a wake-up (a CLI script killed within
	 * realtime.batch_window of its last broadcast()) delays its last
	 * messages by a second at most. */
	rt__drain(b);

	/* At most one resync a second, however often the ring overtakes us:
	 * the reports go through the same ring. */
	if (b->resync_due) {
		b->resync_due = 0;
		rt__forget_departed(b);
		rt__publish_sync(b);
	}

	for (int i = 0; i < n; i++) {
		rt_log(RT_LOG_WARNING, "hub %u of this server died; forgetting its clients", dead[i]);
		rt__publish_gone(b, dead[i], rt_hub_node_id(b->link_hub));
	}
	if (b->member != NULL) {
		char recent[RT_HUB_RECENT][RT_HUB_RECENT_LEN];
		_Static_assert(RT_HUB_RECENT_LEN == RT_LOG_RECENT_LEN, "one line length");
		int k = rt_log_recent(recent, RT_HUB_RECENT, NULL);
		rt_pool_set_detail(b->member, atomic_load_explicit(&b->overrun, memory_order_relaxed),
				(const char (*)[RT_HUB_RECENT_LEN]) recent, k);
	}
}

static int rt__link_history_stats(void *ctx, uint64_t *out)
{
	(void) ctx;
	if (rt__pool == NULL || rt_pool_history_size(rt__pool) == 0) {
		return -ENOENT;
	}
	out[RT_STAT_HISTORY_BYTES] = rt_pool_history_size(rt__pool);
	rt_pool_history_losses(rt__pool, &out[RT_STAT_HISTORY_EVICTED_MESSAGES],
			&out[RT_STAT_HISTORY_EVICTED_CHANNELS], &out[RT_STAT_HISTORY_RESETS]);
	return 0;
}

static void rt__link_stats(void *ctx, uint64_t *out)
{
	rt_broker *b = ctx;

	if (b->member != NULL) {
		out[RT_STAT_BROKER_RING_LAG] = rt_pool_member_lag(b->member);
	}
	out[RT_STAT_BROKER_RING_OVERRUNS] = atomic_load_explicit(&b->overrun, memory_order_relaxed);
}

static void rt__link_set_load(void *ctx, uint32_t connections)
{
	rt_broker *b = ctx;

	if (b->member != NULL) {
		rt_pool_set_load(b->member, connections);
	}
}

static int rt__pool_peers(rt_pool *pool, uint64_t app, rt_hub_peer *out, int max)
{
	rt_pool_peer peers[RT_POOL_SLOTS];
	int n = rt_pool_peers(pool, app, peers, RT_POOL_SLOTS);

	for (int i = 0; i < n && i < max && i < RT_POOL_SLOTS; i++) {
		out[i].node = peers[i].node;
		out[i].pid = peers[i].pid;
		out[i].load = peers[i].load;
	}
	return n;
}

/* A history read for the hub: the entries are copied out under the
 * segment's lock, decoded after it. */
typedef struct rt__hist_copy {
	rt_pos *pos;
	char **bytes;
	size_t *lens;
	uint32_t count, cap;
	int nomem;
} rt__hist_copy;

static void rt__hist_take(void *ctx, const rt_pos *pos, const unsigned char *bytes, size_t len)
{
	rt__hist_copy *c = ctx;
	char *copy;

	if (!c->nomem && c->count == c->cap) {
		/* Grown as needed: most replays are short. */
		uint32_t cap = c->cap < 32 ? 32 : c->cap * 2;
		rt_pos *pos2 = realloc(c->pos, cap * sizeof(*pos2));
		char **bytes2 = pos2 != NULL ? realloc(c->bytes, cap * sizeof(*bytes2)) : NULL;
		size_t *lens2 = bytes2 != NULL ? realloc(c->lens, cap * sizeof(*lens2)) : NULL;
		if (pos2 != NULL) {
			c->pos = pos2;
		}
		if (bytes2 != NULL) {
			c->bytes = bytes2;
		}
		if (lens2 != NULL) {
			c->lens = lens2;
			c->cap = cap;
		}
	}
	if (c->nomem || c->count == c->cap || (copy = malloc(len > 0 ? len : 1)) == NULL) {
		c->nomem = 1;
		return;
	}
	memcpy(copy, bytes, len);
	c->pos[c->count] = *pos;
	c->bytes[c->count] = copy;
	c->lens[c->count] = len;
	c->count++;
}

static void rt__link_history(void *ctx, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*done)(void *arg, const rt_hub_history *res), void *arg)
{
	static rt_log_limit undecodable_log;
	rt_broker *b = ctx;
	rt__hist_copy c = {0};
	rt_hub_history res = {0};
	uint32_t cap = limit;

	if (cap > RT_HISTORY_MAX_MESSAGES) {
		cap = RT_HISTORY_MAX_MESSAGES;
	}
	{
		const rt_history_rule *rule = rt_history_rule_for(&b->cfg.history, channel, len);
		if (rule != NULL && cap > rule->max_messages) {
			cap = rule->max_messages;
		}
	}
	res.status = rt__pool == NULL ? -ENOENT : rt_pool_history_read(rt__pool, channel, len,
			since, cap, rt__hist_take, &c, &res.top);
	if (c.nomem && res.status == 1) {
		res.status = -ENOMEM;
	}
	if (res.status == 1 && c.count > 0) {
		res.msgs = calloc(c.count, sizeof(*res.msgs));
		if (res.msgs == NULL) {
			res.status = -ENOMEM;
		}
		for (uint32_t i = 0; res.msgs != NULL && i < c.count; i++) {
			rt_msg *m = rt_msg_decode(c.bytes[i], c.lens[i]);
			rt_msg_fields f = {0};
			if (m == NULL || m->type != RT_MSG_PUBLISH || m->channel_count != 1) {
				/* Checked entries whose bytes are not a message: the store
				 * was written by something else. Nothing is replayed. */
				rt_log_limited(&undecodable_log, RT_LOG_ERROR, "the history of a channel "
						"held an entry that is not a message: not recovered");
				rt_msg_free(m);
				res.status = 0;
				break;
			}
			f.channels = m->channels;
			f.channel_count = 1;
			f.event = m->event;
			f.data = m->data;
			f.target = m->target; /* a Mercure update's fields */
			f.positions = &c.pos[i];
			res.msgs[i] = rt_msg_new(RT_MSG_PUBLISH, &f);
			rt_msg_free(m);
			if (res.msgs[i] == NULL) {
				res.status = -ENOMEM;
				break;
			}
			res.count = i + 1;
		}
	}
	if (res.status != 1) {
		for (uint32_t i = 0; res.msgs != NULL && i < res.count; i++) {
			rt_msg_free(res.msgs[i]);
		}
		free(res.msgs);
		res.msgs = NULL;
		res.count = 0;
	}
	done(arg, &res);
	for (uint32_t i = 0; i < res.count; i++) {
		rt_msg_free(res.msgs[i]);
	}
	free(res.msgs);
	for (uint32_t i = 0; i < c.count; i++) {
		free(c.bytes[i]);
	}
	free(c.pos);
	free(c.bytes);
	free(c.lens);
}

static void rt__link_set_metrics(void *ctx, const uint64_t *values, int n)
{
	rt_broker *b = ctx;

	if (b->member != NULL) {
		rt_pool_set_metrics(b->member, values, n);
	}
}

static int rt__link_peer_metrics(void *ctx, rt_hub_peer *out, uint64_t *values, int n, int max)
{
	rt_broker *b = ctx;
	rt_pool_peer peers[RT_POOL_SLOTS];
	int got;

	if (rt__pool == NULL || b->member == NULL) {
		return 0;
	}
	if (max > RT_POOL_SLOTS) {
		max = RT_POOL_SLOTS;
	}
	got = rt_pool_peer_metrics(rt__pool, b->app, peers, values, n, max);
	for (int i = 0; i < got; i++) {
		out[i].node = peers[i].node;
		out[i].pid = peers[i].pid;
		out[i].load = peers[i].load;
	}
	return got;
}

static int rt__link_peers(void *ctx, rt_hub_peer *out, int max)
{
	rt_broker *b = ctx;

	return rt__pool_peers(rt__pool, b->app, out, max);
}

static void rt__link_stop(void *ctx)
{
	rt_broker *b = ctx;
	uint32_t me = rt_hub_node_id(b->link_hub);

	if (b->member == NULL) {
		return;
	}
	if (b->batching) {
		uv_timer_stop(&b->batch);
		uv_close((uv_handle_t *) &b->batch, NULL);
		b->batching = 0;
		atomic_store(&b->watching, 0);
		rt__pay_owed(b);
	}
	rt__publish_gone(b, me, rt_pool_first_node(rt__pool, b->app, me));
	if (b->polling) {
		uv_poll_stop(&b->poll);
		uv_close((uv_handle_t *) &b->poll, NULL);
		b->polling = 0;
	}
	rt_pool_leave(b->member);
	b->member = NULL;
}

/* ---- PHP side ---- */

static int rt__open(rt_broker **out, const rt_config *cfg, char *err, size_t errlen)
{
	rt_broker *b = calloc(1, sizeof(*b));

	if (b == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (pthread_mutex_init(&b->php_lock, NULL) != 0) {
		free(b);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->cfg = *cfg;
	b->app = rt_pool_app_id(cfg->host, cfg->port);
	rt_segment_name(b->seg_name, sizeof(b->seg_name), cfg->host, cfg->port);
	snprintf(b->seg_why, sizeof(b->seg_why), "not looked at yet");
	b->link.ctx = b;
	b->link.start = rt__link_start;
	b->link.publish = rt__link_publish;
	b->link.tick = rt__link_tick;
	b->link.stop = rt__link_stop;
	b->link.set_load = rt__link_set_load;
	b->link.peers = rt__link_peers;
	b->link.history = rt__link_history;
	b->link.set_metrics = rt__link_set_metrics;
	b->link.peer_metrics = rt__link_peer_metrics;
	b->link.stats = rt__link_stats;
	b->link.history_stats = rt__link_history_stats;
	if (rt__pool != NULL) {
		b->link.max_message = rt_pool_max_message(rt__pool);
		snprintf(b->max_setting, sizeof(b->max_setting), "realtime.pool_memory=%u",
				cfg->pool_memory);
		b->link.max_message_setting = b->max_setting;
	}
	*out = b;
	return 0;
}

static const rt_hub_link *rt__link(rt_broker *b)
{
	return rt__pool != NULL ? &b->link : NULL;
}

static void rt__attach(rt_broker *b, rt_hub *hub)
{
	atomic_store(&b->hub, hub);
}

/* A lone broadcast() would otherwise pay a datagram to every idle hub,
 * tens of microseconds in the request; a watched process pays none. */
RT_HOT static void rt__wake_or_defer(rt_broker *b)
{
	atomic_fetch_add(&b->published, 1);
	if (atomic_load(&b->watching)) {
		atomic_store(&b->owed, 1);
		if (atomic_load(&b->watching)) {
			atomic_fetch_add_explicit(&b->batched, 1, memory_order_relaxed);
			return;
		}
	}
	rt_pool_wake(rt__pool, b->app, NULL);
}

static void rt__segment_detach(rt_broker *b)
{
	rt_pool_unmap(b->seg);
	b->seg = NULL;
}

static void rt__segment_attach(rt_broker *b)
{
	static rt_log_limit refused_log;
	uid_t uid;
	gid_t gid;
	int r;

	if (b->cfg.secret[0] == '\0') {
		snprintf(b->seg_why, sizeof(b->seg_why), "realtime.secret is empty (a CLI process "
				"publishes through %s only with the server's secret)", b->seg_name);
		return;
	}
	r = rt_segment_owner(b->cfg.shm_user, &uid, &gid, b->seg_why, sizeof(b->seg_why));
	if (r != 0) {
		rt_log_limited(&refused_log, RT_LOG_WARNING, "%s; publishing through POST /publish",
				b->seg_why);
		return;
	}
	r = rt_segment_attach(&b->seg, b->seg_name, uid, &b->seg_id, b->seg_why,
			sizeof(b->seg_why));
	if (r == 0) {
		rt_pool_set_history(b->seg, &b->cfg.history);
	}
	if (r == 0 && !rt_pool_secret_matches(b->seg, b->cfg.secret)) {
		rt__segment_detach(b);
		snprintf(b->seg_why, sizeof(b->seg_why), "shared memory segment %s belongs to a "
				"server with another realtime.secret", b->seg_name);
		return;
	}
	if (r == 0 && !rt_pool_history_rules_match(b->seg, &b->cfg.history)) {
		rt__segment_detach(b);
		snprintf(b->seg_why, sizeof(b->seg_why), "shared memory segment %s belongs to a "
				"server with another realtime.history (the hub numbers the messages posted "
				"to /publish instead)", b->seg_name);
		return;
	}
	/* None, or another user's: the usual case of another host's or user's
	 * script, which /publish serves; or one being made (looked at again in
	 * a second). The rest is a segment that should be ours and is not
	 * sound: say so. */
	if (r != 0 && r != -ENOENT && r != -EACCES && r != -EAGAIN) {
		rt_log_limited(&refused_log, RT_LOG_WARNING, "%s; publishing through POST /publish",
				b->seg_why);
	}
}

/* Wakes the segment's hubs for whatever broadcast() left owing. */
static void rt__pay_segment(rt_broker *b)
{
	if (atomic_exchange(&b->seg_owed, 0) && b->seg != NULL) {
		rt_pool_wake(b->seg, b->app, NULL);
	}
}

static void *rt__waker_main(void *arg)
{
	rt_broker *b = arg;
	struct timespec window = {(time_t) (b->cfg.batch_window / 1000),
		(long) (b->cfg.batch_window % 1000) * 1000000L};

	pthread_mutex_lock(&b->waker_lock);
	for (;;) {
		while (!atomic_load(&b->seg_armed) && !b->waker_stop) {
			pthread_cond_wait(&b->waker_cond, &b->waker_lock);
		}
		if (b->waker_stop) {
			break;
		}
		pthread_mutex_unlock(&b->waker_lock);
		nanosleep(&window, NULL);
		pthread_mutex_lock(&b->waker_lock); /* the PHP thread swaps b->seg under it */
		if (atomic_exchange(&b->seg_owed, 0)) {
			if (b->seg != NULL) {
				rt_pool_wake(b->seg, b->app, NULL);
			}
			continue; /* still busy: look again in a window */
		}
		/* Quiet for a window: the next call wakes the hubs itself. It sets
		 * owed before it looks at armed, this thread clears armed before it
		 * looks at owed: whichever comes second sees the other. */
		atomic_store(&b->seg_armed, 0);
		rt__pay_segment(b);
	}
	pthread_mutex_unlock(&b->waker_lock);
	return NULL;
}

/* Starts the waker on the first burst; 0 when it runs. */
static int rt__waker_start(rt_broker *b)
{
	sigset_t all, old;

	if (b->waker_state != 0) {
		return b->waker_state > 0 ? 0 : -1;
	}
	b->waker_state = -1;
	if (pthread_mutex_init(&b->waker_lock, NULL) != 0) {
		return -1;
	}
	if (pthread_cond_init(&b->waker_cond, NULL) != 0) {
		pthread_mutex_destroy(&b->waker_lock);
		return -1;
	}
	/* It takes no signal meant for the script (SIGINT, pcntl handlers). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&b->waker, NULL, rt__waker_main, b) == 0) {
		b->waker_state = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (b->waker_state < 0) {
		pthread_cond_destroy(&b->waker_cond);
		pthread_mutex_destroy(&b->waker_lock);
		return -1;
	}
	return 0;
}

static void rt__waker_stop(rt_broker *b)
{
	if (b->waker_state <= 0) {
		return;
	}
	pthread_mutex_lock(&b->waker_lock);
	b->waker_stop = 1;
	pthread_cond_signal(&b->waker_cond);
	pthread_mutex_unlock(&b->waker_lock);
	pthread_join(b->waker, NULL);
	pthread_cond_destroy(&b->waker_cond);
	pthread_mutex_destroy(&b->waker_lock);
	b->waker_state = 0;
	rt__pay_segment(b); /* what the last calls left owing */
}

/* After an append to the segment: 1 when the hubs are woken or will be
 * within batch_window, 0 when no hub of the app holds a slot. */
RT_HOT static int rt__segment_wake(rt_broker *b)
{
	int n;

	atomic_fetch_add_explicit(&b->published, 1, memory_order_relaxed);
	if (atomic_load(&b->seg_armed)) {
		atomic_store(&b->seg_owed, 1);
		if (atomic_load(&b->seg_armed)) {
			atomic_fetch_add_explicit(&b->batched, 1, memory_order_relaxed);
			return 1;
		}
	}
	atomic_store(&b->seg_owed, 0);
	n = rt_pool_wake(b->seg, b->app, NULL);
	if (n > 0 && b->cfg.batch_window > 0 && rt__waker_start(b) == 0) {
		pthread_mutex_lock(&b->waker_lock);
		atomic_store(&b->seg_armed, 1);
		pthread_cond_signal(&b->waker_cond);
		pthread_mutex_unlock(&b->waker_lock);
	}
	return n > 0;
}

/* Whether broadcast() may go through the named segment now: attached,
 * still the one the name leads to, and read by a live hub. */
RT_HOT static int rt__segment_usable(rt_broker *b)
{
	time_t now = time(NULL);

	/* Without a segment the host runs no server of this app: /publish
	 * reaches it elsewhere, and one look a second is enough. */
	if (now == b->seg_checked && (b->seg_live || b->seg == NULL)) {
		return b->seg_live;
	}
	b->seg_checked = now;
	/* The waker reads b->seg under its lock: change it under the lock. */
	if (b->waker_state > 0) {
		pthread_mutex_lock(&b->waker_lock);
	}
	if (b->seg != NULL && !rt_segment_same(b->seg_name, &b->seg_id)) {
		rt__pay_segment(b);
		rt__segment_detach(b);
	}
	if (b->seg == NULL) {
		rt__segment_attach(b);
	}
	if (b->waker_state > 0) {
		pthread_mutex_unlock(&b->waker_lock);
	}
	b->seg_live = b->seg != NULL && rt_pool_live_hubs(b->seg, b->app) > 0;
	if (b->seg != NULL && !b->seg_live) {
		snprintf(b->seg_why, sizeof(b->seg_why), "no hub of %s:%d runs on this host",
				b->cfg.host, b->cfg.port);
	}
	return b->seg_live;
}

/* broadcast() in a process without a hub, under php_lock: through the
 * server's named segment when a hub reads it, else POST /publish. */
static int rt__publish_alone(rt_broker *b, const rt_msg *msg, rt_pos *out, char *err,
		size_t errlen)
{
	int live = rt__segment_usable(b);
	int r;

	/* With no live hub (a reload between its old workers and its new
	 * ones) the segment still takes what a channel's history keeps:
	 * clients coming back recover it, and broadcast() still returns its
	 * position instead of failing over to a /publish no hub answers. */
	if (live || b->seg != NULL) {
		rt_pos mine[8], *pos = out;
		int kept = 0;
		if (pos == NULL && msg->channel_count <= 8) {
			pos = mine; /* to know whether the history kept it */
		}
		r = rt_pool_append_at(b->seg, b->app, msg, pos, err, errlen);
		if (r != 0 || (live && rt__segment_wake(b))) {
			return r;
		}
		/* The hubs left since the last look, and a hub that joins reads
		 * only what comes after it: /publish says whether one is there.
		 * Unless a channel's history kept it (a reload in progress):
		 * posted again, it would be in the history twice, and no client
		 * is connected to miss it live. */
		for (uint32_t c = 0; pos != NULL && c < msg->channel_count; c++) {
			kept |= pos[c].offset > 0;
		}
		b->seg_live = 0;
		if (kept) {
			return 0;
		}
	}
	return rt_remote_publish(&b->remote, &b->cfg, msg, err, errlen);
}

RT_HOT static int rt__publish_at(rt_broker *b, const rt_msg *msg, rt_pos *out, char *err,
		size_t errlen)
{
	rt_hub *hub;
	rt_msg *copy;
	int r;

	if (out != NULL) {
		for (uint32_t c = 0; c < msg->channel_count; c++) {
			out[c].offset = 0;
			out[c].epoch = 0;
		}
	}
	if (rt__pool != NULL) {
		r = rt_pool_append_at(rt__pool, b->app, msg, out, err, errlen);
		if (r == 0) {
			rt__wake_or_defer(b);
		}
		return r;
	}
	hub = atomic_load(&b->hub);
	if (hub == NULL) {
		pthread_mutex_lock(&b->php_lock);
		r = rt__publish_alone(b, msg, out, err, errlen);
		pthread_mutex_unlock(&b->php_lock);
		return r;
	}
	copy = rt_msg_copy(msg);
	if (copy == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = rt_hub_post(hub, copy);
	if (r == -ENOBUFS) {
		snprintf(err, errlen, "the hub's queue is full: it is not keeping up (it queues at most "
				"realtime.pool_memory bytes)");
	} else if (r != 0) {
		snprintf(err, errlen, "the hub is shutting down");
	}
	return r;
}

RT_HOT static int rt__publish(rt_broker *b, const rt_msg *msg, char *err, size_t errlen)
{
	return rt__publish_at(b, msg, NULL, err, errlen);
}

static int rt__history(rt_broker *b, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*fn)(void *ctx, const rt_pos *pos, const unsigned char *bytes,
		size_t len), void *ctx, rt_pos *top, char *err, size_t errlen)
{
	rt_pool *pool = rt__pool;
	int r;

	if (pool == NULL) {
		/* The segment stays attached while this reads it. */
		pthread_mutex_lock(&b->php_lock);
		if (atomic_load(&b->hub) == NULL && rt__segment_usable(b)) {
			r = rt_pool_history_read(b->seg, channel, len, since, limit, fn, ctx, top);
		} else {
			snprintf(err, errlen, "this process cannot reach the server's history (no shared "
					"memory segment of %s:%d: %s)", b->cfg.host, b->cfg.port, b->seg_why);
			r = -ENOTSUP;
		}
		pthread_mutex_unlock(&b->php_lock);
	} else {
		r = rt_pool_history_read(pool, channel, len, since, limit, fn, ctx, top);
	}
	if (r == -ENOENT) {
		snprintf(err, errlen, "channel %.*s keeps no history (realtime.history does not name "
				"it, or the server started without it)", (int) (len > 200 ? 200 : len), channel);
	}
	return r;
}

static void rt__stats(rt_broker *b, rt_broker_stats *out)
{
	uint64_t published = atomic_load(&b->published);

	out->batched = atomic_load(&b->batched);
	out->woke = published - out->batched;
	out->watching = atomic_load(&b->watching);
	out->dropped_ring_overrun = atomic_load_explicit(&b->overrun, memory_order_relaxed);
	out->broker_connected = -1;
	if (rt__pool != NULL) {
		rt_pool_history_losses(rt__pool, &out->history_evicted_messages,
				&out->history_evicted_channels, &out->history_resets);
	}
	if (atomic_load(&b->hub) != NULL) {
		out->publish_path = "hub";
	} else if (rt__pool != NULL) {
		out->publish_path = "segment";
	} else {
		pthread_mutex_lock(&b->php_lock);
		out->publish_path = rt__segment_usable(b) ? "segment" : "http";
		pthread_mutex_unlock(&b->php_lock);
	}
}

/* A CLI script (artisan realtime:status) lists the server's hubs from
 * the segment it publishes through. */
static int rt__peers(rt_broker *b, rt_hub_peer *out, int max)
{
	int n = 0;

	if (rt__pool != NULL) {
		return rt__pool_peers(rt__pool, b->app, out, max);
	}
	pthread_mutex_lock(&b->php_lock);
	if (rt__segment_usable(b)) {
		n = rt__pool_peers(b->seg, b->app, out, max);
	}
	pthread_mutex_unlock(&b->php_lock);
	return n;
}

/* The same hubs with their ring state and recent log lines (php --ri). */
static int rt__details(rt_broker *b, rt_hub_detail *out, int max)
{
	int n = 0;

	if (rt__pool != NULL) {
		return rt_pool_details(rt__pool, b->app, out, max);
	}
	pthread_mutex_lock(&b->php_lock);
	if (rt__segment_usable(b)) {
		n = rt_pool_details(b->seg, b->app, out, max);
	}
	pthread_mutex_unlock(&b->php_lock);
	return n;
}

static void rt__close(rt_broker *b);

void rt_broker_memory_describe(const rt_config *cfg, char *out, size_t len)
{
	rt_broker *b;
	char err[64];

	if (rt__pool != NULL) {
		if (rt__segment[0] != '\0') {
			snprintf(out, len, "%s (%s)", rt__segment, rt__segment_how);
		} else {
			snprintf(out, len, "none: an anonymous mapping (the segment was refused: see the "
					"log)");
		}
		return;
	}
	if (rt__open(&b, cfg, err, sizeof(err)) != 0) {
		snprintf(out, len, "%s", err);
		return;
	}
	if (rt__segment_usable(b)) {
		snprintf(out, len, "%s: broadcast() without a hub publishes through it", b->seg_name);
	} else {
		snprintf(out, len, "%s not used: %s; broadcast() without a hub posts to /publish",
				b->seg_name, b->seg_why);
	}
	rt__close(b);
}

static void rt__close(rt_broker *b)
{
	rt__waker_stop(b);
	rt_remote_close(b->remote);
	rt_pool_unmap(b->seg);
	pthread_mutex_destroy(&b->php_lock);
	free(b);
}

const rt_broker_ops rt_broker_memory = {
	.name = "memory",
	.prefork = rt__prefork,
	.postfork_shutdown = rt__shutdown,
	.open = rt__open,
	.link = rt__link,
	.attach = rt__attach,
	.publish = rt__publish,
	.publish_at = rt__publish_at,
	.history = rt__history,
	.stats = rt__stats,
	.peers = rt__peers,
	.details = rt__details,
	.close = rt__close,
};
