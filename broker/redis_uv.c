#include "broker/redis_uv.h"

#include <stdlib.h>

typedef struct rt__redis_poll {
	uv_poll_t poll;
	redisAsyncContext *ac;
	int events;
} rt__redis_poll;

static void rt__on_poll(uv_poll_t *handle, int status, int events)
{
	rt__redis_poll *p = handle->data;

	if (p->ac == NULL) {
		return;
	}
	if (status < 0) {
		/* Let hiredis find the error itself: a read or write on the
		 * socket reports it (a refused connect, a reset). */
		events = p->events;
	}
	if (p->ac != NULL && (events & UV_WRITABLE)) {
		redisAsyncHandleWrite(p->ac);
	}
	if (p->ac != NULL && (events & UV_READABLE)) {
		redisAsyncHandleRead(p->ac);
	}
}

static void rt__update(rt__redis_poll *p, int add, int remove)
{
	p->events = (p->events | add) & ~remove;
	if (p->events) {
		uv_poll_start(&p->poll, p->events, rt__on_poll);
	} else {
		uv_poll_stop(&p->poll);
	}
}

static void rt__add_read(void *d)
{
	rt__update(d, UV_READABLE, 0);
}

static void rt__del_read(void *d)
{
	rt__update(d, 0, UV_READABLE);
}

static void rt__add_write(void *d)
{
	rt__update(d, UV_WRITABLE, 0);
}

static void rt__del_write(void *d)
{
	rt__update(d, 0, UV_WRITABLE);
}

static void rt__on_closed(uv_handle_t *h)
{
	free(h->data);
}

static void rt__cleanup(void *d)
{
	rt__redis_poll *p = d;

	p->ac = NULL;
	uv_poll_stop(&p->poll);
	uv_close((uv_handle_t *) &p->poll, rt__on_closed);
}

int rt_redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	rt__redis_poll *p;

	if (ac->ev.data != NULL) {
		return REDIS_ERR;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return REDIS_ERR;
	}
	if (uv_poll_init_socket(loop, &p->poll, ac->c.fd) != 0) {
		free(p);
		return REDIS_ERR;
	}
	p->poll.data = p;
	p->ac = ac;
	ac->ev.data = p;
	ac->ev.addRead = rt__add_read;
	ac->ev.delRead = rt__del_read;
	ac->ev.addWrite = rt__add_write;
	ac->ev.delWrite = rt__del_write;
	ac->ev.cleanup = rt__cleanup;
	return REDIS_OK;
}
