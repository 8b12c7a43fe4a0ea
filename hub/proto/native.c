#include "hub/proto/native.h"
#include "hub/model/mercure_update.h"
#include "hub/wire/frame.h"
#include "hub/model/identity.h"
#include "hub/core/session.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ,"offset":N,"epoch":"<16 hex digits>" */
static void rt__put_pos(rt_sb *sb, const rt_pos *pos)
{
	char text[64];

	snprintf(text, sizeof(text), ",\"offset\":%" PRIu64 ",\"epoch\":\"%016" PRIx64 "\"",
			pos->offset, pos->epoch);
	rt_sb_puts(sb, text);
}

static size_t rt__pos_size(const rt_pos *pos)
{
	char digits[24];

	return sizeof(",\"offset\":,\"epoch\":\"\"") - 1 + 16
			+ (size_t) snprintf(digits, sizeof(digits), "%" PRIu64, pos->offset);
}

/* The position of msg on channel (one of its own channels), or NULL. */
static const rt_pos *rt__pos_of(const rt_msg *msg, rt_str channel)
{
	if (msg->positions == NULL || channel.ptr == NULL) {
		return NULL;
	}
	for (uint32_t i = 0; i < msg->channel_count; i++) {
		if (msg->channels[i].ptr == channel.ptr) {
			return msg->positions[i].offset > 0 ? &msg->positions[i] : NULL;
		}
	}
	return NULL;
}

/* Starts a reply object {"type":"<type>" and echoes the request's id. */
static void rt__reply_begin(rt_sb *sb, const char *type, json_t *id)
{
	rt_sb_init(sb);
	rt_sb_puts(sb, "{\"type\":\"");
	rt_sb_puts(sb, type);
	rt_sb_puts(sb, "\"");
	if (id != NULL) {
		char *text = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
		if (text != NULL) {
			rt_sb_puts(sb, ",\"id\":");
			rt_sb_puts(sb, text);
			free(text);
		}
	}
}

static void rt__error(rt_session *s, json_t *id, const char *code, const char *message)
{
	rt_sb sb;

	rt__reply_begin(&sb, "error", id);
	rt_sb_puts(&sb, ",\"code\":\"");
	rt_sb_puts(&sb, code);
	rt_sb_puts(&sb, "\",\"message\":");
	rt_sb_json_string(&sb, message, strlen(message));
	rt_sb_puts(&sb, "}");
	rt_session_send_sb(s, &sb);
}

static void rt__channel_reply(rt_session *s, json_t *id, const char *type, const char *channel,
		size_t len, const rt_sub *presence)
{
	rt_sb sb;

	rt__reply_begin(&sb, type, id);
	rt_sb_puts(&sb, ",\"channel\":");
	rt_sb_json_string(&sb, channel, len);
	if (presence != NULL) {
		rt_sb_puts(&sb, ",\"members\":");
		rt_session_members_json(s, presence, &sb);
	}
	rt_sb_puts(&sb, "}");
	rt_session_send_sb(s, &sb);
}

void rt_native_on_open(rt_session *s, const rt_http_req *upgrade)
{
	(void) upgrade;
	rt_sb sb;

	rt__reply_begin(&sb, "connected", NULL);
	rt_sb_puts(&sb, ",\"connection_id\":");
	rt_sb_json_string(&sb, s->id, s->id_len);
	if (s->identity != NULL) {
		rt_sb_puts(&sb, ",\"user_id\":");
		rt_sb_json_string(&sb, s->identity->user_id, s->identity->user_id_len);
	}
	rt_sb_puts(&sb, "}");
	rt_session_send_sb(s, &sb);
}

/* A subscribe waiting for the channel's history (rt_session_history). The
 * session is looked up again when the answer comes: it may have gone. */
typedef struct rt__sub_wait {
	rt_hub *hub;
	json_t *id;
	int has_since;
	rt_pos since;
	uint8_t session_len;
	char session[32];
	size_t len;
	char name[];
} rt__sub_wait;


