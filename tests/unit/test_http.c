/* hub/wire/http.c: request head parsing, upgrade routing, responses. */
#include "rt_test.h"

#include <errno.h>
#include <stdio.h>

#include <stdlib.h>

#include "hub/model/config.h"
#include "hub/wire/http.h"

#define BODY_MAX 4096

#define RFC_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

/* A browser's upgrade request (Host and Origin agree, so the default
 * same-origin policy lets it through). */
static const char upgrade_req[] =
		"GET /ws?token=abc HTTP/1.1\r\n"
		"Host: example.com:6001\r\n"
		"User-Agent: test\r\n"
		"Upgrade: websocket\r\n"
		"Connection: keep-alive, Upgrade\r\n"
		"Sec-WebSocket-Key: " RFC_KEY "\r\n"
		"Sec-WebSocket-Version: 13\r\n"
		"Origin: http://example.com:6001\r\n"
		"Cookie: session=xyz\r\n"
		"Authorization: Bearer t0k3n\r\n"
		"\r\n";

/* The first bytes of the client's WebSocket stream, sent right behind the head. */
static const char ws_tail[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";

static rt_http_req *new_req(void)
{
	rt_http_req *req = malloc(sizeof(*req));

	if (req != NULL) {
		rt_http_req_init(req, BODY_MAX);
	}
	return req;
}

static void check_header(const rt_http_req *req, int hdr, const char *want)
{
	size_t len = 12345;
	const char *v = rt_http_req_header(req, hdr, &len);

	if (want == NULL) {
		if (v != NULL || len != 0) {
			RT_FAIL_("header %d: expected none, got '%.*s'", hdr, (int) len, v ? v : "");
		}
		return;
	}
	if (v == NULL) {
		RT_FAIL_("header %d: missing, expected '%s'", hdr, want);
		return;
	}
	if (len != strlen(want) || memcmp(v, want, len) != 0) {
		RT_FAIL_("header %d: '%.*s', expected '%s'", hdr, (int) len, v, want);
		return;
	}
	/* Values are NUL-terminated in place. */
	RT_ASSERT_EQ_INT(v[len], '\0');
}

static void check_upgrade_req(const rt_http_req *req)
{
	size_t len;
	const char *path = rt_http_req_path(req, &len);

	RT_ASSERT_EQ_INT(req->method, HTTP_GET);
	RT_ASSERT_EQ_INT(len, 3);
	RT_ASSERT_MEM(path, "/ws", 3);
	check_header(req, RT_HDR_HOST, "example.com:6001");
	check_header(req, RT_HDR_UPGRADE, "websocket");
	check_header(req, RT_HDR_CONNECTION, "keep-alive, Upgrade");
	check_header(req, RT_HDR_WS_KEY, RFC_KEY);
	check_header(req, RT_HDR_WS_VERSION, "13");
	check_header(req, RT_HDR_ORIGIN, "http://example.com:6001");
	check_header(req, RT_HDR_COOKIE, "session=xyz");
	check_header(req, RT_HDR_AUTHORIZATION, "Bearer t0k3n");
}

RT_TEST(feed_whole_head_with_tail)
{
	size_t head = sizeof(upgrade_req) - 1;
	size_t total = head + sizeof(ws_tail) - 1;
	char *in = malloc(total);
	rt_http_req *req = new_req();
	size_t used = 0;

	RT_ASSERT(in != NULL && req != NULL);
	memcpy(in, upgrade_req, head);
	memcpy(in + head, ws_tail, sizeof(ws_tail) - 1);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, in, total, &used), RT_HTTP_DONE);
	/* Exactly the head: what follows belongs to the WebSocket stream. */
	RT_ASSERT_EQ_INT(used, head);
	check_upgrade_req(req);
	/* Once done, more input is not consumed. */
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, "junk", 4, &used), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(used, 0);
	free(in);
	rt_http_req_free(req);
}

