/* A question a PHP thread asks the hub (who is on a channel, how many
 * connections): the asker waits with a deadline, the hub answers with JSON
 * text. Shared by both threads through a reference count, so an asker that
 * gave up leaves the answer to be freed by the hub. */
#ifndef RT_HUB_QUERY_H
#define RT_HUB_QUERY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rt_query_kind {
	RT_QUERY_CHANNEL_USERS = 1, /* [{"id":..,"info":..}, ...] */
	RT_QUERY_CHANNELS,          /* {"name": subscriber count, ...} */
	RT_QUERY_CONNECTIONS,       /* count, of the hub or of one channel */
} rt_query_kind;

typedef struct rt_query {
	_Atomic int refs;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
	rt_query_kind kind;
	char *subject;       /* channel name, or NULL */
	size_t subject_len;
	char *answer;        /* JSON text, malloc'd */
	size_t answer_len;
} rt_query;

rt_query *rt_query_new(rt_query_kind kind, const char *subject, size_t len);
/* Hub side: takes ownership of answer (NULL: out of memory). */
void rt_query_answer(rt_query *q, char *answer, size_t len);
/* Asker side: 0 when answered, -ETIMEDOUT otherwise. */
int rt_query_wait(rt_query *q, uint32_t timeout_ms);
void rt_query_retain(rt_query *q);
void rt_query_release(rt_query *q);

#endif
