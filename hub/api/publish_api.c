/* POST /publish: messages from processes that run no hub (CLI scripts,
 * queue workers, other languages on this host). A request proves itself in
 * one of two ways, never with realtime.secret itself on the wire:
 *   - signed (what PHP without a hub sends):
 *       X-Realtime-Timestamp: <unix seconds>
 *       X-Realtime-Signature: hex(HMAC-SHA256(realtime.secret, timestamp "." body))
 *     accepted within RT_PUBLISH_WINDOW seconds of the hub's clock;
 *   - "Authorization: Bearer <realtime.publish_key>", when that is set
 *     (curl and clients that cannot sign).
 * The body is JSON:
 *   {"type":"publish","channels":[..],"event":..,"data":<any JSON>,"except":<connection id>,
 *    "target":<a Mercure update's fields (hub/model/mercure_update.h), from mercure_publish()>}
 *   {"type":"user","target":<user id>,"event":..,"data":..}
 *   {"type":"connection","target":<connection id>,"event":..,"data":..}
 *   {"type":"disconnect","target":<user id>}
 * The message goes through the broker, so every hub of the app delivers it. */
#include "hub/api/api.h"
#include "hub/core/server.h"
#include "hub/model/identity.h"
#include "hub/model/mercure_update.h"
#include "hub/util/log.h"
#include "hub/model/token.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RT_PUBLISH_CHANNELS_MAX 100

static void rt__reply(rt_http_answer *ans, int status, const char *body)
{
	rt_http_answer_set(ans, status, "application/json", body, strlen(body));
}

/* A signed request is good this long either side of the hub's clock: a
 * captured one can be replayed only within it. */
#define RT_PUBLISH_WINDOW 30

static int rt__bearer_ok(const rt_config *cfg, const rt_http_req *req)
{
	size_t len, n = strlen(cfg->publish_key);
	const char *v = rt_http_req_bearer(req, &len);

	return n > 0 && v != NULL && len == n && rt_secure_equals(v, cfg->publish_key, n);
}

/* "" when signed with realtime.secret within the window, NULL when the
 * request carries no signature, else why the signature is refused. */
