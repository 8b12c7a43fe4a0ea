/* A session is the client, whatever carries it: its protocol, connection
 * id, identity, subscriptions (with presence membership) and rate buckets.
 * It reaches its transport (a WebSocket connection today, hub/net/conn.h)
 * only through rt_transport_ops, so another transport can carry it and it
 * can be serialized apart from its socket (hub/model/session_image.h). Here too:
 * join and leave channels (permission checks, presence, webhooks), belong
 * to a user, send client events. Protocol modules call these. */
#ifndef RT_HUB_SESSION_H
#define RT_HUB_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"
#include "hub/model/registry.h"
#include "hub/model/identity.h"
#include "hub/core/server.h"
#include "hub/model/session_image.h"
#include "hub/net/transport.h"

struct rt_proto_ops;
struct rt_view;

typedef struct rt_session {
	rt_hub *hub;
	/* What protocols read, passed down so they need not reach into the hub. */
	const rt_config *cfg;
	const struct rt_view *view;   /* the app's channels and members */
	const rt_transport_ops *ops;
	void *transport;
	rt_identity *identity;        /* NULL: anonymous */
	rt_user *user;
	rt_sub **subs;
	uint32_t sub_count, sub_cap;
	uint32_t bucket_time;         /* client-event rate limit: last refill */
	uint16_t bucket_tokens;
	uint32_t sub_time;            /* realtime.subscribe_rate: last refill */
	uint32_t sub_tokens;
	const struct rt_proto_ops *protocol; /* how it speaks (hub/proto/proto.h) */
	void *proto_state;            /* the protocol's own ... */
	void (*proto_free)(struct rt_session *s); /* ... which this frees (NULL: none) */
	uint8_t proto;                /* RT_PROTO_*: protocol's index, for rt_frames */
	uint8_t moved_in;             /* RT_SESSION_*: restored from another hub's image */
	uint8_t stat_kind;            /* 1 + its RT_STAT_* kind in rt_hub.stat_sessions; 0: none */
	uint8_t id_len;
	char id[32];                  /* "<node>.<random>", also Pusher's socket_id */
} rt_session;

/* rt_session.moved_in: 0 (connected here), or restored by rt_session_restore
 * (being restored, then moved in). */
#define RT_SESSION_RESTORING 2
#define RT_SESSION_MOVED_IN 1
/* The event name of a state report that announces a member a hub took over
 * from another (rt_session_restore), not one that joined: a hub whose view
 * lacked it does not tell its moved-in clients, who knew it (hub/hub.c). */
#define RT_STATE_MOVED "moved"

static inline void rt_session_send(rt_session *s, rt_buf *frame)
{
	s->ops->send(s->transport, frame);
}

static inline void rt_session_send_text(rt_session *s, const char *text, size_t len)
{
	s->ops->send_text(s->transport, text, len);
}

static inline void rt_session_close_ws(rt_session *s, uint16_t code, const char *reason)
{
	s->ops->close(s->transport, code, reason);
}

static inline void rt_session_abort(rt_session *s)
{
	s->ops->abort(s->transport);
}

/* Sends what sb holds as one text message and frees sb; a reply that ran
 * out of memory ends the transport rather than go out cut short. */
void rt_session_send_sb(rt_session *s, rt_sb *sb);

/* A new session for a client its transport admitted, as identity (taken
 * over; NULL: anonymous), speaking protocol number proto (ops: protocol):
 * gets its id, is registered under it and under its user. Returns 0 with
 * *out, or a negative errno (identity freed). */
int rt_session_new(rt_hub *hub, const rt_transport_ops *ops, void *transport, int proto,
		const struct rt_proto_ops *protocol, rt_identity *identity, rt_session **out);
/* The session starts: its buckets fill, the app hears of one more
 * connection. Its protocol greets the client next (on_open). */
void rt_session_open(rt_session *s);
/* The transport ends: the session leaves every channel and its user, and
 * is freed. NULL is a no-op. */
void rt_session_free(rt_session *s);

rt_session *rt_session_find(rt_hub *hub, const char *id, size_t len);
rt_sub *rt_session_find_sub(const rt_session *s, const char *channel, size_t len);

enum {
	RT_JOIN_OK = 0,
	RT_JOIN_ALREADY = 1,
	RT_JOIN_FORBIDDEN = -1,   /* private or presence channel the identity does not allow */
	RT_JOIN_LIMIT = -2,       /* realtime.max_subscriptions */
	RT_JOIN_NOMEM = -3,
	RT_JOIN_CHANNELS = -4,    /* realtime.max_channels */
	RT_JOIN_MEMBERS = -5,     /* realtime.max_presence_members */
};

