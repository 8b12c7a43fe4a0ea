/* The Pusher HTTP API under /apps/{app id}/ (docs/pusher.md), signed as the
 * Pusher server SDKs sign it, so that they and Laravel's pusher broadcaster
 * publish through the hub unchanged:
 *
 *   POST /apps/{id}/events                          trigger an event
 *   POST /apps/{id}/batch_events                    several at once
 *   GET  /apps/{id}/channels                        occupied channels
 *   GET  /apps/{id}/channels/{name}                 one channel
 *   GET  /apps/{id}/channels/{name}/users           a presence channel's users
 *   POST /apps/{id}/users/{id}/terminate_connections
 *
 * Answers are JSON objects ({} for success); errors are
 * {"error":"..","code":status}. Counts and members come from the app-wide
 * view (hub/model/view.h), so they cover every hub of the app. */
#include "hub/api/api.h"
#include "hub/util/text.h"
#include "hub/model/identity.h"
#include "hub/model/msg.h"
#include "hub/model/presence.h"
#include "hub/proto/pusher.h"
#include "hub/util/log.h"
#include "hub/core/server.h"
#include "hub/model/token.h"
#include "hub/model/view.h"
#include "hub/wire/form.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RT_API_PARAMS_MAX 32
#define RT_API_CHANNELS_MAX 100     /* channels of one event */
#define RT_API_BATCH_MAX 10         /* events of one batch */
#define RT_API_EVENT_NAME_MAX 200
#define RT_API_TIMESTAMP_GRACE 600  /* seconds auth_timestamp may be off */
#define RT_API_SEGMENTS_MAX 8

typedef struct rt__param {
	char *key;      /* decoded and lowercased */
	char *value;    /* decoded */
	size_t key_len, value_len;
} rt__param;

typedef struct rt__params {
	rt__param p[RT_API_PARAMS_MAX];
	size_t count;
	char *mem;
} rt__params;

typedef struct rt__event {
	const char *name;
	size_t name_len;
	const char *data;      /* the Pusher data string */
	size_t data_len;
	char *data_owned;      /* data given as JSON that is not a string, re-encoded */
	rt_str channels[RT_API_CHANNELS_MAX];
	uint32_t channel_count;
	rt_str socket_id;
	int want_users, want_subs;
} rt__event;

/* ---- answers ---- */

/* Hands sb to the answer; a body that ran out of memory is answered 503
 * by the writer (rt_http_answer_write). */
static void rt__reply(rt_http_answer *ans, int status, rt_sb *sb)
{
	ans->status = status;
	ans->content_type = "application/json";
	rt_sb_free(&ans->body);
	ans->body = *sb;
}

static void rt__fail(rt_http_answer *ans, int status, const char *message)
{
	rt_sb sb;
	char num[16];

	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"error\":");
	rt_sb_json_string(&sb, message, strlen(message));
	snprintf(num, sizeof(num), ",\"code\":%d}", status);
	rt_sb_puts(&sb, num);
	rt__reply(ans, status, &sb);
}

/* ---- URLs ---- */


/* Splits and decodes the query string. -1 when there are too many
 * parameters (or they would not fit in mem), -ENOMEM. */
static int rt__params_parse(rt__params *ps, const char *query, size_t len)
{
	char *cursor, *end;
	const char *key, *value;
	size_t key_len, value_len;
	rt_form_iter it;
	long r;

	memset(ps, 0, sizeof(*ps));
	ps->mem = malloc(len + 2 * RT_API_PARAMS_MAX + 2);
	if (ps->mem == NULL) {
		return -ENOMEM;
	}
	cursor = ps->mem;
	end = ps->mem + len + 2 * RT_API_PARAMS_MAX + 2;
	rt_form_begin(&it, query, len);
	while (rt_form_next(&it, &key, &key_len, &value, &value_len)) {
		rt__param *p;

		if (ps->count == RT_API_PARAMS_MAX) {
			return -1;
		}
		p = &ps->p[ps->count++];
		p->key = cursor;
		r = rt_form_decode(key, key_len, cursor, (size_t) (end - cursor));
		if (r < 0) {
			return -1;
		}
		p->key_len = (size_t) r;
		for (size_t k = 0; k < p->key_len; k++) {
			if (p->key[k] >= 'A' && p->key[k] <= 'Z') {
				p->key[k] = (char) (p->key[k] - 'A' + 'a');
			}
		}
		cursor += p->key_len + 1;
		if (cursor >= end) {
			return -1;
		}
		p->value = cursor;
		r = rt_form_decode(value, value_len, cursor, (size_t) (end - cursor));
		if (r < 0) {
			return -1;
		}
		p->value_len = (size_t) r;
		cursor += p->value_len + 1;
	}
	return 0;
}

