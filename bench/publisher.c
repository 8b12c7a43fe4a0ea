#include "publisher.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PUB_MAX_CONNS 16

typedef struct pconn {
	uv_tcp_t tcp;
	struct publisher *p;
	int state;          /* 0 closed, 1 connecting, 2 idle, 3 busy, 4 closing */
	int expect;         /* responses still due for the current op */
	int op_failed;
	int close_after;    /* the server said Connection: close */
	uint64_t op_channel_msgs;
	char *in;
	size_t in_len, in_cap;
	char *out;          /* requests waiting for the connection to open */
	size_t out_len;
} pconn;

struct publisher {
	uv_loop_t *loop;
	pub_cfg cfg;
	pconn c[PUB_MAX_CONNS];
	uv_timer_t timer;
	double rate, duration;
	char prefix[64];
	int first, n, count, payload_len;
	uint64_t start_ns;
	uint64_t ops_due_total;
	int stopped_issuing;
	pub_result r;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

/* ---- building requests ---- */

typedef struct sbuf {
	char *d;
	size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1) {
			cap *= 2;
		}
		b->d = realloc(b->d, cap);
		b->cap = cap;
	}
	memcpy(b->d + b->len, data, len);
	b->len += len;
	b->d[b->len] = '\0';
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_add(b, tmp, (size_t) n < sizeof(tmp) ? (size_t) n : sizeof(tmp) - 1);
}

static void make_payload(char *out, int len, uint64_t ts)
{
	int n = snprintf(out, (size_t) len + 1, "TS%llu:", (unsigned long long) ts);
	if (n > len) {
		n = len;
	}
	memset(out + n, 'x', (size_t) (len - n));
	out[len] = '\0';
}

static void add_request(publisher *p, sbuf *b, const char *target, const char *payload)
{
	sb_printf(b, "POST %s HTTP/1.1\r\nHost: %s:%d\r\n"
			"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
			target, p->cfg.host, p->cfg.port, p->payload_len);
	sb_add(b, payload, (size_t) p->payload_len);
}

/* Builds the requests of one op; returns how many. */
static int build_op(publisher *p, sbuf *b, uint64_t ts)
{
	char *payload = malloc((size_t) p->payload_len + 1);
	int reqs = 0;

	make_payload(payload, p->payload_len, ts);
	if (p->cfg.kind == PUB_QUERY) {
		char target[512];
		snprintf(target, sizeof(target), "%s?p=%s&from=%d&n=%d&count=%d", p->cfg.path,
				p->prefix, p->first, p->n, p->count);
		add_request(p, b, target, payload);
		reqs = 1;
	} else {
		for (int k = 0; k < p->count; k++) {
			for (int i = 0; i < p->n; i += p->cfg.nchan_batch) {
				sbuf t = {0};
				int end = i + p->cfg.nchan_batch < p->n ? i + p->cfg.nchan_batch : p->n;
				sb_printf(&t, "%s", p->cfg.path);
				for (int j = i; j < end; j++) {
					sb_printf(&t, "%s%s%d", j > i ? "," : "", p->prefix, p->first + j);
				}
				add_request(p, b, t.d, payload);
				free(t.d);
				reqs++;
			}
		}
	}
	free(payload);
	return reqs;
}

/* ---- connections ---- */

static void pc_connect(pconn *c);
static void issue_due(publisher *p);

static void on_pc_closed(uv_handle_t *h)
{
	pconn *c = h->data;
	c->state = 0;
	c->in_len = 0;
	if (c->out_len > 0) {
		pc_connect(c); /* an op is waiting for this connection */
	} else {
		issue_due(c->p);
	}
}

static void op_finished(pconn *c)
{
	publisher *p = c->p;

	if (c->op_failed) {
		p->r.ops_failed++;
	} else {
		p->r.ops_ok++;
		p->r.ok_channel_msgs += c->op_channel_msgs;
	}
	c->op_failed = 0;
	if (c->close_after) {
		c->state = 4;
		uv_close((uv_handle_t *) &c->tcp, on_pc_closed);
		return;
	}
	c->state = 2;
	issue_due(p);
}

static void pc_fail(pconn *c)
{
	publisher *p = c->p;

	if (c->state == 4 || c->state == 0) {
		return;
	}
	if (c->state == 3 || c->expect > 0 || c->out_len > 0) {
		p->r.conn_errors++;
		p->r.ops_failed++;
	}
	c->expect = 0;
	c->out_len = 0;
	c->op_failed = 0;
	c->state = 4;
	uv_close((uv_handle_t *) &c->tcp, on_pc_closed);
}

static void parse_calls(publisher *p, const char *body, size_t len)
{
	char tmp[256];
	const char *q;

	if (len >= sizeof(tmp)) {
		len = sizeof(tmp) - 1;
	}
	memcpy(tmp, body, len);
	tmp[len] = '\0';
	if ((q = strstr(tmp, "\"calls\":")) != NULL) {
		p->r.calls += strtoull(q + 8, NULL, 10);
	}
	if ((q = strstr(tmp, "\"ns\":")) != NULL) {
		p->r.call_ns += strtoull(q + 5, NULL, 10);
	}
}

