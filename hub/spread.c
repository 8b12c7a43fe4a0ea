/* The shared listening socket, accepted by hand so that each accept can ask
 * first whether this hub should take the client (hub/util/balance.h).
 *
 * Why not the kernel alone: SO_REUSEPORT spreads clients by hash, but only
 * among sockets of one creator uid, so workers that run as another user than
 * the master (FPM's `user =`, Apache's children) cannot add their own socket
 * and all serve the master's one. On one socket every hub is woken for every
 * client and the first to accept wins, and libuv accepts until the queue is
 * empty: whichever hub is idle at that instant takes a whole burst.
 *
 * Pausing only stops this hub's poll: the socket stays open, so queued
 * clients wait for another hub instead of being reset. Some hub always
 * accepts (the least loaded one does), and a paused hub that keeps finding
 * clients waiting takes them anyway, so a stalled sibling cannot starve the
 * pool. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include "hub/spread.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hub/core/server.h"
#include "hub/net/conn.h"
#include "hub/util/balance.h"
#include "hub/util/log.h"

/* How often a paused hub looks again, and after how many looks that find
 * clients still queued it takes them regardless of the loads. */
#define RT_SPREAD_RECHECK_MS 10
#define RT_SPREAD_MAX_WAITS 30
/* Clients accepted per wake-up: the others, woken too, get their turn. */
#define RT_SPREAD_BATCH 4
/* As many as the shared memory has hub slots (broker/pool.h). */
#define RT_SPREAD_PEERS 256

static rt_log_limit rt__accept_log;
static rt_log_limit rt__forced_log;

static uint32_t rt__load(const struct rt_hub *hub)
{
	uint64_t n = atomic_load_explicit(&hub->net.stat_connections, memory_order_relaxed)
			+ hub->net.handshakes;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t) n;
}

void rt_spread_note_load(struct rt_hub *hub)
{
	if (hub->has_link && hub->link.set_load != NULL) {
		hub->link.set_load(hub->link.ctx, rt__load(hub));
	}
}

static int rt__should_accept(struct rt_hub *hub)
{
	rt_hub_peer peers[RT_SPREAD_PEERS];
	uint32_t loads[RT_SPREAD_PEERS];
	int n;

	if (!hub->has_link || hub->link.peers == NULL) {
		return 1;
	}
	rt_spread_note_load(hub);
	n = hub->link.peers(hub->link.ctx, peers, RT_SPREAD_PEERS);
	if (n > RT_SPREAD_PEERS) {
		n = RT_SPREAD_PEERS; /* more than the slot table holds: a sample */
	}
	for (int i = 0; i < n; i++) {
		loads[i] = peers[i].load;
	}
	return rt_balance_should_accept(rt__load(hub), loads, n);
}

/* Clients waiting in the shared socket's accept queue (tcpi_unacked of a
 * listening socket), 0 when unknown. */
static unsigned rt__queued(int fd)
{
	struct tcp_info info;
	socklen_t len = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
		return 0;
	}
	return info.tcpi_unacked;
}

static void rt__on_readable(uv_poll_t *handle, int status, int events);
static void rt__on_recheck(uv_timer_t *timer);

static void rt__pause(struct rt_hub *hub)
{
	uv_poll_stop(&hub->shared_listener);
	hub->shared_paused = 1;
	uv_timer_start(&hub->spread_timer, rt__on_recheck, RT_SPREAD_RECHECK_MS,
			RT_SPREAD_RECHECK_MS);
}

static void rt__resume(struct rt_hub *hub)
{
	uv_timer_stop(&hub->spread_timer);
	hub->shared_paused = 0;
	hub->shared_waits = 0;
	uv_poll_start(&hub->shared_listener, UV_READABLE, rt__on_readable);
}

static void rt__on_recheck(uv_timer_t *timer)
{
	struct rt_hub *hub = timer->data;

	if (!hub->shared_paused || hub->net.stopping
			|| uv_is_closing((uv_handle_t *) &hub->shared_listener)) {
		uv_timer_stop(timer);
		return;
	}
	if (rt__queued(hub->shared_fd) == 0) {
		hub->shared_waits = 0;
	} else if (++hub->shared_waits >= RT_SPREAD_MAX_WAITS) {
		rt_log_limited(&rt__forced_log, RT_LOG_INFO, "clients waited %d ms on the shared "
				"socket with no hub of the pool taking them; this hub takes them",
				RT_SPREAD_RECHECK_MS * RT_SPREAD_MAX_WAITS);
		hub->shared_forced = 1;
		rt__resume(hub);
		return;
	}
	if (rt__should_accept(hub)) {
		rt__resume(hub);
	}
}

static void rt__on_readable(uv_poll_t *handle, int status, int events)
{
	struct rt_hub *hub = handle->data;

	(void) events;
	if (status < 0) {
		rt_log_limited(&rt__accept_log, RT_LOG_WARNING, "accept failed: %s",
				uv_strerror(status));
		return;
	}
	for (int i = 0; i < RT_SPREAD_BATCH; i++) {
		int fd;
		if (!hub->shared_forced && !rt__should_accept(hub)) {
			rt__pause(hub);
			return;
		}
		fd = accept4(hub->shared_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				hub->shared_forced = 0; /* the queue is empty: balance again */
			}
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Level-triggered: without a pause this would spin. */
				rt_log_limited(&rt__accept_log, RT_LOG_WARNING, "accept failed: %s",
						strerror(errno));
				rt__pause(hub);
			}
			return;
		}
		rt_conn_accept_fd(&hub->net, fd);
		rt_spread_note_load(hub);
	}
}

void rt_spread_init(struct rt_hub *hub)
{
	hub->shared_fd = -1;
	uv_timer_init(&hub->loop, &hub->spread_timer);
	hub->spread_timer.data = hub;
}

void rt_spread_adopt(struct rt_hub *hub, int fd)
{
	if (fd < 0) {
		return;
	}
	hub->shared_fd = fd;
	if (uv_poll_init_socket(&hub->loop, &hub->shared_listener, fd) != 0) {
		return;
	}
	hub->shared_listener.data = hub;
	if (uv_poll_start(&hub->shared_listener, UV_READABLE, rt__on_readable) != 0) {
		uv_close((uv_handle_t *) &hub->shared_listener, NULL);
		return;
	}
	hub->has_shared_listener = 1;
}

void rt_spread_close(struct rt_hub *hub)
{
	if (!uv_is_closing((uv_handle_t *) &hub->spread_timer)) {
		uv_close((uv_handle_t *) &hub->spread_timer, NULL);
	}
}

void rt_spread_free(struct rt_hub *hub)
{
	if (hub->shared_fd >= 0) {
		close(hub->shared_fd);
		hub->shared_fd = -1;
	}
}
