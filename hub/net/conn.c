#include "hub/net/conn.h"
#include "hub/wire/sse.h"
#include "hub/wire/frame.h"
#include "hub/util/utf8.h"
#include "hub/util/log.h"
#include "hub/model/identity.h"
#include "hub/net/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define RT_CLOSE_GRACE 2   /* seconds a closing client gets to answer */
#define RT_WRITE_BATCH 64  /* frames per write call */
/* Bytes of a read handed to wslay at a time: it queues a PONG per PING it
 * parses, so a slice bounds that queue (a PING is 6 bytes) before the
 * PONGs are coalesced into ours. */
#define RT_WS_SLICE 4096
#define RT_WS_OP_PONG 0x8a  /* first byte of a final PONG frame */
/* PONGs of one read queued one per PING before they are coalesced: a
 * client that pings a few times at once gets every answer. */
#define RT_PONG_BURST 16

/* The layer above (hub/net/conn.h). */
#define RT__UP(conn) ((conn)->net->handlers)

/* Every read lands in one buffer per hub thread: reads are handled to the
 * end before the next one, so connections need no buffer of their own. */
static __thread char rt__read_buf[64 * 1024];

static void rt__on_closed(uv_handle_t *handle);
static void rt__pump(rt_conn *conn);
static void rt__over_budget(rt_conn *conn);
static int rt__ws_ensure(rt_conn *conn);
static void rt__alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
static void rt__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- outbound queue ---- */

static int rt__outq_push(rt_conn *conn, rt_buf *buf)
{
	if (conn->out_count == conn->out_cap) {
		uint32_t cap = conn->out_cap ? conn->out_cap * 2 : 4;
		rt_buf **q = malloc(cap * sizeof(*q));
		if (q == NULL) {
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < conn->out_count; i++) {
			q[i] = conn->outq[(conn->out_head + i) & (conn->out_cap - 1)];
		}
		free(conn->outq);
		conn->outq = q;
		conn->out_cap = cap;
		conn->out_head = 0;
	}
	conn->outq[(conn->out_head + conn->out_count) & (conn->out_cap - 1)] = buf;
	conn->out_count++;
	conn->out_bytes += buf->len;
	return 0;
}

static rt_buf *rt__outq_at(const rt_conn *conn, uint32_t i)
{
	return conn->outq[(conn->out_head + i) & (conn->out_cap - 1)];
}

static void rt__outq_pop(rt_conn *conn)
{
	rt_buf *b = rt__outq_at(conn, 0);

	conn->out_bytes -= b->len;
	rt_buf_unref(b);
	conn->out_head = (conn->out_head + 1) & (conn->out_cap - 1);
	conn->out_count--;
	conn->out_off = 0;
}

/* Drops queued frames that no write has started on. */
static void rt__outq_drop_unsent(rt_conn *conn)
{
	uint32_t keep = conn->inflight;

	if (keep == 0 && conn->out_off > 0) {
		keep = 1;
	}
	while (conn->out_count > keep) {
		uint32_t last = (conn->out_head + conn->out_count - 1) & (conn->out_cap - 1);
		conn->out_bytes -= conn->outq[last]->len;
		rt_buf_unref(conn->outq[last]);
		conn->out_count--;
	}
}

static void rt__mark_dirty(rt_conn *conn)
{
	if (conn->state != RT_CONN_DEAD && !(conn->flags & RT_CONN_F_DIRTY)) {
		conn->flags |= RT_CONN_F_DIRTY;
		conn->dirty_next = conn->net->dirty;
		conn->net->dirty = conn;
	}
}

/* Closes on the next sweep instead of now: callers may be walking a
 * channel's subscribers, which an immediate close would change. */
static void rt__close_soon(rt_conn *conn)
{
	if (conn->state != RT_CONN_DEAD) {
		conn->state = RT_CONN_CLOSING;
		conn->deadline = conn->net->now;
	}
}

/* Queues bytes produced on this connection alone (handshake replies,
 * control frames); not subject to the slow-consumer limit. */
static void rt__queue_copy(rt_conn *conn, const void *data, size_t len)
{
	rt_buf *b = rt_buf_new(len);

	if (b == NULL) {
		rt__close_soon(conn);
		return;
	}
	memcpy(b->data, data, len);
	if (rt__outq_push(conn, b) != 0) {
		rt_buf_unref(b);
		rt__close_soon(conn);
		return;
	}
	rt__mark_dirty(conn);
}

void rt_conn_send(rt_conn *conn, rt_buf *frame)
{
	rt_net *net = conn->net;

	if (conn->state != RT_CONN_OPEN) {
		return;
	}
	if (conn->out_bytes + frame->len > net->cfg->max_outbound) {
		static rt_log_limit slow_log; /* clients can repeat this at will */
		atomic_fetch_add_explicit(&net->stat_slow, 1, memory_order_relaxed);
		rt_log_limited(&slow_log, RT_LOG_WARNING, "closing connection %s: slow consumer "
				"(%zu bytes queued)", conn->id, conn->out_bytes);
		rt__outq_drop_unsent(conn);
		rt_conn_close_ws(conn, RT_CLOSE_SLOW_CONSUMER, "slow consumer");
		return;
	}
	if (rt__outq_push(conn, rt_buf_ref(frame)) != 0) {
		rt_buf_unref(frame);
		rt__close_soon(conn);
		return;
	}
	rt_stat_add(&net->stat_delivered, 1); /* the hot path: no locked add */
	rt__mark_dirty(conn);
}

void rt_conn_send_text(rt_conn *conn, const char *text, size_t len)
{
	rt_buf *frame = rt_frame_new(RT_FRAME_TEXT, text, len);

	if (frame == NULL) {
		rt__close_soon(conn);
		return;
	}
	rt_conn_send(conn, frame);
	rt_buf_unref(frame);
}

/* ---- writing ---- */

static void rt__on_written(uv_write_t *req, int status);

static uint32_t rt__fill_bufs(rt_conn *conn, uv_buf_t *bufs, size_t *total)
{
	uint32_t n = conn->out_count < RT_WRITE_BATCH ? conn->out_count : RT_WRITE_BATCH;

	*total = 0;
	for (uint32_t i = 0; i < n; i++) {
		rt_buf *b = rt__outq_at(conn, i);
		uint32_t off = (i == 0) ? conn->out_off : 0;
		bufs[i] = uv_buf_init(b->data + off, b->len - off);
		*total += b->len - off;
	}
	return n;
}