RT_TEST(feed_byte_by_byte)
{
	size_t head = sizeof(upgrade_req) - 1;
	rt_http_req *req = new_req();
	size_t used, total_used = 0;
	int r = RT_HTTP_MORE;

	RT_ASSERT(req != NULL);
	for (size_t i = 0; i < head; i++) {
		char c = upgrade_req[i];
		r = rt_http_req_feed(req, &c, 1, &used);
		total_used += used;
		if (i + 1 < head && r != RT_HTTP_MORE) {
			RT_FAIL_("byte %zu: result %d before the head ended", i, r);
			rt_http_req_free(req);
			return;
		}
	}
	RT_ASSERT_EQ_INT(r, RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(total_used, head);
	r = rt_http_req_feed(req, ws_tail, sizeof(ws_tail) - 1, &used);
	RT_ASSERT_EQ_INT(r, RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(used, 0);
	check_upgrade_req(req);
	rt_http_req_free(req);
}

/* Split in two at every possible point, with the WebSocket bytes behind
 * the head: same result, and used always adds up to the head. */
RT_TEST(feed_split_everywhere)
{
	size_t head = sizeof(upgrade_req) - 1;
	size_t total = head + sizeof(ws_tail) - 1;
	char in[sizeof(upgrade_req) + sizeof(ws_tail)];
	rt_http_req *req = malloc(sizeof(*req));

	RT_ASSERT(req != NULL);
	memcpy(in, upgrade_req, head);
	memcpy(in + head, ws_tail, sizeof(ws_tail) - 1);
	for (size_t k = 1; k < total; k++) {
		size_t u1 = 0, u2 = 0;
		int r1, r2;

		rt_http_req_init(req, BODY_MAX);
		r1 = rt_http_req_feed(req, in, k, &u1);
		r2 = rt_http_req_feed(req, in + k, total - k, &u2);
		if ((k < head && r1 != RT_HTTP_MORE) || (k >= head && r1 != RT_HTTP_DONE)
				|| r2 != RT_HTTP_DONE || u1 + u2 != head) {
			RT_FAIL_("split at %zu: r1=%d r2=%d used=%zu+%zu, head is %zu",
					k, r1, r2, u1, u2, head);
			break;
		}
		check_upgrade_req(req);
		if (rt_test_cur_failed_) {
			printf("#     (split at %zu)\n", k);
			break;
		}
	}
	rt_http_req_free(req);
}

static int feed_all(rt_http_req *req, const char *s, size_t *used)
{
	rt_http_req_init(req, BODY_MAX);
	return rt_http_req_feed(req, s, strlen(s), used);
}

RT_TEST(header_names_case_insensitive)
{
	rt_http_req *req = new_req();
	size_t used;

	RT_ASSERT(req != NULL);
	RT_ASSERT_EQ_INT(feed_all(req,
			"GET /ws HTTP/1.1\r\n"
			"hOsT: h\r\n"
			"UPGRADE: WebSocket\r\n"
			"connection: UPGRADE\r\n"
			"SEC-WEBSOCKET-KEY: k\r\n"
			"sec-websocket-version: 13\r\n"
			"oRiGiN: http://h\r\n"
			"\r\n", &used), RT_HTTP_DONE);
	check_header(req, RT_HDR_HOST, "h");
	check_header(req, RT_HDR_UPGRADE, "WebSocket"); /* values keep their case */
	check_header(req, RT_HDR_CONNECTION, "UPGRADE");
	check_header(req, RT_HDR_WS_KEY, "k");
	check_header(req, RT_HDR_WS_VERSION, "13");
	check_header(req, RT_HDR_ORIGIN, "http://h");
	check_header(req, RT_HDR_COOKIE, NULL);
	check_header(req, RT_HDR_AUTHORIZATION, NULL);
	rt_http_req_free(req);
}

RT_TEST(repeated_header_keeps_first)
{
	rt_http_req *req = new_req();
	size_t used;

	RT_ASSERT(req != NULL);
	RT_ASSERT_EQ_INT(feed_all(req,
			"GET /ws HTTP/1.1\r\n"
			"Host: first.example\r\n"
			"Origin: http://first.example\r\n"
			"X-Other: 1\r\n"
			"host: second.example\r\n"
			"Origin: http://evil.example\r\n"
			"Cookie: a=1\r\n"
			"Cookie: b=2\r\n"
			"\r\n", &used), RT_HTTP_DONE);
	check_header(req, RT_HDR_HOST, "first.example");
	check_header(req, RT_HDR_ORIGIN, "http://first.example");
	check_header(req, RT_HDR_COOKIE, "a=1");
	rt_http_req_free(req);
}

/* Only exact names count: longer or shorter names with a tracked prefix
 * are other headers, and very long names are ignored safely. */
RT_TEST(similar_header_names_ignored)
{
	rt_http_req *req = new_req();
	char long_name[300];
	size_t used;

	RT_ASSERT(req != NULL);
	memset(long_name, 'X', sizeof(long_name));
	memcpy(long_name, "GET /ws HTTP/1.1\r\nOrigin", 24);
	memcpy(long_name + 280, ": x\r\nHost: h\r\n\r\n", 17);
	RT_ASSERT_EQ_INT(feed_all(req, long_name, &used), RT_HTTP_DONE);
	check_header(req, RT_HDR_ORIGIN, NULL);
	check_header(req, RT_HDR_HOST, "h");

	RT_ASSERT_EQ_INT(feed_all(req,
			"GET /ws HTTP/1.1\r\n"
			"Hostname: a\r\n"
			"Hos: b\r\n"
			"Origin-Agent-Cluster: ?1\r\n"
			"Sec-WebSocket-Key2: k\r\n"
			"Sec-WebSocket-Extensions: permessage-deflate\r\n"
			"\r\n", &used), RT_HTTP_DONE);
	check_header(req, RT_HDR_HOST, NULL);
	check_header(req, RT_HDR_ORIGIN, NULL);
	check_header(req, RT_HDR_WS_KEY, NULL);
	rt_http_req_free(req);
}

RT_TEST(path_without_query)
{
	rt_http_req *req = new_req();
	size_t used, len;
	const char *p;

	RT_ASSERT(req != NULL);
	RT_ASSERT_EQ_INT(feed_all(req, "GET /a/b?c=d?e HTTP/1.1\r\nHost: h\r\n\r\n", &used),
			RT_HTTP_DONE);
	p = rt_http_req_path(req, &len);
	RT_ASSERT_EQ_INT(len, 4);
	RT_ASSERT_MEM(p, "/a/b", 4);
	RT_ASSERT_EQ_INT(feed_all(req, "GET / HTTP/1.1\r\n\r\n", &used), RT_HTTP_DONE);
	p = rt_http_req_path(req, &len);
	RT_ASSERT_EQ_INT(len, 1);
	RT_ASSERT_MEM(p, "/", 1);
	rt_http_req_free(req);
}

/* A head of 9 KB: larger than RT_HTTP_HEAD_MAX (8 KB). */
static char *big_head(size_t *len)
{
	static const char start[] = "GET /ws HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	static const char end[] = "\r\n\r\n";
	size_t pad = 9 * 1024;
	char *s = malloc(sizeof(start) + pad + sizeof(end));

	if (s == NULL) {
		return NULL;
	}
	memcpy(s, start, sizeof(start) - 1);
	memset(s + sizeof(start) - 1, 'p', pad);
	memcpy(s + sizeof(start) - 1 + pad, end, sizeof(end));
	*len = sizeof(start) - 1 + pad + sizeof(end) - 1;
	return s;
}

RT_TEST(oversized_head_in_pieces)
{
	size_t len, used;
	char *s = big_head(&len);
	rt_http_req *req = new_req();
	int r = RT_HTTP_MORE;
	size_t i;

	RT_ASSERT(s != NULL && req != NULL);
	for (i = 0; i < len && r == RT_HTTP_MORE; i += 512) {
		size_t n = len - i < 512 ? len - i : 512;
		r = rt_http_req_feed(req, s + i, n, &used);
	}
	RT_ASSERT_EQ_INT(r, RT_HTTP_BAD);
	RT_ASSERT(i <= RT_HTTP_HEAD_MAX + 512);
	/* Stays bad. */
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, "\r\n\r\n", 4, &used), RT_HTTP_BAD);
	free(s);
	rt_http_req_free(req);
}

