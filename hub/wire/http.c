#include "hub/wire/http.h"
#include "hub/util/text.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

static const char *const rt__header_names[RT_HDR_COUNT] = {
	"host", "upgrade", "connection", "sec-websocket-key",
	"sec-websocket-version", "origin", "cookie", "authorization",
	"x-realtime-signature", "x-realtime-timestamp", "if-none-match", "last-event-id",
};

static int rt__append(rt_http_req *req, const char *at, size_t len)
{
	if (req->len + len + 1 > sizeof(req->buf)) {
		return -1;
	}
	memcpy(req->buf + req->len, at, len);
	req->len += len;
	req->buf[req->len] = '\0';
	return 0;
}

static int rt__on_url(http_parser *p, const char *at, size_t len)
{
	rt_http_req *req = p->data;

	if (req->url_len == 0) {
		req->url_off = req->len;
	}
	req->url_len += len;
	return rt__append(req, at, len);
}

static int rt__on_header_field(http_parser *p, const char *at, size_t len)
{
	rt_http_req *req = p->data;

	if (req->last_was_value || req->header == -2) {
		req->name_len = 0;
		req->last_was_value = 0;
	}
	if (req->name_len + len < sizeof(req->name)) {
		memcpy(req->name + req->name_len, at, len);
		req->name_len += len;
	} else {
		req->name_len = sizeof(req->name);
	}
	req->header = -1;
	for (int i = 0; i < RT_HDR_COUNT; i++) {
		if (req->name_len == strlen(rt__header_names[i])
				&& strncasecmp(req->name, rt__header_names[i], req->name_len) == 0) {
			req->header = i;
		}
	}
	return 0;
}

static int rt__on_header_value(http_parser *p, const char *at, size_t len)
{
	rt_http_req *req = p->data;
	int h = req->header;

	if (!req->last_was_value && h >= 0) {
		if (req->hdr_seen[h]) {
			/* A repeated header: keep the first, as a list would need joining. */
			req->header = h = -1;
		} else {
			if (req->len + 2 > sizeof(req->buf)) {
				return -1;
			}
			req->len++; /* keeps the previous value's NUL */
			req->buf[req->len] = '\0';
			req->hdr_seen[h] = 1;
			req->hdr_off[h] = req->len;
			req->hdr_len[h] = 0;
		}
	}
	req->last_was_value = 1;
	if (h < 0) {
		return 0;
	}
	req->hdr_len[h] += len;
	return rt__append(req, at, len);
}

static int rt__on_headers_complete(http_parser *p)
{
	rt_http_req *req = p->data;

	req->method = p->method;
	req->state = RT_HTTP_DONE;
	/* For an upgrade, http_parser stops right after the head, so what
	 * follows is WebSocket data; other requests get an answer and a close,
	 * whatever follows. */
	return 0;
}

static int rt__on_body(http_parser *p, const char *at, size_t len)
{
	rt_http_req *req = p->data;

	if (req->body.len + len > req->body_max) {
		req->body_too_large = 1;
		return 0; /* read on, keep nothing */
	}
	rt_sb_append(&req->body, at, len);
	return 0;
}

