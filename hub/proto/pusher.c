/* Pusher Channels protocol 7 on /app/{key} (docs/pusher.md), so that
 * pusher-js and Laravel Echo connect unchanged. Subscriptions to private and
 * presence channels carry an HMAC the app's auth endpoint computed with the
 * app secret; the hub checks it and joins the channel through the session
 * layer, which both protocols share. */
#include "hub/proto/pusher.h"
#include "hub/model/mercure_update.h"
#include "hub/util/text.h"
#include "hub/wire/frame.h"
#include "hub/util/utf8.h"
#include "hub/model/identity.h"
#include "hub/model/presence.h"
#include "hub/proto/proto.h"
#include "hub/core/session.h"
#include "hub/model/token.h"
#include "hub/model/view.h"
#include "hub/model/history_rules.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_PUSHER_EVENT_MAX 200
#define RT_CLIENT_PREFIX "client-"
#define RT_CLIENT_PREFIX_LEN (sizeof(RT_CLIENT_PREFIX) - 1)

/* Close codes pusher-js acts on (Protocol.getCloseAction). */
#define RT_PUSHER_APP_UNKNOWN 4001
#define RT_PUSHER_UNAUTHORIZED 4009
#define RT_PUSHER_OVER_CAPACITY 4100   /* back off, then reconnect */
#define RT_PUSHER_RECONNECT 4200       /* reconnect at once */
#define RT_PUSHER_PONG_TIMEOUT 4201    /* reconnect at once */
#define RT_PUSHER_RATE_LIMITED 4301

int rt_pusher_user_channel(const char *name, size_t len, const char **user, size_t *user_len)
{
	if (!rt_has_prefix(name, len, RT_PUSHER_USER_PREFIX)) {
		return 0;
	}
	*user = name + RT_PUSHER_USER_PREFIX_LEN;
	*user_len = len - RT_PUSHER_USER_PREFIX_LEN;
	return 1;
}

int rt_pusher_socket_id_valid(const char *id, size_t len)
{
	const char *dot = memchr(id, '.', len);

	if (dot == NULL || dot == id || dot == id + len - 1) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (id + i != dot && (id[i] < '0' || id[i] > '9')) {
			return 0;
		}
	}
	return 1;
}

/* ---- what the hub sends ---- */

/* Starts {"event":..,"channel":..,"data": — the caller appends the data
 * value and the closing brace. channel NULL: none. */
static void rt__begin(rt_sb *sb, const char *event, size_t event_len, const char *channel,
		size_t channel_len)
{
	rt_sb_init(sb);
	rt_sb_puts(sb, "{\"event\":");
	rt_sb_json_string(sb, event, event_len);
	if (channel != NULL) {
		rt_sb_puts(sb, ",\"channel\":");
		rt_sb_json_string(sb, channel, channel_len);
	}
	rt_sb_puts(sb, ",\"data\":");
}

/* Appends inner (a JSON document) as a JSON string: Pusher encodes the data
 * of its events twice, and pusher-js decodes them. Frees inner. */
static void rt__append_encoded(rt_sb *sb, rt_sb *inner)
{
	if (inner->failed) {
		sb->failed = 1;
	} else {
		rt_sb_json_string(sb, inner->data ? inner->data : "", inner->len);
	}
	rt_sb_free(inner);
}

/* pusher:error; code < 0 sends "code":null (an error that closes nothing). */
static void rt__error(rt_session *s, int code, const char *message)
{
	rt_sb sb;
	char num[16];

	rt__begin(&sb, "pusher:error", 12, NULL, 0);
	rt_sb_puts(&sb, "{\"code\":");
	if (code < 0) {
		rt_sb_puts(&sb, "null");
	} else {
		snprintf(num, sizeof(num), "%d", code);
		rt_sb_puts(&sb, num);
	}
	rt_sb_puts(&sb, ",\"message\":");
	rt_sb_json_string(&sb, message, strlen(message));
	rt_sb_puts(&sb, "}}");
	rt_session_send_sb(s, &sb);
}

/* pusher:error with code and message, then the close handshake with the
 * same code and a short reason (a close frame holds at most 123 bytes). */