static const rt__param *rt__param_get(const rt__params *ps, const char *key)
{
	for (size_t i = 0; i < ps->count; i++) {
		if (strcmp(ps->p[i].key, key) == 0) {
			return &ps->p[i];
		}
	}
	return NULL;
}

static int rt__param_cmp(const void *a, const void *b)
{
	const rt__param *x = *(const rt__param *const *) a, *y = *(const rt__param *const *) b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* 1 when the comma-separated list has the item. */
static int rt__list_has(const char *list, size_t len, const char *item)
{
	size_t n = strlen(item), i = 0;

	while (i < len) {
		const char *comma = memchr(list + i, ',', len - i);
		size_t end = comma ? (size_t) (comma - list) : len;
		size_t a = i, b = end;
		while (a < b && list[a] == ' ') {
			a++;
		}
		while (b > a && list[b - 1] == ' ') {
			b--;
		}
		if (b - a == n && memcmp(list + a, item, n) == 0) {
			return 1;
		}
		i = end + 1;
	}
	return 0;
}

/* ---- signatures ---- */

static void rt__md5_hex(const char *data, size_t len, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (EVP_Digest(data, len, md, &md_len, EVP_md5(), NULL) != 1 || md_len != 16) {
		memset(out, 0, 33);
		return;
	}
	rt_hex_encode(md, 16, out);
}

/* hex(HMAC-SHA256(secret, METHOD \n PATH \n sorted params without
 * auth_signature)) equals auth_signature. */
static int rt__signature_matches(const char *secret, const char *method, const char *path,
		size_t path_len, const rt__params *ps, const rt__param *given)
{
	const rt__param *sorted[RT_API_PARAMS_MAX];
	size_t n = 0;
	char expected[65];
	rt_sb s;
	int ok;

	for (size_t i = 0; i < ps->count; i++) {
		if (strcmp(ps->p[i].key, "auth_signature") != 0) {
			sorted[n++] = &ps->p[i];
		}
	}
	qsort(sorted, n, sizeof(sorted[0]), rt__param_cmp);
	rt_sb_init(&s);
	rt_sb_puts(&s, method);
	rt_sb_puts(&s, "\n");
	rt_sb_append(&s, path, path_len);
	rt_sb_puts(&s, "\n");
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			rt_sb_puts(&s, "&");
		}
		rt_sb_append(&s, sorted[i]->key, sorted[i]->key_len);
		rt_sb_puts(&s, "=");
		rt_sb_append(&s, sorted[i]->value, sorted[i]->value_len);
	}
	if (s.failed) {
		rt_sb_free(&s);
		return 0;
	}
	rt_hmac_sha256_hex(secret, strlen(secret), s.data, s.len, expected);
	rt_sb_free(&s);
	ok = given->value_len == 64 && rt_secure_equals(given->value, expected, 64);
	return ok;
}

/* 0 when the request is signed with the app's key and secret; otherwise
 * the status to answer with a reason in err. */