static int rt__on_message_complete(http_parser *p)
{
	rt_http_req *req = p->data;

	req->complete = 1;
	req->keep_alive = http_should_keep_alive(p);
	/* Requests are answered one at a time: the parser stops here, and a
	 * connection that pipelined more is answered and closed. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings rt__settings = {
	.on_url = rt__on_url,
	.on_header_field = rt__on_header_field,
	.on_header_value = rt__on_header_value,
	.on_headers_complete = rt__on_headers_complete,
	.on_body = rt__on_body,
	.on_message_complete = rt__on_message_complete,
};

void rt_http_req_init(rt_http_req *req, size_t body_max)
{
	memset(req, 0, offsetof(rt_http_req, buf));
	req->buf[0] = '\0';
	req->header = -2;
	req->body_max = body_max;
	rt_sb_init(&req->body);
	http_parser_init(&req->parser, HTTP_REQUEST);
	req->parser.data = req;
}

void rt_http_req_free(rt_http_req *req)
{
	if (req != NULL) {
		rt_sb_free(&req->body);
		free(req);
	}
}

int rt_http_req_feed_body(rt_http_req *req, const char *data, size_t len)
{
	if (req->complete) {
		req->trailing |= len > 0;
	} else if (len > 0) {
		size_t n = http_parser_execute(&req->parser, &rt__settings, data, len);
		if (!req->complete && HTTP_PARSER_ERRNO(&req->parser) != HPE_OK) {
			return RT_HTTP_BAD;
		}
		req->trailing |= req->complete && n < len;
	}
	return req->complete ? RT_HTTP_DONE : RT_HTTP_MORE;
}

int rt_http_req_feed(rt_http_req *req, const char *data, size_t len, size_t *used)
{
	size_t n;

	*used = 0;
	if (req->state != RT_HTTP_MORE) {
		return req->state;
	}
	/* Never let the parser past the head limit in one go: a head that has
	 * not ended there is too large. Bytes held back belong to the body. */
	if (len > RT_HTTP_HEAD_MAX - req->head_bytes) {
		len = RT_HTTP_HEAD_MAX - req->head_bytes;
	}
	n = http_parser_execute(&req->parser, &rt__settings, data, len);
	*used = n;
	req->head_bytes += n;
	if (req->state != RT_HTTP_MORE) {
		return req->state;
	}
	if (HTTP_PARSER_ERRNO(&req->parser) != HPE_OK || n != len
			|| req->head_bytes >= RT_HTTP_HEAD_MAX) {
		req->state = RT_HTTP_BAD;
	}
	return req->state;
}

const char *rt_http_req_header(const rt_http_req *req, int hdr, size_t *len)
{
	if (!req->hdr_seen[hdr]) {
		*len = 0;
		return NULL;
	}
	*len = req->hdr_len[hdr];
	return req->buf + req->hdr_off[hdr];
}

const char *rt_http_req_path(const rt_http_req *req, size_t *len)
{
	const char *url = req->buf + req->url_off;
	const char *q = memchr(url, '?', req->url_len);

	*len = q ? (size_t) (q - url) : req->url_len;
	return url;
}

static int rt__hex(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

const char *rt_http_req_bearer(const rt_http_req *req, size_t *len)
{
	size_t n;
	const char *v = rt_http_req_header(req, RT_HDR_AUTHORIZATION, &n);

	if (v == NULL || n < 7 || strncasecmp(v, "Bearer ", 7) != 0) {
		return NULL;
	}
	*len = n - 7;
	return v + 7;
}

long rt_http_url_decode(const char *in, size_t len, int plus, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0 || len > (size_t) LONG_MAX) {
		return -ENOSPC;
	}
	for (size_t i = 0; i < len; i++) {
		if (o + 1 >= cap) {
			out[o] = '\0';
			return -ENOSPC;
		}
		if (in[i] == '%' && i + 2 < len && rt__hex(in[i + 1]) >= 0 && rt__hex(in[i + 2]) >= 0) {
			out[o++] = (char) (rt__hex(in[i + 1]) * 16 + rt__hex(in[i + 2]));
			i += 2;
		} else if (in[i] == '+' && plus) {
			out[o++] = ' ';
		} else {
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	return (long) o;
}

const char *rt_http_req_query_string(const rt_http_req *req, size_t *len)
{
	const char *url = req->buf + req->url_off;
	const char *q = memchr(url, '?', req->url_len);

	*len = q != NULL ? (size_t) (url + req->url_len - q - 1) : 0;
	return q != NULL ? q + 1 : url + req->url_len;
}

const char *rt_http_req_query(const rt_http_req *req, const char *name, size_t *len)
{
	const char *url = req->buf + req->url_off;
	const char *end = url + req->url_len;
	const char *p = memchr(url, '?', req->url_len);
	size_t name_len = strlen(name);

	while (p != NULL && p < end) {
		const char *key = p + 1, *amp, *eq;
		amp = memchr(key, '&', (size_t) (end - key));
		if (amp == NULL) {
			amp = end;
		}
		eq = memchr(key, '=', (size_t) (amp - key));
		if (eq != NULL && (size_t) (eq - key) == name_len && memcmp(key, name, name_len) == 0) {
			*len = (size_t) (amp - eq - 1);
			return eq + 1;
		}
		p = amp < end ? amp : NULL;
	}
	*len = 0;
	return NULL;
}

/* True when the comma-separated header value contains token (case-insensitive). */
static int rt__has_token(const char *value, size_t len, const char *token)
{
	size_t tlen = strlen(token);
	size_t i = 0;

	while (i < len) {
		size_t start, end;
		while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == ',')) {
			i++;
		}
		start = i;
		while (i < len && value[i] != ',') {
			i++;
		}
		end = i;
		while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t')) {
			end--;
		}
		if (end - start == tlen && strncasecmp(value + start, token, tlen) == 0) {
			return 1;
		}
	}
	return 0;
}

