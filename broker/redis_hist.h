/* History on the redis broker (realtime.history): the Lua scripts that
 * append-and-publish and read a channel's Redis Stream, and the checks of
 * what Redis answers. Pure functions of their arguments, so they are unit
 * tested and fuzzed apart from the connections of broker/redis.c.
 *
 * Keys (under the broker's namespace): hist:<channel> is the stream,
 * hist:<channel>:meta a hash with the epoch ('e', 8 raw bytes), the last
 * offset given ('o') and when it was given ('t', Redis's clock, ms). The
 * stream expires after the rule's seconds without a publish, the meta hash
 * a day later. Every stream entry and every PUBLISHed payload is the message
 * encoded by rt_msg_encode with its position, so a hub decodes them the
 * way it decodes any message. */
#ifndef RT_BROKER_REDIS_HIST_H
#define RT_BROKER_REDIS_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "hub/model/msg.h"

/* KEYS: stream, meta. ARGV: route, head, tail, candidate epoch, max
 * messages, max age in ms. Answers {offset (integer), epoch (8 bytes)}. */
extern const char rt_redis_hist_publish_lua[];
/* KEYS: stream, meta. ARGV: since offset ("" for none), since epoch (8
 * bytes), limit, max age in ms. Answers {} (no history), or {epoch, top
 * offset, message...}: the messages oldest first. */
extern const char rt_redis_hist_read_lua[];

/* Offsets stay below 2^53: Lua numbers are doubles. The publish script
 * starts a new epoch before reaching it. */
#define RT_REDIS_HIST_MAX_OFFSET 9007199254740991ull

/* The bytes the script completes into the stored message: msg (one
 * channel, no positions) encoded without its publish time (head), and the
 * publish time (tail, 0 or 8 bytes). head's type byte already says
 * whether a tail follows. Returns 0, or -EINVAL (not a one-channel
 * publish), -ENOMEM. *head is malloc'd. */
int rt_redis_hist_split(const rt_msg *msg, char **head, size_t *head_len, char tail[8],
		size_t *tail_len);

/* The epoch as the script stores it (8 bytes, little-endian, as
 * rt_msg_encode writes positions), and back: 0 when the bytes are not one. */
void rt_redis_hist_epoch_bytes(uint64_t epoch, char out[8]);
uint64_t rt_redis_hist_epoch_of(const char *bytes, size_t len);

/* Checks the publish script's answer. Returns 0 with *out set, or
 * -EPROTO. */
int rt_redis_hist_published(const redisReply *r, rt_pos *out);

/* What a read found, checked (rt_hub_history's status rules). */
typedef struct rt_redis_hist_read {
	int status;        /* 1: all of what was asked is in msgs; 0: not recoverable */
	rt_pos top;
	rt_msg **msgs;     /* decoded, oldest first, each a one-channel publish on
	                    * the channel with its position; malloc'd */
	const redisReply **raw; /* the reply element each came from */
	uint32_t count;
} rt_redis_hist_read;

/* Checks the read script's answer r to a read of channel after since
 * (NULL: the last limit messages). Every message must decode, be on this
 * channel, carry the answer's epoch, and the offsets must run one by one
 * up to the top; with since, they must start right after it. A reply
 * that breaks any of that is refused (-EPROTO) rather than trusted; a
 * well-formed one that cannot cover since gives status 0. Returns 0 or a
 * negative errno; free with rt_redis_hist_read_free. */
int rt_redis_hist_check(const redisReply *r, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, rt_redis_hist_read *out);
void rt_redis_hist_read_free(rt_redis_hist_read *rd);

#endif
