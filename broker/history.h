/* Per-channel history in a region of the pool's shared segment: the last
 * messages of each channel matching realtime.history, with their positions
 * (offset, epoch), within realtime.history_memory bytes.
 *
 * One log of entries in publish order holds every channel's messages; each
 * channel's record in a hashed table links its own entries oldest to newest.
 * When the log is full, its oldest entries are overwritten: the oldest
 * messages of the app go first, whatever their channel. A channel keeps its
 * top offset and epoch after its messages expire; when its record is lost
 * (the table is full: the coldest record goes, or the store is corrupt) the
 * channel starts again at offset 1 with a new random epoch.
 *
 * Every process of the server may write the region, so everything read
 * from it is checked before use: a store found corrupt is formatted anew
 * (every channel gets a new epoch), never trusted. Nothing here locks: the
 * caller holds the segment's lock (broker/pool.c). */
#ifndef RT_BROKER_HISTORY_H
#define RT_BROKER_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "hub/model/msg.h"

typedef struct rt_history {
	unsigned char *mem;     /* the region, and its geometry: private, from its length */
	size_t len;
	uint32_t slots;         /* channel records */
	uint64_t data_size;     /* bytes of the log */
	/* Counted in this process (Realtime\status()). */
	uint64_t reset_corrupt; /* the store or a channel was found corrupt and started again */
	uint64_t evicted_channels; /* records given to another channel (table full) */
} rt_history;

/* The smallest region worth having. */
#define RT_HISTORY_MIN_SIZE (64 * 1024)

/* Binds h to mem[len] (len >= RT_HISTORY_MIN_SIZE). Reads nothing yet: each
 * call below checks the header and formats a store that is not sound. */
int rt_history_bind(rt_history *h, void *mem, size_t len);
/* Makes the region an empty store. */
void rt_history_format(rt_history *h);

/* The largest message (bytes of payload) one entry holds. */
size_t rt_history_max_payload(const rt_history *h);

typedef struct rt_history_limits {
	uint32_t max_messages;
	uint32_t max_seconds;
} rt_history_limits;

/* Appends a message of plen bytes to channel: returns where to write them
 * (before the lock is released) and its position in *pos. Returns NULL when
 * the message is larger than rt_history_max_payload: it still gets a
 * position, but the channel's history is emptied, so nobody recovers across
 * it. now_ms: CLOCK_REALTIME in milliseconds. */
unsigned char *rt_history_append(rt_history *h, const char *channel, size_t len,
		const rt_history_limits *lim, uint64_t now_ms, size_t plen, rt_pos *pos);

/* One message read back: its bytes stay valid only during the call. */
typedef void (*rt_history_fn)(void *ctx, const rt_pos *pos, const unsigned char *bytes,
		size_t len);

/* Reads channel's history. since NULL: the last `limit` messages, and
 * returns 1. since given: when every message after since->offset of
 * since->epoch is still held and there are at most `limit` of them, hands
 * them over and returns 1; otherwise hands over nothing and returns 0.
 * Messages come oldest first. *top: the channel's position now (offset 0
 * and a new epoch for a channel that has none yet: the record is made, so
 * the epoch holds). */
int rt_history_read(rt_history *h, const char *channel, size_t len,
		const rt_history_limits *lim, uint64_t now_ms, const rt_pos *since, uint32_t limit,
		rt_history_fn fn, void *ctx, rt_pos *top);

/* What the store lost before its channels' limits said so, counted in the
 * store for every process (a statistic: read without trusting it). */
typedef struct rt_history_losses {
	uint64_t evicted_messages;  /* overwritten while realtime.history_memory was full */
	uint64_t evicted_channels;  /* channel records given to another channel */
	uint64_t resets;            /* the store or a channel found corrupt, started again */
} rt_history_losses;
void rt_history_losses_get(rt_history *h, rt_history_losses *out);

/* A random epoch, never 0. */
uint64_t rt_history_new_epoch(void);

#endif