static void rt__refuse(rt_session *s, int code, const char *message)
{
	rt__error(s, code, message);
	rt_session_close_ws(s, (uint16_t) code,
			code == RT_PUSHER_APP_UNKNOWN ? "unknown app key" : "unauthorized");
}

/* pusher:subscription_error in the shape Laravel Echo's .error() gets,
 * as pusher-js itself emits it when its auth request fails. */
static void rt__subscription_error(rt_session *s, const char *channel, size_t len,
		const char *type, int status, const char *error)
{
	rt_sb sb;
	char num[16];

	rt__begin(&sb, "pusher:subscription_error", 25, channel, len);
	rt_sb_puts(&sb, "{\"type\":\"");
	rt_sb_puts(&sb, type);
	rt_sb_puts(&sb, "\",\"error\":");
	rt_sb_json_string(&sb, error, strlen(error));
	snprintf(num, sizeof(num), "%d", status);
	rt_sb_puts(&sb, ",\"status\":");
	rt_sb_puts(&sb, num);
	rt_sb_puts(&sb, "}}");
	rt_session_send_sb(s, &sb);
}

static void rt__member_info(rt_sb *out, const char *info, size_t len)
{
	if (info != NULL) {
		rt_sb_append(out, info, len);
	} else {
		rt_sb_puts(out, "null");
	}
}

/* {"presence":{"ids":[..],"hash":{id: info},"count":N}} of the app-wide
 * member list, which may not have the joiner yet (it learns of joins
 * through the broker). */
static void rt__presence_data(rt_session *s, const rt_sub *sub, rt_sb *out)
{
	const rt_view *view = s->view;
	const rt_channel *ch = sub->channel;
	const rt_vchannel *vch = rt_view_channel(view, ch->name, ch->name_len);
	const rt_identity *me = sub->member;
	int add_me = me != NULL && !rt_view_has_member(view, ch->name, ch->name_len, me->user_id,
			me->user_id_len);
	size_t it, count = 0;
	void *v;
	char num[24];

	rt_sb_puts(out, "{\"presence\":{\"ids\":[");
	for (it = 0; vch != NULL && rt_map_next(&vch->members, &it, &v);) {
		const rt_member *m = ((const rt_vmember *) v)->member;
		rt_sb_puts(out, count++ ? "," : "");
		rt_sb_json_string(out, m->id, m->id_len);
	}
	if (add_me) {
		rt_sb_puts(out, count++ ? "," : "");
		rt_sb_json_string(out, me->user_id, me->user_id_len);
	}
	rt_sb_puts(out, "],\"hash\":{");
	for (it = 0, count = 0; vch != NULL && rt_map_next(&vch->members, &it, &v);) {
		const rt_member *m = ((const rt_vmember *) v)->member;
		rt_sb_puts(out, count++ ? "," : "");
		rt_sb_json_string(out, m->id, m->id_len);
		rt_sb_puts(out, ":");
		rt__member_info(out, m->info, m->info_len);
	}
	if (add_me) {
		rt_sb_puts(out, count++ ? "," : "");
		rt_sb_json_string(out, me->user_id, me->user_id_len);
		rt_sb_puts(out, ":");
		rt__member_info(out, me->user_info, me->user_info_len);
	}
	snprintf(num, sizeof(num), "%zu", count);
	rt_sb_puts(out, "},\"count\":");
	rt_sb_puts(out, num);
	rt_sb_puts(out, "}}");
}

/* subscription_succeeded; presence: the subscription, for the member list. */
static void rt__subscribed(rt_session *s, const char *channel, size_t len, const rt_sub *presence)
{
	rt_sb sb, inner;

	rt__begin(&sb, "pusher_internal:subscription_succeeded", 38, channel, len);
	if (presence != NULL) {
		rt_sb_init(&inner);
		rt__presence_data(s, presence, &inner);
		rt__append_encoded(&sb, &inner);
	} else {
		rt_sb_puts(&sb, "\"{}\"");
	}
	rt_sb_puts(&sb, "}");
	rt_session_send_sb(s, &sb);
}

/* ---- connecting ---- */

