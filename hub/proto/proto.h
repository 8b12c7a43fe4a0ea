/* The wire protocols a client may speak: the native one (docs/protocol.md)
 * and Pusher Channels 7 (docs/pusher.md). They share the hub's channels,
 * users and presence; each frames what it sends its own way, once per
 * message and protocol, never once per subscriber. */
#ifndef RT_HUB_PROTO_H
#define RT_HUB_PROTO_H

#include <stddef.h>

#include "hub/util/buf.h"
#include "hub/model/registry.h"
#include "hub/wire/http.h"
#include "hub/wire/frame.h"
#include "hub/model/msg.h"
#include "hub/model/presence.h"

/* Numbered as the WebSocket paths that lead to them (hub/wire/http.h). */
enum {
	RT_PROTO_NATIVE = RT_HTTP_WS_NATIVE,
	RT_PROTO_PUSHER = RT_HTTP_WS_PUSHER,
	RT_PROTO_NATIVE_SSE = RT_HTTP_STREAM_SSE, /* the native protocol as Server-Sent Events */
	RT_PROTO_MERCURE = RT_HTTP_STREAM_MERCURE, /* Mercure 0.x subscribers (docs/mercure.md) */
	RT_PROTO_COUNT
};

struct rt_session;

typedef struct rt_whisper {
	rt_str channel;
	rt_str event;
	rt_str data;            /* JSON text */
	rt_str connection_id;   /* the sender's session id */
	rt_str user_id;         /* ptr NULL: anonymous sender */
} rt_whisper;

typedef struct rt_proto_ops {
	const char *name;
	/* upgrade: the request that opened the session. */
	void (*on_open)(struct rt_session *s, const rt_http_req *upgrade);
	void (*on_message)(struct rt_session *s, const char *text, size_t len);
	/* Frames for fan-out; NULL when out of memory. channel.ptr NULL: a
	 * message addressed to a user or connection rather than a channel. */
	rt_buf *(*frame_message)(const rt_msg *msg, rt_str channel);
	/* The payload bytes frame_message makes, without making it. */
	size_t (*message_size)(const rt_msg *msg, rt_str channel);
	rt_buf *(*frame_member_added)(const rt_channel *ch, const rt_member *m);
	rt_buf *(*frame_member_removed)(const rt_channel *ch, const char *user_id, size_t len);
	rt_buf *(*frame_whisper)(const rt_whisper *w);
	/* Optional: the close code this protocol's clients get for a hub close
	 * code (rt_session_close_ws); NULL keeps every code as it is. */
	uint16_t (*close_code)(uint16_t code);
	/* Optional: s was just sent a message with a history position, and its
	 * subscription's hist_offset/hist_epoch moved to it. An event stream
	 * writes its cursor here (the stream's id covers all its channels); a
	 * frame_message of a positioned message leaves its event open for it. */
	void (*positioned)(struct rt_session *s);
	/* Optional: 0 when s is not to be sent msg, a publish about to be sent
	 * it (hub.c asks before framing). Without it, a session is sent every
	 * message but private Mercure updates (rt_mercure_is_private). */
	int (*accepts)(struct rt_session *s, const rt_msg *msg);
} rt_proto_ops;

extern const rt_proto_ops rt_proto_native;
extern const rt_proto_ops rt_proto_pusher;
extern const rt_proto_ops rt_proto_native_sse;
extern const rt_proto_ops rt_proto_mercure;

const rt_proto_ops *rt_proto(int proto);

/* The bytes protocol proto's frame of a message_size payload takes: a
 * WebSocket header and the payload, or an event stream's event alone. */
static inline size_t rt_proto_frame_size(int proto, size_t payload)
{
	return rt_http_proto_is_stream(proto) ? payload : rt_frame_size(payload);
}

/* The largest frame, header included, that any protocol makes of a
 * message for clients (publish, to a user or a connection) on any of its
 * channels: what a client's queue must hold (realtime.max_outbound). */
size_t rt_proto_message_frame_max(const rt_msg *msg);
/* 0 when every subscriber can be sent msg; otherwise -EMSGSIZE with err
 * naming realtime.max_outbound and its value. Any thread. */
int rt_proto_check_outbound(const rt_msg *msg, uint32_t max_outbound, char *err, size_t errlen);

/* Makes the frame of one protocol for what arg describes. */
typedef rt_buf *(*rt_frame_builder)(const rt_proto_ops *ops, const void *arg);

/* Builds each protocol's frame on first need, so a message is framed at
 * most once per protocol whatever the number of recipients. Zero-initialise,
 * get frames, then release. */
typedef struct rt_frames {
	rt_buf *frame[RT_PROTO_COUNT];
	uint8_t built[RT_PROTO_COUNT];
} rt_frames;

/* The frame for protocol p; NULL when building it failed (not retried). */
static inline rt_buf *rt_frames_get(rt_frames *f, int p, rt_frame_builder build, const void *arg)
{
	if (!f->built[p]) {
		f->built[p] = 1;
		f->frame[p] = build(rt_proto(p), arg);
	}
	return f->frame[p];
}

static inline void rt_frames_release(rt_frames *f)
{
	for (int p = 0; p < RT_PROTO_COUNT; p++) {
		rt_buf_unref(f->frame[p]);
		f->frame[p] = NULL;
		f->built[p] = 0;
	}
}

#endif