static void rt__subscribed(void *arg, const rt_hub_history *res)
{
	rt__sub_wait *w = arg;
	rt_session *s = rt_session_find(w->hub, w->session, w->session_len);
	rt_sub *sub = s != NULL ? rt_session_find_sub(s, w->name, w->len) : NULL;
	int positioned = res->status >= 0;
	int status = res->status;
	rt_sb sb;

	if (sub == NULL) {
		goto done;
	}
	/* Live messages dropped while the read was out: what follows the
	 * replay would have a gap, so the client refetches instead. */
	if (status == 1 && w->has_since && rt_session_held_dropped(sub) > 0) {
		status = 0;
	}
	rt__reply_begin(&sb, "subscribed", w->id);
	rt_sb_puts(&sb, ",\"channel\":");
	rt_sb_json_string(&sb, w->name, w->len);
	if (positioned) {
		rt__put_pos(&sb, &res->top);
	}
	if (w->has_since) {
		rt_sb_puts(&sb, status == 1 ? ",\"recovered\":true" : ",\"recovered\":false");
		rt_stat_add(&w->hub->stat_recovered[status == 1], 1);
	}
	if (rt_channel_is_presence(w->name, w->len)) {
		rt_sb_puts(&sb, ",\"members\":");
		rt_session_members_json(s, sub, &sb);
	}
	rt_sb_puts(&sb, "}");
	rt_session_send_sb(s, &sb);
	if (!positioned) {
		rt_session_unhold(s, sub, s->protocol->positioned);
		goto done;
	}
	if (w->has_since && status == 1) {
		for (uint32_t i = 0; i < res->count; i++) {
			const rt_msg *m = res->msgs[i];
			if (rt_mercure_is_private(m)) {
				continue; /* for Mercure subscribers alone (hub/proto/mercure.h) */
			}
			rt_buf *frame = s->protocol->frame_message(m, m->channels[0]);
			if (frame != NULL) {
				rt_session_send(s, frame);
				rt_buf_unref(frame);
			}
			if (s->protocol->positioned != NULL && m->positions != NULL) {
				sub->hist_offset = m->positions[0].offset;
				sub->hist_epoch = m->positions[0].epoch;
				s->protocol->positioned(s);
			}
		}
	}
	/* Live messages up to here were either replayed or are before what
	 * the client asked for: they are not sent (hub.c, rt__fanout_publish). */
	sub->hist_offset = res->top.offset;
	sub->hist_epoch = res->top.epoch;
	if (s->protocol->positioned != NULL) {
		s->protocol->positioned(s);
	}
	rt_session_unhold(s, sub, s->protocol->positioned);
done:
	json_decref(w->id);
	free(w);
}

void rt_native_subscribe(rt_session *s, json_t *id, const char *name, size_t len,
		const rt_pos *since)
{
	rt__sub_wait *w;
	rt_sub *sub;

	switch (rt_session_join(s, name, len, NULL, 0, &sub)) {
	case RT_JOIN_OK:
	case RT_JOIN_ALREADY:
		w = malloc(sizeof(*w) + len);
		if (w == NULL) {
			rt__channel_reply(s, id, "subscribed", name, len,
					rt_channel_is_presence(name, len) ? sub : NULL);
			break;
		}
		w->hub = s->hub;
		w->id = id != NULL ? json_incref(id) : NULL;
		w->has_since = since != NULL;
		w->since = since != NULL ? *since : (rt_pos) {0, 0};
		w->session_len = s->id_len;
		memcpy(w->session, s->id, s->id_len);
		w->len = len;
		memcpy(w->name, name, len);
		rt_session_hold(sub);
		/* Without since, only the position is needed: no messages. */
		rt_session_history(s, name, len, since, since != NULL ? UINT32_MAX : 0,
				rt__subscribed, w);
		break;
	case RT_JOIN_FORBIDDEN:
		rt__error(s, id, "forbidden", s->identity == NULL
				? "private and presence channels need an authenticated connection"
				: "this user may not join this channel");
		break;
	case RT_JOIN_LIMIT:
		rt__error(s, id, "too_many_subscriptions",
				"this connection has reached realtime.max_subscriptions");
		break;
	case RT_JOIN_CHANNELS:
		rt__error(s, id, "too_many_channels",
				"the server has reached realtime.max_channels; try again later");
		break;
	case RT_JOIN_MEMBERS:
		rt__error(s, id, "too_many_members",
				"the channel has reached realtime.max_presence_members");
		break;
	default:
		rt__error(s, id, "internal_error", "out of memory");
	}
}

/* "since": {"offset": integer >= 0, "epoch": "<16 hex digits>"}; -1 when malformed. */
int rt_native_parse_since(json_t *v, rt_pos *out)
{
	json_t *offset = json_object_get(v, "offset"), *epoch = json_object_get(v, "epoch");
	const char *e;

	if (!json_is_object(v) || !json_is_integer(offset) || !json_is_string(epoch)
			|| json_integer_value(offset) < 0
			|| json_integer_value(offset) > (json_int_t) 9007199254740991LL
			|| json_string_length(epoch) != 16) {
		return -1;
	}
	e = json_string_value(epoch);
	out->epoch = 0;
	for (int i = 0; i < 16; i++) {
		int d = e[i] >= '0' && e[i] <= '9' ? e[i] - '0' : e[i] >= 'a' && e[i] <= 'f'
				? e[i] - 'a' + 10 : e[i] >= 'A' && e[i] <= 'F' ? e[i] - 'A' + 10 : -1;
		if (d < 0) {
			return -1;
		}
		out->epoch = out->epoch << 4 | (uint64_t) d;
	}
	out->offset = (uint64_t) json_integer_value(offset);
	return 0;
}