static int rt__key_valid(const char *key, size_t len)
{
	unsigned char raw[32];
	int n;

	if (len != 24) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
				|| c == '+' || c == '/' || (c == '=' && i >= 22))) {
			return 0;
		}
	}
	/* 16 bytes are 22 characters and "==", the last character carrying
	 * only 2 bits (A, Q, g or w). */
	if (key[22] != '=' || key[23] != '=' || strchr("AQgw", key[21]) == NULL) {
		return 0;
	}
	n = EVP_DecodeBlock(raw, (const unsigned char *) key, (int) len);
	return n == 18;
}

static void rt__error(rt_http_decision *out, int status, const char *reason)
{
	out->route = RT_ROUTE_ERROR;
	out->status = status;
	out->reason = reason;
}

/* A browser's stream (SSE, long-polling, Mercure) from an origin the
 * settings do not allow: refused with 403. 1 when refused. */
static int rt__origin_refused(const rt_http_req *req, const rt_config *cfg,
		rt_http_decision *out)
{
	size_t len, host_len = 0;
	const char *host = rt_http_req_header(req, RT_HDR_HOST, &host_len);
	const char *v = rt_http_req_header(req, RT_HDR_ORIGIN, &len);

	if (v != NULL && !rt_config_origin_allowed(cfg, v, len, host, host ? host_len : 0)) {
		rt__error(out, 403, "forbidden: origin not allowed");
		return 1;
	}
	return 0;
}


const char *rt_http_client_js_name(const char *path, size_t len, const rt_config *cfg,
		size_t *name_len)
{
	static const char *const names[] = { "realtime.js", "realtime.global.js" };
	size_t base = strlen(cfg->path);

	/* realtime.path "/" (or "/ws/") serves it at "/realtime.js" alone. */
	while (base > 0 && cfg->path[base - 1] == '/') {
		base--;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (len == n + 1 && path[0] == '/' && memcmp(path + 1, names[i], n) == 0) {
			*name_len = n;
			return path + 1;
		}
		if (base > 0 && len == base + 1 + n && memcmp(path, cfg->path, base) == 0
				&& path[base] == '/' && memcmp(path + base + 1, names[i], n) == 0) {
			*name_len = n;
			return path + base + 1;
		}
	}
	return NULL;
}

/* The entries of a comma-separated query value, its commas counted
 * encoded or not (an upper bound: empty entries count). */
static size_t rt__list_count(const rt_http_req *req, const char *name)
{
	size_t len, n = 1;
	const char *v = rt_http_req_query(req, name, &len);

	if (v == NULL) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		n += v[i] == ',' || (v[i] == '%' && i + 2 < len && v[i + 1] == '2'
				&& (v[i + 2] == 'c' || v[i + 2] == 'C'));
	}
	return n;
}

/* path is base followed by suffix. */
static int rt__is_stream_path(const char *path, size_t len, const char *base, const char *suffix)
{
	size_t blen = strlen(base), slen = strlen(suffix);

	/* realtime.path "/" gives "/sse", not "//sse". */
	if (blen == 1 && base[0] == '/') {
		blen = 0;
	}
	return len == blen + slen && memcmp(path, base, blen) == 0
			&& memcmp(path + blen, suffix, slen) == 0;
}

