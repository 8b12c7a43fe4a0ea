#include "hub/proto/mercure.h"
#include "hub/core/session.h"
#include "hub/core/server.h"
#include "hub/model/jwt.h"
#include "hub/model/mercure_update.h"
#include "hub/model/topic_selector.h"
#include "hub/util/log.h"
#include "hub/wire/mercure_req.h"
#include "hub/wire/sse.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A template or "*" selector of a subscriber, matched on every publish. */
typedef struct rt__sel {
	rt_session *s;
	size_t len;
	char text[];
} rt__sel;

struct rt_mercure_hub {
	rt__sel **items;
	uint32_t count, cap;
	/* The update of the message at hand, parsed once for all its
	 * subscribers (keyed by rt_hub.publish_seq and the message). */
	uint64_t parsed_seq;
	const rt_msg *parsed_msg;
	int parsed;
	rt_mercure_update upd;
};

/* A subscriber's own state (rt_session.proto_state). */
typedef struct rt__state {
	rt_jwt_claims claims;      /* its JWT's mercure.subscribe: the private updates it gets */
	uint64_t seen_seq;         /* the last rt_hub.publish_seq it was sent */
	size_t last_id_len;        /* the last update id it was sent (a split update's parts) */
	char last_id[RT_MERCURE_ID_MAX + 1];
	uint32_t selectors;        /* its entries in the hub's list */
	/* Recovery from Last-Event-ID: channel history reads still out, and
	 * whether one of them held the id. */
	uint32_t pending;
	int found, earliest;
	size_t want_len;
	char want[RT_MERCURE_ID_MAX + 1];
} rt__state;

int rt_mercure_needs_all(rt_hub *hub)
{
	return hub->mercure != NULL && hub->mercure->count > 0;
}

/* The broker sends this hub every channel's publishes while selectors
 * are listed (rt_hub_link.interest, kind '*'). */
static void rt__interest_all(rt_hub *hub, int on)
{
	if (hub->has_link && hub->link.interest != NULL) {
		hub->link.interest(hub->link.ctx, '*', NULL, 0, on);
	}
}

static rt_mercure_hub *rt__hub_state(rt_hub *hub)
{
	if (hub->mercure == NULL) {
		hub->mercure = calloc(1, sizeof(*hub->mercure));
	}
	return hub->mercure;
}

void rt_mercure_hub_free(rt_hub *hub)
{
	rt_mercure_hub *m = hub->mercure;

	if (m == NULL) {
		return;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		free(m->items[i]);
	}
	free(m->items);
	free(m);
	hub->mercure = NULL;
}

/* msg's update, parsed once per message at hand; NULL when msg is none
 * (or malformed: *bad set). */
static const rt_mercure_update *rt__update(rt_hub *hub, const rt_msg *msg, int *bad)
{
	rt_mercure_hub *m = rt__hub_state(hub);
	static _Thread_local rt_mercure_update scratch;

	*bad = 0;
	if (msg->target.ptr == NULL || msg->type != RT_MSG_PUBLISH) {
		return NULL;
	}
	if (m == NULL) {
		/* Out of memory: parse each time. */
		int r = rt_mercure_update_parse(msg, &scratch);
		*bad = r < 0;
		return r == 1 ? &scratch : NULL;
	}
	if (m->parsed_seq != hub->publish_seq || m->parsed_msg != msg) {
		m->parsed_seq = hub->publish_seq;
		m->parsed_msg = msg;
		m->parsed = rt_mercure_update_parse(msg, &m->upd);
	}
	*bad = m->parsed < 0;
	return m->parsed == 1 ? &m->upd : NULL;
}

/* Whether a claim selector of st matches topic. */
static int rt__claim_matches(const rt__state *st, const char *topic, size_t len)
{
	for (size_t i = 0; i < st->claims.subscribe_count; i++) {
		const char *sel = st->claims.subscribe[i];
		if (rt_topic_selector_match(sel, strlen(sel), topic, len) == 1) {
			return 1;
		}
	}
	return 0;
}

/* A private update reaches a subscriber whose mercure.subscribe matches
 * one of its topics (the part at hand's channels, and all of them when
 * the broker split it). */