static void rt__unsubscribe(rt_session *s, json_t *id, const char *name, size_t len)
{
	rt_sub *sub = rt_session_find_sub(s, name, len);

	if (sub != NULL) {
		rt_session_leave(s, sub);
	}
	rt__channel_reply(s, id, "unsubscribed", name, len, NULL);
}

static void rt__whisper(rt_session *s, json_t *id, json_t *root, const char *name, size_t len)
{
	json_t *event = json_object_get(root, "event");
	int name_ok = json_is_string(event) && json_string_length(event) > 0
			&& json_string_length(event) <= 200;
	rt_str ev = {name_ok ? json_string_value(event) : NULL, name_ok ? json_string_length(event) : 0};

	switch (rt_session_client_event(s, name, len, 1, name_ok, ev, json_object_get(root, "data"))) {
	case RT_CLIENT_EVENT_OK:
		break;
	case RT_CLIENT_EVENT_OFF:
		rt__error(s, id, "client_events_disabled",
				"client events are off on this server (realtime.client_events)");
		break;
	case RT_CLIENT_EVENT_PUBLIC:
	case RT_CLIENT_EVENT_CHANNEL:
	case RT_CLIENT_EVENT_NO_CHANNEL:
		rt__error(s, id, "forbidden", "client events need a private or presence channel");
		break;
	case RT_CLIENT_EVENT_NOT_SUBSCRIBED:
		rt__error(s, id, "not_subscribed", "subscribe to the channel first");
		break;
	case RT_CLIENT_EVENT_NAME:
		rt__error(s, id, "invalid_message", "\"event\" must be a string of 1 to 200 bytes");
		break;
	case RT_CLIENT_EVENT_RATE:
		rt__error(s, id, "rate_limited",
				"too many client events: the limit is realtime.client_event_rate per second");
		break;
	default:
		rt__error(s, id, "internal_error", "out of memory");
	}
}

static rt_buf *rt__frame_whisper(const rt_whisper *w)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_whisper_json(&sb, w);
	return rt_frame_text_sb(&sb);
}

void rt_native_whisper_json(rt_sb *sb, const rt_whisper *w)
{
	rt_sb_puts(sb, "{\"type\":\"whisper\",\"channel\":");
	rt_sb_json_string(sb, w->channel.ptr, w->channel.len);
	rt_sb_puts(sb, ",\"event\":");
	rt_sb_json_string(sb, w->event.ptr, w->event.len);
	rt_sb_puts(sb, ",\"data\":");
	rt_sb_append(sb, w->data.ptr, w->data.len);
	rt_sb_puts(sb, ",\"from\":{\"connection_id\":");
	rt_sb_json_string(sb, w->connection_id.ptr, w->connection_id.len);
	if (w->user_id.ptr != NULL) {
		rt_sb_puts(sb, ",\"user_id\":");
		rt_sb_json_string(sb, w->user_id.ptr, w->user_id.len);
	}
	rt_sb_puts(sb, "}}");
}

void rt_native_on_message(rt_session *s, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	json_t *id, *action, *channel;
	const char *act, *name;
	size_t name_len;

	if (root == NULL) {
		rt__error(s, NULL, "invalid_json", jerr.text);
		return;
	}
	if (!json_is_object(root)) {
		rt__error(s, NULL, "invalid_message", "a message must be a JSON object");
		goto done;
	}
	id = json_object_get(root, "id");
	if (id != NULL && !json_is_string(id) && !json_is_integer(id)) {
		id = NULL;
	}
	action = json_object_get(root, "action");
	if (!json_is_string(action)) {
		rt__error(s, id, "invalid_message", "\"action\" must be a string");
		goto done;
	}
	act = json_string_value(action);
	if (strlen(act) != json_string_length(action)) {
		rt__error(s, id, "unknown_action", "unknown action");
		goto done;
	}
	if (strcmp(act, "ping") == 0) {
		rt_sb sb;
		rt__reply_begin(&sb, "pong", id);
		rt_sb_puts(&sb, "}");
		rt_session_send_sb(s, &sb);
		goto done;
	}
	if (strcmp(act, "subscribe") != 0 && strcmp(act, "unsubscribe") != 0
			&& strcmp(act, "whisper") != 0) {
		rt__error(s, id, "unknown_action",
				"unknown action: expected subscribe, unsubscribe, whisper or ping");
		goto done;
	}
	channel = json_object_get(root, "channel");
	if (!json_is_string(channel)) {
		rt__error(s, id, "invalid_message", "\"channel\" must be a string");
		goto done;
	}
	name = json_string_value(channel);
	name_len = json_string_length(channel);
	if (!rt_channel_name_valid(name, name_len)) {
		rt__error(s, id, "invalid_channel",
				"a channel name is 1 to 200 characters of A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~");
		goto done;
	}
	if (act[0] != 'w' && !rt_session_take_subscribe_token(s)) {
		rt__error(s, id, "rate_limited", "too many subscribe and unsubscribe requests: "
				"the limit is realtime.subscribe_rate per second");
	} else if (act[0] == 's') {
		json_t *since = json_object_get(root, "since");
		rt_pos pos;
		if (since != NULL && !json_is_null(since) && rt_native_parse_since(since, &pos) != 0) {
			rt__error(s, id, "invalid_message", "\"since\" must be {\"offset\": an integer "
					">= 0, \"epoch\": a string of 16 hex digits}");
		} else {
			rt_native_subscribe(s, id, name, name_len,
					since != NULL && !json_is_null(since) ? &pos : NULL);
		}
	} else if (act[0] == 'u') {
		rt__unsubscribe(s, id, name, name_len);
	} else {
		rt__whisper(s, id, root, name, name_len);
	}
done:
	json_decref(root);
}