/* Consumes whole responses from c->in. */
static void pc_parse(pconn *c, int eof)
{
	publisher *p = c->p;

	while (c->expect > 0) {
		char *head_end = NULL;
		size_t head_len, body_len = 0;
		int status, chunked = 0, has_len = 0;
		const char *line;

		for (size_t i = 3; i < c->in_len; i++) {
			if (c->in[i] == '\n' && c->in[i - 1] == '\r' && c->in[i - 2] == '\n'
					&& c->in[i - 3] == '\r') {
				head_end = c->in + i + 1;
				break;
			}
		}
		if (head_end == NULL) {
			return;
		}
		head_len = (size_t) (head_end - c->in);
		status = c->in_len > 12 ? atoi(c->in + 9) : 0;
		for (line = c->in; line && line < head_end; line = memchr(line, '\n', (size_t) (head_end - line))) {
			if (*line == '\n') {
				line++;
			}
			if (strncasecmp(line, "Content-Length:", 15) == 0) {
				body_len = strtoul(line + 15, NULL, 10);
				has_len = 1;
			} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 && strstr(line, "chunked")
					&& (size_t) (strstr(line, "chunked") - line) < 40) {
				chunked = 1;
			} else if (strncasecmp(line, "Connection:", 11) == 0
					&& strncasecmp(line + 11, " close", 6) == 0) {
				c->close_after = 1;
			}
		}
		if (chunked) {
			/* Walk the chunks; the body must be complete. */
			size_t off = head_len, total;
			for (;;) {
				char *nl = memchr(c->in + off, '\n', c->in_len - off);
				size_t sz;
				if (nl == NULL) {
					return;
				}
				sz = strtoul(c->in + off, NULL, 16);
				off = (size_t) (nl - c->in) + 1 + sz + 2;
				if (off > c->in_len) {
					return;
				}
				if (sz == 0) {
					break;
				}
			}
			total = off;
			body_len = total - head_len;
		} else if (!has_len) {
			if (!eof) {
				return; /* ends when the server closes */
			}
			body_len = c->in_len - head_len;
		}
		if (head_len + body_len > c->in_len) {
			return;
		}
		p->r.responses++;
		if (status < 200 || status > 299) {
			p->r.http_errors++;
			c->op_failed = 1;
		} else {
			parse_calls(p, head_end, body_len);
		}
		memmove(c->in, c->in + head_len + body_len, c->in_len - head_len - body_len);
		c->in_len -= head_len + body_len;
		if (--c->expect == 0) {
			op_finished(c);
			return;
		}
	}
}

static void on_pc_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	pconn *c = h->data;
	(void) sz;

	if (c->in_cap - c->in_len < 16384) {
		c->in_cap = c->in_cap ? c->in_cap * 2 : 65536;
		c->in = realloc(c->in, c->in_cap);
	}
	*buf = uv_buf_init(c->in + c->in_len, (unsigned) (c->in_cap - c->in_len));
}

static void on_pc_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	pconn *c = s->data;
	(void) buf;

	if (nread < 0) {
		if (c->expect > 0) {
			pc_parse(c, 1);
		}
		if (c->state == 3 || c->state == 2 || c->state == 1) {
			if (c->expect > 0) {
				pc_fail(c);
			} else if (c->state != 4) {
				c->state = 4;
				uv_close((uv_handle_t *) &c->tcp, on_pc_closed);
			}
		}
		return;
	}
	c->in_len += (size_t) nread;
	pc_parse(c, 0);
}

static void on_pc_written(uv_write_t *req, int status)
{
	pconn *c = req->data;

	free(req);
	if (status < 0) {
		pc_fail(c);
	}
}

static void pc_send(pconn *c, const char *data, size_t len)
{
	uv_write_t *req = malloc(sizeof(*req) + len);
	uv_buf_t b;

	memcpy(req + 1, data, len);
	b = uv_buf_init((char *) (req + 1), (unsigned) len);
	req->data = c;
	if (uv_write(req, (uv_stream_t *) &c->tcp, &b, 1, on_pc_written) != 0) {
		free(req);
		pc_fail(c);
	}
}

static void on_pc_connect(uv_connect_t *req, int status)
{
	pconn *c = req->data;

	free(req);
	if (c->state == 4) {
		return; /* already closing */
	}
	if (status < 0) {
		c->p->r.conn_errors++;
		if (c->out_len > 0) {
			c->p->r.ops_failed++;
		}
		c->out_len = 0;
		c->expect = 0;
		c->state = 4;
		uv_close((uv_handle_t *) &c->tcp, on_pc_closed);
		return;
	}
	uv_read_start((uv_stream_t *) &c->tcp, on_pc_alloc, on_pc_read);
	if (c->out_len > 0) {
		c->state = 3;
		pc_send(c, c->out, c->out_len);
		c->out_len = 0;
	} else {
		c->state = 2;
		issue_due(c->p);
	}
}

