#define _GNU_SOURCE
#include "client.h"
#include "stats.h"
#include "wsframe.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define TS_SCAN 320 /* bytes of a message searched for the timestamp */

enum { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_SUBSCRIBING, C_READY, C_CLOSED };

typedef struct conn {
	uv_tcp_t tcp;
	uint32_t g;
	uint8_t state;
	uint8_t slow;
	uint8_t counted;        /* reported as ok or failed */
	uint8_t *pend;          /* bytes of an incomplete frame or head */
	uint32_t pend_len, pend_cap;
	uint32_t received;
} conn;

typedef struct counters {
	uint64_t received, bytes, other, closed, slow_received, slow_closed;
	uint64_t last_rx_ns;
	hist lat;
} counters;

static struct {
	const client_opts *o;
	uv_loop_t *loop;
	conn *conns;
	uint32_t next;          /* next client to start */
	uint32_t inflight;
	uint32_t ok, failed;
	uint32_t *failed_ch;    /* per channel: fast clients that never subscribed */
	int ready_sent;
	struct sockaddr_in src;
	uv_pipe_t ctl;
	char ctl_buf[4096];
	size_t ctl_len;
	counters c;
	uint64_t now_ns;
	char rbuf[256 * 1024];
} W;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* ---- control channel ---- */

static void on_ctl_written(uv_write_t *req, int status)
{
	(void) status;
	free(req);
}

static void ctl_send(const char *text, size_t len)
{
	uv_write_t *req = malloc(sizeof(*req) + len);
	uv_buf_t b;

	memcpy(req + 1, text, len);
	b = uv_buf_init((char *) (req + 1), (unsigned) len);
	if (uv_write(req, (uv_stream_t *) &W.ctl, &b, 1, on_ctl_written) != 0) {
		free(req);
	}
}

/* "READY ok failed ch:n ..." listing the channels that lost subscribers. */
static void maybe_ready(void)
{
	size_t cap = 64 + (size_t) W.o->nchannels * 24, n;
	char *line;

	if (W.ready_sent || W.ok + W.failed < W.o->count) {
		return;
	}
	W.ready_sent = 1;
	line = malloc(cap);
	n = (size_t) snprintf(line, cap, "READY %u %u", W.ok, W.failed);
	for (int ch = 0; ch < W.o->nchannels && n < cap - 24; ch++) {
		if (W.failed_ch[ch]) {
			n += (size_t) snprintf(line + n, cap - n, " %d:%u", ch, W.failed_ch[ch]);
		}
	}
	line[n++] = '\n';
	ctl_send(line, n);
	free(line);
}

static void send_stats(void)
{
	static char line[HIST_BUCKETS * 24 + 256];
	int n = snprintf(line, sizeof(line), "STATS %llu %llu %llu %llu %llu %llu %llu ",
			(unsigned long long) W.c.received, (unsigned long long) W.c.bytes,
			(unsigned long long) W.c.other, (unsigned long long) W.c.closed,
			(unsigned long long) W.c.slow_received, (unsigned long long) W.c.slow_closed,
			(unsigned long long) W.c.last_rx_ns);
	n += (int) hist_encode(&W.c.lat, line + n, sizeof(line) - (size_t) n - 2);
	line[n++] = '\n';
	ctl_send(line, (size_t) n);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf);

static void resume_slow(void)
{
	for (uint32_t i = 0; i < W.o->count; i++) {
		conn *c = &W.conns[i];
		if (c->slow && c->state == C_READY) {
			uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read);
		}
	}
}

static void ctl_command(const char *cmd)
{
	char line[64];
	int n;

	if (strcmp(cmd, "RESET") == 0) {
		uint64_t closed = W.c.closed, slow_closed = W.c.slow_closed;
		memset(&W.c, 0, sizeof(W.c));
		W.c.closed = closed; /* closes are counted over the whole run */
		W.c.slow_closed = slow_closed;
		ctl_send("OK\n", 3);
	} else if (strcmp(cmd, "COUNT") == 0) {
		n = snprintf(line, sizeof(line), "COUNT %llu %llu\n",
				(unsigned long long) W.c.received, (unsigned long long) W.c.slow_received);
		ctl_send(line, (size_t) n);
	} else if (strcmp(cmd, "STATS") == 0) {
		send_stats();
	} else if (strcmp(cmd, "RESUME") == 0) {
		resume_slow();
		ctl_send("OK\n", 3);
	} else if (strcmp(cmd, "QUIT") == 0) {
		_exit(0); /* the kernel closes every socket */
	}
}