static int rt__authorized(const rt__state *st, const rt_msg *msg, const rt_mercure_update *u)
{
	const char *p, *end;

	if (st->claims.subscribe == NULL) {
		return 0;
	}
	for (uint32_t c = 0; c < msg->channel_count; c++) {
		if (rt__claim_matches(st, msg->channels[c].ptr, msg->channels[c].len)) {
			return 1;
		}
	}
	p = u->topics.ptr;
	end = p != NULL ? p + u->topics.len : NULL;
	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *stop = nl != NULL ? nl : end;
		if (rt__claim_matches(st, p, (size_t) (stop - p))) {
			return 1;
		}
		p = stop + 1;
	}
	return 0;
}

/* Whether s may be sent msg now; remembers that it was. */
static int rt__accepts(rt_session *s, const rt_msg *msg)
{
	rt__state *st = s->proto_state;
	const rt_mercure_update *u;
	int bad;

	if (st == NULL || st->seen_seq == s->hub->publish_seq) {
		return 0;
	}
	u = rt__update(s->hub, msg, &bad);
	if (bad) {
		return 0; /* its private flag cannot be trusted */
	}
	if (u != NULL) {
		if (u->id.len == st->last_id_len && memcmp(u->id.ptr, st->last_id, u->id.len) == 0) {
			return 0; /* another part of an update the broker split per topic */
		}
		if (u->is_private && !rt__authorized(st, msg, u)) {
			return 0;
		}
		memcpy(st->last_id, u->id.ptr, u->id.len);
		st->last_id_len = u->id.len;
	} else {
		st->last_id_len = 0;
	}
	st->seen_seq = s->hub->publish_seq;
	return 1;
}

size_t rt_mercure_event_id(const rt_msg *msg, rt_str channel, char *out)
{
	rt_mercure_update u;

	if (rt_mercure_update_parse(msg, &u) == 1) {
		memcpy(out, u.id.ptr, u.id.len);
		out[u.id.len] = '\0';
		return u.id.len;
	}
	for (uint32_t i = 0; msg->positions != NULL && channel.ptr != NULL && i < msg->channel_count;
			i++) {
		if (msg->channels[i].ptr == channel.ptr || (msg->channels[i].len == channel.len
				&& memcmp(msg->channels[i].ptr, channel.ptr, channel.len) == 0)) {
			if (msg->positions[i].offset == 0) {
				return 0;
			}
			int n = snprintf(out, RT_MERCURE_ID_MAX + 1, "%08" PRIx32 "-%" PRIu64 "-%016" PRIx64,
					rt_sse_channel_hash(channel.ptr, channel.len), msg->positions[i].offset,
					msg->positions[i].epoch);
			return n > 0 ? (size_t) n : 0;
		}
	}
	return 0;
}

/* One event: id, retry, type (event), data. Made once per message for
 * every subscriber. */
static rt_buf *rt__frame_message(const rt_msg *msg, rt_str channel)
{
	char id[RT_MERCURE_ID_MAX + 1], type[RT_MERCURE_TYPE_MAX + 1], line[32];
	const char *data = msg->data.ptr != NULL ? msg->data.ptr : "";
	size_t data_len = msg->data.len, idn;
	rt_mercure_update u;
	json_t *text = NULL;
	int r = rt_mercure_update_parse(msg, &u);
	rt_str t = r == 1 ? u.type : msg->event;
	rt_buf *b = NULL;
	rt_sb sb;

	if (r < 0) {
		return NULL;
	}
	if (r == 1 && u.data_text) {
		text = json_loadb(data, data_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!json_is_string(text)) {
			json_decref(text);
			return NULL;
		}
		data = json_string_value(text);
		data_len = json_string_length(text);
	}
	if (t.ptr != NULL && (t.len > RT_MERCURE_TYPE_MAX || memchr(t.ptr, '\n', t.len) != NULL
			|| memchr(t.ptr, '\r', t.len) != NULL)) {
		t.ptr = NULL; /* a native event name no SSE field can carry */
	}
	if (t.ptr != NULL) {
		memcpy(type, t.ptr, t.len);
		type[t.len] = '\0';
	}
	rt_sb_init(&sb);
	idn = rt_mercure_event_id(msg, channel, id);
	if (idn > 0) {
		rt_sb_puts(&sb, "id: ");
		rt_sb_append(&sb, id, idn);
		rt_sb_puts(&sb, "\n");
	}
	if (r == 1 && u.retry >= 0) {
		snprintf(line, sizeof(line), "retry: %" PRId64 "\n", u.retry);
		rt_sb_puts(&sb, line);
	}
	rt_sse_event(&sb, t.ptr != NULL ? type : NULL, data, data_len, 0);
	if (!sb.failed && (b = rt_buf_new(sb.len)) != NULL) {
		memcpy(b->data, sb.data, sb.len);
	}
	rt_sb_free(&sb);
	json_decref(text);
	return b;
}

