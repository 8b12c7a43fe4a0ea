/* What a connection does in the hub, whatever protocol it speaks: join and
 * leave channels (with permission checks, presence and webhooks), belong to
 * a user, send client events. Protocol modules call these. */
#ifndef RT_HUB_SESSION_H
#define RT_HUB_SESSION_H

#include <stddef.h>

#include "hub/conn.h"
#include "hub/identity.h"
#include "hub/session_image.h"

enum {
	RT_JOIN_OK = 0,
	RT_JOIN_ALREADY = 1,
	RT_JOIN_FORBIDDEN = -1,   /* private or presence channel the identity does not allow */
	RT_JOIN_LIMIT = -2,       /* realtime.max_subscriptions */
	RT_JOIN_NOMEM = -3,
	RT_JOIN_CHANNELS = -4,    /* realtime.max_channels */
	RT_JOIN_MEMBERS = -5,     /* realtime.max_presence_members */
};

/* Subscribes conn; on success *out is the subscription.
 * member: who conn counts as on a presence channel; NULL means its identity.
 * authorized: the protocol has checked the permission itself (Pusher's
 * signed subscriptions); otherwise the identity's channel patterns decide.
 * On a presence channel the others get member_added when this user had no
 * connection there yet. */
int rt_session_join(rt_conn *conn, const char *name, size_t len, const rt_identity *member,
		int authorized, rt_sub **out);
void rt_session_leave(rt_conn *conn, rt_sub *sub);
/* The channel's members app-wide, as [{"id":..,"info":..},...], the joiner included. */
void rt_session_members_json(rt_conn *conn, const rt_sub *sub, rt_sb *out);
/* Reports this hub's open connections / whole state to the app (hub/view.h). */
void rt_session_report_connections(rt_hub *hub);
void rt_session_report_all(rt_hub *hub);
void rt_session_leave_all(rt_conn *conn);

/* The WebSocket session of conn opened: its buckets fill, the app hears of
 * one more connection, its protocol greets the client. */
void rt_session_open(rt_conn *conn);
/* conn ends: it leaves every channel and its user. */
void rt_session_close(rt_conn *conn);

/* Appends conn's session as bytes (hub/session_image.h): what another
 * process needs to go on serving the same client. Returns 0 or -ENOMEM. */
int rt_session_serialize(const rt_conn *conn, rt_sb *out);
/* The limits a session image must keep to be restored on hub. */
void rt_session_limits_get(const rt_hub *hub, struct rt_session_limits *out);

/* Registers an open connection under its user (if it has one). */
int rt_session_user_attach(rt_conn *conn);
void rt_session_user_detach(rt_conn *conn);
rt_user *rt_session_find_user(rt_hub *hub, const char *id, size_t len);

/* Takes one token from conn's subscribe/unsubscribe bucket (refilled at
 * realtime.subscribe_rate, holding up to rt_session_subscribe_burst());
 * 0 when over the rate, the refusal counted and logged. */
int rt_session_take_subscribe_token(rt_conn *conn);
uint32_t rt_session_subscribe_burst(const rt_config *cfg);

/* Takes one token from conn's client-event bucket; 0 when over the rate. */
int rt_session_take_event_token(rt_conn *conn);

#endif