static void on_ctl_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	(void) h;
	(void) sz;
	*buf = uv_buf_init(W.ctl_buf + W.ctl_len, (unsigned) (sizeof(W.ctl_buf) - W.ctl_len - 1));
}

static void on_ctl_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	char *nl;
	(void) s;
	(void) buf;

	if (nread < 0) {
		_exit(0); /* the coordinator is gone */
	}
	W.ctl_len += (size_t) nread;
	W.ctl_buf[W.ctl_len] = '\0';
	while ((nl = memchr(W.ctl_buf, '\n', W.ctl_len)) != NULL) {
		size_t used = (size_t) (nl - W.ctl_buf) + 1;
		*nl = '\0';
		ctl_command(W.ctl_buf);
		memmove(W.ctl_buf, W.ctl_buf + used, W.ctl_len - used);
		W.ctl_len -= used;
	}
}

/* ---- writing to the server ---- */

static void on_written(uv_write_t *req, int status)
{
	(void) status;
	free(req);
}

static void conn_write(conn *c, const void *data, size_t len)
{
	uv_buf_t b = uv_buf_init((char *) data, (unsigned) len);
	int r = uv_try_write((uv_stream_t *) &c->tcp, &b, 1);
	uv_write_t *req;

	if (r < 0 && r != UV_EAGAIN) {
		return;
	}
	if (r < 0) {
		r = 0;
	}
	if ((size_t) r == len) {
		return;
	}
	req = malloc(sizeof(*req) + len - (size_t) r);
	memcpy(req + 1, (const char *) data + r, len - (size_t) r);
	b = uv_buf_init((char *) (req + 1), (unsigned) (len - (size_t) r));
	if (uv_write(req, (uv_stream_t *) &c->tcp, &b, 1, on_written) != 0) {
		free(req);
	}
}

static void send_frame(conn *c, uint8_t opcode, const void *payload, size_t len)
{
	uint8_t out[256];

	if (len > sizeof(out) - 14) {
		len = sizeof(out) - 14;
	}
	conn_write(c, out, ws_build(out, opcode, payload, len, (uint32_t) rand()));
}

/* ---- connection lifecycle ---- */

static void start_more(void);

static void on_closed(uv_handle_t *h)
{
	(void) h;
}

static void conn_finish(conn *c, int ok)
{
	if (c->counted) {
		return;
	}
	c->counted = 1;
	if (ok) {
		W.ok++;
	} else {
		W.failed++;
		if (!c->slow) {
			W.failed_ch[c->g % (uint32_t) W.o->nchannels]++;
		}
	}
	W.inflight--;
	maybe_ready();
	start_more();
}

static void conn_close(conn *c)
{
	if (c->state == C_CLOSED) {
		return;
	}
	if (c->state == C_READY) {
		if (c->slow) {
			W.c.slow_closed++;
		} else {
			W.c.closed++;
		}
	}
	c->state = C_CLOSED;
	free(c->pend);
	c->pend = NULL;
	c->pend_len = c->pend_cap = 0;
	uv_close((uv_handle_t *) &c->tcp, on_closed);
	conn_finish(c, 0);
}

static void conn_ready(conn *c)
{
	c->state = C_READY;
	if (c->slow) {
		uv_read_stop((uv_stream_t *) &c->tcp);
	}
	conn_finish(c, 1);
}

static void channel_name(const conn *c, char *out, size_t cap)
{
	snprintf(out, cap, "%s%u", W.o->prefix, c->g % (uint32_t) W.o->nchannels);
}

static void send_subscribe(conn *c)
{
	char ch[128], msg[256];
	int n;

	channel_name(c, ch, sizeof(ch));
	n = snprintf(msg, sizeof(msg), "{\"action\":\"subscribe\",\"channel\":\"%s\"}", ch);
	send_frame(c, WS_TEXT, msg, (size_t) n);
}

/* ---- receiving ---- */

static void on_message(conn *c, const uint8_t *p, size_t len)
{
	const uint8_t *ts = NULL;
	size_t scan = len < TS_SCAN ? len : TS_SCAN;

	if (c->state == C_SUBSCRIBING) {
		if (memmem(p, scan, "\"subscribed\"", 12) != NULL) {
			conn_ready(c);
		}
		return;
	}
	if (scan >= 2) {
		ts = memmem(p, scan, "TS", 2);
	}
	if (ts == NULL) {
		W.c.other++;
		return;
	}
	{
		uint64_t t = 0;
		const uint8_t *q = ts + 2, *end = p + len;
		while (q < end && *q >= '0' && *q <= '9') {
			t = t * 10 + (uint64_t) (*q++ - '0');
		}
		c->received++;
		if (c->slow) {
			W.c.slow_received++;
			return;
		}
		W.c.received++;
		W.c.bytes += len;
		W.c.last_rx_ns = W.now_ns;
		hist_add(&W.c.lat, W.now_ns > t ? W.now_ns - t : 0);
	}
}