void rt_http_route_request(const rt_http_req *req, const rt_config *cfg,
		rt_http_decision *out)
{
	size_t path_len, len, host_len;
	const char *path = rt_http_req_path(req, &path_len);
	const char *v, *host;

	memset(out, 0, sizeof(*out));
	if ((path_len == 7 && memcmp(path, "/health", 7) == 0)
			|| (path_len == 8 && memcmp(path, "/metrics", 8) == 0)
			|| (path_len == 12 && memcmp(path, "/health/live", 12) == 0)
			|| (path_len == 13 && memcmp(path, "/health/ready", 13) == 0)
			|| (path_len == 7 && memcmp(path, "/status", 7) == 0)
			|| (path_len == 12 && memcmp(path, "/status.json", 12) == 0)
			|| rt_http_client_js_name(path, path_len, cfg, &len) != NULL) {
		if (req->method != HTTP_GET) {
			rt__error(out, 405, "method not allowed");
			return;
		}
		out->route = RT_ROUTE_HEALTH;
		return;
	}
	if (rt_has_prefix(path, path_len, "/apps/")
			|| (path_len == 8 && memcmp(path, "/publish", 8) == 0)) {
		out->route = RT_ROUTE_API;
		return;
	}
	if (path_len == 20 && memcmp(path, "/.well-known/mercure", 20) == 0) {
		if (req->method == HTTP_POST) {
			out->route = RT_ROUTE_API; /* a Mercure publisher */
			return;
		}
		if (req->method != HTTP_GET) {
			rt__error(out, 405, "method not allowed: GET subscribes, POST publishes");
			return;
		}
		if (rt__origin_refused(req, cfg, out)) {
			return;
		}
		out->proto = RT_HTTP_STREAM_MERCURE;
		out->route = RT_ROUTE_UPGRADE;
		return;
	}
	if (rt__is_stream_path(path, path_len, cfg->path, "/sse")
			|| rt__is_stream_path(path, path_len, cfg->path, "/sse/subscribe")
			|| rt__is_stream_path(path, path_len, cfg->path, "/sse/unsubscribe")
			|| rt__is_stream_path(path, path_len, cfg->path, "/poll")) {
		int control = !rt__is_stream_path(path, path_len, cfg->path, "/sse");
		if (req->method != HTTP_GET && !(control && req->method == HTTP_POST)) {
			rt__error(out, 405, "method not allowed: use GET to open an event stream");
			return;
		}
		if (rt__origin_refused(req, cfg, out)) {
			return;
		}
		if (rt__list_count(req, "channels") > cfg->max_subscriptions) {
			/* Refused before auth: no stream, no subscription, no reconnect loop. */
			rt__error(out, 400, "bad request: more channels than realtime.max_subscriptions");
			return;
		}
		out->proto = control ? RT_HTTP_SSE_CONTROL : RT_HTTP_STREAM_SSE;
		out->route = RT_ROUTE_UPGRADE;
		return;
	}
	if (path_len > 5 && rt_has_prefix(path, path_len, "/app/") && memchr(path + 5, '/', path_len - 5) == NULL) {
		out->proto = RT_HTTP_WS_PUSHER;
	} else if (path_len != strlen(cfg->path) || memcmp(path, cfg->path, path_len) != 0) {
		rt__error(out, 404, "not found");
		return;
	}
	if (req->method != HTTP_GET) {
		rt__error(out, 405, "method not allowed: use GET to open a WebSocket");
		return;
	}
	v = rt_http_req_header(req, RT_HDR_UPGRADE, &len);
	if (v == NULL || !rt__has_token(v, len, "websocket")) {
		rt__error(out, 426, "upgrade required: this path serves WebSocket connections");
		return;
	}
	v = rt_http_req_header(req, RT_HDR_CONNECTION, &len);
	if (v == NULL || !rt__has_token(v, len, "upgrade")) {
		rt__error(out, 400, "bad request: Connection must include Upgrade");
		return;
	}
	if (req->parser.http_major != 1 || req->parser.http_minor < 1) {
		rt__error(out, 400, "bad request: HTTP/1.1 required");
		return;
	}
	host = rt_http_req_header(req, RT_HDR_HOST, &host_len);
	if (host == NULL) {
		rt__error(out, 400, "bad request: missing Host");
		return;
	}
	v = rt_http_req_header(req, RT_HDR_WS_VERSION, &len);
	if (v == NULL || len != 2 || memcmp(v, "13", 2) != 0) {
		rt__error(out, 426, "unsupported WebSocket version: use 13");
		return;
	}
	v = rt_http_req_header(req, RT_HDR_WS_KEY, &len);
	if (v == NULL || !rt__key_valid(v, len)) {
		rt__error(out, 400, "bad request: invalid Sec-WebSocket-Key");
		return;
	}
	rt_http_accept_key(v, len, out->accept);
	v = rt_http_req_header(req, RT_HDR_ORIGIN, &len);
	if (v != NULL && !rt_config_origin_allowed(cfg, v, len, host, host_len)) {
		rt__error(out, 403, "forbidden: origin not allowed");
		return;
	}
	out->route = RT_ROUTE_UPGRADE;
}

