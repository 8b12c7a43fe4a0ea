/* The native JSON protocol (docs/protocol.md): subscribe, unsubscribe,
 * ping, whisper, and the shape of everything the hub sends. */
#ifndef RT_HUB_NATIVE_H
#define RT_HUB_NATIVE_H

#include <stddef.h>

#include "hub/proto/proto.h"
#include "hub/wire/http.h"

struct rt_session;

void rt_native_on_open(struct rt_session *s, const rt_http_req *upgrade);
void rt_native_on_message(struct rt_session *s, const char *text, size_t len);

/* Its frames are those of rt_proto_native (hub/proto/proto.h); their JSON
 * alone, for protocols that carry the same messages another way (an event
 * stream, hub/proto/native_sse.h): */
void rt_native_message_json(rt_sb *sb, const rt_msg *msg, rt_str channel);
size_t rt_native_message_json_size(const rt_msg *msg, rt_str channel);
void rt_native_member_added_json(rt_sb *sb, const rt_channel *ch, const rt_member *m);
void rt_native_member_removed_json(rt_sb *sb, const rt_channel *ch, const char *user_id,
		size_t len);
void rt_native_whisper_json(rt_sb *sb, const rt_whisper *w);

struct json_t;
/* A "since" value: {"offset": integer >= 0, "epoch": "<16 hex digits>"}
 * into out; -1 when malformed. */
int rt_native_parse_since(struct json_t *v, rt_pos *out);
/* Subscribes s to a channel as the "subscribe" action does (no rate token
 * taken: the caller bounds how many), replying "subscribed" with the
 * position and, with since, "recovered" and the messages after since. id:
 * the request's id echoed, or NULL. */
void rt_native_subscribe(struct rt_session *s, struct json_t *id, const char *name, size_t len,
		const rt_pos *since);

#endif
