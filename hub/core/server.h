/* Hub internals shared by the files of hub/ that run on the loop thread. */
#ifndef RT_HUB_SERVER_H
#define RT_HUB_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <uv.h>

#include "hub/util/buf.h"
#include "hub/model/registry.h"
#include "hub/model/config.h"
#include "hub/core/hub.h"
#include "hub/util/map.h"
#include "hub/model/msg.h"
#include "hub/net/net.h"
#include "hub/model/view.h"

struct rt_conn;
struct rt_conn_handlers;

/* rt_hub.stat_sessions: protocol x transport. */
enum { RT_STAT_NATIVE_WS, RT_STAT_PUSHER_WS, RT_STAT_NATIVE_SSE, RT_STAT_NATIVE_LONGPOLL,
	RT_STAT_MERCURE_SSE, RT_STAT_KINDS };
/* rt_hub.stat_source: where a message entered (the hub it entered). */
enum { RT_STAT_SRC_PUBLISH_API, RT_STAT_SRC_PUSHER_API, RT_STAT_SRC_CLIENT_EVENT,
	RT_STAT_SRC_PHP, RT_STAT_SRC_MERCURE_API, RT_STAT_SRC_MERCURE_FUNCTION, RT_STAT_SOURCES };
/* rt_hub.stat_mercure_refused: why a Mercure publisher or subscriber was refused. */
enum { RT_STAT_MERCURE_OFF, RT_STAT_MERCURE_NO_TOKEN, RT_STAT_MERCURE_BAD_TOKEN,
	RT_STAT_MERCURE_EXPIRED, RT_STAT_MERCURE_FORBIDDEN, RT_STAT_MERCURE_BAD_REQUEST,
	RT_STAT_MERCURE_TOO_MANY_TOPICS, RT_STAT_MERCURE_SELECTORS_FULL, RT_STAT_MERCURE_REFUSALS };
/* rt_hub.stat_auth: how a connection's or a channel's auth ended. */
enum { RT_STAT_AUTH_OK, RT_STAT_AUTH_UNAUTHENTICATED, RT_STAT_AUTH_FORBIDDEN,
	RT_STAT_AUTH_UNAVAILABLE, RT_STAT_AUTH_OTHER, RT_STAT_AUTH };
/* Publish-to-write latency buckets: their upper bounds in microseconds. */
#define RT_LATENCY_BUCKETS 12

struct rt_hub {
	rt_config cfg;
	rt_net net;            /* the connections (hub/net/net.h) */
	const struct rt_hub_hooks *hooks; /* what the layers below ask of hub/hub.c */
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_poll_t shared_listener; /* the socket bound by the server's parent process */
	int has_shared_listener;
	int shared_fd;             /* its descriptor, ours to close (hub/spread.c) */
	int shared_paused;         /* this hub lets the others take its clients */
	unsigned shared_waits;     /* checks in a row that found clients waiting */
	int shared_forced;         /* taking them anyway until the queue is empty */
	uv_timer_t spread_timer;   /* while paused: when to take clients again */
	rt_hub_link link;
	int has_link;
	uv_async_t wake;      /* PHP threads posted messages */
	uv_check_t flush;     /* once per loop turn: write what was queued */
	uv_timer_t tick;      /* once a second: deadlines, pings */
	pthread_t thread;

	pthread_mutex_t lock; /* guards the inbox and the stop handshake */
	pthread_cond_t stopped_cond;
	rt_msg *inbox_head, *inbox_tail;
	size_t inbox_bytes;   /* of messages for clients, at most cfg.pool_memory */
	int accepting_posts;
	int stopped;          /* the loop thread has finished */
	/* The stop of a signal handler (rt_hub_stop_in_handler): no lock. */
	_Atomic int stop_asked;
	_Atomic int handoff_cut; /* rt_hub_cut_handoff: no other hub stays */
	int delivering;       /* inside rt_hub_deliver (the broker's reading) */
	_Atomic int finished;   /* the loop thread has finished (read without the lock) */
	_Atomic int restart;    /* the process ends, the server goes on (rt_hub_mark_restart) */
	_Atomic uint64_t stat_closed_restart; /* clients closed with 1012 / Pusher 4200 */

	rt_registry registry;
	rt_map sessions_by_id; /* connection id -> rt_session (hub/core/session.h) */
	rt_map users;         /* user id -> rt_user */
	rt_view view;         /* the whole app's channels and members (hub/model/view.h) */
	int hooks_mine;       /* this hub sends the webhooks of the state change at hand */
	uv_timer_t sync_timer;  /* a new hub hears from the others before it answers queries */
	int syncing;
	/* Hubs whose whole-state report is being read (between its STATE_BEGIN
	 * and STATE_END), and whether the change at hand comes from one while
	 * this hub is syncing: a session moved in meanwhile knew those members
	 * from its old hub, so it is not told of them again (hub.c). */
	uint32_t reporting[16];
	uint32_t reporting_count;
	int quiet_moved_in;
	rt_msg *deferred, **deferred_tail;
	struct rt_http_client *http;  /* auth endpoint and webhooks */
	struct rt_webhooks *webhooks; /* NULL when realtime.webhook_url is empty */
	uint32_t node_id;
	uv_timer_t stop_timer;  /* unref'd: the stop's deadline, then its last resort */
	int stop_forced;        /* the loop was stopped with handles still open */

