/* The HTTP/1.1 side of a connection: parses one request head with
 * http_parser, decides what it is (WebSocket upgrade, health check, or an
 * error) and frames the answer. Does no I/O. */
#ifndef RT_HUB_HTTP_H
#define RT_HUB_HTTP_H

#include <stddef.h>
#include <http_parser.h>

#include "hub/util/buf.h"
#include "hub/model/config.h"

#define RT_HTTP_HEAD_MAX 8192

enum {
	RT_HTTP_MORE = 0,  /* need more bytes */
	RT_HTTP_DONE = 1,  /* the head is complete */
	RT_HTTP_BAD = -1,  /* malformed or too large: answer 400 and close */
};

enum {
	RT_HDR_HOST,
	RT_HDR_UPGRADE,
	RT_HDR_CONNECTION,
	RT_HDR_WS_KEY,
	RT_HDR_WS_VERSION,
	RT_HDR_ORIGIN,
	RT_HDR_COOKIE,
	RT_HDR_AUTHORIZATION,
	RT_HDR_RT_SIGNATURE,      /* X-Realtime-Signature: signed POST /publish */
	RT_HDR_RT_TIMESTAMP,      /* X-Realtime-Timestamp */
	RT_HDR_IF_NONE_MATCH,     /* GET /realtime.js */
	RT_HDR_LAST_EVENT_ID,     /* an EventSource reconnecting */
	RT_HDR_COUNT
};

typedef struct rt_http_req {
	http_parser parser;
	int method;               /* enum http_method */
	int state;                /* RT_HTTP_* */
	int header;               /* header being read, or -1 */
	int last_was_value;
	size_t head_bytes;
	char name[32];            /* header field name, which may arrive in pieces */
	size_t name_len;
	/* Offsets into buf; every value is NUL-terminated there. */
	size_t url_off, url_len;
	size_t hdr_off[RT_HDR_COUNT], hdr_len[RT_HDR_COUNT];
	unsigned char hdr_seen[RT_HDR_COUNT];
	char ws_accept[32];       /* kept while the auth endpoint is asked */
	rt_sb body;               /* request body, up to body_max bytes */
	size_t body_max;
	int body_too_large;
	int complete;             /* the whole message, body included, is in */
	int keep_alive;           /* the client may send another request after it */
	int trailing;             /* bytes came after it (pipelined requests) */
	size_t len;
	char buf[RT_HTTP_HEAD_MAX];
} rt_http_req;

/* body_max: the largest request body kept (realtime.max_request_size). */
void rt_http_req_init(rt_http_req *req, size_t body_max);
void rt_http_req_free(rt_http_req *req);
/* After the head: feeds body bytes. Returns RT_HTTP_DONE once the whole
 * message is in, RT_HTTP_MORE, or RT_HTTP_BAD. */
int rt_http_req_feed_body(rt_http_req *req, const char *data, size_t len);
/* Feeds bytes; *used is set to how many belong to the head (bytes after it
 * belong to the WebSocket stream). */
int rt_http_req_feed(rt_http_req *req, const char *data, size_t len, size_t *used);
const char *rt_http_req_header(const rt_http_req *req, int hdr, size_t *len);
const char *rt_http_req_path(const rt_http_req *req, size_t *len);
/* Percent-decodes in (and '+' as a space when plus) into out, which holds
 * cap bytes (len + 1 always suffice); a '%' not followed by two hex digits
 * stays. Returns the decoded length, out NUL-terminated, or -ENOSPC when it
 * would not fit (nothing is written past cap). */
long rt_http_url_decode(const char *in, size_t len, int plus, char *out, size_t cap);

/* The credentials of "Authorization: Bearer <credentials>" (the scheme in
 * any case), or NULL when the request has no such header. */
const char *rt_http_req_bearer(const rt_http_req *req, size_t *len);

