/* The hub: one libuv loop thread per PHP process serving WebSocket clients.
 * These functions are called from PHP threads; everything else in hub/ runs
 * on the loop thread. */
#ifndef RT_HUB_HUB_H
#define RT_HUB_HUB_H

#include <stdint.h>
#include <stddef.h>

#include "hub/model/config.h"
#include "hub/model/msg.h"
#include "hub/model/refusal.h"

typedef struct rt_hub rt_hub;
struct uv_loop_s;

typedef struct rt_hub_stats {
	uint64_t connections;
	uint64_t channels;
	uint64_t messages_published;   /* messages taken from the queue */
	uint64_t frames_delivered;     /* frames queued to clients */
	uint64_t slow_consumers;       /* clients closed with 4008 */
	uint64_t refused[RT_REFUSE_COUNT];
	uint64_t dropped_broker_refused; /* messages of this hub the broker did not take */
	uint64_t dropped_queue_full;   /* posts to a full queue, webhook events past its limit */
	uint64_t unauthorized;         /* upgrades and API requests refused for credentials */
	uint64_t broker_lost_bytes;    /* bytes of messages lost between hubs (rt_hub_count_lost) */
	uint64_t closed_for_restart;   /* clients closed with 1012 (Pusher 4200) by rt_hub_mark_restart */
	uint64_t handed_off;           /* connections passed to another hub (hub/handoff.h) */
	uint64_t taken_over;           /* connections received from another hub */
	uint64_t handoff_closed;       /* closed with 1001 for lack of a taker, a failure or time */
	uint64_t sse_connections;      /* event streams open now (also in connections) */
	uint64_t sse_bad_last_event_id; /* streams whose Last-Event-ID was malformed */
	uint64_t longpoll_sessions;    /* long-polling sessions at home on this hub */
	uint64_t longpoll_dropped;     /* their events dropped from full queues (longpoll_max_queue) */
	uint32_t node_id;
	int pid;
} rt_hub_stats;

/* Another hub of the app on this host, as the broker knows it. */
typedef struct rt_hub_peer {
	uint32_t node;
	int pid;
	uint32_t load;        /* its open connections, as it last said */
} rt_hub_peer;

/* A hub of this host's pool as its slot of the shared segment says, for
 * `php --ri realtime`: its broker's state and its process's last error
 * and warning lines (rt_log_recent; newest first, each NUL-terminated). */
#define RT_HUB_RECENT 4
#define RT_HUB_RECENT_LEN 120
typedef struct rt_hub_detail {
	uint32_t node;
	int pid;
	uint64_t ring_lag;    /* bytes of the ring it has yet to read */
	uint64_t overruns;    /* messages it lost to ring overruns */
	int recent_count;
	char recent[RT_HUB_RECENT][RT_HUB_RECENT_LEN];
} rt_hub_detail;

/* What a history read found (rt_hub_link.history). */
typedef struct rt_hub_history {
	/* 1: the messages after `since` are all here (or no since was given);
	 * 0: they are not (trimmed, another epoch, too many): none are given;
	 * -ENOENT: the channel keeps no history; another negative errno: failed. */
	int status;
	rt_pos top;            /* the channel's position now */
	rt_msg **msgs;         /* publishes on the channel alone, oldest first, each
	                        * with its position; the link's, valid during done */
	uint32_t count;
} rt_hub_history;

/* How a hub exchanges messages with the other hubs of its app (a broker).
 * Every function runs on the hub thread. Without a link, a hub is alone:
 * what it publishes it delivers itself. */
/* rt_hub_link.stats: what a broker tells /metrics about itself. */
enum {
	RT_STAT_BROKER_RING_LAG,        /* bytes of the ring this hub has yet to read */
	RT_STAT_BROKER_RING_OVERRUNS,   /* messages lost because the writer lapped this hub */
	RT_STAT_BROKER_RECONNECTS,      /* connections to Redis made again after a loss */
	RT_STAT_BROKER_PUBLISH_FAILED,  /* publishes the broker refused or failed */
	RT_STAT_BROKER
};

/* rt_hub_link.history_stats: the shared history store, server-wide. */
enum {
	RT_STAT_HISTORY_BYTES,             /* the store's size (realtime.history_memory) */
	RT_STAT_HISTORY_EVICTED_MESSAGES,  /* overwritten while it was full */
	RT_STAT_HISTORY_EVICTED_CHANNELS,  /* channel records given to another channel */
	RT_STAT_HISTORY_RESETS,            /* found corrupt and started again */
	RT_STAT_HISTORY
};