static void rt__on_open(rt_session *s, const rt_http_req *upgrade)
{
	const rt_config *cfg = s->cfg;
	size_t path_len = 0, key_len = strlen(cfg->app_key);
	const char *path = upgrade != NULL ? rt_http_req_path(upgrade, &path_len) : NULL;
	uint32_t timeout = cfg->ping_interval ? cfg->ping_interval : 120;
	rt_sb sb, inner;
	char num[16];

	/* The upgrade was routed here for "/app/" and a key without '/'. */
	if (path == NULL || path_len != 5 + key_len || memcmp(path + 5, cfg->app_key, key_len) != 0) {
		char message[300];
		int n = path != NULL && path_len > 5 && path_len - 5 < 200
				&& rt_utf8_valid((const uint8_t *) path + 5, path_len - 5) ? (int) (path_len - 5) : 0;
		snprintf(message, sizeof(message), "App key %.*s does not exist", n, n ? path + 5 : "");
		rt__refuse(s, RT_PUSHER_APP_UNKNOWN, message);
		return;
	}
	rt_sb_init(&inner);
	rt_sb_puts(&inner, "{\"socket_id\":");
	rt_sb_json_string(&inner, s->id, s->id_len);
	snprintf(num, sizeof(num), "%u", (unsigned) timeout);
	rt_sb_puts(&inner, ",\"activity_timeout\":");
	rt_sb_puts(&inner, num);
	rt_sb_puts(&inner, "}");
	rt__begin(&sb, "pusher:connection_established", 29, NULL, 0);
	rt__append_encoded(&sb, &inner);
	rt_sb_puts(&sb, "}");
	rt_session_send_sb(s, &sb);
}

/* ---- signatures ---- */

/* Checks auth = "<app key>:<hex HMAC-SHA256(app secret, subject)>". On
 * failure, returns 0 with a reason in err. */
int rt_pusher_auth_valid(const char *app_key, const char *secret, const char *auth,
		size_t len, const char *subject, size_t subject_len, char *err, size_t errlen)
{
	size_t key_len = strlen(app_key);
	const char *colon;
	char expected[65];

	if (secret[0] == '\0') {
		snprintf(err, errlen, "the server cannot check signatures: "
				"set realtime.app_secret (or realtime.secret)");
		return 0;
	}
	if (auth == NULL || len == 0) {
		snprintf(err, errlen, "an auth signature is required");
		return 0;
	}
	colon = memchr(auth, ':', len);
	if (colon == NULL || (size_t) (colon - auth) != key_len || memcmp(auth, app_key, key_len) != 0) {
		snprintf(err, errlen, "invalid auth: the key before ':' must be the app key");
		return 0;
	}
	rt_hmac_sha256_hex(secret, strlen(secret), subject, subject_len, expected);
	if (len - key_len - 1 != 64 || !rt_secure_equals(colon + 1, expected, 64)) {
		snprintf(err, errlen, "invalid signature");
		return 0;
	}
	return 1;
}

static int rt__check_auth(rt_session *s, const json_t *auth, const rt_sb *subject, char *err,
		size_t errlen)
{
	const char *secret = rt_config_app_secret(s->cfg);

	if (secret[0] != '\0' && subject->failed) {
		snprintf(err, errlen, "out of memory");
		return 0;
	}
	return rt_pusher_auth_valid(s->cfg->app_key, secret,
			json_is_string(auth) ? json_string_value(auth) : NULL,
			json_is_string(auth) ? json_string_length(auth) : 0,
			subject->data ? subject->data : "", subject->len, err, errlen);
}

/* "<socket id>:<a>[:<b>]" or, with sep "::user::", "<socket id>::user::<a>" */
static void rt__subject(rt_sb *sb, const rt_session *s, const char *sep, const char *a,
		size_t a_len, const char *b, size_t b_len)
{
	rt_sb_init(sb);
	rt_sb_append(sb, s->id, s->id_len);
	rt_sb_puts(sb, sep);
	rt_sb_append(sb, a, a_len);
	if (b != NULL) {
		rt_sb_puts(sb, ":");
		rt_sb_append(sb, b, b_len);
	}
}

/* ---- subscribing ---- */

/* The member a presence subscription names in its channel_data:
 * {"user_id":..,"user_info":..}. NULL with err set when it is not valid. */