static int rt__authenticate(const rt_config *cfg, const rt_http_req *req, const char *path,
		size_t path_len, const rt__params *ps, const char *body, size_t len, char *err,
		size_t errlen)
{
	const char *secret = rt_config_app_secret(cfg);
	const char *method = http_method_str((enum http_method) req->method);
	const rt__param *key = rt__param_get(ps, "auth_key");
	const rt__param *ts = rt__param_get(ps, "auth_timestamp");
	const rt__param *version = rt__param_get(ps, "auth_version");
	const rt__param *sig = rt__param_get(ps, "auth_signature");
	const rt__param *md5 = rt__param_get(ps, "body_md5");
	char *end;
	long long when;
	time_t now = time(NULL);

	if (!rt_config_pusher_enabled(cfg)) {
		snprintf(err, errlen, "the HTTP API is off: set realtime.app_key and realtime.app_secret");
		return 403;
	}
	if (key == NULL || ts == NULL || version == NULL || sig == NULL) {
		snprintf(err, errlen, "auth_key, auth_timestamp, auth_version and auth_signature are required");
		return 401;
	}
	if (strcmp(key->value, cfg->app_key) != 0) {
		snprintf(err, errlen, "unknown auth_key");
		return 401;
	}
	if (strcmp(version->value, "1.0") != 0) {
		snprintf(err, errlen, "auth_version must be 1.0");
		return 401;
	}
	when = strtoll(ts->value, &end, 10);
	if (ts->value_len == 0 || *end != '\0' || when < (long long) now - RT_API_TIMESTAMP_GRACE
			|| when > (long long) now + RT_API_TIMESTAMP_GRACE) {
		snprintf(err, errlen, "auth_timestamp expired: it must be within %d seconds of the "
				"server's time (%lld)", RT_API_TIMESTAMP_GRACE, (long long) now);
		return 401;
	}
	if (len > 0 || md5 != NULL) {
		char hex[33];
		rt__md5_hex(body, len, hex);
		if (md5 == NULL || md5->value_len != 32 || strcasecmp(md5->value, hex) != 0) {
			snprintf(err, errlen, "body_md5 does not match the body");
			return 401;
		}
	}
	if (!rt__signature_matches(secret, method, path, path_len, ps, sig)) {
		/* A client may have signed the path before percent-encoding it. */
		char *decoded = memchr(path, '%', path_len) ? malloc(path_len + 1) : NULL;
		int ok = 0;
		if (decoded != NULL) {
			long n = rt_http_url_decode(path, path_len, 0, decoded, path_len + 1);
			ok = n >= 0 && rt__signature_matches(secret, method, decoded, (size_t) n, ps, sig);
			free(decoded);
		}
		if (!ok) {
			snprintf(err, errlen, "invalid signature: expected hex(HMAC-SHA256(secret, "
					"\"%s\\n<path>\\n<sorted query without auth_signature>\"))", method);
			return 401;
		}
	}
	return 0;
}

/* ---- events ---- */

static void rt__event_free(rt__event *e)
{
	free(e->data_owned);
	e->data_owned = NULL;
}

/* Reads one event of /events or /batch_events. 0, or the status to answer
 * with err set. */
static int rt__event_parse(const rt_config *cfg, json_t *obj, rt__event *e, char *err,
		size_t errlen)
{
	json_t *name = json_object_get(obj, "name");
	json_t *data = json_object_get(obj, "data");
	json_t *channels = json_object_get(obj, "channels");
	json_t *channel = json_object_get(obj, "channel");
	json_t *socket_id = json_object_get(obj, "socket_id");
	json_t *info = json_object_get(obj, "info");
	size_t i;
	json_t *v;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(obj)) {
		snprintf(err, errlen, "an event must be a JSON object");
		return 400;
	}
	if (!json_is_string(name) || json_string_length(name) == 0
			|| json_string_length(name) > RT_API_EVENT_NAME_MAX) {
		snprintf(err, errlen, "name must be a string of 1 to %d bytes", RT_API_EVENT_NAME_MAX);
		return 400;
	}
	e->name = json_string_value(name);
	e->name_len = json_string_length(name);
	if (json_is_string(data)) {
		e->data = json_string_value(data);
		e->data_len = json_string_length(data);
	} else if (data != NULL) {
		e->data_owned = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
		if (e->data_owned == NULL) {
			snprintf(err, errlen, "out of memory");
			return 503;
		}
		e->data = e->data_owned;
		e->data_len = strlen(e->data_owned);
	} else {
		snprintf(err, errlen, "data is required (a string)");
		return 400;
	}
	if (e->data_len > cfg->max_event_size) {
		snprintf(err, errlen, "data is %zu bytes, over the limit of %u (realtime.max_event_size)",
				e->data_len, cfg->max_event_size);
		return 413;
	}
	if (json_is_array(channels)) {
		if (json_array_size(channels) == 0 || json_array_size(channels) > RT_API_CHANNELS_MAX) {
			snprintf(err, errlen, "channels must list 1 to %d channels", RT_API_CHANNELS_MAX);
			return 400;
		}
		json_array_foreach(channels, i, v) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "channels must be strings");
				return 400;
			}
			e->channels[e->channel_count].ptr = json_string_value(v);
			e->channels[e->channel_count++].len = json_string_length(v);
		}
	} else if (json_is_string(channel)) {
		e->channels[0].ptr = json_string_value(channel);
		e->channels[0].len = json_string_length(channel);
		e->channel_count = 1;
	} else {
		snprintf(err, errlen, "channel (a string) or channels (a list) is required");
		return 400;
	}
	for (uint32_t c = 0; c < e->channel_count; c++) {
		if (!rt_channel_name_valid(e->channels[c].ptr, e->channels[c].len)) {
			snprintf(err, errlen, "invalid channel name: 1 to %d characters of "
					"A-Z a-z 0-9 _ - = @ , . ; : # / ? & %% + ! $ ' ( ) [ ] ~", RT_CHANNEL_MAX);
			return 400;
		}
	}
	if (socket_id != NULL && !json_is_null(socket_id)) {
		if (!json_is_string(socket_id)
				|| !rt_pusher_socket_id_valid(json_string_value(socket_id),
						json_string_length(socket_id))) {
			snprintf(err, errlen, "socket_id must look like 123.456");
			return 400;
		}
		e->socket_id.ptr = json_string_value(socket_id);
		e->socket_id.len = json_string_length(socket_id);
	}
	if (json_is_string(info)) {
		e->want_users = rt__list_has(json_string_value(info), json_string_length(info), "user_count");
		e->want_subs = rt__list_has(json_string_value(info), json_string_length(info),
				"subscription_count");
	}
	return 0;
}