/* KNOWN BUG (hub/wire/http.c rt__on_headers_complete / rt_http_req_feed): a
 * 9 KB head that arrives in one read (the hub reads 64 KB at a time) is
 * accepted. The check added in rt__on_headers_complete compares
 * p->nread with RT_HTTP_HEAD_MAX, but http_parser (2.9.4 here) resets
 * nread to 0 before it calls on_headers_complete, so it never fires; and
 * rt_http_req_feed only checks head_bytes while the head is incomplete. */
RT_TEST(oversized_head_in_one_piece_BUG)
{
	size_t len, used;
	char *s = big_head(&len);
	rt_http_req *req = new_req();

	RT_ASSERT(s != NULL && req != NULL);
	int r = rt_http_req_feed(req, s, len, &used);
	free(s);
	rt_http_req_free(req);
	RT_ASSERT_EQ_INT(r, RT_HTTP_BAD);
}

/* A head of exactly RT_HTTP_HEAD_MAX bytes is fine, in one piece or two. */
RT_TEST(head_at_limit_accepted)
{
	static const char start[] = "GET /ws HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	char *s = malloc(RT_HTTP_HEAD_MAX + 1);
	rt_http_req *req = new_req();
	size_t pad = RT_HTTP_HEAD_MAX - (sizeof(start) - 1) - 4, used;

	RT_ASSERT(s != NULL && req != NULL);
	memcpy(s, start, sizeof(start) - 1);
	memset(s + sizeof(start) - 1, 'p', pad);
	memcpy(s + sizeof(start) - 1 + pad, "\r\n\r\n", 5);
	RT_ASSERT_EQ_INT(strlen(s), RT_HTTP_HEAD_MAX);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, s, RT_HTTP_HEAD_MAX, &used), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(used, RT_HTTP_HEAD_MAX);
	rt_http_req_init(req, BODY_MAX);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, s, 5000, &used), RT_HTTP_MORE);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, s + 5000, RT_HTTP_HEAD_MAX - 5000, &used), RT_HTTP_DONE);
	free(s);
	rt_http_req_free(req);
}

/* A tracked header too large for the value buffer. */
RT_TEST(oversized_cookie)
{
	size_t len, used;
	char *s = big_head(&len);
	rt_http_req *req = new_req();

	RT_ASSERT(s != NULL && req != NULL);
	memcpy(s + 27, "Cookie: ", 8); /* "X-Pad: p" becomes "Cookie: " */
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, s, len, &used), RT_HTTP_BAD);
	free(s);
	rt_http_req_free(req);
}

RT_TEST(garbage_is_bad)
{
	static const char *const junk[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS ClientHello */
		"HELLO WORLD\r\n\r\n",
		"GET\r\n\r\n",
		"GET /ws HTTP/1.1\r\nNo colon here\r\n\r\n",
		"GET /ws HTTP/1.1\r\nHost: a\r\n\x01\x02: x\r\n\r\n",
	};
	rt_http_req *req = new_req();
	size_t used;

	RT_ASSERT(req != NULL);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		size_t n = strlen(junk[i]);
		int r;
		rt_http_req_init(req, BODY_MAX);
		r = rt_http_req_feed(req, junk[i], n, &used);
		if (r != RT_HTTP_BAD) {
			RT_FAIL_("junk %zu: result %d, expected RT_HTTP_BAD", i, r);
			break;
		}
		RT_ASSERT_EQ_INT(rt_http_req_feed(req, "GET / HTTP/1.1\r\n\r\n", 18, &used),
				RT_HTTP_BAD);
	}
	rt_http_req_free(req);
}

/* ---- routing ---- */

static rt_http_decision route_cfg(const char *head, const rt_config *cfg)
{
	rt_http_req *req = new_req();
	rt_http_decision d;
	size_t used;

	memset(&d, 0, sizeof(d));
	d.status = -1;
	if (req == NULL) {
		return d;
	}
	if (rt_http_req_feed(req, head, strlen(head), &used) != RT_HTTP_DONE) {
		rt_http_req_free(req);
		d.status = -2;
		return d;
	}
	rt_http_route_request(req, cfg, &d);
	rt_http_req_free(req);
	return d;
}