	_Atomic uint64_t stat_channels;
	_Atomic uint64_t stat_published;

	/* Limits on what clients may cost (hub/net/limits.h). */
	uint32_t auth_calls;          /* auth endpoint calls in flight */
	_Atomic uint64_t stat_broker_refused;/* the broker did not take a message */
	_Atomic uint64_t stat_queue_full;  /* a bounded queue (webhooks) was full */
	_Atomic uint64_t stat_broker_lost;  /* bytes of messages the broker could not hand over */

	/* Handoff of connections between hubs (hub/handoff.h). */
	struct rt_handoff_state *handoff;
	_Atomic uint64_t stat_handed_off;     /* passed to another hub */
	_Atomic uint64_t stat_taken_over;     /* received from another hub */
	_Atomic uint64_t stat_handoff_closed; /* closed with 1001 for lack of a taker */

	/* Event streams (hub/net/stream.h). */
	_Atomic uint64_t stat_sse;            /* open now */
	_Atomic uint64_t stat_sse_bad_id;     /* malformed Last-Event-ID, ignored */
	/* The last one-channel stream id line made (hub/proto/native_sse.c):
	 * every stream on that one history channel shares it for the message
	 * at hand. Freed with the hub. */
	rt_buf *sse_id;
	uint32_t sse_id_hash;
	rt_pos sse_id_pos;

	/* Mercure (hub/proto/mercure.h): the subscribers' template and "*"
	 * selectors, matched on every publish; a count bumped once per message
	 * sent (a fan-out, a replay), so a subscriber reached through several
	 * topics or selectors is sent it once. */
	struct rt_mercure_hub *mercure;
	uint64_t publish_seq;
	_Atomic uint64_t stat_mercure_refused[RT_STAT_MERCURE_REFUSALS];
	_Atomic uint64_t stat_mercure_replayed;   /* updates sent from history on reconnect */

	/* Long-polling (hub/polling.h). */
	struct rt_polling *polling;
	_Atomic uint64_t stat_lp_sessions;    /* open now, at home here */
	_Atomic uint64_t stat_lp_dropped;     /* events dropped from full queues */

	/* Operability (hub/api/metrics.c): written on the loop thread only
	 * (rt_stat_add: no locked instruction), read by the tick and /metrics. */
	_Atomic uint64_t stat_sessions[RT_STAT_KINDS];   /* open now, by protocol x transport */
	_Atomic uint64_t stat_subscriptions;             /* open now */
	_Atomic uint64_t stat_source[RT_STAT_SOURCES];   /* messages published here, by source */
	_Atomic uint64_t stat_auth[RT_STAT_AUTH];        /* auth outcomes, by reason */
	_Atomic uint64_t stat_webhooks_sent;             /* webhook requests answered 2xx */
	_Atomic uint64_t stat_webhooks_failed;           /* given up: error, timeout, non-2xx */
	_Atomic uint64_t stat_recovered[2];              /* subscribes with a position: not, yes */
	_Atomic uint64_t stat_history_held_dropped;      /* live messages past realtime.history_hold */
	_Atomic uint64_t stat_history_gaps[2];           /* offsets skipped live: not filled, filled */
	_Atomic uint64_t stat_broker[RT_STAT_BROKER];    /* the broker's figures (rt_hub_link.stats) */
	_Atomic uint64_t stat_latency[RT_LATENCY_BUCKETS + 2]; /* buckets, then count, sum (us) */
};

/* The sessions of one user on this hub. */
struct rt_session;
typedef struct rt_user {
	uint32_t count, cap;
	struct rt_session **sessions;
	size_t id_len;
	char id[];
} rt_user;

/* What the layers under the hub's loop (sessions, the HTTP APIs) ask of
 * it; hub/hub.c sets these, so those layers never call up into it. */
typedef struct rt_hub_hooks {
	/* Publishes from the hub thread itself: through the broker, so that
	 * every hub of the app delivers it, as Realtime\broadcast() does. Takes
	 * ownership of msg. Returns 0, or a negative errno when the broker did
	 * not take it (counted in dropped_broker_refused and logged). While the
	 * broker cannot reach the other hubs, it may still deliver to this
	 * hub's clients. */
	int (*publish)(rt_hub *hub, rt_msg *msg);
	/* The same for the HTTP APIs, all or nothing: while the broker cannot
	 * reach every hub it refuses (-ENOTCONN, counted), so the caller answers
	 * 503 and can retry without this hub's clients getting it twice. */
	int (*publish_api)(rt_hub *hub, rt_msg *msg);
	/* rt_hub_check_publish (hub/core/hub.h). */
	int (*check_publish)(rt_hub *hub, const rt_msg *msg, char *err, size_t errlen);
	/* A user gained its first (on) or lost its last (off) local session. */
	void (*user_interest)(rt_hub *hub, const char *id, size_t len, int on);
} rt_hub_hooks;

#endif