/* 0 when every message the event makes can reach its subscribers, or 413
 * (503: out of memory) with err set. */
static int rt__event_check(rt_hub *hub, const rt__event *e, char *err, size_t errlen)
{
	rt_str list[RT_API_CHANNELS_MAX];
	rt_msg_fields f = {0};
	uint32_t n = 0;
	rt_msg view;
	rt_sb data;
	int status = 0;

	rt_sb_init(&data);
	rt_sb_json_string(&data, e->data, e->data_len);
	if (data.failed) {
		snprintf(err, errlen, "out of memory");
		return 503;
	}
	memset(&f, 0, sizeof(f));
	f.event.ptr = e->name;
	f.event.len = e->name_len;
	f.data.ptr = data.data;
	f.data.len = data.len;
	for (uint32_t c = 0; c < e->channel_count && status == 0; c++) {
		const char *user;
		size_t user_len;
		if (!rt_pusher_user_channel(e->channels[c].ptr, e->channels[c].len, &user, &user_len)) {
			list[n++] = e->channels[c];
			continue;
		}
		f.target.ptr = user;
		f.target.len = user_len;
		rt_msg_view(&view, RT_MSG_TO_USER, &f);
		if (hub->hooks->check_publish(hub, &view, err, errlen) != 0) {
			status = 413;
		}
	}
	if (n > 0 && status == 0) {
		f.target.ptr = NULL;
		f.target.len = 0;
		f.channels = list;
		f.channel_count = n;
		f.exclude = e->socket_id;
		rt_msg_view(&view, RT_MSG_PUBLISH, &f);
		if (hub->hooks->check_publish(hub, &view, err, errlen) != 0) {
			status = 413;
		}
	}
	rt_sb_free(&data);
	return status;
}

/* Hands the event to the hub: one message for its channels and one per
 * user channel, delivered to that user's connections whatever protocol
 * they speak. 0 or -ENOMEM. */
