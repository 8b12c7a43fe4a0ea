/* An event stream as a session's transport: a GET answered 200 with a body
 * that never ends (Server-Sent Events), on the same rt_conn, queue and
 * slow-consumer rule as a WebSocket. How to carry a session on one:
 *
 *   - a stream's path (rt_http_proto_is_stream, hub/wire/http.h) routes
 *     its GET like an upgrade: origin, connection limits, auth (token,
 *     auth endpoint with cookies) as for a WebSocket;
 *   - admit makes the session with rt_stream_transport (not
 *     rt_conn_transport) and a stream protocol (hub/proto/proto.h), whose
 *     frame_message formats an event once per message and channel, shared
 *     by every subscriber (rt_sse_event, hub/wire/sse.h);
 *   - the connection writes the stream's head (rt_sse_head) instead of a
 *     101, sends a comment every realtime.sse_heartbeat seconds, drops
 *     whatever the client sends and never moves in a handoff.
 *
 * send queues pre-framed event bytes as they are; send_text makes one
 * "data:" event of a text (a reply of the protocol); close ends the stream
 * once its queue is written (EventSource then reconnects on its own). */
#ifndef RT_HUB_STREAM_H
#define RT_HUB_STREAM_H

#include "hub/net/transport.h"

extern const rt_transport_ops rt_stream_transport;

#endif
