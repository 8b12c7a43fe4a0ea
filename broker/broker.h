/* Brokers carry messages between the hubs of an app: "memory" across the
 * processes of one server (shared memory, broker/pool.h), "redis" across
 * hosts. The PHP layer picks one by realtime.broker and calls it through
 * its ops; the hub talks to it through the rt_hub_link it provides. */
#ifndef RT_BROKER_BROKER_H
#define RT_BROKER_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "hub/model/config.h"
#include "hub/core/hub.h"
#include "hub/model/msg.h"

typedef struct rt_broker rt_broker;

/* How this process's publishes woke the hubs (realtime.batch_window). */
typedef struct rt_broker_stats {
	uint64_t woke;      /* the publishing thread woke the hubs itself */
	uint64_t batched;   /* it left the wake-up to its hub's next look */
	int watching;       /* its hub looks every realtime.batch_window ms */
	/* What the hub side lost or could only deliver locally (docs/php-api.md). */
	uint64_t dropped_ring_overrun;  /* memory: messages lost when the ring overtook the hub */
	uint64_t dropped_queue_full;    /* redis: state changes past the outage queue's limit */
	uint64_t redis_local_only;      /* redis: messages only this hub's clients got (Redis away) */
	uint64_t redis_unconfirmed;     /* redis: PUBLISHes Redis never answered before a reconnect */
	uint64_t broker_outages;        /* redis: times the hub lost Redis */
	uint64_t dropped_undecodable;   /* redis: messages on the hub's routes it could not decode */
	/* memory: what the history (realtime.history) lost early, server-wide. */
	uint64_t history_evicted_messages;
	uint64_t history_evicted_channels;
	uint64_t history_resets;
	int broker_connected;           /* redis: 1 or 0; -1: a broker without a connection */
	/* memory: how this process's broadcast() travels: "hub" (its own hub),
	 * "segment" (the shared ring, no hub), "http" (POST /publish). */
	const char *publish_path;
	/* redis: PHP publishes handed to the hub; of their PUBLISHes, those that
	 * failed or may be lost, those refused at a full hand-off queue, and
	 * those Redis has not answered yet (docs/redis.md). */
	uint64_t redis_publish_handed, redis_publish_failed, redis_publish_dropped;
	uint64_t redis_publish_waiting;
} rt_broker_stats;

typedef struct rt_broker_ops {
	const char *name;
	/* In the server's first process, before it forks workers (MINIT). */
	int (*prefork)(const rt_config *cfg, char *err, size_t errlen);
	/* At MSHUTDOWN of that process. */
	void (*postfork_shutdown)(void);
	/* Per process, on a PHP thread. Returns 0 or a negative errno. */
	int (*open)(rt_broker **out, const rt_config *cfg, char *err, size_t errlen);
	/* The hub side of the broker for rt_hub_start(); NULL: the hub is alone. */
	const rt_hub_link *(*link)(rt_broker *b);
	/* The hub of this process started (hub) or stopped (NULL). */
	void (*attach)(rt_broker *b, rt_hub *hub);
	/* Borrows msg (often an rt_msg_view): a broker that keeps it copies it.
	 * Returns 0, or a negative errno with err set. */
	int (*publish)(rt_broker *b, const rt_msg *msg, char *err, size_t errlen);
	/* Optional: publish that also says where msg stands in each channel's
	 * history (out: msg->channel_count positions, offset 0 where unknown or
	 * none). */
	int (*publish_at)(rt_broker *b, const rt_msg *msg, rt_pos *out, char *err, size_t errlen);
	/* Optional: a channel's history for Realtime\history() (rt_history_read
	 * of broker/history.h: fn runs under the segment's lock). Returns 1 or 0
	 * as it does, -ENOENT when the channel keeps none, -ENOTSUP when this
	 * process cannot reach the store, with err set. */
	int (*history)(rt_broker *b, const char *channel, size_t len, const rt_pos *since,
			uint32_t limit, void (*fn)(void *ctx, const rt_pos *pos, const unsigned char *bytes,
			size_t len), void *ctx, rt_pos *top, char *err, size_t errlen);
	/* Optional. */
	void (*stats)(rt_broker *b, rt_broker_stats *out);
	/* Optional: the server's hubs as a process without a hub sees them
	 * (memory: the named segment's slots), at most max; how many there are. */
	int (*peers)(rt_broker *b, rt_hub_peer *out, int max);
	/* Optional: the same hubs with their broker state and recent log lines
	 * (php --ri realtime). */
	int (*details)(rt_broker *b, rt_hub_detail *out, int max);
	void (*close)(rt_broker *b);
} rt_broker_ops;

extern const rt_broker_ops rt_broker_memory;
extern const rt_broker_ops rt_broker_redis;

/* The named segment of cfg's app (broker/segment.h) and how this process
 * uses it, for phpinfo(). */
void rt_broker_memory_describe(const rt_config *cfg, char *out, size_t len);

/* The ops for a realtime.broker value, or NULL. */
const rt_broker_ops *rt_broker_find(const char *name);

/* Publishes through the /publish endpoint of the server listening on
 * cfg->listen, for processes that run no hub (CLI scripts). *conn keeps
 * the HTTP connection between calls (NULL at first, made on demand; one
 * process's, never shared with a forked child); free it with
 * rt_remote_close(). */
typedef struct rt_remote rt_remote;
int rt_remote_publish(rt_remote **conn, const rt_config *cfg, const rt_msg *msg,
		char *err, size_t errlen);
void rt_remote_close(rt_remote *conn);

/* The JSON body of /publish for msg; malloc'd, NULL when out of memory. */
char *rt_remote_body(const rt_msg *msg, size_t *len);

#endif