/* The raw query (after '?', still encoded); empty when there is none. */
const char *rt_http_req_query_string(const rt_http_req *req, size_t *len);
/* The raw value of a query parameter, or NULL. */
const char *rt_http_req_query(const rt_http_req *req, const char *name, size_t *len);

/* The JavaScript client file a path asks for: "/realtime.js" or
 * "{realtime.path}/realtime.js" (and realtime.global.js) give the file's
 * name (in path), anything else NULL. */
const char *rt_http_client_js_name(const char *path, size_t len, const rt_config *cfg,
		size_t *name_len);

typedef enum rt_http_route {
	RT_ROUTE_UPGRADE,
	RT_ROUTE_HEALTH,
	RT_ROUTE_API,      /* /apps/... (Pusher HTTP API) and /publish: the body is read first */
	RT_ROUTE_ERROR,
} rt_http_route;

/* Which WebSocket path an upgrade asked for; hub/proto/proto.h numbers its
 * protocols the same way. */
enum {
	RT_HTTP_WS_NATIVE = 0,  /* realtime.path */
	RT_HTTP_WS_PUSHER = 1,  /* /app/{key} */
	RT_HTTP_STREAM_SSE = 2, /* realtime.path + "/sse": an event stream (GET, no upgrade) */
	RT_HTTP_STREAM_MERCURE = 3, /* GET /.well-known/mercure: a Mercure subscriber's stream */
	/* Not a session: realtime.path + "/sse/subscribe", "/sse/unsubscribe"
	 * or "/poll", authenticated like an upgrade, then answered
	 * (rt_conn_handlers.control). */
	RT_HTTP_SSE_CONTROL = 16,
};

/* Whether a path number is an event stream rather than a WebSocket. */
static inline int rt_http_proto_is_stream(int proto)
{
	return proto >= RT_HTTP_STREAM_SSE && proto < RT_HTTP_SSE_CONTROL;
}

typedef struct rt_http_decision {
	rt_http_route route;
	int proto;              /* RT_HTTP_WS_* (= RT_PROTO_*) for upgrades */
	int status;             /* for RT_ROUTE_ERROR */
	const char *reason;     /* short body for errors */
	char accept[32];        /* Sec-WebSocket-Accept for upgrades */
} rt_http_decision;

/* Validates an upgrade request against RFC 6455 and the configuration; a
 * GET of an event stream is routed as an upgrade with a stream's proto
 * (its origin checked the same way). */
void rt_http_route_request(const rt_http_req *req, const rt_config *cfg,
		rt_http_decision *out);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + GUID)). out >= 29 bytes. */
void rt_http_accept_key(const char *key, size_t key_len, char *out);

/* An HTTP answer as a handler fills it, with no I/O; the connection sends
 * it with rt_http_answer_write. status 0: no answer yet. */
#define RT_HTTP_ANSWER_HEADERS 256
typedef struct rt_http_answer {
	int status;
	const char *content_type;          /* a static string */
	char headers[RT_HTTP_ANSWER_HEADERS]; /* extra lines, each ending "\r\n" */
	size_t headers_len;
	rt_sb body;
} rt_http_answer;

void rt_http_answer_init(rt_http_answer *a);
void rt_http_answer_free(rt_http_answer *a);
/* Sets status, content type and a copy of the body, replacing any body. */
void rt_http_answer_set(rt_http_answer *a, int status, const char *content_type,
		const char *body, size_t len);
/* Adds one header line ("Name: value", no CRLF). Returns 0, or -ENOSPC. */
int rt_http_answer_header(rt_http_answer *a, const char *line);
/* The whole response, head and body, as one buffer; keep_alive picks the
 * Connection header. A body that ran out of memory is answered 503. Status
 * 101 is the WebSocket upgrade: its headers and no body. NULL when out of
 * memory. */
rt_buf *rt_http_answer_write(const rt_http_answer *a, int keep_alive);
const char *rt_http_status_text(int status);

#endif