/* Consumes written bytes from the head of the queue. */
static void rt__consume(rt_conn *conn, size_t written)
{
	while (written > 0) {
		uint32_t left = rt__outq_at(conn, 0)->len - conn->out_off;
		if (written >= left) {
			written -= left;
			rt__outq_pop(conn);
		} else {
			conn->out_off += (uint32_t) written;
			written = 0;
		}
	}
}

/* send()/sendmsg() on the descriptor: libuv's uv_try_write() goes through
 * write()/writev(), whose file layer costs more per call, and every
 * delivery of a fan-out is one such call. */
static ssize_t rt__send_now(rt_conn *conn, const uv_buf_t *bufs, uint32_t n)
{
	uv_os_fd_t fd;
	ssize_t r;

	if (uv_fileno((const uv_handle_t *) &conn->tcp, &fd) != 0) {
		return UV_EBADF;
	}
	do {
		if (n == 1) {
			r = send(fd, bufs[0].base, bufs[0].len, MSG_DONTWAIT | MSG_NOSIGNAL);
		} else {
			/* uv_buf_t is laid out as struct iovec on Unix. */
			struct msghdr mh = {.msg_iov = (struct iovec *) bufs, .msg_iovlen = n};
			r = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		return errno == EAGAIN || errno == EWOULDBLOCK ? UV_EAGAIN : -errno;
	}
	rt_stat_add(&conn->net->stat_bytes_sent, (uint64_t) r);
	return r;
}

void rt_conn_flush(rt_conn *conn)
{
	uv_buf_t bufs[RT_WRITE_BATCH];
	size_t total;
	uint32_t n;
	ssize_t r;

	while (conn->state != RT_CONN_DEAD && !(conn->flags & RT_CONN_F_WRITING)
			&& conn->out_count > 0) {
		n = rt__fill_bufs(conn, bufs, &total);
		r = rt__send_now(conn, bufs, n);
		if (r == UV_EAGAIN) {
			r = 0;
		} else if (r < 0) {
			rt_conn_close(conn);
			return;
		}
		rt__consume(conn, (size_t) r);
		if ((size_t) r == total) {
			continue; /* the batch went out whole: the socket may take more */
		}
		/* The socket is full: libuv writes the rest when it drains. */
		n = rt__fill_bufs(conn, bufs, &total);
		/* Most connections never fill their socket: the request is made
		 * only for those that do. */
		conn->wreq = malloc(sizeof(*conn->wreq));
		if (conn->wreq == NULL) {
			rt_conn_close(conn);
			return;
		}
		conn->wreq->data = conn;
		conn->inflight = n;
		conn->flags |= RT_CONN_F_WRITING;
		if (uv_write(conn->wreq, (uv_stream_t *) &conn->tcp, bufs, n, rt__on_written) != 0) {
			free(conn->wreq);
			conn->wreq = NULL;
			conn->flags &= (uint16_t) ~RT_CONN_F_WRITING;
			conn->inflight = 0;
			rt_conn_close(conn);
		} else {
			rt_stat_add(&conn->net->stat_bytes_sent, total); /* counted once handed over */
		}
		return;
	}
	if (conn->state != RT_CONN_DEAD && conn->out_count == 0
			&& (conn->flags & RT_CONN_F_CLOSE_AFTER_FLUSH)) {
		rt_conn_close(conn);
	}
}

static void rt__on_written(uv_write_t *req, int status)
{
	rt_conn *conn = req->data;
	uint32_t n = conn->inflight;

	free(req);
	conn->wreq = NULL;
	conn->flags &= (uint16_t) ~RT_CONN_F_WRITING;
	conn->inflight = 0;
	while (n-- > 0 && conn->out_count > 0) {
		rt__outq_pop(conn);
	}
	if (conn->state == RT_CONN_DEAD) {
		return;
	}
	if (status < 0) {
		rt_conn_close(conn);
		return;
	}
	rt_conn_flush(conn);
}

/* ---- closing ---- */

void rt_conn_close(rt_conn *conn)
{
	rt_net *net = conn->net;

	if (conn->state == RT_CONN_DEAD) {
		return;
	}
	if (conn->flags & RT_CONN_F_COUNTED) {
		atomic_fetch_sub_explicit(&net->stat_connections, 1, memory_order_relaxed);
	}
	/* Counted out before the layers above hear of it: they see what is left. */
	if (conn->flags & RT_CONN_F_HANDSHAKE) {
		conn->flags &= (uint16_t) ~RT_CONN_F_HANDSHAKE;
		net->handshakes--;
	}
	RT__UP(conn)->close(conn);
	rt_limits_ip_release(net, conn->ip);
	conn->ip = NULL;
	conn->state = RT_CONN_DEAD;
	uv_close((uv_handle_t *) &conn->tcp, rt__on_closed);
}

static void rt__on_closed(uv_handle_t *handle)
{
	rt_conn *conn = handle->data;
	rt_net *net = conn->net;

	if (conn->prev) {
		conn->prev->next = conn->next;
	} else {
		net->conns = conn->next;
	}
	if (conn->next) {
		conn->next->prev = conn->prev;
	}
	/* A dirty connection stays on the list until the flush pass skips it. */
	if (conn->flags & RT_CONN_F_DIRTY) {
		rt_conn **p = &net->dirty;
		while (*p != conn) {
			p = &(*p)->dirty_next;
		}
		*p = conn->dirty_next;
	}
	while (conn->out_count > 0) {
		rt__outq_pop(conn);
	}
	free(conn->outq);
	free(conn->carry);
	rt_http_req_free(conn->http);
	if (conn->ws) {
		wslay_event_context_free(conn->ws);
	}
	free(conn);
	if (net->stopping && net->conns == NULL) {
		net->handlers->drained(net->owner);
	}
}

void rt_conn_stream_end(rt_conn *conn)
{
	if (conn->state != RT_CONN_OPEN) {
		return;
	}
	conn->flags |= RT_CONN_F_CLOSE_AFTER_FLUSH;
	conn->state = RT_CONN_CLOSING;
	conn->deadline = conn->net->now + RT_CLOSE_GRACE;
	rt__mark_dirty(conn);
}

void rt_conn_close_ws(rt_conn *conn, uint16_t code, const char *reason)
{
	if (conn->state != RT_CONN_OPEN) {
		if (conn->state == RT_CONN_HTTP) {
			rt_conn_close(conn);
		}
		return;
	}
	if (conn->flags & RT_CONN_F_STREAM) {
		(void) code;
		(void) reason;
		rt_conn_stream_end(conn);
		return;
	}
	if (RT__UP(conn)->close_code != NULL) {
		code = RT__UP(conn)->close_code(conn, code);
	}
	if (rt__ws_ensure(conn) != 0) {
		rt__close_soon(conn);
		return;
	}
	wslay_event_queue_close(conn->ws, code, (const uint8_t *) reason,
			reason ? strlen(reason) : 0);
	conn->state = RT_CONN_CLOSING;
	conn->deadline = conn->net->now + RT_CLOSE_GRACE;
	rt__pump(conn);
}

/* ---- WebSocket session ---- */

static ssize_t rt__ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
		int flags, void *user)
{
	rt_conn *conn = user;
	(void) flags;

	if (conn->rlen == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > conn->rlen) {
		len = conn->rlen;
	}
	memcpy(buf, conn->rbuf, len);
	conn->rbuf += len;
	conn->rlen -= len;
	return (ssize_t) len;
}

