#include "broker/redis_reader.h"

#include <pthread.h>
#include <stddef.h>

static pthread_mutex_t rt__lock = PTHREAD_MUTEX_INITIALIZER;
static redisReplyObjectFunctions rt__limited;
static redisReplyObjectFunctions rt__limited_history;
static void *(*rt__create_array)(const redisReadTask *task, int elements);

/* hiredis 0.14 callocs the element array that "*<n>" announces at once:
 * a dozen bytes could ask for gigabytes. */
static void *rt__array(const redisReadTask *task, int elements)
{
	if (task->parent != NULL || elements < 0 || elements > RT_REDIS_MAX_ELEMENTS) {
		return NULL;
	}
	return rt__create_array(task, elements);
}

static void *rt__array_history(const redisReadTask *task, int elements)
{
	if (task->parent != NULL || elements < 0 || elements > RT_REDIS_MAX_HISTORY) {
		return NULL;
	}
	return rt__create_array(task, elements);
}

static void rt__limit(redisReader *reader, redisReplyObjectFunctions *table)
{
	if (reader == NULL || reader->fn == NULL || reader->fn == &rt__limited
			|| reader->fn == &rt__limited_history) {
		return;
	}
	/* Every reader starts with hiredis's one default table. */
	pthread_mutex_lock(&rt__lock);
	if (rt__create_array == NULL) {
		rt__limited = *reader->fn;
		rt__create_array = reader->fn->createArray;
		rt__limited.createArray = rt__array;
		rt__limited_history = rt__limited;
		rt__limited_history.createArray = rt__array_history;
	}
	pthread_mutex_unlock(&rt__lock);
	reader->fn = table;
}

void rt_redis_reader_limit(redisReader *reader)
{
	rt__limit(reader, &rt__limited);
}

void rt_redis_reader_limit_history(redisReader *reader)
{
	rt__limit(reader, &rt__limited_history);
}