/* Handles whole frames at data; returns the bytes consumed, or -1 when the
 * connection was closed. */
static ssize_t handle_frames(conn *c, const uint8_t *data, size_t len)
{
	size_t off = 0;
	ws_frame f;

	while (off < len) {
		int r = ws_parse(data + off, len - off, &f);
		if (r < 0) {
			conn_close(c);
			return -1;
		}
		if (r == 0) {
			break;
		}
		switch (f.opcode) {
		case WS_TEXT:
		case WS_BINARY:
			on_message(c, f.payload, (size_t) f.len);
			break;
		case WS_PING:
			send_frame(c, WS_PONG, f.payload, (size_t) f.len);
			break;
		case WS_CLOSE:
			send_frame(c, WS_CLOSE, f.payload, f.len >= 2 ? 2 : 0);
			conn_close(c);
			return -1;
		default:
			break;
		}
		if (c->state == C_CLOSED) {
			return -1;
		}
		off += f.frame_len;
	}
	return (ssize_t) off;
}

/* Handles the upgrade response head; returns bytes consumed, 0 if the head
 * is incomplete, -1 when the connection was closed. */
static ssize_t handle_head(conn *c, const uint8_t *data, size_t len)
{
	int status;
	size_t head = ws_response_head((const char *) data, len, &status);

	if (head == 0) {
		if (len > 8192) {
			conn_close(c);
			return -1;
		}
		return 0;
	}
	if (status != (W.o->sub_mode == SUB_SSE || W.o->sub_mode == SUB_SSE_OPEN ? 200 : 101)) {
		conn_close(c);
		return -1;
	}
	if (W.o->sub_mode == SUB_SSE_OPEN) {
		conn_ready(c);
	} else if (W.o->sub_mode == SUB_SSE) {
		c->state = C_SUBSCRIBING; /* ready at the stream's "subscribed" event */
	} else if (W.o->sub_mode == SUB_JSON) {
		c->state = C_SUBSCRIBING;
		send_subscribe(c);
	} else {
		conn_ready(c);
	}
	return (ssize_t) head;
}

/* An event stream's whole events (up to a blank line), each handed to
 * on_message as it is: the timestamp is found in its data line. Returns
 * the bytes consumed. */
static ssize_t handle_events(conn *c, const uint8_t *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		const uint8_t *end = memmem(data + off, len - off, "\n\n", 2);
		if (end == NULL) {
			break;
		}
		on_message(c, data + off, (size_t) (end - (data + off)));
		if (c->state == C_CLOSED) {
			return -1;
		}
		off = (size_t) (end - data) + 2;
	}
	return (ssize_t) off;
}

static ssize_t handle_bytes(conn *c, const uint8_t *data, size_t len)
{
	size_t off = 0;
	ssize_t r;

	if (c->state == C_HANDSHAKE) {
		r = handle_head(c, data, len);
		if (r <= 0) {
			return r;
		}
		off = (size_t) r;
	}
	r = W.o->sub_mode == SUB_SSE || W.o->sub_mode == SUB_SSE_OPEN
			? handle_events(c, data + off, len - off)
			: handle_frames(c, data + off, len - off);
	return r < 0 ? r : (ssize_t) off + r;
}

static void keep_pending(conn *c, const uint8_t *data, size_t len)
{
	if (len > c->pend_cap) {
		uint32_t cap = c->pend_cap ? c->pend_cap : 512;
		while (cap < len) {
			cap *= 2;
		}
		c->pend = realloc(c->pend, cap);
		c->pend_cap = cap;
	}
	memmove(c->pend, data, len);
	c->pend_len = (uint32_t) len;
}

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	(void) h;
	(void) sz;
	*buf = uv_buf_init(W.rbuf, sizeof(W.rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	conn *c = s->data;
	const uint8_t *data = (const uint8_t *) buf->base;
	size_t len;
	ssize_t used;

	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0) {
		return;
	}
	W.now_ns = mono_ns();
	len = (size_t) nread;
	if (c->pend_len > 0) {
		/* Join the pending bytes with what came in. */
		size_t total = c->pend_len + len;
		if (total > c->pend_cap) {
			uint32_t cap = c->pend_cap;
			while (cap < total) {
				cap *= 2;
			}
			c->pend = realloc(c->pend, cap);
			c->pend_cap = cap;
		}
		memcpy(c->pend + c->pend_len, data, len);
		c->pend_len = 0;
		data = c->pend;
		len = total;
	}
	used = handle_bytes(c, data, len);
	if (used < 0) {
		return;
	}
	if ((size_t) used < len) {
		keep_pending(c, data + used, len - (size_t) used);
	} else if (c->pend_cap > 4096) {
		free(c->pend);
		c->pend = NULL;
		c->pend_cap = 0;
	}
}