/* PONGs queued by the read being handled (rt__ws_feed). */
static __thread uint32_t rt__pongs_this_read;

/* Replaces the PONG at the tail of the queue, if no write has started on
 * it, with a newer one: RFC 6455 5.5.3 lets an endpoint answer only the
 * most recent of several PINGs, so a client that pings and never reads
 * holds one PONG here, not one per PING. That happens once its socket is
 * full, or past RT_PONG_BURST PONGs in one read. Returns whether it did. */
static int rt__replace_pong(rt_conn *conn, const uint8_t *frame, size_t len)
{
	uint32_t i;
	rt_buf *tail, *b;

	if (conn->out_count == 0 || (!(conn->flags & RT_CONN_F_WRITING)
			&& rt__pongs_this_read < RT_PONG_BURST)) {
		return 0;
	}
	i = conn->out_count - 1;
	if (i < conn->inflight || (i == 0 && conn->out_off > 0)) {
		return 0;
	}
	tail = rt__outq_at(conn, i);
	if (tail->len < 2 || (uint8_t) tail->data[0] != RT_WS_OP_PONG || tail->refs != 1) {
		return 0;
	}
	if (tail->len != len) {
		b = rt_buf_new(len);
		if (b == NULL) {
			return 0;
		}
		conn->outq[(conn->out_head + i) & (conn->out_cap - 1)] = b;
		conn->out_bytes = conn->out_bytes - tail->len + len;
		rt_buf_unref(tail);
		tail = b;
	}
	memcpy(tail->data, frame, len);
	return 1;
}

/* One whole control frame from wslay (the only frames it writes: PONG
 * and CLOSE). A PONG counts against realtime.max_outbound like any frame. */
static void rt__queue_control(rt_conn *conn, const uint8_t *frame, size_t len)
{
	if (conn->flags & RT_CONN_F_ABORTED) {
		return; /* nothing may follow the close frame already queued */
	}
	if (frame[0] == RT_WS_OP_PONG) {
		if (rt__replace_pong(conn, frame, len)) {
			return;
		}
		if (conn->out_bytes + len > conn->net->cfg->max_outbound) {
			conn->flags |= RT_CONN_F_OVER_BUDGET;
			return;
		}
		rt__pongs_this_read++;
	}
	rt__queue_copy(conn, frame, len);
}

/* wslay hands a frame over in pieces (header, then payload) within one
 * wslay_event_send, and never a control frame over 127 bytes: pieces are
 * put together here so that the queue holds whole frames. */
static __thread uint8_t rt__ctl[2 + 125];
static __thread size_t rt__ctl_len;

static ssize_t rt__ws_send(wslay_event_context_ptr ctx, const uint8_t *data,
		size_t len, int flags, void *user)
{
	rt_conn *conn = user;
	size_t left = len;
	(void) flags;

	while (left > 0) {
		size_t take = sizeof(rt__ctl) - rt__ctl_len, whole;
		if (take > left) {
			take = left;
		}
		memcpy(rt__ctl + rt__ctl_len, data, take);
		rt__ctl_len += take;
		data += take;
		left -= take;
		while (rt__ctl_len >= 2) {
			whole = 2 + (size_t) (rt__ctl[1] & 0x7f);
			if ((rt__ctl[1] & 0x80) || whole > sizeof(rt__ctl)) {
				/* Not a frame wslay writes for a server: refuse it. */
				rt__ctl_len = 0;
				wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
				return -1;
			}
			if (rt__ctl_len < whole) {
				break;
			}
			rt__queue_control(conn, rt__ctl, whole);
			memmove(rt__ctl, rt__ctl + whole, rt__ctl_len - whole);
			rt__ctl_len -= whole;
		}
	}
	return (ssize_t) len;
}

static void rt__ws_on_msg(wslay_event_context_ptr ctx,
		const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
	rt_conn *conn = user;
	(void) ctx;

	switch (arg->opcode) {
	case WSLAY_TEXT_FRAME:
		if (conn->state != RT_CONN_OPEN) {
			return;
		}
		if (!rt_utf8_valid(arg->msg, arg->msg_length)) {
			rt_conn_close_ws(conn, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA,
					"invalid UTF-8");
			return;
		}
		RT__UP(conn)->message(conn, (const char *) arg->msg, arg->msg_length);
		break;
	case WSLAY_BINARY_FRAME:
		rt_conn_close_ws(conn, WSLAY_CODE_UNSUPPORTED_DATA,
				"binary messages are not supported");
		break;
	case WSLAY_PONG:
		conn->flags &= (uint16_t) ~RT_CONN_F_AWAIT_PONG;
		break;
	case WSLAY_CONNECTION_CLOSE:
		if (conn->state == RT_CONN_OPEN) {
			conn->state = RT_CONN_CLOSING;
			conn->deadline = conn->net->now + RT_CLOSE_GRACE;
		}
		break;
	default:
		break;
	}
}

static const struct wslay_event_callbacks rt__ws_callbacks = {
	.recv_callback = rt__ws_recv,
	.send_callback = rt__ws_send,
	.on_msg_recv_callback = rt__ws_on_msg,
};

/* The WebSocket parser exists only while a client is mid-message or the
 * session is closing; an idle connection keeps none (see rt_frame_scan). */
static int rt__ws_ensure(rt_conn *conn)
{
	if (conn->ws != NULL) {
		return 0;
	}
	if (wslay_event_context_server_init(&conn->ws, &rt__ws_callbacks, conn) != 0) {
		conn->ws = NULL;
		return -ENOMEM;
	}
	wslay_event_config_set_max_recv_msg_length(conn->ws, conn->net->cfg->max_message_size);
	return 0;
}