static rt_identity *rt__presence_member(rt_session *s, const json_t *channel_data, char *err,
		size_t errlen)
{
	json_t *root = json_loadb(json_string_value(channel_data), json_string_length(channel_data),
			0, NULL);
	rt_identity *id = NULL;

	if (!json_is_object(root)) {
		snprintf(err, errlen, "channel_data must be a JSON object with user_id");
	} else {
		id = rt_identity_from_json(json_object_get(root, "user_id"),
				json_object_get(root, "user_info"), NULL, s->cfg->max_user_info,
				err, errlen);
	}
	json_decref(root);
	return id;
}

static void rt__subscribe_user_channel(rt_session *s, const char *name, size_t len,
		const char *user, size_t user_len)
{
	const rt_identity *id = s->identity;

	/* Messages to the user reach the connection through its user, so the
	 * channel itself is only acknowledged. */
	if (id == NULL || id->user_id_len != user_len || memcmp(id->user_id, user, user_len) != 0) {
		rt__subscription_error(s, name, len, "AuthError", 403,
				"only the signed-in user may subscribe to its #server-to-user- channel");
		return;
	}
	rt__subscribed(s, name, len, NULL);
}

/* Over realtime.subscribe_rate: pusher:error 4301, and for a subscribe
 * the subscription_error that fails the client's channel. */
static void rt__subscribe_refused(rt_session *s, const char *channel, size_t len)
{
	static const char msg[] = "too many subscribe and unsubscribe requests: "
			"over realtime.subscribe_rate per second";

	rt__error(s, RT_PUSHER_RATE_LIMITED, msg);
	if (channel != NULL) {
		rt__subscription_error(s, channel, len, "LimitReached", 429, msg);
	}
}

static rt_buf *rt__frame_message(const rt_msg *msg, rt_str channel);

/* A cache channel's subscribe waiting for its last message. The session is
 * looked up again when the answer comes: it may have gone. */
typedef struct rt__cache_wait {
	rt_hub *hub;
	uint8_t session_len;
	char session[32];
	size_t len;
	char name[];
} rt__cache_wait;

static void rt__cache_miss(rt_session *s, const char *name, size_t len)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"event\":\"pusher:cache_miss\",\"channel\":");
	rt_sb_json_string(&sb, name, len);
	rt_sb_puts(&sb, "}");
	rt_session_send_sb(s, &sb);
}

/* The last event of a cache channel (kept in the broker's history store,
 * shared by the pool), or pusher:cache_miss. */
static void rt__cached(void *arg, const rt_hub_history *res)
{
	rt__cache_wait *w = arg;
	rt_session *s = rt_session_find(w->hub, w->session, w->session_len);
	rt_sub *sub = s != NULL ? rt_session_find_sub(s, w->name, w->len) : NULL;
	rt_buf *frame = NULL;

	if (sub == NULL) {
		free(w);
		return;
	}
	if (res->status == 1 && res->count > 0 && !rt_mercure_is_private(res->msgs[res->count - 1])) {
		const rt_msg *last = res->msgs[res->count - 1];
		frame = rt__frame_message(last, last->channels[0]);
	}
	if (frame != NULL) {
		rt_session_send(s, frame);
		rt_buf_unref(frame);
	} else {
		rt__cache_miss(s, w->name, w->len);
	}
	if (res->status >= 0) {
		/* What the read saw is not sent again when it arrives live. */
		sub->hist_offset = res->top.offset;
		sub->hist_epoch = res->top.epoch;
	}
	rt_session_unhold(s, sub, s->protocol->positioned);
	free(w);
}

static void rt__send_cached(rt_session *s, const char *name, size_t len)
{
	rt__cache_wait *w = malloc(sizeof(*w) + len);

	if (w == NULL || s->id_len > sizeof(w->session)) {
		free(w);
		rt__cache_miss(s, name, len);
		return;
	}
	w->hub = s->hub;
	w->session_len = (uint8_t) s->id_len;
	memcpy(w->session, s->id, s->id_len);
	w->len = len;
	memcpy(w->name, name, len);
	{
		rt_sub *sub = rt_session_find_sub(s, name, len);
		if (sub != NULL) {
			rt_session_hold(sub);
		}
	}
	rt_session_history(s, name, len, NULL, 1, rt__cached, w);
}