static int rt__event_publish(rt_hub *hub, const rt__event *e)
{
	rt_str list[RT_API_CHANNELS_MAX];
	rt_msg_fields f = {0};
	uint32_t n = 0;
	rt_sb data;
	rt_msg *msg;
	int r = 0;

	/* The data string becomes a JSON string value. */
	rt_sb_init(&data);
	rt_sb_json_string(&data, e->data, e->data_len);
	if (data.failed) {
		return -ENOMEM;
	}
	for (uint32_t c = 0; c < e->channel_count && r == 0; c++) {
		const char *user;
		size_t user_len;
		if (!rt_pusher_user_channel(e->channels[c].ptr, e->channels[c].len, &user, &user_len)) {
			list[n++] = e->channels[c];
			continue;
		}
		if (!rt_user_id_valid(user, user_len)) {
			continue;
		}
		memset(&f, 0, sizeof(f));
		f.event.ptr = e->name;
		f.event.len = e->name_len;
		f.data.ptr = data.data;
		f.data.len = data.len;
		f.target.ptr = user;
		f.target.len = user_len;
		msg = rt_msg_new(RT_MSG_TO_USER, &f);
		r = msg == NULL ? -ENOMEM : hub->hooks->publish_api(hub, msg);
	}
	if (n > 0 && r == 0) {
		memset(&f, 0, sizeof(f));
		f.channels = list;
		f.channel_count = n;
		f.event.ptr = e->name;
		f.event.len = e->name_len;
		f.data.ptr = data.data;
		f.data.len = data.len;
		f.exclude = e->socket_id;
		msg = rt_msg_new(RT_MSG_PUBLISH, &f);
		r = msg == NULL ? -ENOMEM : hub->hooks->publish_api(hub, msg);
	}
	if (r == 0) {
		rt_stat_add(&hub->stat_source[RT_STAT_SRC_PUSHER_API], 1);
	}
	rt_sb_free(&data);
	return r;
}

/* The answer to a publish the broker did not take: nobody got it. */
static int rt__publish_status(int r)
{
	return r == -EMSGSIZE ? 413 : 503;
}

static const char *rt__publish_error(int r)
{
	switch (r) {
	case -ENOMEM: return "out of memory";
	case -EMSGSIZE: return "the message is too large for the broker";
	default: return "the broker did not take the message: try again later";
	}
}

static void rt__count(rt_sb *sb, const char *name, size_t n, int *first)
{
	char num[48];

	snprintf(num, sizeof(num), "%s\"%s\":%zu", *first ? "" : ",", name, n);
	rt_sb_puts(sb, num);
	*first = 0;
}

/* Connections subscribed to the channel, app-wide. */
static uint64_t rt__subscriptions(const rt_vchannel *vch)
{
	return vch != NULL ? vch->subs.total : 0;
}

/* Users on a presence channel, app-wide. */
static size_t rt__users(const rt_vchannel *vch)
{
	return vch != NULL ? vch->members.count : 0;
}

/* {"user_count":..,"subscription_count":..} of channel c of e, for info. */
static void rt__channel_info(rt_hub *hub, const rt__event *e, uint32_t c, rt_sb *sb)
{
	const rt_vchannel *vch = rt_view_channel(&hub->view, e->channels[c].ptr, e->channels[c].len);
	int first = 1;

	rt_sb_puts(sb, "{");
	if (e->want_users && rt_channel_is_presence(e->channels[c].ptr, e->channels[c].len)) {
		rt__count(sb, "user_count", rt__users(vch), &first);
	}
	if (e->want_subs) {
		rt__count(sb, "subscription_count", (size_t) rt__subscriptions(vch), &first);
	}
	rt_sb_puts(sb, "}");
}

/* {"name":{..},...} for every channel of e. */
static void rt__event_info(rt_hub *hub, const rt__event *e, rt_sb *sb)
{
	rt_sb_puts(sb, "{");
	for (uint32_t c = 0; c < e->channel_count; c++) {
		if (c > 0) {
			rt_sb_puts(sb, ",");
		}
		rt_sb_json_string(sb, e->channels[c].ptr, e->channels[c].len);
		rt_sb_puts(sb, ":");
		rt__channel_info(hub, e, c, sb);
	}
	rt_sb_puts(sb, "}");
}

static json_t *rt__body_object(rt_http_answer *ans, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	char err[220];

	if (!json_is_object(root)) {
		snprintf(err, sizeof(err), "the body must be a JSON object%s%s", root ? "" : ": ",
				root ? "" : jerr.text);
		json_decref(root);
		rt__fail(ans, 400, err);
		return NULL;
	}
	return root;
}