static void rt__ws_release_if_idle(rt_conn *conn)
{
	if (conn->ws != NULL && conn->state == RT_CONN_OPEN && rt_frame_scan_idle(&conn->scan)
			&& !wslay_event_want_write(conn->ws) && wslay_event_get_read_enabled(conn->ws)
			&& !wslay_event_get_close_sent(conn->ws) && !wslay_event_get_close_received(conn->ws)) {
		wslay_event_context_free(conn->ws);
		conn->ws = NULL;
	}
}

/* Moves wslay's queued control frames into the outbound queue, and ends
 * the connection once both sides have closed. */
static void rt__pump(rt_conn *conn)
{
	if (conn->state == RT_CONN_DEAD || conn->ws == NULL) {
		return;
	}
	rt__ctl_len = 0;
	if (wslay_event_send(conn->ws) != 0 || rt__ctl_len != 0) {
		rt__ctl_len = 0;
		rt_conn_close(conn);
		return;
	}
	if ((conn->flags & RT_CONN_F_OVER_BUDGET) && !(conn->flags & RT_CONN_F_ABORTED)) {
		rt__over_budget(conn);
		return;
	}
	if (!wslay_event_want_read(conn->ws) && !wslay_event_want_write(conn->ws)) {
		conn->flags |= RT_CONN_F_CLOSE_AFTER_FLUSH;
		if (conn->state == RT_CONN_OPEN) {
			conn->state = RT_CONN_CLOSING;
			conn->deadline = conn->net->now + RT_CLOSE_GRACE;
		}
		rt__mark_dirty(conn);
	}
}

/* Ends the session with a close frame of our own making, after what is
 * already being written: wslay's state no longer matters. */
static void rt__abort_ws(rt_conn *conn, uint16_t code)
{
	uint8_t frame[4] = {0x88, 0x02, (uint8_t) (code >> 8), (uint8_t) code};

	rt__outq_drop_unsent(conn);
	rt__queue_copy(conn, frame, sizeof(frame));
	conn->flags |= RT_CONN_F_CLOSE_AFTER_FLUSH | RT_CONN_F_ABORTED;
	conn->state = RT_CONN_CLOSING;
	conn->deadline = conn->net->now + RT_CLOSE_GRACE;
	uv_read_stop((uv_stream_t *) &conn->tcp);
}

/* A client whose control frames (PONGs it does not read) would take more
 * than realtime.max_outbound: closed as a slow consumer, not buffered. */
static void rt__over_budget(rt_conn *conn)
{
	uint16_t code = RT_CLOSE_SLOW_CONSUMER;

	atomic_fetch_add_explicit(&conn->net->stat_slow, 1, memory_order_relaxed);
	rt_log(RT_LOG_WARNING, "closing connection %s: slow consumer (%zu bytes queued, "
			"control frames over realtime.max_outbound=%u)", conn->id, conn->out_bytes,
			conn->net->cfg->max_outbound);
	if (conn->state == RT_CONN_OPEN && RT__UP(conn)->close_code != NULL) {
		code = RT__UP(conn)->close_code(conn, code);
	}
	rt__abort_ws(conn, code);
}

/* Keeps the raw bytes of the message under way (bounded by
 * realtime.max_message_size and its frame headers), for a handoff. */
static void rt__carry_track(rt_conn *conn, const char *data, size_t len)
{
	size_t mark = rt_frame_scan_feed_mark(&conn->scan, (const uint8_t *) data, len);
	size_t max = rt_conn_carry_max(conn->net->cfg), keep;

	if (mark != SIZE_MAX) {
		conn->carry_len = 0;
		conn->flags &= (uint16_t) ~RT_CONN_F_CARRY_LOST;
		data += mark;
		len -= mark;
	}
	if (len == 0 || (conn->flags & RT_CONN_F_CARRY_LOST)) {
		return;
	}
	keep = conn->carry_len + len;
	if (keep > max) {
		/* wslay refuses such a message anyway; it just cannot move. */
		conn->flags |= RT_CONN_F_CARRY_LOST;
		conn->carry_len = 0;
		return;
	}
	if (keep > conn->carry_cap) {
		size_t cap = conn->carry_cap ? conn->carry_cap : 256;
		uint8_t *c;
		while (cap < keep) {
			cap *= 2;
		}
		c = realloc(conn->carry, cap);
		if (c == NULL) {
			conn->flags |= RT_CONN_F_CARRY_LOST;
			conn->carry_len = 0;
			return;
		}
		conn->carry = c;
		conn->carry_cap = (uint32_t) cap;
	}
	memcpy(conn->carry + conn->carry_len, data, len);
	conn->carry_len = (uint32_t) keep;
}

static void rt__ws_feed(rt_conn *conn, const char *data, size_t len)
{
	rt__pongs_this_read = 0;
	conn->flags &= (uint16_t) ~RT_CONN_F_AWAIT_PONG;
	rt__carry_track(conn, data, len);
	if (rt__ws_ensure(conn) != 0) {
		rt_conn_close(conn);
		return;
	}
	while (len > 0) {
		size_t n = len < RT_WS_SLICE ? len : RT_WS_SLICE;
		conn->rbuf = (const uint8_t *) data;
		conn->rlen = n;
		if (wslay_event_recv(conn->ws) != 0) {
			/* A frame wslay could not take (an oversized or fragmented control
			 * frame): say 1002 ourselves, since what wslay queued has no code. */
			conn->rlen = 0;
			rt__abort_ws(conn, 1002);
			return;
		}
		conn->rlen = 0;
		data += n;
		len -= n;
		rt__pump(conn);
		if (conn->state == RT_CONN_DEAD || conn->ws == NULL
				|| (conn->flags & RT_CONN_F_OVER_BUDGET)
				|| !wslay_event_get_read_enabled(conn->ws)) {
			return;
		}
	}
	rt__ws_release_if_idle(conn);
}

/* ---- handshake ---- */

/* A successful answer to a whole request whose client keeps the connection
 * (HTTP/1.1 by default) leaves it open for the next one: a CLI script or
 * queue worker broadcasting through /publish, or an app calling the HTTP
 * API, pays for one connection instead of one per message. */
static int rt__keeps_alive(const rt_conn *conn, int status)
{
	const rt_http_req *req = conn->http;

	return conn->state == RT_CONN_HTTP && req != NULL && req->complete && req->keep_alive
			&& !req->trailing && status < 400 && !conn->net->stopping;
}

