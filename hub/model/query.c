#include "hub/model/query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

rt_query *rt_query_new(rt_query_kind kind, const char *subject, size_t len)
{
	rt_query *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		return NULL;
	}
	if (subject != NULL) {
		q->subject = strndup(subject, len);
		if (q->subject == NULL) {
			free(q);
			return NULL;
		}
		q->subject_len = len;
	}
	atomic_init(&q->refs, 1);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->kind = kind;
	return q;
}

void rt_query_retain(rt_query *q)
{
	atomic_fetch_add(&q->refs, 1);
}

void rt_query_release(rt_query *q)
{
	if (atomic_fetch_sub(&q->refs, 1) != 1) {
		return;
	}
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->cond);
	free(q->subject);
	free(q->answer);
	free(q);
}

void rt_query_answer(rt_query *q, char *answer, size_t len)
{
	pthread_mutex_lock(&q->lock);
	if (!q->done) {
		q->answer = answer;
		q->answer_len = len;
		q->done = 1;
		answer = NULL;
	}
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	free(answer);
}

int rt_query_wait(rt_query *q, uint32_t timeout_ms)
{
	struct timespec deadline;
	int done;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->lock);
	while (!q->done) {
		if (pthread_cond_timedwait(&q->cond, &q->lock, &deadline) == ETIMEDOUT) {
			break;
		}
	}
	done = q->done;
	pthread_mutex_unlock(&q->lock);
	return done ? 0 : -ETIMEDOUT;
}