static rt_http_decision route(const char *head)
{
	rt_config cfg;

	rt_config_defaults(&cfg);
	return route_cfg(head, &cfg);
}

/* An upgrade request with one line replaced (or dropped with ""). */
static char *variant(const char *field, const char *line)
{
	static char out[2048];
	static const char *const lines[][2] = {
		{"start", "GET /ws HTTP/1.1"},
		{"host", "Host: example.com:6001"},
		{"upgrade", "Upgrade: websocket"},
		{"connection", "Connection: Upgrade"},
		{"key", "Sec-WebSocket-Key: " RFC_KEY},
		{"version", "Sec-WebSocket-Version: 13"},
		{"origin", "Origin: http://example.com:6001"},
	};
	char *p = out;

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const char *l = strcmp(lines[i][0], field) == 0 ? line : lines[i][1];
		if (*l) {
			p += sprintf(p, "%s\r\n", l);
		}
	}
	sprintf(p, "\r\n");
	return out;
}

static void expect_status(const char *field, const char *line, int status)
{
	rt_http_decision d = route(variant(field, line));

	if (d.route != RT_ROUTE_ERROR || d.status != status) {
		RT_FAIL_("with '%s': route %d status %d, expected error %d", line, d.route,
				d.status, status);
		return;
	}
	if (d.reason == NULL || d.reason[0] == '\0') {
		RT_FAIL_("with '%s': no reason", line);
	}
}

static void expect_upgrade(const char *field, const char *line)
{
	rt_http_decision d = route(variant(field, line));

	if (d.route != RT_ROUTE_UPGRADE) {
		RT_FAIL_("with '%s': route %d status %d (%s), expected an upgrade", line,
				d.route, d.status, d.reason ? d.reason : "");
		return;
	}
}

RT_TEST(route_upgrade_rfc_example)
{
	rt_http_decision d = route(upgrade_req);

	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_UPGRADE);
	RT_ASSERT_EQ_STR(d.accept, RFC_ACCEPT);
	d = route(variant("", ""));
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_UPGRADE);
	RT_ASSERT_EQ_STR(d.accept, RFC_ACCEPT);
}

RT_TEST(accept_key)
{
	char out[64];

	memset(out, 'x', sizeof(out));
	rt_http_accept_key(RFC_KEY, strlen(RFC_KEY), out);
	RT_ASSERT_EQ_STR(out, RFC_ACCEPT);
	/* Another pair, computed independently. */
	rt_http_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", 24, out);
	RT_ASSERT_EQ_STR(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

RT_TEST(route_paths)
{
	expect_status("start", "GET /other HTTP/1.1", 404);
	expect_status("start", "GET / HTTP/1.1", 404);
	expect_status("start", "GET /ws/ HTTP/1.1", 404);
	expect_status("start", "GET /wss HTTP/1.1", 404);
	expect_status("start", "GET /w HTTP/1.1", 404);
	expect_status("start", "GET /WS HTTP/1.1", 404);
	expect_upgrade("start", "GET /ws?token=1&x=2 HTTP/1.1");
}

RT_TEST(route_custom_path)
{
	rt_config cfg;
	char err[256];
	rt_http_decision d;

	rt_config_defaults(&cfg);
	RT_ASSERT_EQ_INT(rt_config_set(&cfg, "path", "/realtime", err, sizeof(err)), 0);
	d = route_cfg(variant("", ""), &cfg);
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_ERROR);
	RT_ASSERT_EQ_INT(d.status, 404);
	d = route_cfg(variant("start", "GET /realtime HTTP/1.1"), &cfg);
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_UPGRADE);
}

RT_TEST(route_methods)
{
	expect_status("start", "POST /ws HTTP/1.1", 405);
	expect_status("start", "PUT /ws HTTP/1.1", 405);
	expect_status("start", "HEAD /ws HTTP/1.1", 405);
}

RT_TEST(route_health)
{
	rt_http_decision d = route("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");

	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_HEALTH);
	d = route("GET /health?verbose=1 HTTP/1.0\r\n\r\n");
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_HEALTH);
	d = route("POST /health HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_ERROR);
	RT_ASSERT_EQ_INT(d.status, 405);
	d = route("GET /healthz HTTP/1.1\r\n\r\n");
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_ERROR);
	RT_ASSERT_EQ_INT(d.status, 404);
}

RT_TEST(route_upgrade_header)
{
	expect_status("upgrade", "", 426);
	expect_status("upgrade", "Upgrade: h2c", 426);
	expect_status("upgrade", "Upgrade: websockets", 426);
	expect_upgrade("upgrade", "Upgrade: WebSocket");
	expect_upgrade("upgrade", "Upgrade: foo, websocket");
}

RT_TEST(route_connection_header)
{
	expect_status("connection", "", 400);
	expect_status("connection", "Connection: keep-alive", 400);
	expect_status("connection", "Connection: upgrades", 400);
	expect_upgrade("connection", "Connection: upgrade");
	expect_upgrade("connection", "Connection: keep-alive, Upgrade");
	expect_upgrade("connection", "Connection: Upgrade , close");
}

RT_TEST(route_http_version_and_host)
{
	expect_status("start", "GET /ws HTTP/1.0", 400);
	expect_status("start", "GET /ws HTTP/2.0", 400);
	expect_status("start", "GET /ws HTTP/9.9", 400);
	expect_status("host", "", 400);
}

