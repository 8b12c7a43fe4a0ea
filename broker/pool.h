/* The memory shared by the processes of one server (an FPM master and its
 * workers, Apache's prefork children, php -S workers): mapped before they
 * fork, it carries every message published in any of them to the hub of
 * every other, and keeps the table of live hubs so a dead one is noticed.
 *
 * A ring of messages with one write position; each hub reads from its own
 * position and is woken by a datagram on its own socket, sent only when it
 * is not already due to read. A robust process-shared mutex guards the ring:
 * a process killed while holding it leaves no stuck lock. */
#ifndef RT_BROKER_POOL_H
#define RT_BROKER_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "hub/core/hub.h"
#include "hub/model/msg.h"
#include "hub/model/history_rules.h"

#define RT_POOL_SLOTS 256
/* Counters each hub publishes in its slot for /metrics. */
#define RT_POOL_METRICS 96

typedef struct rt_pool rt_pool;
typedef struct rt_pool_member rt_pool_member;

/* Maps an anonymous segment with a ring of ring_size bytes. Call before
 * forking. (broker/segment.h maps a named one.) */
int rt_pool_map(rt_pool **out, size_t ring_size, char *err, size_t errlen);
/* The same with a history store of history_size bytes after the ring
 * (broker/history.h; 0: none). */
int rt_pool_map_ex(rt_pool **out, size_t ring_size, size_t history_size, char *err,
		size_t errlen);
void rt_pool_unmap(rt_pool *pool);

/* The layout, for broker/segment.c: the bytes a segment with a ring of
 * ring_size takes, and those of its header. */
size_t rt_pool_layout_size(size_t ring_size);
size_t rt_pool_layout_size_ex(size_t ring_size, size_t history_size);
size_t rt_pool_header_size(void);
/* Makes mem (rt_pool_layout_size bytes, zeroed or not) an empty pool. */
void rt_pool_format(void *mem, size_t ring_size);
void rt_pool_format_ex(void *mem, size_t ring_size, size_t history_size);
/* Whether mem, mapped from a file of file_size bytes that another process
 * made, is a pool of this build: magic, layout version, sizes against the
 * file's, a usable lock. Returns 0, or -EBADMSG (sizes), -EAGAIN (no magic
 * number yet: being made?), -EPROTO (magic), -EPROTONOSUPPORT (version),
 * -ENOTRECOVERABLE (lock), with why set. */
int rt_pool_check(void *mem, uint64_t file_size, char *why, size_t whylen);
/* A handle on a checked mapping of map_len bytes; rt_pool_unmap unmaps it.
 * The ring's size comes from map_len, never from the header. */
int rt_pool_wrap(rt_pool **out, void *mem, size_t map_len, char *err, size_t errlen);
/* A fingerprint of realtime.secret in the segment (an HMAC, not the
 * secret): a CLI process publishes through the segment only with the same
 * secret, as POST /publish would demand. */
void rt_pool_set_secret(rt_pool *pool, const char *secret);
int rt_pool_secret_matches(const rt_pool *pool, const char *secret);

/* Appends msg for every hub of app and wakes them. Any process, any thread. */
int rt_pool_publish(rt_pool *pool, uint64_t app, const rt_msg *msg, char *err, size_t errlen);
/* The two halves of rt_pool_publish, for a publisher that wakes the hubs
 * once for several messages: appending touches no syscall, waking sends a
 * datagram to each hub of app that is not already due to read (except one
 * member, a hub that drains by itself). */
int rt_pool_append(rt_pool *pool, uint64_t app, const rt_msg *msg, char *err, size_t errlen);
/* rt_pool_append that also says where msg stands in each channel's history:
 * out (NULL, or msg->channel_count of them) gets offset 0 for channels
 * without one. The positions travel in the ring with the message. */
int rt_pool_append_at(rt_pool *pool, uint64_t app, const rt_msg *msg, rt_pos *out,
		char *err, size_t errlen);

/* History (broker/history.h), in the segment's region after the ring:
 * which channels keep one (copied into this process's handle; a forked
 * child inherits it). */
void rt_pool_set_history(rt_pool *pool, const rt_history_rules *rules);
/* The server's first process writes a fingerprint of its rules into the
 * segment; a CLI process publishes through the segment only with the same
 * rules, or its messages would miss (or wrongly get) a place in the history. */
void rt_pool_publish_history_rules(rt_pool *pool);
int rt_pool_history_rules_match(const rt_pool *pool, const rt_history_rules *rules);
/* Whether channel keeps a history here. */
int rt_pool_history_on(const rt_pool *pool, const char *channel, size_t len);
/* rt_history_read under the segment's lock (fn runs under it: copy, do not
 * block), with the limits of the channel's rule; limit is capped at its
 * max_messages. -ENOENT: the channel keeps no history here. */
int rt_pool_history_read(rt_pool *pool, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*fn)(void *ctx, const rt_pos *pos, const unsigned char *bytes,
		size_t len), void *ctx, rt_pos *top);