static void rt__subscribe(rt_session *s, const json_t *data)
{
	const json_t *channel = json_object_get(data, "channel");
	const json_t *channel_data = json_object_get(data, "channel_data");
	rt_identity *member = NULL;
	const char *name, *user;
	size_t len, user_len;
	char err[200];
	rt_sub *sub;
	int r;

	if (!json_is_string(channel)) {
		rt__error(s, -1, "pusher:subscribe needs data.channel");
		return;
	}
	name = json_string_value(channel);
	len = json_string_length(channel);
	if (len == 0 || len > RT_CHANNEL_MAX) {
		rt__error(s, -1, "a channel name is 1 to 200 characters");
		return;
	}
	if (!rt_channel_name_valid(name, len)) {
		rt__subscription_error(s, name, len, "InvalidChannel", 400,
				"a channel name is 1 to 200 characters of A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~");
		return;
	}
	if (!rt_session_take_subscribe_token(s)) {
		rt__subscribe_refused(s, name, len);
		return;
	}
	if (rt_pusher_user_channel(name, len, &user, &user_len)) {
		rt__subscribe_user_channel(s, name, len, user, user_len);
		return;
	}
	if (rt_channel_is_private(name, len)) {
		int presence = rt_channel_is_presence(name, len);
		rt_sb subject;
		int ok;

		if (presence && !json_is_string(channel_data)) {
			rt__subscription_error(s, name, len, "AuthError", 401,
					"a presence subscription needs channel_data (a JSON string)");
			return;
		}
		rt__subject(&subject, s, ":", name, len,
				presence ? json_string_value(channel_data) : NULL,
				presence ? json_string_length(channel_data) : 0);
		ok = rt__check_auth(s, json_object_get(data, "auth"), &subject, err, sizeof(err));
		rt_sb_free(&subject);
		if (!ok) {
			rt__subscription_error(s, name, len, "AuthError", 401, err);
			return;
		}
		if (presence && (member = rt__presence_member(s, channel_data, err, sizeof(err))) == NULL) {
			rt__subscription_error(s, name, len, "AuthError", 400, err);
			return;
		}
	}
	r = rt_session_join(s, name, len, member, 1, &sub);
	rt_identity_free(member);
	switch (r) {
	case RT_JOIN_OK:
	case RT_JOIN_ALREADY:
		rt__subscribed(s, name, len, rt_channel_is_presence(name, len) ? sub : NULL);
		if (rt_history_cache_channel(name, len)) {
			rt__send_cached(s, name, len);
		}
		break;
	case RT_JOIN_LIMIT:
		rt__subscription_error(s, name, len, "LimitReached", 429,
				"this connection has reached realtime.max_subscriptions");
		break;
	case RT_JOIN_CHANNELS:
		rt__subscription_error(s, name, len, "LimitReached", 429,
				"the server has reached realtime.max_channels; try again later");
		break;
	case RT_JOIN_MEMBERS:
		rt__subscription_error(s, name, len, "LimitReached", 429,
				"the channel has reached realtime.max_presence_members");
		break;
	case RT_JOIN_FORBIDDEN:
		rt__subscription_error(s, name, len, "AuthError", 403, "forbidden");
		break;
	default:
		rt__subscription_error(s, name, len, "ServerError", 500, "out of memory");
	}
}

static void rt__unsubscribe(rt_session *s, const json_t *data)
{
	const json_t *channel = json_object_get(data, "channel");
	rt_sub *sub;

	if (!json_is_string(channel)) {
		rt__error(s, -1, "pusher:unsubscribe needs data.channel");
		return;
	}
	if (!rt_session_take_subscribe_token(s)) {
		rt__subscribe_refused(s, NULL, 0);
		return;
	}
	sub = rt_session_find_sub(s, json_string_value(channel), json_string_length(channel));
	if (sub != NULL) {
		rt_session_leave(s, sub);
	}
}

/* ---- user sign-in ---- */