void rt_http_accept_key(const char *key, size_t key_len, char *out)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	unsigned char input[64 + sizeof(guid)];
	unsigned char digest[SHA_DIGEST_LENGTH];

	if (key_len > 64) {
		key_len = 64; /* callers validate keys to 24 bytes */
	}
	memcpy(input, key, key_len);
	memcpy(input + key_len, guid, sizeof(guid) - 1);
	SHA1(input, key_len + sizeof(guid) - 1, digest);
	EVP_EncodeBlock((unsigned char *) out, digest, SHA_DIGEST_LENGTH);
}

const char *rt_http_status_text(int status)
{
	switch (status) {
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 202: return "Accepted";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 426: return "Upgrade Required";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

void rt_http_answer_init(rt_http_answer *a)
{
	a->status = 0;
	a->content_type = "text/plain";
	a->headers[0] = '\0';
	a->headers_len = 0;
	rt_sb_init(&a->body);
}

void rt_http_answer_free(rt_http_answer *a)
{
	rt_sb_free(&a->body);
}

void rt_http_answer_set(rt_http_answer *a, int status, const char *content_type,
		const char *body, size_t len)
{
	a->status = status;
	a->content_type = content_type;
	rt_sb_free(&a->body);
	rt_sb_init(&a->body);
	rt_sb_append(&a->body, body, len);
}

int rt_http_answer_header(rt_http_answer *a, const char *line)
{
	size_t n = strlen(line);

	if (a->headers_len + n + 2 >= sizeof(a->headers)) {
		return -ENOSPC;
	}
	memcpy(a->headers + a->headers_len, line, n);
	memcpy(a->headers + a->headers_len + n, "\r\n", 3);
	a->headers_len += n + 2;
	return 0;
}

rt_buf *rt_http_answer_write(const rt_http_answer *a, int keep_alive)
{
	static const char oom[] = "{\"error\":\"out of memory\",\"code\":503}";
	char head[160 + RT_HTTP_ANSWER_HEADERS];
	int status = a->status;
	const char *type = a->content_type ? a->content_type : "text/plain";
	const char *body = a->body.data ? a->body.data : "";
	size_t body_len = a->body.len;
	rt_buf *b;
	int n;

	if (status == 101) {
		/* The WebSocket upgrade: no body, and the connection stays. */
		n = snprintf(head, sizeof(head),
				"HTTP/1.1 101 Switching Protocols\r\n"
				"Upgrade: websocket\r\n"
				"Connection: Upgrade\r\n"
				"%s\r\n", a->headers);
		if (n < 0 || (size_t) n >= sizeof(head) || (b = rt_buf_new((size_t) n)) == NULL) {
			return NULL;
		}
		memcpy(b->data, head, (size_t) n);
		return b;
	}
	if (a->body.failed) {
		status = 503;
		type = "application/json";
		body = oom;
		body_len = sizeof(oom) - 1;
	}
	n = snprintf(head, sizeof(head),
			"HTTP/1.1 %d %s\r\n"
			"Content-Type: %s\r\n"
			"Content-Length: %zu\r\n"
			"%s"
			"Connection: %s\r\n"
			"%s\r\n",
			status, rt_http_status_text(status), type, body_len,
			/* a handler that set its own (hub/api/client_js.c) keeps it */
			strstr(a->headers, "Cache-Control:") ? "" : "Cache-Control: no-store\r\n",
			keep_alive ? "keep-alive" : "close", a->headers);
	if (n < 0 || (size_t) n >= sizeof(head) || (b = rt_buf_new((size_t) n + body_len)) == NULL) {
		return NULL;
	}
	memcpy(b->data, head, (size_t) n);
	if (body_len > 0) {
		memcpy(b->data + n, body, body_len);
	}
	return b;
}