/* What the history lost before its limits said so, for every process:
 * messages overwritten while it was full, channel records given to another
 * channel, stores or channels found corrupt and started again. */
void rt_pool_history_losses(rt_pool *pool, uint64_t *evicted_messages,
		uint64_t *evicted_channels, uint64_t *resets);
/* The history region's size in bytes (0: none). */
size_t rt_pool_history_size(const rt_pool *pool);
/* Returns how many hubs of app hold a slot (the one excepted included). */
int rt_pool_wake(rt_pool *pool, uint64_t app, const rt_pool_member *except);

/* Registers a hub (node) of app; it reads only what is published from now on. */
int rt_pool_join(rt_pool *pool, uint64_t app, uint32_t node, rt_pool_member **out,
		char *err, size_t errlen);
/* The socket that becomes readable when there is something to drain. */
int rt_pool_member_fd(const rt_pool_member *m);
/* Hands every new message of the member's app to cb (which owns it).
 * Returns the number of bytes of messages lost (0 normally). */
uint64_t rt_pool_drain(rt_pool_member *m, void (*cb)(void *ctx, rt_msg *msg), void *ctx);
/* Bytes lost by one drain, by cause. */
typedef struct rt_pool_loss {
	uint64_t overrun;     /* the writer lapped this hub */
	uint64_t corrupt;     /* an entry whose header does not fit the ring: skipped to head */
	uint64_t nomem;       /* no memory to copy a large entry out */
	uint64_t undecodable; /* an entry that is not a well-formed message */
} rt_pool_loss;
uint64_t rt_pool_drain_ex(rt_pool_member *m, void (*cb)(void *ctx, rt_msg *msg), void *ctx,
		rt_pool_loss *loss);
/* The largest encoded message (rt_msg_encoded_size) the ring carries. */
size_t rt_pool_max_message(const rt_pool *pool);
/* How many messages (entries of any app) the member has lost to overruns
 * and skips since it joined. */
uint64_t rt_pool_member_lost(const rt_pool_member *m);
/* How many bytes of the ring were written that the member has yet to read
 * (its lag behind the writer; more than the ring's size: an overrun due). */
uint64_t rt_pool_member_lag(const rt_pool_member *m);
/* Frees the member's slot. */
void rt_pool_leave(rt_pool_member *m);

/* Finds hubs of app whose process is gone, frees their slots and returns
 * their node ids (at most max). Each dead hub is returned to one caller only. */
int rt_pool_reap(rt_pool *pool, uint64_t app, uint32_t *dead, int max);
/* A live hub of this host's pool, as its slot says. */
typedef struct rt_pool_peer {
	uint32_t node;
	int32_t pid;
	uint32_t load;   /* its open connections, as it last said (rt_pool_set_load) */
} rt_pool_peer;
/* Says how many connections the member's hub serves, for the others to
 * balance against. */
void rt_pool_set_load(rt_pool_member *m, uint32_t load);
/* The live hubs of app (the caller's included): writes at most max to out
 * and returns how many there are. */
int rt_pool_peers(rt_pool *pool, uint64_t app, rt_pool_peer *out, int max);
/* How many hubs of app hold a slot and have a live process: a publisher
 * without a hub asks before it trusts the ring to deliver. */
int rt_pool_live_hubs(rt_pool *pool, uint64_t app);
/* Stores the member's counters (at most RT_POOL_METRICS) in its slot. */
void rt_pool_set_metrics(rt_pool_member *m, const uint64_t *values, int n);
/* The live hubs of app with their counters: peer i's nvalues counters go
 * to values[i * nvalues ...]; at most max hubs, returns how many written.
 * Counters past RT_POOL_METRICS are left as they were. */
int rt_pool_peer_metrics(rt_pool *pool, uint64_t app, rt_pool_peer *peers, uint64_t *values,
		int nvalues, int max);
/* Stores the member's overrun count, its lag and its process's recent log
 * lines (at most RT_HUB_RECENT) in its slot, for the others to read. */
void rt_pool_set_detail(rt_pool_member *m, uint64_t overruns,
		const char (*recent)[RT_HUB_RECENT_LEN], int n);
/* The live hubs of app with those details: at most max, returns how many.
 * The lines come from shared memory: each is cut at its first NUL or its
 * last byte and has its control bytes replaced, whatever another process
 * wrote there. */
int rt_pool_details(rt_pool *pool, uint64_t app, rt_hub_detail *out, int max);
/* Whether a hub of app with this node id holds a slot. */
int rt_pool_has_node(rt_pool *pool, uint64_t app, uint32_t node);
/* The lowest node id of a live hub of app other than except, or 0. */
uint32_t rt_pool_first_node(rt_pool *pool, uint64_t app, uint32_t except);

/* The ring's bytes, its size and the write position (bytes ever written),
 * for tests that play a broken or hostile process sharing the segment. */
unsigned char *rt_pool_ring(rt_pool *pool, uint64_t *size, uint64_t *head);

/* The app id of a listen address: hubs share messages only within one app. */
uint64_t rt_pool_app_id(const char *host, int port);

#endif