/* Subscribes s; on success *out is the subscription.
 * member: who s counts as on a presence channel; NULL means its identity.
 * authorized: the protocol has checked the permission itself (Pusher's
 * signed subscriptions); otherwise the identity's channel patterns decide.
 * On a presence channel the others get member_added when this user had no
 * connection there yet. */
int rt_session_join(rt_session *s, const char *name, size_t len, const rt_identity *member,
		int authorized, rt_sub **out);
void rt_session_leave(rt_session *s, rt_sub *sub);
/* The channel's members app-wide, as [{"id":..,"info":..},...], the joiner included. */
void rt_session_members_json(rt_session *s, const rt_sub *sub, rt_sb *out);
/* Reports this hub's open connections / whole state to the app (hub/model/view.h). */
void rt_session_report_connections(rt_hub *hub);
void rt_session_report_all(rt_hub *hub);
void rt_session_leave_all(rt_session *s);

/* Appends s as bytes (hub/model/session_image.h): what another
 * process needs to go on serving the same client. Returns 0 or -ENOMEM. */
int rt_session_serialize(const rt_session *s, rt_sb *out);
/* The limits a session image must keep to be restored on hub, which
 * speaks protocols protocols. */
void rt_session_limits_get(const rt_hub *hub, uint8_t protocols, struct rt_session_limits *out);

/* Handoff (hub/handoff.c). A session another hub served, rebuilt from its
 * image with the same connection id, identity, channels (re-joined
 * silently: no reply to the client) and buckets; takes img->identity.
 * Returns 0 with *out, or a negative errno (-EEXIST: the id is taken). */
int rt_session_restore(rt_hub *hub, const rt_transport_ops *ops, void *transport,
		const struct rt_proto_ops *protocol, rt_session_image *img, rt_session **out);
/* A session another hub took over: freed with no report of its leaving. */
void rt_session_drop(rt_session *s);

/* Registers s under its user (if it has one). */
int rt_session_user_attach(rt_session *s);
void rt_session_user_detach(rt_session *s);
rt_user *rt_session_find_user(rt_hub *hub, const char *id, size_t len);

/* Takes one token from s's subscribe/unsubscribe bucket (refilled at
 * realtime.subscribe_rate, holding up to rt_session_subscribe_burst());
 * 0 when over the rate, the refusal counted and logged. */
int rt_session_take_subscribe_token(rt_session *s);

/* Reads a channel's history through the hub's broker link
 * (rt_hub_link.history); without one, done gets status -ENOENT at once. */
void rt_session_history(rt_session *s, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*done)(void *arg, const rt_hub_history *res), void *arg);

/* A subscribe waits for sub's history (rt_session_history): its
 * positioned live messages are held until rt_session_unhold, at most
 * realtime.history_hold of them, so none reaches the client before the
 * replay nor twice. rt_session_held_dropped: how many did not fit. */
void rt_session_hold(rt_sub *sub);
uint32_t rt_session_held_dropped(const rt_sub *sub);
/* Sends what was held, in order, but what sub's position (set from the
 * history's answer) already covers; sent (the protocol's positioned, or
 * NULL) after each. */
void rt_session_unhold(rt_session *s, rt_sub *sub, void (*sent)(rt_session *s));
uint32_t rt_session_subscribe_burst(const rt_config *cfg);

/* Why a client event is refused, in the order the checks run. */
enum {
	RT_CLIENT_EVENT_OK = 0,
	RT_CLIENT_EVENT_OFF,            /* realtime.client_events is off */
	RT_CLIENT_EVENT_NO_CHANNEL,     /* no channel given */
	RT_CLIENT_EVENT_PUBLIC,         /* not a private or presence channel */
	RT_CLIENT_EVENT_CHANNEL,        /* the protocol's own check of the channel failed */
	RT_CLIENT_EVENT_NOT_SUBSCRIBED,
	RT_CLIENT_EVENT_NAME,           /* the protocol's own check of the event name failed */
	RT_CLIENT_EVENT_RATE,           /* over realtime.client_event_rate */
	RT_CLIENT_EVENT_NOMEM,
};

struct json_t;
/* A client event of s, whatever its protocol: checks it (channel NULL: none
 * given; channel_ok and name_ok: the protocol's own checks, reported in
 * their place in the order above) and sends event with data (any JSON) to
 * the channel's subscribers on every hub but s. Returns RT_CLIENT_EVENT_*. */
int rt_session_client_event(rt_session *s, const char *channel, size_t len, int channel_ok,
		int name_ok, rt_str event, const struct json_t *data);

/* Takes one token from s's client-event bucket; 0 when over the rate. */
int rt_session_take_event_token(rt_session *s);

#endif