static void rt__post_events(rt_hub *hub, rt_http_answer *ans, const char *body, size_t len)
{
	json_t *root = rt__body_object(ans, body, len);
	rt__event e;
	char err[200];
	rt_sb sb;
	int status;

	if (root == NULL) {
		return;
	}
	status = rt__event_parse(&hub->cfg, root, &e, err, sizeof(err));
	if (status == 0) {
		status = rt__event_check(hub, &e, err, sizeof(err));
	}
	if (status != 0) {
		rt__event_free(&e);
		json_decref(root);
		rt__fail(ans, status, err);
		return;
	}
	status = rt__event_publish(hub, &e);
	if (status != 0) {
		rt__event_free(&e);
		json_decref(root);
		rt__fail(ans, rt__publish_status(status), rt__publish_error(status));
		return;
	}
	rt_sb_init(&sb);
	if (e.want_users || e.want_subs) {
		rt_sb_puts(&sb, "{\"channels\":");
		rt__event_info(hub, &e, &sb);
		rt_sb_puts(&sb, "}");
	} else {
		rt_sb_puts(&sb, "{}");
	}
	rt__event_free(&e);
	json_decref(root);
	rt__reply(ans, 200, &sb);
}

static void rt__post_batch(rt_hub *hub, rt_http_answer *ans, const char *body, size_t len)
{
	json_t *root = rt__body_object(ans, body, len);
	json_t *batch;
	rt__event *events;
	size_t n, parsed = 0;
	int status = 0, info = 0;
	char err[260];
	rt_sb sb;

	if (root == NULL) {
		return;
	}
	batch = json_object_get(root, "batch");
	n = json_array_size(batch);
	if (!json_is_array(batch) || n == 0 || n > RT_API_BATCH_MAX) {
		json_decref(root);
		snprintf(err, sizeof(err), "batch must be a list of 1 to %d events", RT_API_BATCH_MAX);
		rt__fail(ans, 400, err);
		return;
	}
	events = calloc(n, sizeof(*events));
	if (events == NULL) {
		json_decref(root);
		rt__fail(ans, 503, "out of memory");
		return;
	}
	/* Every event is checked before any is sent. */
	for (; parsed < n && status == 0; parsed++) {
		char why[200];
		status = rt__event_parse(&hub->cfg, json_array_get(batch, parsed), &events[parsed], why,
				sizeof(why));
		if (status == 0) {
			status = rt__event_check(hub, &events[parsed], why, sizeof(why));
		}
		if (status != 0) {
			snprintf(err, sizeof(err), "batch[%zu]: %s", parsed, why);
		}
		info |= events[parsed].want_users || events[parsed].want_subs;
	}
	for (size_t i = 0; i < n && status == 0; i++) {
		int r = rt__event_publish(hub, &events[i]);
		if (r != 0) {
			status = rt__publish_status(r);
			snprintf(err, sizeof(err), "batch[%zu]: %s", i, rt__publish_error(r));
		}
	}
	rt_sb_init(&sb);
	if (status == 0 && info) {
		rt_sb_puts(&sb, "{\"batch\":[");
		for (size_t i = 0; i < n; i++) {
			if (i > 0) {
				rt_sb_puts(&sb, ",");
			}
			/* A batch event has one channel: its attributes, or {}. */
			rt__channel_info(hub, &events[i], 0, &sb);
		}
		rt_sb_puts(&sb, "]}");
	} else {
		rt_sb_puts(&sb, "{}");
	}
	for (size_t i = 0; i < parsed; i++) {
		rt__event_free(&events[i]);
	}
	free(events);
	json_decref(root);
	if (status != 0) {
		rt_sb_free(&sb);
		rt__fail(ans, status, err);
		return;
	}
	rt__reply(ans, 200, &sb);
}

/* ---- queries ---- */

static void rt__get_channels(rt_hub *hub, rt_http_answer *ans, const rt__params *ps)
{
	const rt__param *prefix = rt__param_get(ps, "filter_by_prefix");
	const rt__param *info = rt__param_get(ps, "info");
	int users = info != NULL && rt__list_has(info->value, info->value_len, "user_count");
	size_t it = 0;
	void *v;
	int first = 1;
	rt_sb sb;

	if (users && (prefix == NULL || !rt_has_prefix(prefix->value, prefix->value_len, "presence-"))) {
		rt__fail(ans, 400, "info=user_count needs filter_by_prefix=presence-");
		return;
	}
	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"channels\":{");
	while (rt_map_next(&hub->view.channels, &it, &v)) {
		const rt_vchannel *vch = v;
		if (vch->name_len == 0 || vch->subs.total == 0) {
			continue; /* the connection counter, or a channel being vacated */
		}
		if (prefix != NULL && (vch->name_len < prefix->value_len
				|| memcmp(vch->name, prefix->value, prefix->value_len) != 0)) {
			continue;
		}
		if (!first) {
			rt_sb_puts(&sb, ",");
		}
		first = 0;
		rt_sb_json_string(&sb, vch->name, vch->name_len);
		rt_sb_puts(&sb, ":{");
		if (users) {
			int f = 1;
			rt__count(&sb, "user_count", rt__users(vch), &f);
		}
		rt_sb_puts(&sb, "}");
	}
	rt_sb_puts(&sb, "}}");
	rt__reply(ans, 200, &sb);
}