typedef struct rt_hub_link {
	void *ctx;
	/* The loop is running: start receiving (deliver with rt_hub_deliver). */
	int (*start)(void *ctx, rt_hub *hub, struct uv_loop_s *loop);
	/* Sends msg to every hub of the app, this one included; takes ownership.
	 * Returns 0, or a negative errno when the broker did not take it. */
	int (*publish)(void *ctx, rt_msg *msg);
	/* Optional: 0 while a message published now would not reach every hub
	 * (Redis unreachable); NULL means always 1. */
	int (*up)(void *ctx);
	/* Optional, once a second: notice hubs that died. */
	void (*tick)(void *ctx);
	/* The hub is stopping: tell the others, then let go of the loop.
	 * Never called from inside a delivery (rt_hub_deliver). */
	void (*stop)(void *ctx);
	/* The largest encoded message (rt_msg_encoded_size) the broker carries,
	 * and the setting that decides it; 0: no limit of its own. */
	size_t max_message;
	const char *max_message_setting;
	/* Optional: this hub now has (on) or no longer has (off) local clients on
	 * a channel (kind 'c') or of a user (kind 'u'), for brokers that route
	 * messages only where they are needed. */
	void (*interest)(void *ctx, char kind, const char *name, size_t len, int on);
	/* (kind '*', name NULL: this hub now needs (on) or no longer needs
	 * (off) the publishes of every channel, for Mercure template and "*"
	 * selectors; it drops those of channels it has local clients on, which
	 * arrive by their own 'c' interest. A broker that sends every hub
	 * everything ignores it.) */
	/* Optional: tells the other hubs of this host how many connections
	 * this one serves (once a second, from the tick). */
	void (*set_load)(void *ctx, uint32_t connections);
	/* Optional: the live hubs of the app on this host, this one included,
	 * with their loads: writes at most max, returns how many there are. */
	int (*peers)(void *ctx, rt_hub_peer *out, int max);
	/* Optional: reads channel's history after since (NULL: its last limit
	 * messages; limit 0: only the position), at most limit messages (capped
	 * by the channel's rule; with since, more missed than that is not
	 * recovered), and
	 * calls done once with what it found. The memory broker calls it before
	 * returning, so nothing published meanwhile reaches this hub first; a
	 * broker that answers later must keep that order itself. NULL: no
	 * broker-side history (subscribes get recovered:false). */
	void (*history)(void *ctx, const char *channel, size_t len, const rt_pos *since,
			uint32_t limit, void (*done)(void *arg, const rt_hub_history *res), void *arg);
	/* history answers later (from the loop): the hub holds a waiting
	 * subscription's live messages meanwhile, and fills a gap in a
	 * subscription's offsets from the history before going on. */
	int history_async;
	/* Optional (/metrics): stores this hub's n counters where the others
	 * read them, and reads every live hub's (see rt_pool_peer_metrics). */
	void (*set_metrics)(void *ctx, const uint64_t *values, int n);
	int (*peer_metrics)(void *ctx, rt_hub_peer *out, uint64_t *values, int n, int max);
	/* Optional, from the hub's tick: fills out[RT_STAT_BROKER] (left 0 where
	 * the broker has no such figure). */
	void (*stats)(void *ctx, uint64_t *out);
	/* Optional (/metrics): the history store every hub of the server shares,
	 * out[RT_STAT_HISTORY]; returns 0, or -ENOENT when there is none. */
	int (*history_stats)(void *ctx, uint64_t *out);
} rt_hub_link;

/* Binds the listener on the calling thread, so that a port in use is
 * reported here, then starts the loop thread with every signal blocked.
 * inherited_fd: a listening socket bound before the server forked, served
 * besides the hub's own (-1: none). link may be NULL. share_port: the
 * other workers' hubs bind the same port (SO_REUSEPORT); otherwise the
 * port must be free. Returns 0, or a negative errno with a message in err. */
int rt_hub_start(rt_hub **out, const rt_config *cfg, const rt_hub_link *link, int inherited_fd,
		int share_port, char *err, size_t errlen);

/* Binds cfg's listen address with SO_REUSEPORT in the server's first
 * process, before it forks, so that clients arriving before any worker
 * started its hub wait in the backlog. Returns the socket, or a negative
 * errno with err set. */
int rt_hub_prebind(const rt_config *cfg, char *err, size_t errlen);

/* 0 when fd is a listening TCP socket bound to cfg's listen address (one
 * that rt_hub_prebind made, kept across a server's restart); otherwise a
 * negative errno with err set. */
int rt_hub_check_prebound(const rt_config *cfg, int fd, char *err, size_t errlen);

/* On the hub thread: handles a message that came through the link. */
void rt_hub_deliver(rt_hub *hub, rt_msg *msg);
/* On the hub thread: sends a publish to session s alone, as its delivery
 * here would have (its channels, its exclusion, its positions): for a
 * session moved in after the message was delivered to the others, and for
 * a subscription's gap read back from the history. */
struct rt_session;
struct rt_member;
void rt_hub_publish_to(rt_hub *hub, const rt_msg *msg, struct rt_session *s);
/* ... and a presence member change on channel that its subscribers here
 * were told of. */