/* After a kept-alive answer: the connection waits for its next request.
 * The deadline (realtime.handshake_timeout) runs from the accept and bounds
 * every request on the connection, its head, its body and the idle time
 * before it; only an API request the app's credentials signed (renew, with
 * an answer under 400) starts a new one. So a client with no credentials
 * cannot keep a connection in its handshake beyond handshake_timeout, by
 * trickling bytes or by sending cheap requests such as /health. */
static void rt__http_next(rt_conn *conn, int renew)
{
	if (conn->state != RT_CONN_HTTP || conn->http == NULL || !conn->http->complete) {
		return;
	}
	rt_sb_free(&conn->http->body);
	rt_http_req_init(conn->http, conn->net->cfg->max_request_size);
	conn->flags |= RT_CONN_F_KEPT;
	if (renew) {
		conn->deadline = conn->net->now + conn->net->cfg->handshake_timeout + 1;
	}
}

void rt_conn_http_answer(rt_conn *conn, const rt_http_answer *ans)
{
	int keep = rt__keeps_alive(conn, ans->status);
	rt_buf *b;

	if (conn->state == RT_CONN_DEAD) {
		return;
	}
	b = rt_http_answer_write(ans, keep);
	if (b == NULL) {
		rt_conn_close(conn);
		return;
	}
	if (rt__outq_push(conn, b) != 0) {
		rt_buf_unref(b);
		rt_conn_close(conn);
		return;
	}
	rt__mark_dirty(conn);
	if (keep) {
		return; /* the request is reset once its handler has returned */
	}
	conn->flags |= RT_CONN_F_CLOSE_AFTER_FLUSH;
	conn->state = RT_CONN_CLOSING;
	conn->deadline = conn->net->now + RT_CLOSE_GRACE;
	uv_read_stop((uv_stream_t *) &conn->tcp);
}

/* The hub's own short answers (errors of the handshake). extra: one
 * header line or NULL. */
static void rt__respond(rt_conn *conn, int status, const char *content_type,
		const char *extra, const char *body)
{
	rt_http_answer ans;

	rt_http_answer_init(&ans);
	rt_http_answer_set(&ans, status, content_type, body, strlen(body));
	if (extra != NULL) {
		rt_http_answer_header(&ans, extra);
	}
	rt_conn_http_answer(conn, &ans);
	rt_http_answer_free(&ans);
}

/* A request the layer above answers (API, health). */
static void rt__request(rt_conn *conn, int route, const char *body, size_t len)
{
	rt_http_answer ans;

	rt_http_answer_init(&ans);
	RT__UP(conn)->request(conn, route, body, len, &ans);
	if (ans.status == 0) {
		rt_http_answer_set(&ans, 500, "text/plain", "no answer\n", 10);
	}
	rt_conn_http_answer(conn, &ans);
	rt_http_answer_free(&ans);
}

static int rt__open_session(rt_conn *conn, const char *accept, rt_identity *identity)
{
	rt_net *net = conn->net;
	rt_http_answer ans;
	char line[64];
	rt_buf *b;

	if (RT__UP(conn)->admit(conn, identity) != 0) {
		return -ENOMEM;
	}
	if (rt_http_proto_is_stream(conn->proto)) {
		/* A stream: a 200 whose body is the events (hub/net/stream.h). */
		size_t origin_len;
		const char *origin = rt_http_req_header(conn->http, RT_HDR_ORIGIN, &origin_len);
		rt_sb head;
		conn->flags |= RT_CONN_F_STREAM;
		rt_sb_init(&head);
		rt_sse_head(&head, origin, origin_len);
		b = head.failed ? NULL : rt_buf_new(head.len);
		if (b != NULL) {
			memcpy(b->data, head.data, head.len);
		}
		rt_sb_free(&head);
	} else {
		rt_http_answer_init(&ans);
		ans.status = 101;
		snprintf(line, sizeof(line), "Sec-WebSocket-Accept: %s", accept);
		rt_http_answer_header(&ans, line);
		b = rt_http_answer_write(&ans, 0);
		rt_http_answer_free(&ans);
	}
	if (b == NULL || rt__outq_push(conn, b) != 0) {
		rt_buf_unref(b);
		rt__close_soon(conn);
	} else {
		rt__mark_dirty(conn);
	}
	conn->state = RT_CONN_OPEN;
	conn->flags |= RT_CONN_F_COUNTED;
	if (conn->flags & RT_CONN_F_HANDSHAKE) {
		conn->flags &= (uint16_t) ~RT_CONN_F_HANDSHAKE;
		net->handshakes--;
	}
	atomic_fetch_add_explicit(&net->stat_connections, 1, memory_order_relaxed);
	conn->deadline = net->cfg->ping_interval ? net->now + net->cfg->ping_interval : 0;
	if (conn->flags & RT_CONN_F_STREAM) {
		conn->deadline = net->cfg->sse_heartbeat ? net->now + net->cfg->sse_heartbeat : 0;
	}
	RT__UP(conn)->open(conn);
	rt_http_req_free(conn->http);
	conn->http = NULL;
	return 0;
}

/* An API request: answered once its body is in. */
static void rt__api_feed(rt_conn *conn, const char *data, size_t len)
{
	rt_http_req *req = conn->http;
	int r = rt_http_req_feed_body(req, data, len);

	if (r == RT_HTTP_MORE) {
		conn->state = RT_CONN_BODY;
		return;
	}
	if (r == RT_HTTP_BAD) {
		rt__respond(conn, 400, "application/json", NULL, "{\"error\":\"malformed request\"}");
		return;
	}
	if (req->body_too_large) {
		char body[160];
		snprintf(body, sizeof(body),
				"{\"error\":\"request body over %u bytes (realtime.max_request_size)\"}",
				conn->net->cfg->max_request_size);
		rt__respond(conn, 413, "application/json", NULL, body);
		return;
	}
	if (req->body.failed) {
		rt__respond(conn, 503, "application/json", NULL, "{\"error\":\"out of memory\"}");
		return;
	}
	conn->state = RT_CONN_HTTP;
	rt__request(conn, RT_ROUTE_API, req->body.data ? req->body.data : "", req->body.len);
	rt__http_next(conn, 1);
}