static void rt__get_channel(rt_hub *hub, rt_http_answer *ans, const rt__params *ps, const char *name, size_t len)
{
	const rt__param *info = rt__param_get(ps, "info");
	int users = info != NULL && rt__list_has(info->value, info->value_len, "user_count");
	int subs = info != NULL && rt__list_has(info->value, info->value_len, "subscription_count");
	const rt_vchannel *vch;
	int first = 0;
	rt_sb sb;

	if (!rt_channel_name_valid(name, len)) {
		rt__fail(ans, 400, "invalid channel name");
		return;
	}
	if (users && !rt_channel_is_presence(name, len)) {
		rt__fail(ans, 400, "info=user_count is only for presence channels");
		return;
	}
	vch = rt_view_channel(&hub->view, name, len);
	rt_sb_init(&sb);
	rt_sb_puts(&sb, rt__subscriptions(vch) > 0 ? "{\"occupied\":true" : "{\"occupied\":false");
	if (users) {
		rt__count(&sb, "user_count", rt__users(vch), &first);
	}
	if (subs) {
		rt__count(&sb, "subscription_count", (size_t) rt__subscriptions(vch), &first);
	}
	rt_sb_puts(&sb, "}");
	rt__reply(ans, 200, &sb);
}

static void rt__get_users(rt_hub *hub, rt_http_answer *ans, const char *name, size_t len)
{
	const rt_vchannel *vch;
	size_t it = 0;
	void *v;
	int first = 1;
	rt_sb sb;

	if (!rt_channel_name_valid(name, len) || !rt_channel_is_presence(name, len)) {
		rt__fail(ans, 400, "users are listed for presence channels only");
		return;
	}
	vch = rt_view_channel(&hub->view, name, len);
	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"users\":[");
	while (vch != NULL && rt_map_next(&vch->members, &it, &v)) {
		const rt_member *m = ((const rt_vmember *) v)->member;
		if (!first) {
			rt_sb_puts(&sb, ",");
		}
		first = 0;
		rt_sb_puts(&sb, "{\"id\":");
		rt_sb_json_string(&sb, m->id, m->id_len);
		rt_sb_puts(&sb, "}");
	}
	rt_sb_puts(&sb, "]}");
	rt__reply(ans, 200, &sb);
}

static void rt__terminate(rt_hub *hub, rt_http_answer *ans, const char *user, size_t len)
{
	rt_msg_fields f = {0};
	rt_msg *msg;
	rt_sb sb;
	int r;

	if (!rt_user_id_valid(user, len)) {
		rt__fail(ans, 400, "invalid user id");
		return;
	}
	memset(&f, 0, sizeof(f));
	f.target.ptr = user;
	f.target.len = len;
	msg = rt_msg_new(RT_MSG_DISCONNECT_USER, &f);
	if (msg == NULL) {
		rt__fail(ans, 503, "out of memory");
		return;
	}
	r = hub->hooks->publish_api(hub, msg);
	if (r != 0) {
		rt__fail(ans, rt__publish_status(r), rt__publish_error(r));
		return;
	}
	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{}");
	rt__reply(ans, 200, &sb);
}

/* ---- routing ---- */

enum {
	RT__EVENTS,
	RT__BATCH,
	RT__CHANNELS,
	RT__CHANNEL,
	RT__USERS,
	RT__TERMINATE,
};

/* Splits path (without its query) into decoded segments held in mem (cap
 * bytes); returns their number, max + 1 when there are more than max or
 * they would not fit. */
static size_t rt__segments(const char *path, size_t len, char *mem, size_t cap, rt_str *seg,
		size_t max)
{
	size_t n = 0, i = 1;
	char *mem_end = mem + cap;

	while (i <= len) {
		const char *slash = memchr(path + i, '/', len - i);
		size_t end = slash ? (size_t) (slash - path) : len;
		long r;
		if (n == max) {
			return max + 1;
		}
		r = rt_http_url_decode(path + i, end - i, 0, mem, (size_t) (mem_end - mem));
		if (r < 0) {
			return max + 1;
		}
		seg[n].len = (size_t) r;
		seg[n].ptr = mem;
		mem += seg[n].len + 1;
		n++;
		i = end + 1;
	}
	return n;
}