static void rt__signin(rt_session *s, const json_t *data)
{
	const json_t *user_data = json_object_get(data, "user_data");
	json_t *root, *uid;
	rt_identity *id;
	rt_sb subject, sb;
	char err[200];
	int ok;

	if (!json_is_string(user_data)) {
		rt__refuse(s, RT_PUSHER_UNAUTHORIZED, "pusher:signin needs data.user_data (a JSON string)");
		return;
	}
	rt__subject(&subject, s, "::user::", json_string_value(user_data),
			json_string_length(user_data), NULL, 0);
	ok = rt__check_auth(s, json_object_get(data, "auth"), &subject, err, sizeof(err));
	rt_sb_free(&subject);
	if (!ok) {
		rt__refuse(s, RT_PUSHER_UNAUTHORIZED, err);
		return;
	}
	root = json_loadb(json_string_value(user_data), json_string_length(user_data), 0, NULL);
	uid = json_object_get(root, "id");
	if (!json_is_string(uid) || json_string_length(uid) == 0) {
		json_decref(root);
		rt__refuse(s, RT_PUSHER_UNAUTHORIZED, "user_data must be a JSON object whose id is a non-empty string");
		return;
	}
	id = rt_identity_from_json(uid, json_object_get(root, "user_info"), NULL,
			s->cfg->max_user_info, err, sizeof(err));
	json_decref(root);
	if (id == NULL) {
		rt__refuse(s, RT_PUSHER_UNAUTHORIZED, err);
		return;
	}
	if (s->identity != NULL) {
		int same = s->identity->user_id_len == id->user_id_len
				&& memcmp(s->identity->user_id, id->user_id, id->user_id_len) == 0;
		if (!same) {
			rt_identity_free(id);
			rt__error(s, -1, "this connection is signed in as another user");
			return;
		}
		rt_identity_free(id); /* signing in again as the same user: nothing changes */
	} else {
		s->identity = id;
		if (rt_session_user_attach(s) != 0) {
			s->identity = NULL;
			rt_identity_free(id);
			rt__error(s, -1, "out of memory");
			return;
		}
	}
	rt__begin(&sb, "pusher:signin_success", 21, NULL, 0);
	rt_sb_puts(&sb, "{\"user_data\":");
	rt_sb_json_string(&sb, json_string_value(user_data), json_string_length(user_data));
	rt_sb_puts(&sb, "}}");
	rt_session_send_sb(s, &sb);
}

/* ---- client events ---- */

static void rt__client_event(rt_session *s, const json_t *root, const char *event, size_t event_len)
{
	const json_t *channel = json_object_get(root, "channel");
	const char *name = json_is_string(channel) ? json_string_value(channel) : NULL;
	size_t len = name != NULL ? json_string_length(channel) : 0;
	/* Native clients see "client-typing" as the whisper "typing". */
	rt_str ev = {event + RT_CLIENT_PREFIX_LEN, event_len - RT_CLIENT_PREFIX_LEN};

	switch (rt_session_client_event(s, name, len,
			!rt_has_prefix(name, len, "private-encrypted-"),
			event_len > RT_CLIENT_PREFIX_LEN && event_len <= RT_PUSHER_EVENT_MAX, ev,
			json_object_get(root, "data"))) {
	case RT_CLIENT_EVENT_OK:
		break;
	case RT_CLIENT_EVENT_OFF:
		rt__error(s, -1, "client events are disabled on this server (realtime.client_events)");
		break;
	case RT_CLIENT_EVENT_NO_CHANNEL:
		rt__error(s, -1, "a client event needs a channel");
		break;
	case RT_CLIENT_EVENT_PUBLIC:
		rt__error(s, -1, "client event rejected: only supported on private and presence channels");
		break;
	case RT_CLIENT_EVENT_CHANNEL:
		rt__error(s, -1, "client event rejected: not supported on encrypted channels");
		break;
	case RT_CLIENT_EVENT_NOT_SUBSCRIBED:
		rt__error(s, -1, "client event rejected: subscribe to the channel first");
		break;
	case RT_CLIENT_EVENT_NAME:
		rt__error(s, -1, "client event rejected: the name is client- and 1 to 193 more bytes");
		break;
	case RT_CLIENT_EVENT_RATE:
		rt__error(s, RT_PUSHER_RATE_LIMITED,
				"client event rejected: over realtime.client_event_rate per second");
		break;
	default:
		rt__error(s, -1, "out of memory");
	}
}