static size_t rt__message_size(const rt_msg *msg, rt_str channel)
{
	rt_buf *b = rt__frame_message(msg, channel);
	size_t n = b != NULL ? b->len : msg->data.len * 2 + 512;

	rt_buf_unref(b);
	return n;
}

/* Presence and client events are not Mercure's: nothing is sent. */
static rt_buf *rt__frame_member_added(const rt_channel *ch, const rt_member *m)
{
	(void) ch;
	(void) m;
	return NULL;
}

static rt_buf *rt__frame_member_removed(const rt_channel *ch, const char *user_id, size_t len)
{
	(void) ch;
	(void) user_id;
	(void) len;
	return NULL;
}

static rt_buf *rt__frame_whisper(const rt_whisper *w)
{
	(void) w;
	return NULL;
}

static void rt__refused(rt_hub *hub, int reason)
{
	rt_stat_add(&hub->stat_mercure_refused[reason], 1);
}

static int rt__sel_add(rt_session *s, const char *text, size_t len)
{
	rt_mercure_hub *m = rt__hub_state(s->hub);
	rt__state *st = s->proto_state;
	rt__sel *e;

	if (m == NULL) {
		return -ENOMEM;
	}
	if (m->count >= s->hub->cfg.mercure_max_selectors) {
		return -ENOSPC;
	}
	if (m->count == m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : 16;
		rt__sel **items = realloc(m->items, cap * sizeof(*items));
		if (items == NULL) {
			return -ENOMEM;
		}
		m->items = items;
		m->cap = cap;
	}
	e = malloc(sizeof(*e) + len + 1);
	if (e == NULL) {
		return -ENOMEM;
	}
	e->s = s;
	e->len = len;
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	m->items[m->count++] = e;
	st->selectors++;
	if (m->count == 1) {
		rt__interest_all(s->hub, 1);
	}
	return 0;
}

void rt_mercure_fanout_selectors(rt_hub *hub, const rt_msg *msg)
{
	rt_mercure_hub *m = hub->mercure;
	rt_buf *frame = NULL;
	uint32_t framed = UINT32_MAX;

	if (m == NULL || m->count == 0 || msg->type != RT_MSG_PUBLISH) {
		return;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		rt__sel *e = m->items[i];
		uint32_t c;
		for (c = 0; c < msg->channel_count; c++) {
			if ((e->len == 1 && e->text[0] == '*') || rt_topic_selector_match(e->text, e->len,
					msg->channels[c].ptr, msg->channels[c].len) == 1) {
				break;
			}
		}
		if (c == msg->channel_count || !rt__accepts(e->s, msg)) {
			continue;
		}
		/* The frame names the channel only in a native message's id. */
		if (framed != c && (framed == UINT32_MAX || msg->positions != NULL)) {
			rt_buf_unref(frame);
			frame = rt__frame_message(msg, msg->channels[c]);
			framed = c;
		}
		if (frame != NULL) {
			rt_session_send(e->s, frame);
		}
	}
	rt_buf_unref(frame);
}

static void rt__event(rt_session *s, const char *event, const char *json, size_t len)
{
	rt_buf *b = rt_sse_event_buf(event, json, len, 0);

	if (b != NULL) {
		rt_session_send(s, b);
		rt_buf_unref(b);
	}
}