RT_TEST(route_ws_version)
{
	expect_status("version", "Sec-WebSocket-Version: 12", 426);
	expect_status("version", "Sec-WebSocket-Version: 8", 426);
	expect_status("version", "Sec-WebSocket-Version: 130", 426);
	expect_status("version", "", 426);
}

RT_TEST(route_bad_keys)
{
	expect_status("key", "", 400);
	expect_status("key", "Sec-WebSocket-Key: ", 400);
	expect_status("key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=", 400);   /* 23 */
	expect_status("key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ===", 400); /* 25 */
	expect_status("key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZ!==", 400);  /* bad char */
	expect_status("key", "Sec-WebSocket-Key: dGhlIHNhbXBsZS=ub25jZQ==", 400);  /* '=' inside */
	expect_status("key", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ-_", 400);  /* base64url */
	expect_status("key", "Sec-WebSocket-Key: ========================", 400);
	expect_upgrade("key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==");
	expect_upgrade("key", "Sec-WebSocket-Key: /+/+/+/+/+/+/+/+/+/+/w==");
}

/* RFC 6455 4.2.1: the key decodes to 16 bytes, so it ends in "==" after
 * a character carrying 2 bits; other 24-character base64 strings decode
 * to 17 or 18 bytes. */
RT_TEST(route_key_must_decode_to_16_bytes)
{
	expect_status("key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA", 400);  /* 18 bytes */
	expect_status("key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA=", 400);  /* 17 bytes */
	expect_status("key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAB==", 400);  /* stray bits */
	expect_upgrade("key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAQ==");
	expect_upgrade("key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAg==");
}

RT_TEST(route_origin_same_origin)
{
	expect_upgrade("origin", "");   /* not a browser: no Origin */
	expect_upgrade("origin", "Origin: http://example.com:6001");
	expect_upgrade("origin", "Origin: https://EXAMPLE.com:6001");
	expect_status("origin", "Origin: http://evil.example", 403);
	expect_status("origin", "Origin: http://example.com", 403);
	expect_status("origin", "Origin: null", 403);
}

RT_TEST(route_origin_allowlist)
{
	rt_config cfg;
	char err[256];
	rt_http_decision d;

	rt_config_defaults(&cfg);
	RT_ASSERT_EQ_INT(rt_config_set(&cfg, "allowed_origins", "https://app.example", err,
			sizeof(err)), 0);
	d = route_cfg(variant("origin", "Origin: https://app.example"), &cfg);
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_UPGRADE);
	RT_ASSERT_EQ_STR(d.accept, RFC_ACCEPT);
	d = route_cfg(variant("origin", "Origin: http://example.com:6001"), &cfg);
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_ERROR);
	RT_ASSERT_EQ_INT(d.status, 403);
}

/* Checks come in a fixed order: the first problem is the one reported. */
RT_TEST(route_check_order)
{
	rt_http_decision d = route("POST /nope HTTP/1.1\r\nContent-Length: 0\r\n\r\n");

	RT_ASSERT_EQ_INT(d.status, 404);
	d = route("POST /ws HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	RT_ASSERT_EQ_INT(d.status, 405);
	d = route("GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
	RT_ASSERT_EQ_INT(d.status, 426);
}

/* The HTTP APIs read a body first; routing only recognises their paths. */
RT_TEST(route_api_paths)
{
	rt_http_decision d = route("POST /publish HTTP/1.1\r\nContent-Length: 0\r\n\r\n");

	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_API);
	d = route("POST /apps/1/events HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_API);
	d = route("GET /apps/1/channels?x=1 HTTP/1.1\r\n\r\n");
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_API);
	d = route("POST /publish/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_ERROR);
	RT_ASSERT_EQ_INT(d.status, 404);
	d = route("POST /publis HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	RT_ASSERT_EQ_INT(d.status, 404);
}

/* Pusher clients connect to /app/<key>, native ones to realtime.path. */
RT_TEST(route_protocols)
{
	rt_http_decision d = route(variant("start", "GET /app/realtime?protocol=7 HTTP/1.1"));

	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_UPGRADE);
	RT_ASSERT_EQ_INT(d.proto, RT_HTTP_WS_PUSHER);
	RT_ASSERT_EQ_STR(d.accept, RFC_ACCEPT);
	d = route(variant("", ""));
	RT_ASSERT_EQ_INT(d.route, RT_ROUTE_UPGRADE);
	RT_ASSERT_EQ_INT(d.proto, RT_HTTP_WS_NATIVE);
	expect_status("start", "GET /app/ HTTP/1.1", 404);
	expect_status("start", "GET /app/key/more HTTP/1.1", 404);
	expect_status("start", "POST /app/key HTTP/1.1", 405);
}

static void check_query(const rt_http_req *req, const char *name, const char *want)
{
	size_t len = 99;
	const char *v = rt_http_req_query(req, name, &len);

	if (want == NULL) {
		if (v != NULL) {
			RT_FAIL_("?%s: expected none, got '%.*s'", name, (int) len, v);
		}
		return;
	}
	if (v == NULL || len != strlen(want) || memcmp(v, want, len) != 0) {
		RT_FAIL_("?%s: got '%.*s', expected '%s'", name, v ? (int) len : 4, v ? v : "NULL", want);
	}
}

RT_TEST(query_parameters)
{
	rt_http_req *req = new_req();
	size_t used;

	RT_ASSERT(req != NULL);
	RT_ASSERT_EQ_INT(feed_all(req, "GET /ws?flag&token=a.b%2Ec&x=1&empty=&tokenx=no&=v HTTP/1.1\r\n\r\n",
			&used), RT_HTTP_DONE);
	check_query(req, "token", "a.b%2Ec"); /* raw: not decoded */
	check_query(req, "x", "1");
	check_query(req, "empty", "");
	check_query(req, "flag", NULL);
	check_query(req, "tok", NULL);
	check_query(req, "missing", NULL);
	check_query(req, "tokenx", "no");
	RT_ASSERT_EQ_INT(feed_all(req, "GET /ws HTTP/1.1\r\n\r\n", &used), RT_HTTP_DONE);
	check_query(req, "token", NULL);
	/* The query ends at the URL: header bytes do not count. */
	RT_ASSERT_EQ_INT(feed_all(req, "GET /ws?a=1 HTTP/1.1\r\nX: &token=h\r\n\r\n", &used),
			RT_HTTP_DONE);
	check_query(req, "token", NULL);
	check_query(req, "a", "1");
	rt_http_req_free(req);
}

static const char post_head[] =
		"POST /publish HTTP/1.1\r\n"
		"Host: x\r\n"
		"Content-Length: 11\r\n"
		"\r\n";

RT_TEST(body_with_head)
{
	char in[256];
	rt_http_req *req = new_req();
	size_t used, n = sizeof(post_head) - 1;

	RT_ASSERT(req != NULL);
	memcpy(in, post_head, n);
	memcpy(in + n, "hello world", 11);
	/* Pipelined bytes after the request are ignored. */
	memcpy(in + n + 11, "GET / HTTP/1.1\r\n\r\n", 18);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, in, n + 11 + 18, &used), RT_HTTP_DONE);
	RT_ASSERT(used >= n && used <= n + 11);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, in + used, n + 11 - used), RT_HTTP_DONE);
	RT_ASSERT(req->complete);
	RT_ASSERT_EQ_INT(req->body.len, 11);
	RT_ASSERT_MEM(req->body.data, "hello world", 11);
	RT_ASSERT(!req->body_too_large);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, "more", 4), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(req->body.len, 11);
	rt_http_req_free(req);
}