/* Keep in step with rt__frame_message. */
size_t rt_native_message_json_size(const rt_msg *msg, rt_str channel)
{
	size_t n = sizeof("{\"type\":\"message\"") - 1 + sizeof(",\"data\":") - 1 + msg->data.len + 1;

	if (channel.ptr != NULL) {
		n += sizeof(",\"channel\":") - 1 + rt_json_string_size(channel.ptr, channel.len);
	}
	if (msg->event.ptr != NULL) {
		n += sizeof(",\"event\":") - 1 + rt_json_string_size(msg->event.ptr, msg->event.len);
	}
	if (rt__pos_of(msg, channel) != NULL) {
		n += rt__pos_size(rt__pos_of(msg, channel));
	}
	return n;
}

static rt_buf *rt__frame_message(const rt_msg *msg, rt_str channel)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_message_json(&sb, msg, channel);
	return rt_frame_text_sb(&sb);
}

void rt_native_message_json(rt_sb *sb, const rt_msg *msg, rt_str channel)
{
	rt_sb_puts(sb, "{\"type\":\"message\"");
	if (channel.ptr != NULL) {
		rt_sb_puts(sb, ",\"channel\":");
		rt_sb_json_string(sb, channel.ptr, channel.len);
	}
	if (msg->event.ptr != NULL) {
		rt_sb_puts(sb, ",\"event\":");
		rt_sb_json_string(sb, msg->event.ptr, msg->event.len);
	}
	rt_sb_puts(sb, ",\"data\":");
	rt_sb_append(sb, msg->data.ptr, msg->data.len);
	if (rt__pos_of(msg, channel) != NULL) {
		rt__put_pos(sb, rt__pos_of(msg, channel));
	}
	rt_sb_puts(sb, "}");
}

void rt_native_member_added_json(rt_sb *sb, const rt_channel *ch, const rt_member *m)
{
	rt_sb_puts(sb, "{\"type\":\"member_added\",\"channel\":");
	rt_sb_json_string(sb, ch->name, ch->name_len);
	rt_sb_puts(sb, ",\"member\":");
	rt_member_json(m, sb);
	rt_sb_puts(sb, "}");
}

void rt_native_member_removed_json(rt_sb *sb, const rt_channel *ch, const char *user_id,
		size_t len)
{
	rt_sb_puts(sb, "{\"type\":\"member_removed\",\"channel\":");
	rt_sb_json_string(sb, ch->name, ch->name_len);
	rt_sb_puts(sb, ",\"member\":{\"id\":");
	rt_sb_json_string(sb, user_id, len);
	rt_sb_puts(sb, "}}");
}

static rt_buf *rt__frame_member_added(const rt_channel *ch, const rt_member *m)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_member_added_json(&sb, ch, m);
	return rt_frame_text_sb(&sb);
}

static rt_buf *rt__frame_member_removed(const rt_channel *ch, const char *user_id, size_t len)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_member_removed_json(&sb, ch, user_id, len);
	return rt_frame_text_sb(&sb);
}

const rt_proto_ops rt_proto_native = {
	.name = "native",
	.on_open = rt_native_on_open,
	.on_message = rt_native_on_message,
	.frame_message = rt__frame_message,
	.message_size = rt_native_message_json_size,
	.frame_member_added = rt__frame_member_added,
	.frame_member_removed = rt__frame_member_removed,
	.frame_whisper = rt__frame_whisper,
};