static const char *rt__signature_error(const rt_config *cfg, const rt_http_req *req,
		const char *body, size_t len)
{
	size_t ts_len, sig_len;
	const char *ts = rt_http_req_header(req, RT_HDR_RT_TIMESTAMP, &ts_len);
	const char *sig = rt_http_req_header(req, RT_HDR_RT_SIGNATURE, &sig_len);
	long long when = 0;
	time_t now = time(NULL);
	char expected[65];

	if (ts == NULL || sig == NULL) {
		return NULL;
	}
	if (cfg->secret[0] == '\0') {
		return "signed requests need realtime.secret on the server";
	}
	/* At most 12 digits: no overflow, and the header is bounded before use. */
	if (ts_len == 0 || ts_len > 12) {
		return "X-Realtime-Timestamp must be unix seconds";
	}
	for (size_t i = 0; i < ts_len; i++) {
		if (ts[i] < '0' || ts[i] > '9') {
			return "X-Realtime-Timestamp must be unix seconds";
		}
		when = when * 10 + (ts[i] - '0');
	}
	if (when < (long long) now - RT_PUBLISH_WINDOW || when > (long long) now + RT_PUBLISH_WINDOW) {
		return "X-Realtime-Timestamp is not within 30 seconds of the server's clock";
	}
	if (rt_publish_sign(cfg->secret, ts, ts_len, body, len, expected) != 0) {
		return "out of memory";
	}
	if (sig_len != 64 || !rt_secure_equals(sig, expected, 64)) {
		return "X-Realtime-Signature does not match";
	}
	return "";
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

void rt_publish_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans)
{
	rt_str channels[RT_PUBLISH_CHANNELS_MAX];
	rt_msg_fields f = {0};
	json_error_t jerr;
	json_t *root, *type, *list, *data;
	char *data_text = NULL;
	rt_msg_type kind = 0;
	rt_msg *msg;

	if (req->method != HTTP_POST) {
		rt__reply(ans, 405, "{\"error\":\"use POST\"}");
		return;
	}
	if (!rt__bearer_ok(&hub->cfg, req)) {
		const char *why = rt__signature_error(&hub->cfg, req, body, len);
		char reply[300];
		atomic_fetch_add_explicit(&hub->net.stat_unauthorized, 1, memory_order_relaxed);
		if (why == NULL && hub->cfg.secret[0] == '\0' && hub->cfg.publish_key[0] == '\0') {
			rt__reply(ans, 403, "{\"error\":\"publishing over HTTP is off: set realtime.secret "
					"(signed requests) or realtime.publish_key\"}");
			return;
		}
		if (why == NULL || why[0] != '\0') {
			rt_log(RT_LOG_INFO, "refused a /publish request: %s",
					why ? why : "no credentials");
			snprintf(reply, sizeof(reply), "{\"error\":\"%s\"}", why ? why
					: "sign the request (X-Realtime-Timestamp, X-Realtime-Signature) "
					  "or send Authorization: Bearer <realtime.publish_key>");
			rt__reply(ans, 401, reply);
			return;
		}
	}
	root = json_loadb(body, len, 0, &jerr);
	type = json_object_get(root, "type");
	if (json_is_string(type)) {
		kind = rt_msg_api_type(json_string_value(type), json_string_length(type));
	}
	if (!json_is_object(root) || kind == 0) {
		rt__reply(ans, 400, "{\"error\":\"expected a JSON object with type publish, user, connection or disconnect\"}");
		json_decref(root);
		return;
	}
	list = json_object_get(root, "channels");
	if (kind == RT_MSG_PUBLISH) {
		size_t i;
		json_t *v;
		if (!json_is_array(list) || json_array_size(list) == 0
				|| json_array_size(list) > RT_PUBLISH_CHANNELS_MAX) {
			rt__reply(ans, 400, "{\"error\":\"channels must list 1 to 100 channel names\"}");
			goto done;
		}
		json_array_foreach(list, i, v) {
			if (!json_is_string(v) || !rt_channel_name_valid(json_string_value(v),
					json_string_length(v))) {
				rt__reply(ans, 400, "{\"error\":\"invalid channel name\"}");
				goto done;
			}
			channels[i].ptr = json_string_value(v);
			channels[i].len = json_string_length(v);
		}
		f.channels = channels;
		f.channel_count = (uint32_t) json_array_size(list);
		/* A Mercure update a process without a hub published
		 * (mercure_publish(), broker/remote.c): its fields, private flag
		 * included, go on as they came. */
		if (rt__opt_string(root, "target", &f.target, RT_MERCURE_TARGET_MAX) != 0) {
			rt__reply(ans, 400, "{\"error\":\"target of a publish must be a Mercure update\"}");
			goto done;
		}
		if (f.target.ptr != NULL) {
			rt_mercure_update u;
			rt_msg view;
			rt_msg_view(&view, RT_MSG_PUBLISH, &f);
			if (rt_mercure_update_parse(&view, &u) != 1) {
				rt__reply(ans, 400, "{\"error\":\"target of a publish must be a Mercure update\"}");
				goto done;
			}
		}
	} else if (rt__opt_string(root, "target", &f.target, RT_USER_ID_MAX) != 0
			|| f.target.ptr == NULL) {
		rt__reply(ans, 400, "{\"error\":\"target must be a user or connection id\"}");
		goto done;
	}
	if (rt__opt_string(root, "event", &f.event, 200) != 0
			|| rt__opt_string(root, "except", &f.exclude, 64) != 0) {
		rt__reply(ans, 400, "{\"error\":\"event and except must be short strings\"}");
		goto done;
	}
	data = json_object_get(root, "data");
	if (kind != RT_MSG_DISCONNECT_USER) {
		data_text = json_dumps(data ? data : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
		if (data_text == NULL) {
			rt__reply(ans, 500, "{\"error\":\"out of memory\"}");
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
		rt_msg_view(&view, kind, &f);
		if (hub->hooks->check_publish(hub, &view, why, sizeof(why)) != 0) {
			rt_sb_init(&reply);
			rt_sb_puts(&reply, "{\"error\":");
			rt_sb_json_string(&reply, why, strlen(why));
			rt_sb_puts(&reply, "}");
			rt__reply(ans, 413, reply.failed ? "{\"error\":\"message too large\"}" : reply.data);
			rt_sb_free(&reply);
			goto done;
		}
	}
	msg = rt_msg_new(kind, &f);
	if (msg == NULL) {
		rt__reply(ans, 500, "{\"error\":\"out of memory\"}");
		goto done;
	}
	switch (hub->hooks->publish_api(hub, msg)) {
	case 0:
		rt_stat_add(&hub->stat_source[RT_STAT_SRC_PUBLISH_API], 1);
		rt__reply(ans, 202, "{\"ok\":true}");
		break;
	case -EMSGSIZE:
		rt__reply(ans, 413, "{\"error\":\"the message is too large for the broker\"}");
		break;
	default:
		/* Nobody got it: the caller may retry without duplicates. */
		rt__reply(ans, 503, "{\"error\":\"the broker did not take the message: try again later\"}");
	}
done:
	free(data_text);
	json_decref(root);
}
