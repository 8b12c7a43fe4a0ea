/* The native protocol over Server-Sent Events (docs/protocol.md, "Server-
 * Sent Events"): what a WebSocket client of the native protocol receives,
 * each message one event whose data is the same JSON, on a stream opened
 * with GET {realtime.path}/sse?channels=a,b. The stream subscribes at
 * once to the channels it names and recovers them from Last-Event-ID. */
#ifndef RT_HUB_NATIVE_SSE_H
#define RT_HUB_NATIVE_SSE_H

#include "hub/proto/proto.h"

/* Its ops are rt_proto_native_sse (hub/proto/proto.h). */

/* Formats the event of a native JSON text (json, len) as a shared frame:
 * open leaves the event without its blank line, for the stream's cursor
 * (proto ops "positioned") to finish. NULL when out of memory. The hook
 * another stream protocol (Mercure) reuses: frame once, queue to all. */
rt_buf *rt_native_sse_frame(const char *event, const char *json, size_t len, int open);

/* The event name of a subscription change travelling to a stream's hub
 * (a message to its connection; no PHP event name starts with \x01). */
#define RT_NATIVE_SSE_CONTROL "\x01realtime:sse-control"
/* Applies a change {"op":"subscribe"|"unsubscribe","user":id|null,
 * "channels":"a,b"} to s when s is a stream of the same user (anonymous
 * for anonymous); otherwise refuses it, counted and logged. */
void rt_native_sse_control(struct rt_session *s, const char *json, size_t len);

#endif
