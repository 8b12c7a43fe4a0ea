/* Server-Sent Events on the wire (text/event-stream): the stream's head,
 * events and comments as bytes, the stream id that names a position on
 * several channels at once (docs/protocol.md, "Server-Sent Events"), and
 * the parsers of what a client sends to open a stream. No I/O. */
#ifndef RT_HUB_WIRE_SSE_H
#define RT_HUB_WIRE_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"
#include "hub/model/msg.h"
#include "hub/wire/http.h"

/* The head of a 200 text/event-stream answer (no length: it streams),
 * with the headers proxies need to pass events at once, and the stream's
 * first field (retry: how soon an EventSource reconnects). origin (NULL:
 * none): an Origin the caller has allowed, answered with CORS headers so a
 * page of another origin (the app's pages on the PHP port) may read the
 * stream, cookies included; one over 512 bytes or with a control byte is
 * left out. */
void rt_sse_head(rt_sb *sb, const char *origin, size_t origin_len);

/* Adds CORS headers to ans for req's Origin (which the router allowed), so
 * a page of another origin reads the answer (the stream's calls, polls). */
void rt_sse_cors(rt_http_answer *ans, const rt_http_req *req);

/* Appends one event: "event: <event>\n" when event is not NULL, then data
 * as "data: " lines (a CR, LF or CRLF in data starts a new line, which the
 * client joins with LF), then the blank line that dispatches it unless
 * open is set (the caller appends more fields, e.g. rt_sse_id_put). */
void rt_sse_event(rt_sb *sb, const char *event, const char *data, size_t len, int open);
/* The bytes rt_sse_event appends. */
size_t rt_sse_event_size(const char *event, const char *data, size_t len, int open);
/* The same event as a shared frame, to queue to any number of streams;
 * NULL when out of memory. */
rt_buf *rt_sse_event_buf(const char *event, const char *data, size_t len, int open);

/* A stream id entry: the channel, as rt_sse_channel_hash of its name, and
 * the last position the stream gave of it. */
typedef struct rt_sse_cursor {
	uint32_t hash;
	rt_pos pos;
} rt_sse_cursor;

/* The most entries an id holds; a stream on more history channels names
 * the first RT_SSE_ID_MAX in its id. */
#define RT_SSE_ID_MAX 64
/* The most bytes of an id: RT_SSE_ID_MAX entries "hhhhhhhh-<offset>-<16 hex>". */
#define RT_SSE_ID_LEN (RT_SSE_ID_MAX * (8 + 1 + 16 + 1 + 16 + 1))

/* FNV-1a of a channel name: ids stay short whatever the names. */
uint32_t rt_sse_channel_hash(const char *name, size_t len);
/* Appends "id: <entries>\n\n" (entries joined by '.'). */
void rt_sse_id_put(rt_sb *sb, const rt_sse_cursor *c, size_t count);
/* Parses a Last-Event-ID (header or lastEventId query) into at most cap
 * entries. Returns their count, or -1 when malformed (wrong shape, an
 * offset over 2^53, more than cap entries, more than RT_SSE_ID_LEN bytes).
 * The empty id is 0 entries. */
int rt_sse_id_parse(const char *text, size_t len, rt_sse_cursor *out, size_t cap);

/* The next channel name of a comma-separated list (a channels= query,
 * already URL-decoded) from *pos: returns its length and sets *name, or
 * 0 at the end. Empty names between commas are skipped. */
size_t rt_sse_list_next(const char *list, size_t len, size_t *pos, const char **name);

#endif
