/* The native JSON protocol (docs/protocol.md): subscribe, unsubscribe,
 * ping, whisper, and the shape of everything the hub sends. */
#ifndef RT_HUB_NATIVE_H
#define RT_HUB_NATIVE_H

#include <stddef.h>

#include "hub/buf.h"
#include "hub/channel.h"
#include "hub/msg.h"
#include "hub/presence.h"
#include "hub/server.h"

struct rt_conn;

void rt_native_on_open(struct rt_conn *conn);
void rt_native_on_message(struct rt_conn *conn, const char *text, size_t len);

/* The frame native clients receive for msg: on channel, or addressed to
 * them directly when channel.ptr is NULL. */
rt_buf *rt_native_frame_message(const rt_msg *msg, rt_str channel);

/* Presence events to every native subscriber of ch but skip. */
void rt_native_member_added(rt_hub *hub, rt_channel *ch, const rt_member *m,
		const struct rt_conn *skip);
void rt_native_member_removed(rt_hub *hub, rt_channel *ch, const char *user_id,
		size_t len, const struct rt_conn *skip);

#endif
