#include "hub/native.h"
#include "hub/conn.h"
#include "hub/frame.h"

#include <jansson.h>
#include <string.h>

static void rt__reply(rt_conn *conn, rt_sb *sb)
{
	if (sb->failed) {
		rt_conn_close(conn);
	} else {
		rt_conn_send_text(conn, sb->data, sb->len);
	}
	rt_sb_free(sb);
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

static void rt__error(rt_conn *conn, json_t *id, const char *code, const char *message)
{
	rt_sb sb;

	rt__reply_begin(&sb, "error", id);
	rt_sb_puts(&sb, ",\"code\":\"");
	rt_sb_puts(&sb, code);
	rt_sb_puts(&sb, "\",\"message\":");
	rt_sb_json_string(&sb, message, strlen(message));
	rt_sb_puts(&sb, "}");
	rt__reply(conn, &sb);
}

static void rt__ack(rt_conn *conn, json_t *id, const char *type, const char *channel,
		size_t len)
{
	rt_sb sb;

	rt__reply_begin(&sb, type, id);
	if (channel != NULL) {
		rt_sb_puts(&sb, ",\"channel\":");
		rt_sb_json_string(&sb, channel, len);
	}
	rt_sb_puts(&sb, "}");
	rt__reply(conn, &sb);
}

void rt_native_on_open(rt_conn *conn)
{
	rt_sb sb;

	rt__reply_begin(&sb, "connected", NULL);
	rt_sb_puts(&sb, ",\"connection_id\":");
	rt_sb_json_string(&sb, conn->id, conn->id_len);
	rt_sb_puts(&sb, "}");
	rt__reply(conn, &sb);
}

static void rt__subscribe(rt_conn *conn, json_t *id, const char *name, size_t len)
{
	rt_hub *hub = conn->hub;
	rt_sub *sub;

	if (rt_conn_find_sub(conn, name, len) != NULL) {
		rt__ack(conn, id, "subscribed", name, len);
		return;
	}
	if (conn->sub_count >= hub->cfg.max_subscriptions) {
		rt__error(conn, id, "too_many_subscriptions",
				"this connection has reached realtime.max_subscriptions");
		return;
	}
	if (rt_registry_subscribe(&hub->registry, conn, name, len, &sub) != 0) {
		rt__error(conn, id, "internal_error", "out of memory");
		return;
	}
	if (rt_conn_add_sub(conn, sub) != 0) {
		rt_registry_unsubscribe(&hub->registry, sub);
		rt__error(conn, id, "internal_error", "out of memory");
		return;
	}
	atomic_store_explicit(&hub->stat_channels, rt_registry_count(&hub->registry),
			memory_order_relaxed);
	rt__ack(conn, id, "subscribed", name, len);
}

static void rt__unsubscribe(rt_conn *conn, json_t *id, const char *name, size_t len)
{
	rt_hub *hub = conn->hub;
	rt_sub *sub = rt_conn_find_sub(conn, name, len);

	if (sub != NULL) {
		rt_conn_remove_sub(conn, sub);
		rt_registry_unsubscribe(&hub->registry, sub);
		atomic_store_explicit(&hub->stat_channels, rt_registry_count(&hub->registry),
				memory_order_relaxed);
	}
	rt__ack(conn, id, "unsubscribed", name, len);
}

void rt_native_on_message(rt_conn *conn, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *id, *action, *channel;
	const char *act, *name;
	size_t name_len;

	if (root == NULL) {
		rt__error(conn, NULL, "invalid_json", jerr.text);
		return;
	}
	if (!json_is_object(root)) {
		rt__error(conn, NULL, "invalid_message", "a message must be a JSON object");
		goto done;
	}
	id = json_object_get(root, "id");
	if (id != NULL && !json_is_string(id) && !json_is_integer(id)) {
		id = NULL;
	}
	action = json_object_get(root, "action");
	if (!json_is_string(action)) {
		rt__error(conn, id, "invalid_message", "\"action\" must be a string");
		goto done;
	}
	act = json_string_value(action);
	if (strcmp(act, "ping") == 0) {
		rt__ack(conn, id, "pong", NULL, 0);
		goto done;
	}
	if (strcmp(act, "subscribe") != 0 && strcmp(act, "unsubscribe") != 0) {
		rt__error(conn, id, "unknown_action",
				"unknown action: expected subscribe, unsubscribe or ping");
		goto done;
	}
	channel = json_object_get(root, "channel");
	if (!json_is_string(channel)) {
		rt__error(conn, id, "invalid_message", "\"channel\" must be a string");
		goto done;
	}
	name = json_string_value(channel);
	name_len = json_string_length(channel);
	if (!rt_channel_name_valid(name, name_len)) {
		rt__error(conn, id, "invalid_channel",
				"a channel name is 1 to 200 characters of A-Z a-z 0-9 _ - = @ , . ; : #");
		goto done;
	}
	if (act[0] == 's') {
		rt__subscribe(conn, id, name, name_len);
	} else {
		rt__unsubscribe(conn, id, name, name_len);
	}
done:
	json_decref(root);
}

rt_buf *rt_native_frame_message(const rt_msg *msg, rt_str channel)
{
	rt_sb sb;
	rt_buf *frame;

	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"type\":\"message\",\"channel\":");
	rt_sb_json_string(&sb, channel.ptr, channel.len);
	if (msg->event.ptr != NULL) {
		rt_sb_puts(&sb, ",\"event\":");
		rt_sb_json_string(&sb, msg->event.ptr, msg->event.len);
	}
	rt_sb_puts(&sb, ",\"data\":");
	rt_sb_append(&sb, msg->data.ptr, msg->data.len);
	rt_sb_puts(&sb, "}");
	frame = sb.failed ? NULL : rt_frame_new(RT_FRAME_TEXT, sb.data, sb.len);
	rt_sb_free(&sb);
	return frame;
}
