/* hiredis's async API driven by a libuv loop. Debian 12's hiredis 0.14
 * ships an adapter that drops poll errors, so a refused connect never
 * reaches hiredis and its callback never runs; this one hands every event,
 * errors included, to hiredis. */
#ifndef RT_BROKER_REDIS_UV_H
#define RT_BROKER_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

int rt_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
