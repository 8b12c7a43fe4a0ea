/* The channel registry: which sessions are subscribed to which channel.
 * Both wire protocols share it. Subscribing, unsubscribing and walking a
 * channel's subscribers are O(1) per subscriber, with no allocation on the
 * fan-out path. */
#ifndef RT_HUB_REGISTRY_H
#define RT_HUB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "hub/model/config.h"
#include "hub/util/map.h"

struct rt_session;

typedef struct rt_channel rt_channel;

struct rt_buf;

/* Live messages held for a subscription while its history read is out
 * (a broker that answers later, as redis does): sent after the replay,
 * those it covered left out. At most max; past it they are dropped and
 * counted. */
typedef struct rt_sub_held {
	struct rt_buf *frame;
	uint64_t offset, epoch;
} rt_sub_held;

typedef struct rt_sub_hold {
	uint32_t count, cap, dropped;
	rt_sub_held *items;
} rt_sub_hold;

typedef struct rt_sub {
	rt_channel *channel;
	struct rt_session *session;
	struct rt_identity *member; /* who it counts as on a presence channel; owned */
	uint32_t index;             /* position in channel->subs */
	/* The last history position delivered (realtime.history): a message at
	 * or before it in the same epoch is not sent again. */
	uint64_t hist_offset;
	uint64_t hist_epoch;
	/* While holding, positioned live messages go to hold (made on the
	 * first one) instead of the client. */
	int holding;
	rt_sub_hold *hold;
} rt_sub;

struct rt_channel {
	struct rt_presence *presence; /* presence- channels only */
	/* Pusher's subscription_count (hub/subscription_count.c): the app-wide
	 * count last sent, and whether someone joined since. */
	uint64_t count_sent;
	int count_joined;
	uint32_t count;
	uint32_t cap;
	rt_sub **subs;
	size_t name_len;
	char name[];
};

typedef struct rt_registry {
	rt_map channels;
	/* Called when a channel gains its first or loses its last subscriber,
	 * so a broker can follow what this hub needs. */
	void (*on_occupied)(void *ctx, const rt_channel *ch);
	void (*on_vacated)(void *ctx, const rt_channel *ch);
	void *ctx;
} rt_registry;

void rt_registry_init(rt_registry *reg);
/* Frees every channel and subscription still registered. */
void rt_registry_free(rt_registry *reg);
rt_channel *rt_registry_find(const rt_registry *reg, const char *name, size_t len);
size_t rt_registry_count(const rt_registry *reg);

/* Returns 0 and the new subscription, or -ENOMEM. Does not check for a
 * duplicate: callers look at the session's own list first. */
int rt_registry_subscribe(rt_registry *reg, struct rt_session *session,
		const char *name, size_t len, rt_sub **out);
/* Frees sub; frees its channel when the channel becomes empty. */
void rt_registry_unsubscribe(rt_registry *reg, rt_sub *sub);

/* Holds frame (a reference is taken) at pos for sub, at most max frames.
 * Returns 1 when held, 0 when dropped (counted in hold->dropped), -ENOMEM
 * when not even the count could be kept. */
int rt_registry_hold(rt_sub *sub, struct rt_buf *frame, uint64_t offset, uint64_t epoch,
		uint32_t max);
/* Stops holding; returns what was held (the caller sends it and frees it
 * with rt_registry_hold_free), or NULL. */
rt_sub_hold *rt_registry_hold_end(rt_sub *sub);
void rt_registry_hold_free(rt_sub_hold *hold);

/* 1 when name is a valid channel name: 1..RT_CHANNEL_MAX bytes of
 * A-Z a-z 0-9 and _ - = @ , . ; : #, and the characters of URIs that
 * nothing downstream treats specially, / ? & % + ! $ ' ( ) [ ] ~, so a
 * Mercure topic URL is a channel (docs/mercure.md). */
int rt_channel_name_valid(const char *name, size_t len);

#endif