static void rt__http_feed(rt_conn *conn, const char *data, size_t len)
{
	rt_net *net = conn->net;
	rt_http_decision d;
	size_t used;
	int r = rt_http_req_feed(conn->http, data, len, &used);

	if (r == RT_HTTP_MORE) {
		return;
	}
	if (r == RT_HTTP_BAD) {
		rt__respond(conn, 400, "text/plain", NULL, "bad request\n");
		return;
	}
	if (conn->http->complete && used < len) {
		conn->http->trailing = 1;
	}
	rt_http_route_request(conn->http, net->cfg, &d);
	switch (d.route) {
	case RT_ROUTE_HEALTH:
		rt__request(conn, RT_ROUTE_HEALTH, "", 0);
		rt__http_next(conn, 0);
		return;
	case RT_ROUTE_ERROR: {
		char body[160];
		rt_http_answer ans;
		snprintf(body, sizeof(body), "%s\n", d.reason);
		rt_http_answer_init(&ans);
		rt_http_answer_set(&ans, d.status, "text/plain", body, strlen(body));
		if (d.status == 426) {
			rt_http_answer_header(&ans, "Upgrade: websocket");
			rt_http_answer_header(&ans, "Sec-WebSocket-Version: 13");
		}
		rt_conn_http_answer(conn, &ans);
		rt_http_answer_free(&ans);
		return;
	}
	case RT_ROUTE_API:
		rt__api_feed(conn, data + used, len - used);
		return;
	case RT_ROUTE_UPGRADE:
		conn->proto = (uint8_t) d.proto;
		break;
	}
	if (net->stopping) {
		rt__respond(conn, 503, "text/plain", NULL, "server shutting down\n");
		return;
	}
	if (atomic_load_explicit(&net->stat_connections, memory_order_relaxed)
			>= net->cfg->max_connections) {
		rt_limits_refuse(net, RT_REFUSE_CONNECTIONS, "refused an upgrade: realtime.max_connections=%u "
				"reached", net->cfg->max_connections);
		rt__respond(conn, 503, "text/plain", "Retry-After: 5",
				"server full: realtime.max_connections reached\n");
		return;
	}
	if (used < len) {
		/* A client must wait for 101 before it sends frames. */
		rt__respond(conn, 400, "text/plain", NULL, "bad request: data before the handshake completed\n");
		return;
	}
	memcpy(conn->http->ws_accept, d.accept, sizeof(d.accept));
	uv_read_stop((uv_stream_t *) &conn->tcp);
	RT__UP(conn)->upgrade(conn);
}

void rt_conn_auth_finished(rt_conn *conn, int status, rt_identity *identity, const char *reason)
{
	char body[320];

	if (conn->state != RT_CONN_HTTP && conn->state != RT_CONN_AUTH) {
		rt_identity_free(identity);
		return;
	}
	conn->state = RT_CONN_HTTP;
	if (status != 0) {
		if (status == 401 || status == 403 || status == 404) {
			atomic_fetch_add_explicit(&conn->net->stat_unauthorized, 1, memory_order_relaxed);
		}
		snprintf(body, sizeof(body), "%s\n", reason ? reason : rt_http_status_text(status));
		rt__respond(conn, status, "text/plain",
				status == 503 ? "Retry-After: 5" : NULL, body);
		return;
	}
	if (conn->proto == RT_HTTP_SSE_CONTROL && RT__UP(conn)->control == NULL) {
		rt_identity_free(identity);
		rt__respond(conn, 404, "text/plain", NULL, "not found\n");
		return;
	}
	if (conn->proto == RT_HTTP_SSE_CONTROL) {
		rt_http_answer ans;
		rt_http_answer_init(&ans);
		conn->http->keep_alive = 0; /* its reads stopped for the auth: one call a connection */
		if (RT__UP(conn)->control(conn, identity, &ans) != 0) {
			rt_http_answer_free(&ans);
			return;
		}
		if (ans.status == 0) {
			rt_http_answer_set(&ans, 500, "text/plain", "no answer\n", 10);
		}
		rt_conn_http_answer(conn, &ans);
		rt_http_answer_free(&ans);
		return;
	}
	if (rt__open_session(conn, conn->http->ws_accept, identity) != 0
			|| uv_read_start((uv_stream_t *) &conn->tcp, rt__alloc, rt__on_read) != 0) {
		rt__respond(conn, 503, "text/plain", NULL, "out of memory\n");
	}
}

/* ---- reading ---- */

static void rt__alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void) handle;
	(void) suggested;
	*buf = uv_buf_init(rt__read_buf, sizeof(rt__read_buf));
}

static void rt__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	rt_conn *conn = stream->data;

	if (nread < 0) {
		rt_conn_close(conn);
		return;
	}
	if (nread == 0) {
		return;
	}
	switch (conn->state) {
	case RT_CONN_HTTP:
		rt__http_feed(conn, buf->base, (size_t) nread);
		break;
	case RT_CONN_BODY:
		rt__api_feed(conn, buf->base, (size_t) nread);
		break;
	case RT_CONN_OPEN:
	case RT_CONN_CLOSING:
		/* A stream's client has nothing to say: what it sends is dropped,
		 * and reading goes on only to see it leave. */
		if (!(conn->flags & RT_CONN_F_STREAM)) {
			rt__ws_feed(conn, buf->base, (size_t) nread);
		}
		break;
	default:
		break;
	}
}

/* Descriptors below FD_SETSIZE are left to PHP: php -S waits on its own
 * sockets with select(), which cannot see a descriptor of 1024 or more, so
 * a hub holding the low ones would stall the web server. Accepts into a
 * scratch handle and returns a high copy of the descriptor (or the
 * original when the limit leaves no room), -1 on failure. */
static int rt__accept_high(rt_net *net, uv_stream_t *listener)
{
	uv_tcp_t *scratch = malloc(sizeof(*scratch));
	uv_os_fd_t fd;
	int high = -1;

	if (scratch == NULL || uv_tcp_init(net->loop, scratch) != 0) {
		free(scratch);
		return -1;
	}
	if (uv_accept(listener, (uv_stream_t *) scratch) == 0
			&& uv_fileno((uv_handle_t *) scratch, &fd) == 0) {
		/* Copies stay close-on-exec: a child PHP starts must not hold a client. */
		high = fcntl(fd, F_DUPFD_CLOEXEC, fd >= 1024 ? 0 : 1024);
		if (high < 0) {
			high = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		}
	}
	/* Closing the scratch handle closes the original descriptor. */
	uv_close((uv_handle_t *) scratch, (uv_close_cb) free);
	return high;
}

static void rt__conn_take(rt_net *net, int fd);

