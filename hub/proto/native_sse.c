#include "hub/proto/native_sse.h"
#include "hub/proto/native.h"
#include "hub/core/session.h"
#include "hub/util/log.h"
#include "hub/wire/sse.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static rt_buf *rt__buf_of(rt_sb *sb)
{
	rt_buf *b = sb->failed ? NULL : rt_buf_new(sb->len);

	if (b != NULL) {
		memcpy(b->data, sb->data, sb->len);
	}
	rt_sb_free(sb);
	return b;
}

rt_buf *rt_native_sse_frame(const char *event, const char *json, size_t len, int open)
{
	return rt_sse_event_buf(event, json, len, open);
}

/* A frame of the JSON sb holds (freed). */
static rt_buf *rt__frame_json(rt_sb *json, int open)
{
	rt_buf *b = json->failed ? NULL : rt_native_sse_frame(NULL, json->data, json->len, open);

	rt_sb_free(json);
	return b;
}

static int rt__positioned_msg(const rt_msg *msg, rt_str channel)
{
	if (msg->positions == NULL || channel.ptr == NULL) {
		return 0;
	}
	for (uint32_t i = 0; i < msg->channel_count; i++) {
		if (msg->channels[i].ptr == channel.ptr) {
			return msg->positions[i].offset > 0;
		}
	}
	return 0;
}

static size_t rt__break_bytes(const char *d, size_t n)
{
	size_t b = 0;

	for (size_t i = 0; i < n; i++) {
		b += d[i] == '\r' || d[i] == '\n';
	}
	return b;
}

static rt_buf *rt__frame_message(const rt_msg *msg, rt_str channel)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_message_json(&sb, msg, channel);
	/* A positioned event stays open: the stream's id follows it. */
	return rt__frame_json(&sb, rt__positioned_msg(msg, channel));
}

/* Keep in step with rt__frame_message and rt_sse_event. */
static size_t rt__message_size(const rt_msg *msg, rt_str channel)
{
	const char *d = msg->data.ptr;
	size_t lines = 1, n = msg->data.len;

	/* JSON outside strings may hold line breaks (CR, LF, CRLF): each
	 * starts a "data: " line instead of being sent. */
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\r' || d[i] == '\n') {
			lines++;
			if (d[i] == '\r' && i + 1 < n && d[i + 1] == '\n') {
				i++;
			}
		}
	}
	/* Each break's bytes go, each line gains "data: " and "\n". */
	return rt_native_message_json_size(msg, channel) - rt__break_bytes(d, n) + lines * 7
			+ (rt__positioned_msg(msg, channel) ? 0 : 1);
}

static rt_buf *rt__frame_member_added(const rt_channel *ch, const rt_member *m)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_member_added_json(&sb, ch, m);
	return rt__frame_json(&sb, 0);
}

static rt_buf *rt__frame_member_removed(const rt_channel *ch, const char *user_id, size_t len)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_member_removed_json(&sb, ch, user_id, len);
	return rt__frame_json(&sb, 0);
}

static rt_buf *rt__frame_whisper(const rt_whisper *w)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_native_whisper_json(&sb, w);
	return rt__frame_json(&sb, 0);
}

/* The stream's cursor: its position on each history channel it follows.
 * Small per stream, and only for positioned messages: the event itself is
 * shared. */
