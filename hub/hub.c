#include "hub/hub.h"
#include "hub/conn.h"
#include "hub/log.h"
#include "hub/native.h"
#include "hub/server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void rt__dispatch(rt_hub *hub, rt_msg *msg);

/* ---- loop callbacks ---- */

static void rt__on_connection(uv_stream_t *server, int status)
{
	rt_hub *hub = server->data;

	if (status < 0) {
		rt_log(RT_LOG_WARNING, "accept failed: %s", uv_strerror(status));
		return;
	}
	rt_conn_accept(hub);
}

static void rt__on_wake(uv_async_t *handle)
{
	rt_hub *hub = handle->data;
	rt_msg *msg;

	pthread_mutex_lock(&hub->lock);
	msg = hub->inbox_head;
	hub->inbox_head = hub->inbox_tail = NULL;
	pthread_mutex_unlock(&hub->lock);
	while (msg != NULL) {
		rt_msg *next = msg->next;
		rt__dispatch(hub, msg);
		msg = next;
	}
}

static void rt__on_flush(uv_check_t *handle)
{
	rt_hub *hub = handle->data;
	rt_conn *conn = hub->dirty;

	hub->dirty = NULL;
	while (conn != NULL) {
		rt_conn *next = conn->dirty_next;
		conn->flags &= (uint8_t) ~RT_CONN_F_DIRTY;
		conn->dirty_next = NULL;
		rt_conn_flush(conn);
		conn = next;
	}
}

static void rt__on_tick(uv_timer_t *handle)
{
	rt_hub *hub = handle->data;
	rt_conn *conn = hub->conns;

	hub->now++;
	while (conn != NULL) {
		rt_conn *next = conn->next;
		rt_conn_sweep(conn);
		conn = next;
	}
}

/* ---- fan-out ---- */

static void rt__publish(rt_hub *hub, const rt_msg *msg)
{
	const rt_conn *skip = NULL;

	if (msg->exclude.ptr != NULL) {
		skip = rt_map_get(&hub->conns_by_id, msg->exclude.ptr, msg->exclude.len);
	}
	for (uint32_t c = 0; c < msg->channel_count; c++) {
		rt_channel *ch = rt_registry_find(&hub->registry, msg->channels[c].ptr,
				msg->channels[c].len);
		rt_buf *frame;

		if (ch == NULL) {
			continue;
		}
		/* Framed once; every subscriber's queue shares these bytes. */
		frame = rt_native_frame_message(msg, msg->channels[c]);
		if (frame == NULL) {
			rt_log(RT_LOG_ERROR, "out of memory framing a message for %s", ch->name);
			continue;
		}
		/* Walk backwards: a send may close a slow consumer, which removes
		 * its subscription by swapping the last one into its place. */
		for (uint32_t i = ch->count; i-- > 0;) {
			rt_conn *conn = ch->subs[i]->conn;
			if (conn != skip) {
				rt_conn_send(conn, frame);
				if (ch != rt_registry_find(&hub->registry, msg->channels[c].ptr,
						msg->channels[c].len)) {
					break; /* the channel emptied and was freed */
				}
				if (i > ch->count) {
					i = ch->count;
				}
			}
		}
		rt_buf_unref(frame);
	}
}

/* ---- stopping ---- */

static void rt__close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h)) {
		uv_close(h, NULL);
	}
}

void rt_hub__all_closed(rt_hub *hub)
{
	rt__close_handle((uv_handle_t *) &hub->wake);
	rt__close_handle((uv_handle_t *) &hub->flush);
	rt__close_handle((uv_handle_t *) &hub->tick);
}

static void rt__begin_stop(rt_hub *hub)
{
	rt_conn *conn;

	if (hub->stopping) {
		return;
	}
	hub->stopping = 1;
	rt__close_handle((uv_handle_t *) &hub->listener);
	for (conn = hub->conns; conn != NULL; conn = conn->next) {
		if (conn->state == RT_CONN_OPEN) {
			rt_conn_close_ws(conn, 1001, "server shutting down");
			/* No grace for the reply: the process is leaving. */
			conn->flags |= RT_CONN_F_CLOSE_AFTER_FLUSH;
		} else {
			rt_conn_close(conn);
		}
	}
	/* Make sure the close frames reach the sockets this turn. */
	rt__on_flush(&hub->flush);
	if (hub->conns == NULL) {
		rt_hub__all_closed(hub);
	}
}