RT_TEST(body_in_pieces)
{
	rt_http_req *req = new_req();
	size_t used;

	RT_ASSERT(req != NULL);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, post_head, sizeof(post_head) - 1, &used), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(used, sizeof(post_head) - 1);
	RT_ASSERT(!req->complete);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, "", 0), RT_HTTP_MORE);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, "hello", 5), RT_HTTP_MORE);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, " ", 1), RT_HTTP_MORE);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, "world", 5), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(req->body.len, 11);
	RT_ASSERT_MEM(req->body.data, "hello world", 11);
	rt_http_req_free(req);
}

/* A body larger than a head may be arrives with its head in one read:
 * whatever the head parse leaves goes to rt_http_req_feed_body. */
RT_TEST(large_body_with_head)
{
	enum { BODY = 20000 };
	char head[128];
	int hn = snprintf(head, sizeof(head), "POST /publish HTTP/1.1\r\nContent-Length: %d\r\n\r\n", BODY);
	char *in = malloc((size_t) hn + BODY);
	rt_http_req *req = malloc(sizeof(*req));
	size_t used;

	RT_ASSERT(in != NULL && req != NULL);
	memcpy(in, head, (size_t) hn);
	for (int i = 0; i < BODY; i++) {
		in[hn + i] = (char) ('a' + i % 26);
	}
	rt_http_req_init(req, 1 << 20);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, in, (size_t) hn + BODY, &used), RT_HTTP_DONE);
	RT_ASSERT(used >= (size_t) hn && used <= (size_t) hn + BODY);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, in + used, (size_t) hn + BODY - used), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(req->body.len, BODY);
	RT_ASSERT_MEM(req->body.data, in + hn, BODY);
	free(in);
	rt_http_req_free(req);
}

RT_TEST(body_too_large)
{
	rt_http_req *req = malloc(sizeof(*req));
	size_t used;

	RT_ASSERT(req != NULL);
	rt_http_req_init(req, 4);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, post_head, sizeof(post_head) - 1, &used), RT_HTTP_DONE);
	/* Read to the end (so the answer can be sent), but not kept. */
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, "hello world", 11), RT_HTTP_DONE);
	RT_ASSERT(req->body_too_large);
	RT_ASSERT(req->body.len <= 4);
	rt_http_req_free(req);
}

RT_TEST(chunked_body)
{
	static const char in[] =
			"POST /publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	rt_http_req *req = new_req();
	size_t used;

	RT_ASSERT(req != NULL);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, in, sizeof(in) - 1, &used), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, in + used, sizeof(in) - 1 - used), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(req->body.len, 11);
	RT_ASSERT_MEM(req->body.data, "hello world", 11);
	rt_http_req_free(req);
}

RT_TEST(bad_body_framing)
{
	static const char head[] = "POST /publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	rt_http_req *req = new_req();
	size_t used;

	RT_ASSERT(req != NULL);
	RT_ASSERT_EQ_INT(rt_http_req_feed(req, head, sizeof(head) - 1, &used), RT_HTTP_DONE);
	RT_ASSERT_EQ_INT(rt_http_req_feed_body(req, "zz\r\nnot hex\r\n", 15), RT_HTTP_BAD);
	rt_http_req_free(req);
}

/* ---- responses ---- */