static void rt__positioned(rt_session *s)
{
	rt_sse_cursor c[RT_SSE_ID_MAX];
	size_t n = 0;
	rt_sb sb;
	rt_buf *b;

	for (uint32_t i = 0; i < s->sub_count && n < RT_SSE_ID_MAX; i++) {
		const rt_sub *sub = s->subs[i];
		if (sub->hist_offset == 0 && sub->hist_epoch == 0) {
			continue;
		}
		c[n].hash = rt_sse_channel_hash(sub->channel->name, sub->channel->name_len);
		c[n].pos.offset = sub->hist_offset;
		c[n].pos.epoch = sub->hist_epoch;
		n++;
	}
	/* A stream on one history channel (the common case) has the same id as
	 * every other such stream of the channel for this message: made once. */
	if (n == 1 && s->hub->sse_id != NULL && s->hub->sse_id_hash == c[0].hash
			&& s->hub->sse_id_pos.offset == c[0].pos.offset
			&& s->hub->sse_id_pos.epoch == c[0].pos.epoch) {
		rt_session_send(s, s->hub->sse_id);
		return;
	}
	rt_sb_init(&sb);
	if (n > 0) {
		rt_sse_id_put(&sb, c, n);
	} else {
		rt_sb_puts(&sb, "\n");
	}
	b = rt__buf_of(&sb);
	if (b == NULL) {
		rt_session_abort(s); /* an event left open would run into the next */
		return;
	}
	rt_session_send(s, b);
	if (n == 1) {
		rt_buf_unref(s->hub->sse_id);
		s->hub->sse_id = b;
		s->hub->sse_id_hash = c[0].hash;
		s->hub->sse_id_pos = c[0].pos;
		return;
	}
	rt_buf_unref(b);
}

/* The stream's query value name, URL-decoded into a new string (freed by
 * the caller), or NULL. */
static char *rt__query(const rt_http_req *req, const char *name, size_t *len)
{
	size_t raw_len;
	const char *raw = rt_http_req_query(req, name, &raw_len);
	char *out;
	long n;

	if (raw == NULL) {
		return NULL;
	}
	out = malloc(raw_len + 1);
	if (out == NULL) {
		return NULL;
	}
	n = rt_http_url_decode(raw, raw_len, 1, out, raw_len + 1);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*len = (size_t) n;
	return out;
}

static void rt__on_open(rt_session *s, const rt_http_req *req)
{
	static rt_log_limit bad_log;
	rt_sse_cursor cur[RT_SSE_ID_MAX];
	size_t list_len = 0, id_len = 0, pos = 0, name_len;
	char *list = rt__query(req, "channels", &list_len);
	char *id_copy = NULL;
	const char *id = rt_http_req_header(req, RT_HDR_LAST_EVENT_ID, &id_len);
	const char *name;
	int count = 0, bad = 0;

	rt_native_on_open(s, req);
	if (id == NULL) {
		id = id_copy = rt__query(req, "lastEventId", &id_len);
	}
	if (id != NULL && id_len > 0) {
		count = rt_sse_id_parse(id, id_len, cur, RT_SSE_ID_MAX);
		if (count < 0) {
			/* Recovery cannot be trusted: every channel says it failed. */
			bad = 1;
			count = 0;
			atomic_fetch_add_explicit(&s->hub->stat_sse_bad_id, 1, memory_order_relaxed);
			rt_log_limited(&bad_log, RT_LOG_WARNING, "stream %s: malformed Last-Event-ID "
					"(%zu bytes) ignored: its channels report recovered:false", s->id, id_len);
		}
	}
	while (list != NULL && (name_len = rt_sse_list_next(list, list_len, &pos, &name)) > 0) {
		const rt_pos none = {0, 0};
		const rt_pos *since = bad ? &none : NULL;
		uint32_t hash = rt_sse_channel_hash(name, name_len);
		if (!rt_channel_name_valid(name, name_len)) {
			rt_sb sb;
			rt_sb_init(&sb);
			rt_sb_puts(&sb, "{\"type\":\"error\",\"code\":\"invalid_channel\",\"channel\":");
			rt_sb_json_string(&sb, name, name_len > 200 ? 200 : name_len);
			rt_sb_puts(&sb, ",\"message\":\"a channel name is 1 to 200 characters of "
					"A-Z a-z 0-9 _ - = @ , . ; : # / ? & % + ! $ ' ( ) [ ] ~\"}");
			rt_session_send_sb(s, &sb);
			continue;
		}
		for (int i = 0; i < count; i++) {
			if (cur[i].hash == hash) {
				since = &cur[i].pos;
				break;
			}
		}
		rt_native_subscribe(s, NULL, name, name_len, since);
	}
	free(list);
	free(id_copy);
}