void rt_conn_accept(rt_net *net, uv_stream_t *listener)
{
	int fd = rt__accept_high(net, listener);

	if (fd >= 0) {
		rt__conn_take(net, fd);
	}
}

/* fd, or a close-on-exec copy of it at 1024 or above (fd closed), for the
 * reason rt__accept_high gives; fd as it was when the limit leaves no room. */
static int rt__fd_high(int fd)
{
	int high = fd < 1024 ? fcntl(fd, F_DUPFD_CLOEXEC, 1024) : -1;

	if (high < 0) {
		return fd;
	}
	close(fd);
	return high;
}

/* Puts conn, zeroed but for what its caller set, on the loop and at the
 * head of net's list of connections. */
static void rt__conn_link(rt_net *net, rt_conn *conn)
{
	conn->net = net;
	conn->hub = net->owner;
	uv_tcp_init(net->loop, &conn->tcp);
	conn->tcp.data = conn;
	conn->next = net->conns;
	if (net->conns) {
		net->conns->prev = conn;
	}
	net->conns = conn;
}

void rt_conn_accept_fd(rt_net *net, int fd)
{
	rt__conn_take(net, rt__fd_high(fd));
}

static void rt__conn_take(rt_net *net, int fd)
{
	rt_conn *conn;
	rt_ip_slot *ip;

	/* Refused at once, before a byte is read or a buffer allocated: a
	 * connection flood costs an accept and a close. */
	if (net->handshakes >= net->cfg->max_handshakes) {
		close(fd);
		rt_limits_refuse(net, RT_REFUSE_HANDSHAKES, "refused a connection: %u connections "
				"are in their handshake (realtime.max_handshakes)", net->handshakes);
		return;
	}
	if (rt_limits_ip_acquire(net, fd, &ip) != 0) {
		close(fd);
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL || (conn->http = malloc(sizeof(*conn->http))) == NULL) {
		free(conn);
		rt_limits_ip_release(net, ip);
		close(fd);
		return;
	}
	conn->ip = ip;
	conn->flags |= RT_CONN_F_HANDSHAKE;
	net->handshakes++;
	rt_http_req_init(conn->http, net->cfg->max_request_size);
	rt__conn_link(net, conn);
	conn->state = RT_CONN_HTTP;
	/* +1: the sweep counts whole ticks, and the first may come at once. */
	conn->deadline = net->now + net->cfg->handshake_timeout + 1;
	if (uv_tcp_open(&conn->tcp, fd) != 0) {
		close(fd);
		rt_conn_close(conn);
		return;
	}
	uv_tcp_nodelay(&conn->tcp, 1);
	if (uv_read_start((uv_stream_t *) &conn->tcp, rt__alloc, rt__on_read) != 0) {
		rt_conn_close(conn);
	}
}

/* ---- deadlines ---- */

void rt_conn_sweep(rt_conn *conn)
{
	rt_net *net = conn->net;

	if (conn->deadline == 0 || conn->deadline > net->now) {
		return;
	}
	switch (conn->state) {
	case RT_CONN_AUTH:
		RT__UP(conn)->upgrade_expired(conn);
		break;
	case RT_CONN_HTTP:
	case RT_CONN_BODY:
		/* A kept connection idle between requests just ends; one that did
		 * not finish its request in time is counted. */
		if (conn->state == RT_CONN_BODY || !(conn->flags & RT_CONN_F_KEPT)
				|| (conn->http != NULL && conn->http->len > 0)) {
			rt_limits_refuse(net, RT_REFUSE_HANDSHAKE_TIMEOUT, "closing connection: no "
					"complete request within %u seconds (realtime.handshake_timeout)",
					net->cfg->handshake_timeout);
		}
		rt_conn_close(conn);
		break;
	case RT_CONN_CLOSING:
		rt_conn_close(conn);
		break;
	case RT_CONN_OPEN:
		if (conn->flags & RT_CONN_F_STREAM) {
			/* A comment keeps proxies from timing the stream out; one
			 * with bytes still queued needs none. */
			if (conn->out_count == 0) {
				rt__queue_copy(conn, ":\n\n", 3);
			}
			conn->deadline = net->cfg->sse_heartbeat ? net->now + net->cfg->sse_heartbeat : 0;
			break;
		}
		if (conn->flags & RT_CONN_F_AWAIT_PONG) {
			rt_conn_close_ws(conn, RT_CLOSE_PING_TIMEOUT, "ping timeout");
			return;
		}
		{
			/* A ping is ours to frame: no parser needed for it. */
			static const uint8_t ping[] = {0x89, 0x00};
			rt__queue_copy(conn, ping, sizeof(ping));
		}
		conn->flags |= RT_CONN_F_AWAIT_PONG;
		conn->deadline = net->now + net->cfg->ping_interval;
		break;
	default:
		break;
	}
}

/* ---- as a session's transport ---- */

static void rt__t_send(void *t, rt_buf *frame)
{
	rt_conn_send(t, frame);
}

static void rt__t_send_text(void *t, const char *text, size_t len)
{
	rt_conn_send_text(t, text, len);
}

static void rt__t_close(void *t, uint16_t code, const char *reason)
{
	rt_conn_close_ws(t, code, reason);
}

static void rt__t_abort(void *t)
{
	rt_conn_close(t);
}

/* A paused connection reads nothing: what the client sends waits in the
 * kernel (as a session being handed to another process needs). */
static void rt__t_pause(void *t, int paused)
{
	rt_conn *conn = t;

	if (conn->state != RT_CONN_OPEN && conn->state != RT_CONN_CLOSING) {
		return;
	}
	if (paused) {
		uv_read_stop((uv_stream_t *) &conn->tcp);
	} else if (uv_read_start((uv_stream_t *) &conn->tcp, rt__alloc, rt__on_read) != 0) {
		rt_conn_close(conn);
	}
}

const rt_transport_ops rt_conn_transport = {
	.send = rt__t_send,
	.send_text = rt__t_send_text,
	.close = rt__t_close,
	.abort = rt__t_abort,
	.pause = rt__t_pause,
};

/* ---- handoff to another process ---- */

size_t rt_conn_carry_max(const rt_config *cfg)
{
	/* A message's payload, plus the headers of its frames (fragments). */
	return (size_t) cfg->max_message_size + 16 * 1024;
}