/* Recovery did not find the id the client gave (or it was malformed): an
 * event says so, and the stream goes on live. */
static void rt__not_recovered(rt_session *s, const char *id, size_t len)
{
	rt_sb json;

	rt_sb_init(&json);
	rt_sb_puts(&json, "{\"recovered\":false,\"lastEventID\":");
	rt_sb_json_string(&json, id, len);
	rt_sb_puts(&json, "}");
	if (!json.failed) {
		rt__event(s, "recovery", json.data, json.len);
	}
	rt_sb_free(&json);
}

typedef struct rt__replay {
	rt_hub *hub;
	uint8_t session_len;
	char session[32];
	size_t len;
	char name[];
} rt__replay;

static void rt__replayed(void *arg, const rt_hub_history *res)
{
	rt__replay *w = arg;
	rt_session *s = rt_session_find(w->hub, w->session, w->session_len);
	rt_sub *sub = s != NULL ? rt_session_find_sub(s, w->name, w->len) : NULL;
	rt__state *st = s != NULL ? s->proto_state : NULL;
	uint32_t start = UINT32_MAX;
	char id[RT_MERCURE_ID_MAX + 1];

	if (sub == NULL || st == NULL || s->protocol != &rt_proto_mercure) {
		free(w);
		return;
	}
	if (res->status == 1) {
		if (st->earliest) {
			start = 0;
		}
		for (uint32_t i = 0; i < res->count && start == UINT32_MAX; i++) {
			size_t n = rt_mercure_event_id(res->msgs[i], res->msgs[i]->channels[0], id);
			if (n == st->want_len && memcmp(id, st->want, n) == 0) {
				start = i + 1;
				st->found = 1;
			}
		}
		for (uint32_t i = start; i < res->count; i++) {
			const rt_msg *m = res->msgs[i];
			rt_buf *frame;
			s->hub->publish_seq++;
			if (!rt__accepts(s, m) || (frame = rt__frame_message(m, m->channels[0])) == NULL) {
				continue;
			}
			rt_session_send(s, frame);
			rt_buf_unref(frame);
			rt_stat_add(&s->hub->stat_mercure_replayed, 1);
		}
		/* Live messages up to the top were replayed or are older than the
		 * id: not sent again (hub.c, the positioned fan-out). */
		sub->hist_offset = res->top.offset;
		sub->hist_epoch = res->top.epoch;
	}
	rt_session_unhold(s, sub, NULL);
	if (st->pending > 0 && --st->pending == 0 && !st->found && !st->earliest) {
		static rt_log_limit log;
		rt_log_limited(&log, RT_LOG_INFO, "Mercure subscriber %s: Last-Event-ID %.*s is in "
				"no history of its topics: not recovered", s->id, (int) st->want_len, st->want);
		rt_stat_add(&s->hub->stat_recovered[0], 1);
		rt__not_recovered(s, st->want, st->want_len);
	} else if (st->pending == 0) {
		rt_stat_add(&s->hub->stat_recovered[1], 1);
	}
	free(w);
}

static void rt__recover(rt_session *s, const char *id, size_t len)
{
	static rt_log_limit bad_log;
	rt__state *st = s->proto_state;
	uint32_t count = s->sub_count;

	if (len > RT_MERCURE_ID_MAX || memchr(id, '\n', len) != NULL || memchr(id, '\r', len) != NULL
			|| memchr(id, '\0', len) != NULL) {
		atomic_fetch_add_explicit(&s->hub->stat_sse_bad_id, 1, memory_order_relaxed);
		rt_log_limited(&bad_log, RT_LOG_WARNING, "Mercure subscriber %s: malformed Last-Event-ID "
				"(%zu bytes) ignored: not recovered", s->id, len);
		rt__not_recovered(s, "", 0);
		return;
	}
	memcpy(st->want, id, len);
	st->want[len] = '\0';
	st->want_len = len;
	st->earliest = len == 8 && memcmp(id, "earliest", 8) == 0;
	if (count == 0) {
		if (!st->earliest) {
			rt__not_recovered(s, id, len);
		}
		return;
	}
	st->pending = count;
	/* Each read may answer at once (memory broker): the list is walked
	 * from a copy of the count, and the subscriptions stay (nothing
	 * unsubscribes a stream). */
	for (uint32_t i = 0; i < count; i++) {
		rt_sub *sub = s->subs[i];
		rt__replay *w = malloc(sizeof(*w) + sub->channel->name_len);
		if (w == NULL) {
			st->pending--;
			continue;
		}
		w->hub = s->hub;
		w->session_len = s->id_len;
		memcpy(w->session, s->id, s->id_len);
		w->len = sub->channel->name_len;
		memcpy(w->name, sub->channel->name, w->len);
		rt_session_hold(sub);
		rt_session_history(s, w->name, w->len, NULL, UINT32_MAX, rt__replayed, w);
	}
}