void rt_native_sse_control(rt_session *s, const char *text, size_t len)
{
	static rt_log_limit refused_log;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *op = json_object_get(root, "op"), *user = json_object_get(root, "user");
	json_t *channels = json_object_get(root, "channels");
	const char *list, *name;
	size_t list_len, pos = 0, name_len;
	int sub, same;
	json_t *id;
	rt_pos pos_since;
	const rt_pos *since = NULL;

	if (!json_is_string(op) || !json_is_string(channels) || (user != NULL && !json_is_null(user)
			&& !json_is_string(user))) {
		goto refused;
	}
	same = s->identity == NULL ? (user == NULL || json_is_null(user))
			: json_is_string(user) && json_string_length(user) == s->identity->user_id_len
					&& memcmp(json_string_value(user), s->identity->user_id,
							s->identity->user_id_len) == 0;
	if (s->protocol != &rt_proto_native_sse || !same) {
		goto refused;
	}
	sub = strcmp(json_string_value(op), "subscribe") == 0;
	id = json_object_get(root, "id");
	if (json_is_string(id) && json_string_length(id) > 0 && json_string_length(id) <= 64) {
		json_t *offset = json_object_get(root, "offset"), *epoch = json_object_get(root, "epoch");
		/* The since of one channel's subscribe, as the native action takes it. */
		if (json_is_string(offset) && json_is_string(epoch)) {
			char *end;
			unsigned long long o = strtoull(json_string_value(offset), &end, 10);
			json_t *v = json_pack("{s:I,s:O}", "offset", (json_int_t) (o > 9007199254740991ULL
					? 9007199254740992ULL : o), "epoch", epoch);
			if (*end == '\0' && json_string_length(offset) > 0 && json_string_value(offset)[0] != '-'
					&& v != NULL && rt_native_parse_since(v, &pos_since) == 0) {
				since = &pos_since;
			}
			json_decref(v);
		}
	} else {
		id = NULL;
	}
	list = json_string_value(channels);
	list_len = json_string_length(channels);
	while ((name_len = rt_sse_list_next(list, list_len, &pos, &name)) > 0) {
		rt_sub *found;
		if (!rt_channel_name_valid(name, name_len)) {
			continue;
		}
		if (!rt_session_take_subscribe_token(s)) {
			rt_sb sb;
			rt_sb_init(&sb);
			rt_sb_puts(&sb, "{\"type\":\"error\",\"code\":\"rate_limited\",\"channel\":");
			rt_sb_json_string(&sb, name, name_len);
			rt_sb_puts(&sb, ",\"message\":\"too many subscribe and unsubscribe requests: the "
					"limit is realtime.subscribe_rate per second\"}");
			rt_session_send_sb(s, &sb);
			continue;
		}
		if (sub) {
			rt_native_subscribe(s, id, name, name_len, since);
		} else if ((found = rt_session_find_sub(s, name, name_len)) != NULL) {
			rt_sb sb;
			rt_session_leave(s, found);
			rt_sb_init(&sb);
			rt_sb_puts(&sb, "{\"type\":\"unsubscribed\",\"channel\":");
			rt_sb_json_string(&sb, name, name_len);
			rt_sb_puts(&sb, "}");
			rt_session_send_sb(s, &sb);
		}
	}
	json_decref(root);
	return;
refused:
	atomic_fetch_add_explicit(&s->hub->net.stat_unauthorized, 1, memory_order_relaxed);
	rt_log_limited(&refused_log, RT_LOG_WARNING, "refused a subscription change of stream %s: "
			"not a stream, or another user than the stream's", s->id);
	json_decref(root);
}

/* A stream's client sends nothing on it (hub/net/stream.h). */
static void rt__on_message(rt_session *s, const char *text, size_t len)
{
	(void) s;
	(void) text;
	(void) len;
}

const rt_proto_ops rt_proto_native_sse = {
	.name = "native-sse",
	.on_open = rt__on_open,
	.on_message = rt__on_message,
	.frame_message = rt__frame_message,
	.message_size = rt__message_size,
	.frame_member_added = rt__frame_member_added,
	.frame_member_removed = rt__frame_member_removed,
	.frame_whisper = rt__frame_whisper,
	.positioned = rt__positioned,
};