static void on_connect(uv_connect_t *req, int status)
{
	conn *c = req->data;
	char path[256], out[512];
	size_t n;

	free(req);
	if (status < 0) {
		if (c->state != C_CLOSED) {
			c->state = C_HANDSHAKE; /* not ready: conn_close counts a failure */
			conn_close(c);
		}
		return;
	}
	c->state = C_HANDSHAKE;
	if (W.o->sub_mode == SUB_URL || W.o->sub_mode == SUB_SSE || W.o->sub_mode == SUB_SSE_OPEN) {
		char ch[128];
		channel_name(c, ch, sizeof(ch));
		snprintf(path, sizeof(path), W.o->path, ch);
	} else {
		snprintf(path, sizeof(path), "%s", W.o->path);
	}
	if (W.o->sub_mode == SUB_SSE || W.o->sub_mode == SUB_SSE_OPEN) {
		int k = snprintf(out, sizeof(out), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
				"Accept: text/event-stream\r\n\r\n", path,
				W.o->host, W.o->ports[c->g % (uint32_t) W.o->nports]);
		n = k > 0 && (size_t) k < sizeof(out) ? (size_t) k : 0;
	} else {
		n = ws_upgrade_request(out, sizeof(out), W.o->host,
				W.o->ports[c->g % (uint32_t) W.o->nports], path);
	}
	uv_read_start((uv_stream_t *) &c->tcp, on_alloc, on_read);
	conn_write(c, out, n);
}

static void start_one(conn *c)
{
	struct sockaddr_in dst;
	uv_connect_t *req = malloc(sizeof(*req));
	uv_os_fd_t fd;
	int one = 1;

	W.inflight++;
	c->state = C_CONNECTING;
	uv_tcp_init_ex(W.loop, &c->tcp, AF_INET);
	c->tcp.data = c;
	uv_fileno((uv_handle_t *) &c->tcp, &fd);
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (c->slow && W.o->slow_rcvbuf > 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &W.o->slow_rcvbuf, sizeof(W.o->slow_rcvbuf));
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_ip4_addr(W.o->host, W.o->ports[c->g % (uint32_t) W.o->nports], &dst);
	req->data = c;
	if (uv_tcp_bind(&c->tcp, (const struct sockaddr *) &W.src, 0) != 0
			|| uv_tcp_connect(req, &c->tcp, (const struct sockaddr *) &dst, on_connect) != 0) {
		free(req);
		c->state = C_HANDSHAKE;
		conn_close(c);
	}
}

static void start_more(void)
{
	while (W.inflight < (uint32_t) W.o->concurrency && W.next < W.o->count) {
		start_one(&W.conns[W.next++]);
	}
}

int client_main(const client_opts *o)
{
	memset(&W, 0, sizeof(W));
	W.o = o;
	W.loop = malloc(sizeof(*W.loop));
	if (W.loop == NULL || uv_loop_init(W.loop) != 0) {
		return 1;
	}
	W.conns = calloc(o->count, sizeof(conn));
	W.failed_ch = calloc((size_t) o->nchannels, sizeof(uint32_t));
	if (W.conns == NULL || W.failed_ch == NULL) {
		return 1;
	}
	srand((unsigned) getpid());
	uv_ip4_addr(o->src_ip, 0, &W.src);
	for (uint32_t i = 0; i < o->count; i++) {
		W.conns[i].g = o->first + i;
		W.conns[i].slow = o->slow_every > 0 && (o->first + i) % (uint32_t) o->slow_every == 0;
	}
	uv_pipe_init(W.loop, &W.ctl, 0);
	uv_pipe_open(&W.ctl, o->ctl_fd);
	uv_read_start((uv_stream_t *) &W.ctl, on_ctl_alloc, on_ctl_read);
	start_more();
	maybe_ready();
	uv_run(W.loop, UV_RUN_DEFAULT);
	return 0;
}