void rt_hub_member_to(rt_hub *hub, const char *channel, size_t len, const struct rt_member *m,
		int added, struct rt_session *s);
/* On the hub thread: a broker lost bytes of messages meant for this hub
 * (Realtime\status() broker_lost_bytes); the broker logs why. */
void rt_hub_count_lost(rt_hub *hub, uint64_t bytes);
/* Counts a message PHP published in this process (any thread), for the
 * messages-by-source figure of /metrics. */
void rt_hub_count_php_publish(rt_hub *hub);
/* ... and one that mercure_publish() published (any thread). */
void rt_hub_count_mercure_publish(rt_hub *hub);
/* On the hub thread: 0 when msg, published from here, can reach every
 * subscriber (its frames fit realtime.max_outbound, and the broker carries
 * it); otherwise -EMSGSIZE with err naming the setting and its value. */
int rt_hub_check_publish(rt_hub *hub, const rt_msg *msg, char *err, size_t errlen);
uint32_t rt_hub_node_id(const rt_hub *hub);
/* On the hub thread: 1 when channel has a local subscriber here (its
 * messages come by the channel's own interest). */
int rt_hub_has_channel(rt_hub *hub, const char *channel, size_t len);

/* On the hub thread: calls fn for every channel and user with local
 * clients, and ('*', NULL) when Mercure selectors need every channel, to
 * (re)subscribe after a broker reconnects. */
void rt_hub_each_interest(rt_hub *hub, void (*fn)(void *ctx, char kind, const char *name,
		size_t len), void *ctx);
/* On the hub thread: the hubs (origins) the app-wide view has heard of,
 * this one excluded; returns how many were written (at most max). */
size_t rt_hub_known_origins(rt_hub *hub, uint32_t *out, size_t max);
/* On the hub thread: report this hub's whole state again (after a broker
 * outage that may have lost messages). */
void rt_hub_report_state(rt_hub *hub);

/* Hands msg to the hub thread, which frees it. Never blocks on clients.
 * Returns 0, -ESHUTDOWN when the hub is stopping, or -ENOBUFS when messages
 * for clients waiting in its queue would pass realtime.pool_memory bytes
 * (counted in dropped_queue_full); msg is freed then. */
int rt_hub_post(rt_hub *hub, rt_msg *msg);

/* Hands the clients to another hub of the app (hub/handoff.h), closes the
 * rest with 1001 and joins the thread. The thread ends its stop by
 * cfg.shutdown_timeout ms (force-closing what is left) after at most twice
 * cfg.handoff_timeout of handoff; this waits at most 1 s more. Frees the hub unless the thread failed to stop
 * in time: then it is left running, detached, with its memory and this
 * module kept loaded, and -ETIMEDOUT is returned. */
int rt_hub_stop(rt_hub *hub);
/* rt_hub_stop, and while it waits, every 20 ms, asks kill_near (which may
 * be NULL): once it says 1, the handoff is cut within RT_HUB_KILL_CUT_MS. */
int rt_hub_stop_watching(rt_hub *hub, int (*kill_near)(void));

/* The process is killed soon (php-fpm's SIGTERM: its SIGKILL follows a
 * second later). Hubs that stay take what they can within within_ms (0:
 * none); then the handoff ends (hub/handoff.h rt_handoff_cut) and the
 * clients left are closed here, with their close frame, before the kill.
 * Without it, hubs that all leave at once (a reload) pass clients on to
 * each other until the kill. Async-signal-safe: an atomic and
 * uv_async_send. */
#define RT_HUB_KILL_CUT_MS 300
void rt_hub_cut_handoff(rt_hub *hub, unsigned within_ms);

/* The process ends but the server goes on (a worker of php-fpm or Apache):
 * the stop closes clients with 1012 (Pusher 4200), "reconnect at once",
 * instead of 1001, and counts them in closed_for_restart. */
void rt_hub_mark_restart(rt_hub *hub);

/* rt_hub_stop for a signal handler (Apache runs MSHUTDOWN in its SIGTERM
 * and SIGHUP handler): takes no lock, allocates nothing, asks the loop to
 * stop with an atomic flag and uv_async_send, and polls for the thread's
 * end at most max_ms (0: cfg.shutdown_timeout + 1 s). Frees nothing and
 * joins nothing: the process is exiting, and the module must stay loaded
 * (it is pinned when the hub starts); rt_hub_stop afterwards joins and
 * frees. 0 once the thread ended, else -ETIMEDOUT. */
int rt_hub_stop_in_handler(rt_hub *hub, unsigned max_ms);

void rt_hub_stats_get(const rt_hub *hub, rt_hub_stats *out);
/* The handoff counters of every hub this process ran, for after its hub is
 * gone (rt_hub_stats has the running hub's). */
void rt_hub_handoff_totals(uint64_t *handed_off, uint64_t *taken_over, uint64_t *closed);
const rt_config *rt_hub_config(const rt_hub *hub);

#endif
