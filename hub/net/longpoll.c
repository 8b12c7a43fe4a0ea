#include "hub/net/longpoll.h"
#include "hub/util/log.h"
#include "hub/wire/sse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_longpoll_init(rt_longpoll *lp, uint32_t max_queue)
{
	memset(lp, 0, sizeof(*lp));
	lp->q = calloc(max_queue, sizeof(*lp->q));
	if (lp->q == NULL) {
		return -ENOMEM;
	}
	lp->cap = max_queue;
	lp->first_seq = 1;
	return 0;
}

void rt_longpoll_free(rt_longpoll *lp)
{
	rt_longpoll_ack(lp, UINT64_MAX);
	free(lp->q);
	lp->q = NULL;
}

static void rt__pop(rt_longpoll *lp)
{
	rt_buf_unref(lp->q[lp->head]);
	lp->q[lp->head] = NULL;
	lp->head = (lp->head + 1) % lp->cap;
	lp->count--;
	lp->first_seq++;
}

void rt_longpoll_ack(rt_longpoll *lp, uint64_t ack)
{
	while (lp->count > 0 && lp->first_seq <= ack) {
		rt__pop(lp);
	}
}

uint64_t rt_longpoll_last(const rt_longpoll *lp)
{
	return lp->first_seq + lp->count - 1;
}

uint64_t rt_longpoll_batch(const rt_longpoll *lp, rt_sb *out, size_t max_bytes)
{
	size_t used = 0;
	uint32_t i;

	for (i = 0; i < lp->count; i++) {
		const rt_buf *b = lp->q[(lp->head + i) % lp->cap];
		if (i > 0 && used + b->len > max_bytes) {
			break;
		}
		rt_sb_append(out, b->data, b->len);
		used += b->len;
	}
	return lp->first_seq + i - 1;
}

static void rt__push(rt_longpoll *lp, rt_buf *frame)
{
	static rt_log_limit drop_log; /* a client that stops polling repeats it at will */

	if (lp->closed) {
		return;
	}
	if (lp->count == lp->cap) {
		/* The oldest goes, counted: a client that stopped polling costs
		 * no more than its queue. */
		rt__pop(lp);
		if (lp->stat_dropped != NULL) {
			atomic_fetch_add_explicit(lp->stat_dropped, 1, memory_order_relaxed);
		}
		rt_log_limited(&drop_log, RT_LOG_WARNING, "long-polling session: dropped its oldest "
				"event, %u queued (realtime.longpoll_max_queue)", lp->cap);
	}
	lp->q[(lp->head + lp->count) % lp->cap] = rt_buf_ref(frame);
	lp->count++;
	if (lp->ready != NULL) {
		lp->ready(lp);
	}
}

static void rt__l_send(void *t, rt_buf *frame)
{
	rt__push(t, frame);
}

/* Queues text as one event of the batch (event: NULL for a plain one). */
static void rt__push_event(rt_longpoll *lp, const char *event, const char *text, size_t len)
{
	rt_buf *b = rt_sse_event_buf(event, text, len, 0);

	if (b != NULL) {
		rt__push(lp, b);
		rt_buf_unref(b);
	}
}

static void rt__l_send_text(void *t, const char *text, size_t len)
{
	rt__push_event(t, NULL, text, len);
}

static void rt__l_close(void *t, uint16_t code, const char *reason)
{
	rt_longpoll *lp = t;
	char text[200];
	int n;

	if (lp->closed) {
		return;
	}
	n = snprintf(text, sizeof(text), "{\"type\":\"close\",\"code\":%u,\"reason\":\"%s\"}",
			(unsigned) code, reason != NULL && strchr(reason, '"') == NULL ? reason : "");
	if (n > 0 && (size_t) n < sizeof(text)) {
		rt__push_event(lp, "close", text, (size_t) n);
	}
	lp->closed = 1;
	if (lp->ready != NULL) {
		lp->ready(lp);
	}
}

static void rt__l_abort(void *t)
{
	rt_longpoll *lp = t;

	lp->closed = 1;
	if (lp->ready != NULL) {
		lp->ready(lp);
	}
}

static void rt__l_pause(void *t, int paused)
{
	(void) t;
	(void) paused;
}

const rt_transport_ops rt_longpoll_transport = {
	.send = rt__l_send,
	.send_text = rt__l_send_text,
	.close = rt__l_close,
	.abort = rt__l_abort,
	.pause = rt__l_pause,
};