/* The one writer of every HTTP answer the hub sends. */
static void check_answer(const rt_http_answer *a, int keep, const char *want)
{
	rt_buf *b = rt_http_answer_write(a, keep);

	RT_ASSERT(b != NULL);
	RT_ASSERT_EQ_INT(b->len, strlen(want));
	RT_ASSERT(memcmp(b->data, want, b->len) == 0);
	rt_buf_unref(b);
}

RT_TEST(response_format)
{
	rt_http_answer a;

	rt_http_answer_init(&a);
	rt_http_answer_set(&a, 404, "text/plain", "not found\n", 10);
	check_answer(&a, 0,
			"HTTP/1.1 404 Not Found\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Length: 10\r\n"
			"Cache-Control: no-store\r\n"
			"Connection: close\r\n"
			"\r\n"
			"not found\n");
	rt_http_answer_free(&a);
}

RT_TEST(response_extra_headers_and_empty_body)
{
	rt_http_answer a;

	rt_http_answer_init(&a);
	rt_http_answer_set(&a, 426, "text/plain", "", 0);
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, "Upgrade: websocket"), 0);
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, "Sec-WebSocket-Version: 13"), 0);
	check_answer(&a, 0,
			"HTTP/1.1 426 Upgrade Required\r\n"
			"Content-Type: text/plain\r\n"
			"Content-Length: 0\r\n"
			"Cache-Control: no-store\r\n"
			"Connection: close\r\n"
			"Upgrade: websocket\r\n"
			"Sec-WebSocket-Version: 13\r\n"
			"\r\n");
	rt_http_answer_free(&a);
}

RT_TEST(response_keep_alive)
{
	rt_http_answer a;

	rt_http_answer_init(&a);
	rt_http_answer_set(&a, 200, "application/json", "{}", 2);
	check_answer(&a, 1,
			"HTTP/1.1 200 OK\r\n"
			"Content-Type: application/json\r\n"
			"Content-Length: 2\r\n"
			"Cache-Control: no-store\r\n"
			"Connection: keep-alive\r\n"
			"\r\n"
			"{}");
	rt_http_answer_free(&a);
}

/* Header lines are bounded: one that does not fit is refused whole, and
 * what was added before it stays intact. */
RT_TEST(response_headers_bounded)
{
	rt_http_answer a;
	char line[RT_HTTP_ANSWER_HEADERS];

	rt_http_answer_init(&a);
	rt_http_answer_set(&a, 503, "text/plain", "x", 1);
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, "Retry-After: 5"), 0);
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, line), -ENOSPC);
	line[sizeof(line) - 19] = '\0'; /* with the 16 bytes before it and CRLF: the last byte fits */
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, line), 0);
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, line), -ENOSPC);
	RT_ASSERT_EQ_INT(strncmp(a.headers, "Retry-After: 5\r\naaa", 19), 0);
	RT_ASSERT_EQ_INT(strlen(a.headers), a.headers_len);
	rt_http_answer_free(&a);
}

/* The WebSocket upgrade's answer goes through the same writer. */
RT_TEST(response_upgrade)
{
	rt_http_answer a;

	rt_http_answer_init(&a);
	a.status = 101;
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), 0);
	check_answer(&a, 0,
			"HTTP/1.1 101 Switching Protocols\r\n"
			"Upgrade: websocket\r\n"
			"Connection: Upgrade\r\n"
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			"\r\n");
	rt_http_answer_free(&a);
}

/* A body whose assembly ran out of memory is never sent cut short. */
RT_TEST(response_body_out_of_memory)
{
	rt_http_answer a;
	const char *oom = "{\"error\":\"out of memory\",\"code\":503}";
	char want[256];

	rt_http_answer_init(&a);
	rt_http_answer_set(&a, 200, "application/json", "{\"partial\"", 10);
	a.body.failed = 1;
	snprintf(want, sizeof(want),
			"HTTP/1.1 503 Service Unavailable\r\n"
			"Content-Type: application/json\r\n"
			"Content-Length: %zu\r\n"
			"Cache-Control: no-store\r\n"
			"Connection: close\r\n"
			"\r\n%s", strlen(oom), oom);
	check_answer(&a, 0, want);
	rt_http_answer_free(&a);
}

RT_TEST(status_texts)
{
	RT_ASSERT_EQ_STR(rt_http_status_text(101), "Switching Protocols");
	RT_ASSERT_EQ_STR(rt_http_status_text(200), "OK");
	RT_ASSERT_EQ_STR(rt_http_status_text(400), "Bad Request");
	RT_ASSERT_EQ_STR(rt_http_status_text(403), "Forbidden");
	RT_ASSERT_EQ_STR(rt_http_status_text(404), "Not Found");
	RT_ASSERT_EQ_STR(rt_http_status_text(405), "Method Not Allowed");
	RT_ASSERT_EQ_STR(rt_http_status_text(411), "Length Required");
	RT_ASSERT_EQ_STR(rt_http_status_text(413), "Payload Too Large");
	RT_ASSERT_EQ_STR(rt_http_status_text(503), "Service Unavailable");
	RT_ASSERT(rt_http_status_text(599) != NULL);
	RT_ASSERT(rt_http_status_text(0) != NULL);
}