/* ---- what the client sends ---- */

static void rt__on_message(rt_session *s, const char *text, size_t len)
{
	json_t *root = json_loadb(text, len, 0, NULL);
	json_t *event, *data, *decoded = NULL;
	const char *name;
	size_t name_len;

	if (!json_is_object(root)) {
		rt__error(s, -1, "invalid message: expected a JSON object with an event");
		goto done;
	}
	event = json_object_get(root, "event");
	if (!json_is_string(event)) {
		rt__error(s, -1, "invalid message: event must be a string");
		goto done;
	}
	name = json_string_value(event);
	name_len = json_string_length(event);
	if (rt_has_prefix(name, name_len, RT_CLIENT_PREFIX)) {
		rt__client_event(s, root, name, name_len);
		goto done;
	}
	/* The protocol's own events may carry their data encoded as a string. */
	data = json_object_get(root, "data");
	if (json_is_string(data)) {
		decoded = json_loadb(json_string_value(data), json_string_length(data), 0, NULL);
		data = decoded;
	}
	if (strcmp(name, "pusher:ping") == 0) {
		static const char pong[] = "{\"event\":\"pusher:pong\",\"data\":{}}";
		rt_session_send_text(s, pong, sizeof(pong) - 1);
	} else if (strcmp(name, "pusher:pong") == 0) {
		/* any message counts as alive */
	} else if (strcmp(name, "pusher:subscribe") == 0) {
		rt__subscribe(s, data);
	} else if (strcmp(name, "pusher:unsubscribe") == 0) {
		rt__unsubscribe(s, data);
	} else if (strcmp(name, "pusher:signin") == 0) {
		rt__signin(s, data);
	} else {
		rt__error(s, -1, "unsupported event: expected pusher:subscribe, pusher:unsubscribe, "
				"pusher:signin, pusher:ping or a client- event");
	}
done:
	json_decref(decoded);
	json_decref(root);
}

/* ---- fan-out frames ---- */

/* Pusher's data is a string pusher-js decodes: a message whose JSON is a
 * string goes as that string; any other JSON value goes encoded as one. */
static void rt__append_data(rt_sb *sb, const rt_str *data)
{
	if (data->ptr == NULL) {
		rt_sb_puts(sb, "\"null\"");
	} else if (data->len > 0 && data->ptr[0] == '"') {
		rt_sb_append(sb, data->ptr, data->len);
	} else {
		rt_sb_json_string(sb, data->ptr, data->len);
	}
}

/* Keep in step with rt__frame_message, rt__begin and rt__append_data. */
static size_t rt__message_size(const rt_msg *msg, rt_str channel)
{
	size_t n = sizeof("{\"event\":") - 1 + sizeof(",\"data\":") - 1 + 1;
	const rt_str *data = &msg->data;

	n += msg->event.ptr != NULL ? rt_json_string_size(msg->event.ptr, msg->event.len)
			: sizeof("\"message\"") - 1;
	if (channel.ptr != NULL) {
		n += sizeof(",\"channel\":") - 1 + rt_json_string_size(channel.ptr, channel.len);
	} else if (msg->type == RT_MSG_TO_USER) {
		/* The user channel's name is the prefix and a user id, whose
		 * characters may need escaping. */
		n += sizeof(",\"channel\":") - 1 + RT_PUSHER_USER_PREFIX_LEN
				+ rt_json_string_size(msg->target.ptr ? msg->target.ptr : "", msg->target.len);
	}
	if (data->ptr == NULL) {
		n += sizeof("\"null\"") - 1;
	} else if (data->len > 0 && data->ptr[0] == '"') {
		n += data->len;
	} else {
		n += rt_json_string_size(data->ptr, data->len);
	}
	return n;
}