static int rt__is_selector(const char *t, size_t len)
{
	return (len == 1 && t[0] == '*') || memchr(t, '{', len) != NULL;
}

static void rt__on_free(rt_session *s);

static void rt__on_open(rt_session *s, const rt_http_req *req)
{
	static rt_log_limit full_log;
	static _Thread_local char tokbuf[RT_JWT_MAX + 1];
	const rt_config *cfg = &s->hub->cfg;
	rt__state *st = calloc(1, sizeof(*st));
	size_t qlen, tlen, idlen;
	const char *q = rt_http_req_query_string(req, &qlen), *token, *id;
	rt_mercure_form form;
	char err[160];

	if (st == NULL) {
		rt_session_abort(s);
		return;
	}
	s->proto_state = st;
	s->proto_free = rt__on_free;
	if (rt_mercure_token(req, tokbuf, sizeof(tokbuf), &token, &tlen) > 0
			&& rt_jwt_verify(cfg->mercure_subscriber_key, strlen(cfg->mercure_subscriber_key),
					token, tlen, time(NULL), &st->claims, err, sizeof(err)) != 0) {
		memset(&st->claims, 0, sizeof(st->claims)); /* checked before: cannot happen */
	}
	if (rt_mercure_form_parse(q, qlen, cfg->mercure_max_topics, &form, err, sizeof(err)) != 0) {
		rt_mercure_form_free(&form);
		rt_session_close_ws(s, 1008, err);
		return;
	}
	for (uint32_t i = 0; i < form.topic_count; i++) {
		const rt_str *t = &form.topics[i];
		rt_sub *sub;
		if (rt__is_selector(t->ptr, t->len)) {
			int r = t->len <= RT_TOPIC_SELECTOR_MAX ? rt__sel_add(s, t->ptr, t->len) : 0;
			if (r == -ENOSPC) {
				rt__refused(s->hub, RT_STAT_MERCURE_SELECTORS_FULL);
				rt_log_limited(&full_log, RT_LOG_WARNING, "refused a Mercure subscriber: the hub "
						"holds realtime.mercure_max_selectors (%u) template selectors",
						cfg->mercure_max_selectors);
				rt_mercure_form_free(&form);
				rt_session_close_ws(s, 1013, "too many template selectors on this server "
						"(realtime.mercure_max_selectors): try again later");
				return;
			}
		} else if (rt_channel_name_valid(t->ptr, t->len)) {
			/* A refused one (a private- name, a limit) is counted and
			 * logged where it is refused; the stream goes on without it. */
			(void) rt_session_join(s, t->ptr, t->len, NULL, 0, &sub);
		}
		/* Any other topic is no channel name: no update can have it. */
	}
	id = rt_http_req_header(req, RT_HDR_LAST_EVENT_ID, &idlen);
	if (id == NULL && form.last_event_id.ptr != NULL) {
		id = form.last_event_id.ptr;
		idlen = form.last_event_id.len;
	}
	if (id != NULL && idlen > 0) {
		rt__recover(s, id, idlen);
	}
	rt_mercure_form_free(&form);
}

/* A stream's client sends nothing on it (hub/net/stream.h). */
static void rt__on_message(rt_session *s, const char *text, size_t len)
{
	(void) s;
	(void) text;
	(void) len;
}