/* The JavaScript client's paths: /NAME and {realtime.path}/NAME, nothing near them. */
RT_TEST(client_js_paths)
{
	rt_config cfg;
	size_t n = 0;
	const char *name;

	rt_config_defaults(&cfg);
	name = rt_http_client_js_name("/realtime.js", 12, &cfg, &n);
	RT_ASSERT(name != NULL && n == 11 && memcmp(name, "realtime.js", 11) == 0);
	name = rt_http_client_js_name("/ws/realtime.global.js", 22, &cfg, &n);
	RT_ASSERT(name != NULL && n == 18 && memcmp(name, "realtime.global.js", 18) == 0);
	RT_ASSERT(rt_http_client_js_name("/ws/realtime.jsx", 16, &cfg, &n) == NULL);
	RT_ASSERT(rt_http_client_js_name("/wsx/realtime.js", 16, &cfg, &n) == NULL);
	RT_ASSERT(rt_http_client_js_name("/w/realtime.js", 14, &cfg, &n) == NULL);
	RT_ASSERT(rt_http_client_js_name("realtime.js", 11, &cfg, &n) == NULL);
	RT_ASSERT(rt_http_client_js_name("/ws", 3, &cfg, &n) == NULL);
	RT_ASSERT(rt_http_client_js_name("", 0, &cfg, &n) == NULL);
	/* realtime.path "/": only /realtime.js, not "//realtime.js". */
	snprintf(cfg.path, sizeof(cfg.path), "/");
	RT_ASSERT(rt_http_client_js_name("/realtime.js", 12, &cfg, &n) != NULL);
	RT_ASSERT(rt_http_client_js_name("//realtime.js", 13, &cfg, &n) == NULL);
}

static int rt__has(const rt_buf *b, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= b->len; i++) {
		if (memcmp(b->data + i, needle, n) == 0) {
			return 1;
		}
	}
	return 0;
}

/* A handler's own Cache-Control replaces the default no-store. */
RT_TEST(response_own_cache_control)
{
	rt_http_answer a;
	rt_buf *b;

	rt_http_answer_init(&a);
	rt_http_answer_set(&a, 304, "text/javascript", "", 0);
	RT_ASSERT_EQ_INT(rt_http_answer_header(&a, "Cache-Control: public, max-age=300"), 0);
	b = rt_http_answer_write(&a, 1);
	RT_ASSERT(b != NULL);
	RT_ASSERT(rt__has(b, "HTTP/1.1 304 Not Modified\r\n"));
	RT_ASSERT(!rt__has(b, "no-store"));
	RT_ASSERT(rt__has(b, "Cache-Control: public, max-age=300\r\n"));
	rt_buf_unref(b);
	rt_http_answer_free(&a);
}

/* Every decoder writes through an explicit bound, so a hostile URL cannot
 * write past its output. */
RT_TEST(url_decode_stops_at_its_bound)
{
	static const struct {
		const char *in;
		int plus;
		const char *out;
	} cases[] = {
		{"a%20b+c", 1, "a b c"},
		{"a%20b+c", 0, "a b+c"},
		{"%", 0, "%"},
		{"%4", 0, "%4"},
		{"%zz%41", 0, "%zzA"},
		{"", 0, ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in), want = strlen(cases[i].out);
		for (size_t cap = 0; cap <= len + 1; cap++) {
			char *out = malloc(cap ? cap : 1);
			long got = rt_http_url_decode(cases[i].in, len, cases[i].plus, out, cap);
			if (cap < want + 1) {
				RT_ASSERT_EQ_INT(got, -ENOSPC);
			} else {
				RT_ASSERT_EQ_INT(got, (long) want);
				RT_ASSERT_EQ_STR(out, cases[i].out);
			}
			free(out);
		}
	}
}

int main(void)
{
	RT_RUN(feed_whole_head_with_tail);
	RT_RUN(feed_byte_by_byte);
	RT_RUN(feed_split_everywhere);
	RT_RUN(header_names_case_insensitive);
	RT_RUN(repeated_header_keeps_first);
	RT_RUN(similar_header_names_ignored);
	RT_RUN(path_without_query);
	RT_RUN(oversized_head_in_pieces);
	RT_RUN(oversized_head_in_one_piece_BUG);
	RT_RUN(head_at_limit_accepted);
	RT_RUN(oversized_cookie);
	RT_RUN(garbage_is_bad);
	RT_RUN(route_upgrade_rfc_example);
	RT_RUN(accept_key);
	RT_RUN(route_paths);
	RT_RUN(route_custom_path);
	RT_RUN(route_methods);
	RT_RUN(route_health);
	RT_RUN(route_upgrade_header);
	RT_RUN(route_connection_header);
	RT_RUN(route_http_version_and_host);
	RT_RUN(route_ws_version);
	RT_RUN(route_bad_keys);
	RT_RUN(route_key_must_decode_to_16_bytes);
	RT_RUN(route_origin_same_origin);
	RT_RUN(route_origin_allowlist);
	RT_RUN(route_check_order);
	RT_RUN(route_api_paths);
	RT_RUN(route_protocols);
	RT_RUN(query_parameters);
	RT_RUN(body_with_head);
	RT_RUN(body_in_pieces);
	RT_RUN(large_body_with_head);
	RT_RUN(body_too_large);
	RT_RUN(chunked_body);
	RT_RUN(bad_body_framing);
	RT_RUN(response_format);
	RT_RUN(response_extra_headers_and_empty_body);
	RT_RUN(response_keep_alive);
	RT_RUN(response_headers_bounded);
	RT_RUN(response_body_out_of_memory);
	RT_RUN(response_upgrade);
	RT_RUN(status_texts);
	RT_RUN(client_js_paths);
	RT_RUN(response_own_cache_control);
	RT_RUN(url_decode_stops_at_its_bound);
	return rt_test_summary();
}