int rt_conn_movable(const rt_conn *conn)
{
	return conn->state == RT_CONN_OPEN && conn->session != NULL
			&& !(conn->flags & RT_CONN_F_STREAM)
			&& !(conn->flags & (RT_CONN_F_CLOSE_AFTER_FLUSH | RT_CONN_F_ABORTED
					| RT_CONN_F_OVER_BUDGET | RT_CONN_F_CARRY_LOST))
			&& (conn->ws == NULL || (!wslay_event_get_close_sent(conn->ws)
					&& !wslay_event_get_close_received(conn->ws)
					&& wslay_event_get_read_enabled(conn->ws)));
}

int rt_conn_export(rt_conn *conn, rt_conn_snapshot *ex)
{
	size_t skip = conn->out_off;
	uint32_t n = 0;

	memset(ex, 0, sizeof(*ex));
	uv_read_stop((uv_stream_t *) &conn->tcp);
	if (conn->flags & RT_CONN_F_WRITING) {
		/* libuv has written part of the frames it holds: what is left of
		 * them is its write queue's size, counted from their end. */
		size_t held = 0, left = uv_stream_get_write_queue_size((uv_stream_t *) &conn->tcp);
		for (uint32_t i = 0; i < conn->inflight && i < conn->out_count; i++) {
			held += rt__outq_at(conn, i)->len;
		}
		held -= conn->out_off;
		skip += held > left ? held - left : 0;
	}
	if (conn->out_count > 0) {
		ex->out = malloc(conn->out_count * sizeof(*ex->out));
		ex->out_lens = malloc(conn->out_count * sizeof(*ex->out_lens));
		if (ex->out == NULL || ex->out_lens == NULL) {
			rt_conn_snapshot_free(ex);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; i < conn->out_count; i++) {
		rt_buf *b = rt__outq_at(conn, i);
		if (skip >= b->len) {
			skip -= b->len;
			continue;
		}
		ex->out[n] = (const uint8_t *) b->data + skip;
		ex->out_lens[n] = b->len - skip;
		ex->out_bytes += b->len - skip;
		skip = 0;
		n++;
	}
	ex->out_count = n;
	ex->carry = conn->carry;
	ex->carry_len = conn->carry_len;
	ex->await_pong = (conn->flags & RT_CONN_F_AWAIT_PONG) != 0;
	if (conn->deadline != 0) {
		uint32_t now = conn->net->now;
		ex->ping_in = conn->deadline > now ? conn->deadline - now : 0;
		if (ex->ping_in > conn->net->cfg->ping_interval) {
			ex->ping_in = conn->net->cfg->ping_interval;
		}
	}
	return 0;
}

void rt_conn_snapshot_free(rt_conn_snapshot *ex)
{
	free(ex->out);
	free(ex->out_lens);
	memset(ex, 0, sizeof(*ex));
}

int rt_conn_release(rt_conn *conn)
{
	uv_os_fd_t fd;
	int copy = -EBADF;

	if (conn->state == RT_CONN_DEAD) {
		return -EBADF;
	}
	if (uv_fileno((uv_handle_t *) &conn->tcp, &fd) == 0) {
		copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (copy < 0) {
			copy = -errno;
		}
	}
	if (conn->flags & RT_CONN_F_COUNTED) {
		atomic_fetch_sub_explicit(&conn->net->stat_connections, 1, memory_order_relaxed);
		conn->flags &= (uint16_t) ~RT_CONN_F_COUNTED;
	}
	rt_limits_ip_release(conn->net, conn->ip);
	conn->ip = NULL;
	conn->state = RT_CONN_DEAD;
	/* Cancels a write in flight: nothing more reaches the socket from here. */
	uv_close((uv_handle_t *) &conn->tcp, rt__on_closed);
	return copy;
}

int rt_conn_adopt(rt_net *net, int fd, rt_conn **out)
{
	rt_conn *conn;
	rt_ip_slot *ip = NULL;

	*out = NULL;
	fd = rt__fd_high(fd); /* like an accepted socket */
	if (rt_limits_ip_acquire(net, fd, &ip) != 0) {
		close(fd);
		return -EMFILE;
	}
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		rt_limits_ip_release(net, ip);
		close(fd);
		return -ENOMEM;
	}
	conn->ip = ip;
	rt__conn_link(net, conn);
	conn->state = RT_CONN_OPEN;
	if (uv_tcp_open(&conn->tcp, fd) != 0) {
		close(fd);
		conn->state = RT_CONN_DEAD;
		rt_limits_ip_release(net, conn->ip);
		conn->ip = NULL;
		uv_close((uv_handle_t *) &conn->tcp, rt__on_closed);
		return -EBADF;
	}
	uv_tcp_nodelay(&conn->tcp, 1);
	conn->flags |= RT_CONN_F_COUNTED;
	atomic_fetch_add_explicit(&net->stat_connections, 1, memory_order_relaxed);
	*out = conn;
	return 0;
}

void rt_conn_discard(rt_conn *conn)
{
	int fd;

	conn->session = NULL;
	fd = rt_conn_release(conn);
	/* The sender still holds the socket and closes it with 1001. */
	if (fd >= 0) {
		close(fd);
	}
}

void rt_conn_resume(rt_conn *conn, const uint8_t *out, size_t out_len, const uint8_t *carry,
		size_t carry_len, int await_pong, uint32_t ping_in)
{
	rt_net *net = conn->net;

	if (out_len > 0) {
		rt_buf *b = rt_buf_new(out_len);
		if (b == NULL || rt__outq_push(conn, b) != 0) {
			if (b != NULL) {
				rt_buf_unref(b);
			}
			rt_conn_close(conn);
			return;
		}
		memcpy(b->data, out, out_len);
		rt__mark_dirty(conn);
	}
	if (await_pong) {
		conn->flags |= RT_CONN_F_AWAIT_PONG;
	}
	conn->deadline = net->cfg->ping_interval ? net->now + (ping_in ? ping_in : 1) : 0;
	if (carry_len > 0) {
		int pong = await_pong;
		rt__ws_feed(conn, (const char *) carry, carry_len);
		/* Feeding clears the wait for a PONG, which the carry cannot hold
		 * (it is the start of a data message). */
		if (pong && conn->state == RT_CONN_OPEN) {
			conn->flags |= RT_CONN_F_AWAIT_PONG;
		}
		if (conn->state == RT_CONN_DEAD) {
			return;
		}
	}
	if (conn->state == RT_CONN_OPEN
			&& uv_read_start((uv_stream_t *) &conn->tcp, rt__alloc, rt__on_read) != 0) {
		rt_conn_close(conn);
	}
}
