/* A long-polling session's carrier (rt_transport_ops): no socket, a bounded
 * queue of shared, pre-framed events (the SSE protocol's frames) that
 * polls take in batches. Each queued frame has a sequence number; a poll
 * acknowledges what it got (ack), the next batch starts after it, so
 * polls see every frame once, with no gap, whatever the timing. Past
 * max_queue frames the oldest is dropped and counted. The owner (hub/
 * polling.c) learns through ready() that frames wait. */
#ifndef RT_HUB_NET_LONGPOLL_H
#define RT_HUB_NET_LONGPOLL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"
#include "hub/net/transport.h"

typedef struct rt_longpoll {
	rt_buf **q;                 /* ring of cap frames */
	uint32_t head, count, cap;
	uint64_t first_seq;         /* sequence number of q[head]; the first frame is 1 */
	int closed;                 /* the session asked to end: its last frames still go */
	void (*ready)(struct rt_longpoll *lp); /* frames were queued; not during the send's caller's walk */
	void *owner;
	_Atomic uint64_t *stat_dropped;
} rt_longpoll;

/* 0, or -ENOMEM. max_queue >= 1. */
int rt_longpoll_init(rt_longpoll *lp, uint32_t max_queue);
void rt_longpoll_free(rt_longpoll *lp);
/* Drops what ack acknowledges (sequence numbers up to ack). */
void rt_longpoll_ack(rt_longpoll *lp, uint64_t ack);
/* The sequence number of the last frame queued (0: none yet). */
uint64_t rt_longpoll_last(const rt_longpoll *lp);
/* Appends queued frames from the oldest to out, up to max_bytes (at least
 * one frame), and returns the sequence number of the last appended (or
 * first_seq - 1 when none). */
uint64_t rt_longpoll_batch(const rt_longpoll *lp, rt_sb *out, size_t max_bytes);

extern const rt_transport_ops rt_longpoll_transport;

#endif