static void rt__dispatch(rt_hub *hub, rt_msg *msg)
{
	switch (msg->type) {
	case RT_MSG_PUBLISH:
		atomic_fetch_add_explicit(&hub->stat_published, 1, memory_order_relaxed);
		if (!hub->stopping) {
			rt__publish(hub, msg);
		}
		break;
	case RT_MSG_STOP:
		rt__begin_stop(hub);
		break;
	}
	rt_msg_free(msg);
}

/* ---- thread ---- */

static void *rt__thread_main(void *arg)
{
	rt_hub *hub = arg;
	rt_conn *conn;

	uv_run(&hub->loop, UV_RUN_DEFAULT);
	/* Connections still open when stop gave up waiting; close them here. */
	for (conn = hub->conns; conn != NULL; conn = conn->next) {
		rt_conn_close(conn);
	}
	rt_hub__all_closed(hub);
	rt__close_handle((uv_handle_t *) &hub->listener);
	uv_run(&hub->loop, UV_RUN_DEFAULT);
	uv_loop_close(&hub->loop);

	pthread_mutex_lock(&hub->lock);
	hub->stopped = 1;
	pthread_cond_signal(&hub->stopped_cond);
	pthread_mutex_unlock(&hub->lock);
	return NULL;
}

static int rt__bind(rt_hub *hub, char *err, size_t errlen)
{
	const rt_config *cfg = &hub->cfg;
	struct sockaddr_storage addr;
	int r;

	if (strchr(cfg->host, ':') != NULL) {
		r = uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *) &addr);
	} else {
		r = uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *) &addr);
	}
	if (r == 0) {
		r = uv_tcp_init_ex(&hub->loop, &hub->listener, addr.ss_family);
	}
	if (r == 0) {
		uv_os_fd_t fd;
		int one = 1;
		uv_fileno((uv_handle_t *) &hub->listener, &fd);
		/* Workers of one pool each bind the same port; the kernel spreads
		 * connections among them. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		r = uv_tcp_bind(&hub->listener, (const struct sockaddr *) &addr, 0);
		if (r == 0) {
			r = uv_listen((uv_stream_t *) &hub->listener, 511, rt__on_connection);
		}
		if (r != 0) {
			uv_close((uv_handle_t *) &hub->listener, NULL);
		}
	}
	if (r != 0) {
		snprintf(err, errlen, "cannot listen on %s:%d (realtime.listen): %s", cfg->host,
				cfg->port, uv_strerror(r));
	}
	return r;
}

int rt_hub_start(rt_hub **out, const rt_config *cfg, char *err, size_t errlen)
{
	rt_hub *hub = calloc(1, sizeof(*hub));
	sigset_t all, old;
	int r;

	*out = NULL;
	if (hub == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	hub->cfg = *cfg;
	if (getrandom(&hub->node_id, sizeof(hub->node_id), 0) != sizeof(hub->node_id)) {
		hub->node_id = (uint32_t) time(NULL) ^ (uint32_t) getpid();
	}
	hub->node_id = hub->node_id % 1000000000u + 1;
	rt_registry_init(&hub->registry);
	rt_map_init(&hub->conns_by_id);
	pthread_mutex_init(&hub->lock, NULL);
	pthread_cond_init(&hub->stopped_cond, NULL);
	r = uv_loop_init(&hub->loop);
	if (r != 0) {
		snprintf(err, errlen, "cannot start the event loop: %s", uv_strerror(r));
		goto fail_loop;
	}
	r = rt__bind(hub, err, errlen);
	if (r != 0) {
		goto fail_handles;
	}
	hub->listener.data = hub;
	uv_async_init(&hub->loop, &hub->wake, rt__on_wake);
	hub->wake.data = hub;
	uv_check_init(&hub->loop, &hub->flush);
	hub->flush.data = hub;
	uv_check_start(&hub->flush, rt__on_flush);
	uv_timer_init(&hub->loop, &hub->tick);
	hub->tick.data = hub;
	uv_timer_start(&hub->tick, rt__on_tick, 1000, 1000);
	hub->accepting_posts = 1;

	/* The thread inherits a full mask: PHP's signals (timeouts, FPM's soft
	 * quit) must land on PHP's threads, and SIGPIPE nowhere. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&hub->thread, NULL, rt__thread_main, hub);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		snprintf(err, errlen, "cannot start the hub thread: %s", strerror(-r));
		rt__close_handle((uv_handle_t *) &hub->wake);
		rt__close_handle((uv_handle_t *) &hub->flush);
		rt__close_handle((uv_handle_t *) &hub->tick);
		rt__close_handle((uv_handle_t *) &hub->listener);
		goto fail_handles;
	}
	rt_log(RT_LOG_INFO, "hub listening on %s:%d%s (node %u)", cfg->host, cfg->port,
			cfg->path, hub->node_id);
	*out = hub;
	return 0;

fail_handles:
	uv_run(&hub->loop, UV_RUN_DEFAULT);
	uv_loop_close(&hub->loop);
fail_loop:
	rt_map_free(&hub->conns_by_id);
	rt_registry_free(&hub->registry);
	pthread_mutex_destroy(&hub->lock);
	pthread_cond_destroy(&hub->stopped_cond);
	free(hub);
	return r < 0 ? r : -r;
}

int rt_hub_post(rt_hub *hub, rt_msg *msg)
{
	msg->next = NULL;
	pthread_mutex_lock(&hub->lock);
	if (!hub->accepting_posts) {
		pthread_mutex_unlock(&hub->lock);
		rt_msg_free(msg);
		return -ESHUTDOWN;
	}
	if (hub->inbox_tail) {
		hub->inbox_tail->next = msg;
	} else {
		hub->inbox_head = msg;
	}
	hub->inbox_tail = msg;
	pthread_mutex_unlock(&hub->lock);
	uv_async_send(&hub->wake);
	return 0;
}

int rt_hub_stop(rt_hub *hub)
{
	static const rt_str none = {NULL, 0};
	rt_msg *stop = rt_msg_new(RT_MSG_STOP, NULL, 0, none, none, none);
	struct timespec deadline;
	int stopped;
	rt_msg *left;

	if (stop == NULL || rt_hub_post(hub, stop) != 0) {
		return -ESHUTDOWN;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += hub->cfg.shutdown_timeout / 1000;
	deadline.tv_nsec += (long) (hub->cfg.shutdown_timeout % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&hub->lock);
	hub->accepting_posts = 0;
	while (!hub->stopped) {
		if (pthread_cond_timedwait(&hub->stopped_cond, &hub->lock, &deadline) == ETIMEDOUT) {
			break;
		}
	}
	stopped = hub->stopped;
	pthread_mutex_unlock(&hub->lock);
	if (!stopped) {
		rt_log(RT_LOG_WARNING, "hub did not stop within %u ms (realtime.shutdown_timeout); leaving it",
				hub->cfg.shutdown_timeout);
		pthread_detach(hub->thread);
		return -ETIMEDOUT;
	}
	pthread_join(hub->thread, NULL);
	left = hub->inbox_head;
	while (left != NULL) {
		rt_msg *next = left->next;
		rt_msg_free(left);
		left = next;
	}
	rt_map_free(&hub->conns_by_id);
	rt_registry_free(&hub->registry);
	pthread_mutex_destroy(&hub->lock);
	pthread_cond_destroy(&hub->stopped_cond);
	free(hub);
	return 0;
}

void rt_hub_stats_get(const rt_hub *hub, rt_hub_stats *out)
{
	rt_hub *h = (rt_hub *) hub;

	out->connections = atomic_load_explicit(&h->stat_connections, memory_order_relaxed);
	out->channels = atomic_load_explicit(&h->stat_channels, memory_order_relaxed);
	out->messages_published = atomic_load_explicit(&h->stat_published, memory_order_relaxed);
	out->frames_delivered = atomic_load_explicit(&h->stat_delivered, memory_order_relaxed);
	out->slow_consumers = atomic_load_explicit(&h->stat_slow, memory_order_relaxed);
	out->node_id = hub->node_id;
	out->pid = (int) getpid();
}

const rt_config *rt_hub_config(const rt_hub *hub)
{
	return &hub->cfg;
}
