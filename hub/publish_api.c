/* POST /publish: messages from processes that run no hub (CLI scripts,
 * queue workers, other languages on this host). Authenticated with
 * "Authorization: Bearer <realtime.secret>"; the body is JSON:
 *   {"type":"publish","channels":[..],"event":..,"data":<any JSON>,"except":<connection id>}
 *   {"type":"user","target":<user id>,"event":..,"data":..}
 *   {"type":"connection","target":<connection id>,"event":..,"data":..}
 *   {"type":"disconnect","target":<user id>}
 * The message goes through the broker, so every hub of the app delivers it. */
#include "hub/api.h"
#include "hub/conn.h"
#include "hub/identity.h"
#include "hub/token.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RT_PUBLISH_CHANNELS_MAX 100

static void rt__reply(rt_conn *conn, int status, const char *body)
{
	rt_conn_http_respond(conn, status, "application/json", NULL, body, strlen(body));
}

static int rt__authorized(const rt_conn *conn, const rt_http_req *req)
{
	const char *secret = conn->hub->cfg.secret;
	size_t len, n = strlen(secret);
	const char *v = rt_http_req_header(req, RT_HDR_AUTHORIZATION, &len);

	return v != NULL && len == n + 7 && strncasecmp(v, "Bearer ", 7) == 0
			&& rt_secure_equals(v + 7, secret, n);
}

static int rt__opt_string(json_t *root, const char *key, rt_str *out, size_t max)
{
	json_t *v = json_object_get(root, key);

	if (v == NULL || json_is_null(v)) {
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max) {
		return -1;
	}
	out->ptr = json_string_value(v);
	out->len = json_string_length(v);
	return 0;
}

void rt_publish_api_handle(rt_conn *conn, const rt_http_req *req, const char *body, size_t len)
{
	static const char *const types[] = {"publish", "user", "connection", "disconnect"};
	static const rt_msg_type kinds[] = {RT_MSG_PUBLISH, RT_MSG_TO_USER, RT_MSG_TO_CONNECTION,
		RT_MSG_DISCONNECT_USER};
	rt_str channels[RT_PUBLISH_CHANNELS_MAX];
	rt_msg_fields f = {0};
	json_error_t jerr;
	json_t *root, *type, *list, *data;
	char *data_text = NULL;
	int kind = -1;
	rt_msg *msg;

	if (req->method != HTTP_POST) {
		rt__reply(conn, 405, "{\"error\":\"use POST\"}");
		return;
	}
	if (conn->hub->cfg.secret[0] == '\0') {
		rt__reply(conn, 403, "{\"error\":\"publishing over HTTP is off: set realtime.secret\"}");
		return;
	}
	if (!rt__authorized(conn, req)) {
		rt__reply(conn, 401, "{\"error\":\"send Authorization: Bearer <realtime.secret>\"}");
		return;
	}
	root = json_loadb(body, len, 0, &jerr);
	type = json_object_get(root, "type");
	for (int i = 0; json_is_string(type) && i < 4; i++) {
		if (strcmp(json_string_value(type), types[i]) == 0) {
			kind = i;
		}
	}
	if (!json_is_object(root) || kind < 0) {
		rt__reply(conn, 400, "{\"error\":\"expected a JSON object with type publish, user, connection or disconnect\"}");
		json_decref(root);
		return;
	}
	list = json_object_get(root, "channels");
	if (kinds[kind] == RT_MSG_PUBLISH) {
		size_t i;
		json_t *v;
		if (!json_is_array(list) || json_array_size(list) == 0
				|| json_array_size(list) > RT_PUBLISH_CHANNELS_MAX) {
			rt__reply(conn, 400, "{\"error\":\"channels must list 1 to 100 channel names\"}");
			goto done;
		}
		json_array_foreach(list, i, v) {
			if (!json_is_string(v) || !rt_channel_name_valid(json_string_value(v),
					json_string_length(v))) {
				rt__reply(conn, 400, "{\"error\":\"invalid channel name\"}");
				goto done;
			}
			channels[i].ptr = json_string_value(v);
			channels[i].len = json_string_length(v);
		}
		f.channels = channels;
		f.channel_count = (uint32_t) json_array_size(list);
	} else if (rt__opt_string(root, "target", &f.target, RT_USER_ID_MAX) != 0
			|| f.target.ptr == NULL) {
		rt__reply(conn, 400, "{\"error\":\"target must be a user or connection id\"}");
		goto done;
	}
	if (rt__opt_string(root, "event", &f.event, 200) != 0
			|| rt__opt_string(root, "except", &f.exclude, 64) != 0) {
		rt__reply(conn, 400, "{\"error\":\"event and except must be short strings\"}");
		goto done;
	}
	data = json_object_get(root, "data");
	if (kinds[kind] != RT_MSG_DISCONNECT_USER) {
		data_text = json_dumps(data ? data : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		if (data_text == NULL) {
			rt__reply(conn, 500, "{\"error\":\"out of memory\"}");
			goto done;
		}
		f.data.ptr = data_text;
		f.data.len = strlen(data_text);
	}
	{
		/* A message no subscriber could be sent is refused here, before
		 * it reaches a client queue it would overflow. */
		rt_msg view;
		char why[240];
		rt_sb reply;
		rt_msg_view(&view, kinds[kind], &f);
		if (rt_hub_check_publish(conn->hub, &view, why, sizeof(why)) != 0) {
			rt_sb_init(&reply);
			rt_sb_puts(&reply, "{\"error\":");
			rt_sb_json_string(&reply, why, strlen(why));
			rt_sb_puts(&reply, "}");
			rt__reply(conn, 413, reply.failed ? "{\"error\":\"message too large\"}" : reply.data);
			rt_sb_free(&reply);
			goto done;
		}
	}
	msg = rt_msg_new(kinds[kind], &f);
	if (msg == NULL) {
		rt__reply(conn, 500, "{\"error\":\"out of memory\"}");
		goto done;
	}
	rt_hub__publish(conn->hub, msg);
	rt__reply(conn, 202, "{\"ok\":true}");
done:
	free(data_text);
	json_decref(root);
}