static void rt__on_free(rt_session *s)
{
	rt__state *st = s->proto_state;
	rt_mercure_hub *m = s->hub->mercure;

	if (st == NULL) {
		return;
	}
	for (uint32_t i = 0; m != NULL && st->selectors > 0 && i < m->count;) {
		if (m->items[i]->s == s) {
			free(m->items[i]);
			m->items[i] = m->items[--m->count];
			st->selectors--;
			if (m->count == 0 && !s->hub->net.stopping) {
				rt__interest_all(s->hub, 0);
			}
		} else {
			i++;
		}
	}
	rt_jwt_claims_free(&st->claims);
	free(st);
	s->proto_state = NULL;
}

int rt_mercure_subscriber_check(rt_hub *hub, const rt_http_req *req, const char **reason)
{
	static rt_log_limit log;
	static _Thread_local char tokbuf[RT_JWT_MAX + 1];
	static _Thread_local char why[200];
	const rt_config *cfg = &hub->cfg;
	size_t qlen, tlen;
	const char *q = rt_http_req_query_string(req, &qlen), *token;
	uint32_t topics = rt_mercure_topic_count(q, qlen);
	rt_jwt_claims claims;
	char err[160];
	int r;

	if (topics == 0) {
		rt__refused(hub, RT_STAT_MERCURE_BAD_REQUEST);
		*reason = "missing topic parameter";
		return 400;
	}
	if (topics > cfg->mercure_max_topics) {
		rt__refused(hub, RT_STAT_MERCURE_TOO_MANY_TOPICS);
		rt_log_limited(&log, RT_LOG_INFO, "refused a Mercure subscriber: %u topics, more than "
				"realtime.mercure_max_topics (%u)", topics, cfg->mercure_max_topics);
		*reason = "more topics than realtime.mercure_max_topics";
		return 400;
	}
	r = rt_mercure_token(req, tokbuf, sizeof(tokbuf), &token, &tlen);
	if (r == 0 && !cfg->allow_anonymous) {
		/* As Mercure without "anonymous": public channels are not open to
		 * everyone when native clients need a token to read them. */
		rt__refused(hub, RT_STAT_MERCURE_NO_TOKEN);
		rt_log_limited(&log, RT_LOG_INFO, "refused a Mercure subscriber: no JWT, and "
				"realtime.allow_anonymous is off");
		*reason = "a subscriber JWT is required (realtime.allow_anonymous is off)";
		return 401;
	}
	if (r == 0) {
		return 0; /* anonymous: public updates only */
	}
	if (r < 0 || cfg->mercure_subscriber_key[0] == '\0') {
		rt__refused(hub, r < 0 ? RT_STAT_MERCURE_BAD_TOKEN : RT_STAT_MERCURE_OFF);
		rt_log_limited(&log, RT_LOG_INFO, "refused a Mercure subscriber: %s", r < 0
				? "its JWT is too long" : "it sent a JWT and realtime.mercure_subscriber_key is empty");
		*reason = r < 0 ? "JWT too long" : "no subscriber JWT is accepted: "
				"realtime.mercure_subscriber_key is empty";
		return 401;
	}
	if (rt_jwt_verify(cfg->mercure_subscriber_key, strlen(cfg->mercure_subscriber_key), token,
			tlen, time(NULL), &claims, err, sizeof(err)) != 0) {
		rt__refused(hub, strstr(err, "expired") != NULL ? RT_STAT_MERCURE_EXPIRED
				: RT_STAT_MERCURE_BAD_TOKEN);
		rt_log_limited(&log, RT_LOG_INFO, "refused a Mercure subscriber: %s", err);
		snprintf(why, sizeof(why), "invalid JWT: %s", err);
		*reason = why;
		return 401;
	}
	rt_jwt_claims_free(&claims);
	return 0;
}

const rt_proto_ops rt_proto_mercure = {
	.name = "mercure",
	.on_open = rt__on_open,
	.on_message = rt__on_message,
	.frame_message = rt__frame_message,
	.message_size = rt__message_size,
	.frame_member_added = rt__frame_member_added,
	.frame_member_removed = rt__frame_member_removed,
	.frame_whisper = rt__frame_whisper,
	.accepts = rt__accepts,
};
