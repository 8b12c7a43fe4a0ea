/* Caps on what a Redis server's replies can make hiredis allocate: every
 * reply the broker expects is a flat array of a few elements. */
#ifndef RT_BROKER_REDIS_READER_H
#define RT_BROKER_REDIS_READER_H

#include <hiredis/read.h>

/* The largest array a reply may be; the broker's are at most 4 long. */
#define RT_REDIS_MAX_ELEMENTS 8

/* Makes reader refuse (as out of memory, which ends the connection) a
 * nested array or one longer than RT_REDIS_MAX_ELEMENTS, before hiredis
 * allocates room for all the elements a header announces. */
void rt_redis_reader_limit(redisReader *reader);

/* The same for a connection that also reads histories: a flat array of up
 * to RT_REDIS_MAX_HISTORY elements (the messages one read may return). */
#define RT_REDIS_MAX_HISTORY (100000 + 2)
void rt_redis_reader_limit_history(redisReader *reader);

#endif