static rt_buf *rt__frame_message(const rt_msg *msg, rt_str channel)
{
	rt_str event = msg->event;
	rt_sb sb, user_channel;
	rt_buf *frame;

	if (event.ptr == NULL) {
		event.ptr = "message";
		event.len = 7;
	}
	rt_sb_init(&user_channel);
	if (channel.ptr == NULL && msg->type == RT_MSG_TO_USER) {
		/* pusher-js hands what comes on this channel to user.bind(). */
		rt_sb_puts(&user_channel, RT_PUSHER_USER_PREFIX);
		rt_sb_append(&user_channel, msg->target.ptr, msg->target.len);
		if (user_channel.failed) {
			rt_sb_free(&user_channel);
			return NULL;
		}
		channel.ptr = user_channel.data;
		channel.len = user_channel.len;
	}
	rt__begin(&sb, event.ptr, event.len, channel.ptr, channel.len);
	rt__append_data(&sb, &msg->data);
	rt_sb_puts(&sb, "}");
	frame = rt_frame_text_sb(&sb);
	rt_sb_free(&user_channel);
	return frame;
}

static rt_buf *rt__frame_member_added(const rt_channel *ch, const rt_member *m)
{
	rt_sb sb, inner;

	rt_sb_init(&inner);
	rt_sb_puts(&inner, "{\"user_id\":");
	rt_sb_json_string(&inner, m->id, m->id_len);
	rt_sb_puts(&inner, ",\"user_info\":");
	rt__member_info(&inner, m->info, m->info_len);
	rt_sb_puts(&inner, "}");
	rt__begin(&sb, "pusher_internal:member_added", 28, ch->name, ch->name_len);
	rt__append_encoded(&sb, &inner);
	rt_sb_puts(&sb, "}");
	return rt_frame_text_sb(&sb);
}

static rt_buf *rt__frame_member_removed(const rt_channel *ch, const char *user_id, size_t len)
{
	rt_sb sb, inner;

	rt_sb_init(&inner);
	rt_sb_puts(&inner, "{\"user_id\":");
	rt_sb_json_string(&inner, user_id, len);
	rt_sb_puts(&inner, "}");
	rt__begin(&sb, "pusher_internal:member_removed", 30, ch->name, ch->name_len);
	rt__append_encoded(&sb, &inner);
	rt_sb_puts(&sb, "}");
	return rt_frame_text_sb(&sb);
}

static rt_buf *rt__frame_whisper(const rt_whisper *w)
{
	rt_sb sb, event;

	/* A native whisper "typing" is the client event "client-typing". */
	rt_sb_init(&event);
	if (!rt_has_prefix(w->event.ptr, w->event.len, RT_CLIENT_PREFIX)) {
		rt_sb_puts(&event, RT_CLIENT_PREFIX);
	}
	rt_sb_append(&event, w->event.ptr, w->event.len);
	if (event.failed) {
		rt_sb_free(&event);
		return NULL;
	}
	rt__begin(&sb, event.data, event.len, w->channel.ptr, w->channel.len);
	rt_sb_free(&event);
	rt_sb_append(&sb, w->data.ptr, w->data.len);
	if (w->user_id.ptr != NULL && rt_channel_is_presence(w->channel.ptr, w->channel.len)) {
		rt_sb_puts(&sb, ",\"user_id\":");
		rt_sb_json_string(&sb, w->user_id.ptr, w->user_id.len);
	}
	rt_sb_puts(&sb, "}");
	return rt_frame_text_sb(&sb);
}

static uint16_t rt__close_code(uint16_t code)
{
	switch (code) {
	case RT_CLOSE_PING_TIMEOUT:
		return RT_PUSHER_PONG_TIMEOUT;   /* 4000 means "use TLS" to pusher-js */
	case RT_CLOSE_SLOW_CONSUMER:
		return RT_PUSHER_OVER_CAPACITY;  /* 4008 would refuse reconnecting */
	case 1001:
	case RT_CLOSE_SERVICE_RESTART:
		return RT_PUSHER_RECONNECT;      /* this worker stops: another one serves */
	default:
		return code;
	}
}

const rt_proto_ops rt_proto_pusher = {
	.name = "pusher",
	.on_open = rt__on_open,
	.on_message = rt__on_message,
	.frame_message = rt__frame_message,
	.message_size = rt__message_size,
	.frame_member_added = rt__frame_member_added,
	.frame_member_removed = rt__frame_member_removed,
	.frame_whisper = rt__frame_whisper,
	.close_code = rt__close_code,
};