static void pc_connect(pconn *c)
{
	struct sockaddr_in a;
	uv_connect_t *req = malloc(sizeof(*req));

	c->state = 1;
	c->close_after = 0;
	c->in_len = 0;
	uv_tcp_init(c->p->loop, &c->tcp);
	c->tcp.data = c;
	uv_tcp_nodelay(&c->tcp, 1);
	uv_ip4_addr(c->p->cfg.host, c->p->cfg.port, &a);
	req->data = c;
	if (uv_tcp_connect(req, &c->tcp, (const struct sockaddr *) &a, on_pc_connect) != 0) {
		free(req);
		c->p->r.conn_errors++;
		c->state = 4;
		uv_close((uv_handle_t *) &c->tcp, on_pc_closed);
	}
}

/* ---- scheduling ---- */

static pconn *free_conn(publisher *p)
{
	for (int i = 0; i < p->cfg.conns; i++) {
		if (p->c[i].state == 2) {
			return &p->c[i];
		}
	}
	for (int i = 0; i < p->cfg.conns; i++) {
		if (p->c[i].state == 0) {
			return &p->c[i];
		}
	}
	return NULL;
}

static void issue_op(publisher *p, pconn *c)
{
	sbuf b = {0};
	uint64_t now = mono_ns();
	int reqs = build_op(p, &b, now);

	if (p->r.ops_sent == 0) {
		p->r.first_ns = now;
	}
	p->r.last_ns = now;
	p->r.ops_sent++;
	p->r.requests += (uint64_t) reqs;
	c->expect = reqs;
	c->op_failed = 0;
	c->op_channel_msgs = (uint64_t) p->n * (uint64_t) p->count;
	if (c->state == 2) {
		c->state = 3;
		pc_send(c, b.d, b.len);
	} else {
		free(c->out);
		c->out = b.d;
		c->out_len = b.len;
		b.d = NULL;
		pc_connect(c);
	}
	free(b.d);
}

static void issue_due(publisher *p)
{
	uint64_t due;
	double elapsed;
	pconn *c;

	if (p->stopped_issuing) {
		return;
	}
	elapsed = (double) (mono_ns() - p->start_ns) / 1e9;
	if (p->rate <= 0) {
		due = 1;
	} else {
		due = (uint64_t) (elapsed * p->rate) + 1;
		if (elapsed >= p->duration) {
			due = p->ops_due_total;
		}
	}
	if (due > p->ops_due_total) {
		due = p->ops_due_total;
	}
	while (p->r.ops_sent < due && (c = free_conn(p)) != NULL) {
		issue_op(p, c);
	}
	if (p->r.ops_sent >= p->ops_due_total
			|| (p->rate > 0 && elapsed >= p->duration)) {
		p->stopped_issuing = 1; /* late ops are skipped, not sent after the window */
		uv_timer_stop(&p->timer);
	}
}

static void on_tick(uv_timer_t *t)
{
	issue_due(t->data);
}

publisher *pub_new(uv_loop_t *loop, const pub_cfg *cfg)
{
	publisher *p = calloc(1, sizeof(*p));

	p->loop = loop;
	p->cfg = *cfg;
	if (p->cfg.conns < 1) {
		p->cfg.conns = 1;
	}
	if (p->cfg.conns > PUB_MAX_CONNS) {
		p->cfg.conns = PUB_MAX_CONNS;
	}
	if (p->cfg.nchan_batch < 1) {
		p->cfg.nchan_batch = 100;
	}
	for (int i = 0; i < PUB_MAX_CONNS; i++) {
		p->c[i].p = p;
	}
	uv_timer_init(loop, &p->timer);
	p->timer.data = p;
	return p;
}

void pub_start(publisher *p, double rate, double duration, const char *prefix,
		int first, int n, int count, int payload_len)
{
	memset(&p->r, 0, sizeof(p->r));
	p->rate = rate;
	p->duration = duration;
	snprintf(p->prefix, sizeof(p->prefix), "%s", prefix);
	p->first = first;
	p->n = n;
	p->count = count;
	p->payload_len = payload_len < 24 ? 24 : payload_len;
	p->ops_due_total = rate > 0 ? (uint64_t) (rate * duration + 0.5) : 1;
	if (p->ops_due_total == 0) {
		p->ops_due_total = 1;
	}
	p->stopped_issuing = 0;
	p->start_ns = mono_ns();
	uv_timer_start(&p->timer, on_tick, 0, 1);
}

int pub_done(const publisher *p)
{
	if (!p->stopped_issuing) {
		return 0;
	}
	for (int i = 0; i < p->cfg.conns; i++) {
		if (p->c[i].state == 1 || p->c[i].state == 3 || p->c[i].expect > 0) {
			return 0;
		}
	}
	return 1;
}

void pub_result_get(const publisher *p, pub_result *out)
{
	*out = p->r;
}

void pub_free(publisher *p)
{
	uv_timer_stop(&p->timer);
	for (int i = 0; i < PUB_MAX_CONNS; i++) {
		free(p->c[i].in);
		free(p->c[i].out);
	}
	/* handles are left to the process exit */
}