static int rt__is(rt_str s, const char *word)
{
	return s.len == strlen(word) && memcmp(s.ptr, word, s.len) == 0;
}

void rt_pusher_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans)
{
	const rt_config *cfg = &hub->cfg;
	size_t path_len, n;
	const char *path = rt_http_req_path(req, &path_len);
	const char *url = req->buf + req->url_off;
	rt_str seg[RT_API_SEGMENTS_MAX];
	char *mem = malloc(path_len + RT_API_SEGMENTS_MAX + 2);
	rt__params ps;
	int route, method, status, r;
	char err[300];

	memset(&ps, 0, sizeof(ps));
	if (mem == NULL) {
		rt__fail(ans, 503, "out of memory");
		return;
	}
	n = rt__segments(path, path_len, mem, path_len + RT_API_SEGMENTS_MAX + 2, seg,
			RT_API_SEGMENTS_MAX);
	/* seg[0] is "apps", seg[1] the app id. */
	if (n < 3 || n > RT_API_SEGMENTS_MAX || strlen(cfg->app_id) != seg[1].len
			|| memcmp(cfg->app_id, seg[1].ptr, seg[1].len) != 0) {
		rt__fail(ans, 404, n >= 2 && n <= RT_API_SEGMENTS_MAX ? "unknown app id" : "not found");
		goto done;
	}
	if (n == 3 && rt__is(seg[2], "events")) {
		route = RT__EVENTS;
	} else if (n == 3 && rt__is(seg[2], "batch_events")) {
		route = RT__BATCH;
	} else if (n == 3 && rt__is(seg[2], "channels")) {
		route = RT__CHANNELS;
	} else if (n == 4 && rt__is(seg[2], "channels")) {
		route = RT__CHANNEL;
	} else if (n == 5 && rt__is(seg[2], "channels") && rt__is(seg[4], "users")) {
		route = RT__USERS;
	} else if (n == 5 && rt__is(seg[2], "users") && rt__is(seg[4], "terminate_connections")) {
		route = RT__TERMINATE;
	} else {
		rt__fail(ans, 404, "not found");
		goto done;
	}
	method = (route == RT__EVENTS || route == RT__BATCH || route == RT__TERMINATE)
			? HTTP_POST : HTTP_GET;
	if (req->method != method) {
		rt__fail(ans, 405, method == HTTP_GET ? "method not allowed: use GET"
				: "method not allowed: use POST");
		goto done;
	}
	{
		const char *q = memchr(url, '?', req->url_len);
		size_t qlen = q ? req->url_len - (size_t) (q - url) - 1 : 0;
		r = rt__params_parse(&ps, q ? q + 1 : "", qlen);
	}
	if (r != 0) {
		rt__fail(ans, r == -ENOMEM ? 503 : 400, r == -ENOMEM ? "out of memory"
				: "too many query parameters");
		goto done;
	}
	status = rt__authenticate(cfg, req, path, path_len, &ps, body, len, err, sizeof(err));
	if (status != 0) {
		atomic_fetch_add_explicit(&hub->net.stat_unauthorized, 1, memory_order_relaxed);
		rt_log(RT_LOG_INFO, "refused a Pusher HTTP API request: %s", err);
		rt__fail(ans, status, err);
		goto done;
	}
	switch (route) {
	case RT__EVENTS:
		rt__post_events(hub, ans, body, len);
		break;
	case RT__BATCH:
		rt__post_batch(hub, ans, body, len);
		break;
	case RT__CHANNELS:
		rt__get_channels(hub, ans, &ps);
		break;
	case RT__CHANNEL:
		rt__get_channel(hub, ans, &ps, seg[3].ptr, seg[3].len);
		break;
	case RT__USERS:
		rt__get_users(hub, ans, seg[3].ptr, seg[3].len);
		break;
	default:
		rt__terminate(hub, ans, seg[3].ptr, seg[3].len);
	}
done:
	free(ps.mem);
	free(mem);
}
