/* The redis broker's opt-in confirmation: the next publishes of this thread wait for Redis. */
#ifndef RT_BROKER_REDIS_H
#define RT_BROKER_REDIS_H

/* on: the publishes of the calling PHP thread return only once Redis has
 * answered them (within realtime.redis_timeout), as
 * Realtime\broadcastConfirmed() needs; off: they are handed to the hub and
 * return at once (docs/redis.md). Other brokers ignore it. */
void rt_broker_redis_confirm(int on);

#endif
