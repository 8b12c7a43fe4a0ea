#include "hub/polling.h"
#include "hub/core/session.h"
#include "hub/net/limits.h"
#include "hub/net/longpoll.h"
#include "hub/proto/native_sse.h"
#include "hub/util/log.h"
#include "hub/wire/sse.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most bytes of events one batch carries (more wait for the next poll):
 * a batch may cross the broker between hubs as one message. */
#define RT__BATCH_MAX (64 * 1024)

/* A session, on its home hub. */
typedef struct rt__lp {
	rt_longpoll lp;
	rt_hub *hub;
	rt_session *s;
	uint32_t last_poll;       /* net.now of its last poll: realtime.longpoll_session_ttl */
	int waiting, ready;
	uint32_t wait_node, wait_until;
	uint64_t wait_key;
	struct rt__lp *next;
} rt__lp;

/* A poll held by the hub it reached, until its batch comes. */
typedef struct rt__wait {
	rt_conn *conn;
	uint64_t key;
	uint32_t until;
	struct rt__wait *next;
} rt__wait;

struct rt_polling {
	rt__lp *sessions;
	rt__wait *waits;
	uint64_t next_key;
	int dirty;
};

static rt_polling *rt__state(rt_hub *hub)
{
	if (hub->polling == NULL) {
		hub->polling = calloc(1, sizeof(*hub->polling));
	}
	return hub->polling;
}

static void rt__answer(rt_conn *conn, int status, const char *body, size_t len)
{
	rt_http_answer ans;

	rt_http_answer_init(&ans);
	rt_http_answer_set(&ans, status, status == 200 ? "text/event-stream" : "application/json",
			body, len);
	rt_sse_cors(&ans, conn->http);
	rt_conn_http_answer(conn, &ans);
	rt_http_answer_free(&ans);
}

static void rt__json(rt_http_answer *ans, int status, const char *body)
{
	rt_http_answer_set(ans, status, "application/json", body, strlen(body));
}

/* The batch trailer: where the next poll continues. */
static void rt__trailer(rt_sb *sb, const char *id, size_t id_len, uint64_t seq)
{
	char num[32];

	rt_sb_puts(sb, "event: poll\ndata: {\"connection_id\":");
	rt_sb_json_string(sb, id, id_len);
	snprintf(num, sizeof(num), ",\"seq\":%" PRIu64 "}\n\n", seq);
	rt_sb_puts(sb, num);
}

static rt__wait *rt__take_wait(rt_polling *st, uint64_t key)
{
	for (rt__wait **p = &st->waits; *p != NULL; p = &(*p)->next) {
		if ((*p)->key == key) {
			rt__wait *w = *p;
			*p = w->next;
			return w;
		}
	}
	return NULL;
}

static void rt__send_to_wait(rt_hub *hub, uint32_t node, uint64_t key, const char *body, size_t len)
{
	rt_polling *st = hub->polling;
	char target[48];
	rt_sb sb;
	rt_msg *msg;

	if (node == hub->node_id) {
		rt__wait *w = rt__take_wait(st, key);
		if (w != NULL) {
			rt__answer(w->conn, 200, body, len);
			free(w);
		}
		return;
	}
	snprintf(target, sizeof(target), "%" PRIu32 ".lp%" PRIu64, node, key);
	rt_sb_init(&sb);
	rt_sb_json_string(&sb, body, len);
	msg = sb.failed ? NULL
			: rt_msg_to_connection(RT_POLLING_BATCH, sb.data, sb.len, target, strlen(target));
	rt_sb_free(&sb);
	if (msg != NULL) {
		hub->hooks->publish(hub, msg);
	}
}

static void rt__end(rt_hub *hub, rt__lp *ls)
{
	rt_polling *st = hub->polling;

	for (rt__lp **p = &st->sessions; *p != NULL; p = &(*p)->next) {
		if (*p == ls) {
			*p = ls->next;
			break;
		}
	}
	atomic_fetch_sub_explicit(&hub->stat_lp_sessions, 1, memory_order_relaxed);
	rt_session_free(ls->s);
	rt_longpoll_free(&ls->lp);
	free(ls);
}

/* Answers the session's waiting poll with what is queued. */
static void rt__deliver(rt_hub *hub, rt__lp *ls)
{
	rt_sb sb;
	uint64_t seq;

	ls->ready = 0;
	if (!ls->waiting) {
		return;
	}
	ls->waiting = 0;
	rt_sb_init(&sb);
	seq = rt_longpoll_batch(&ls->lp, &sb, RT__BATCH_MAX);
	rt__trailer(&sb, ls->s->id, ls->s->id_len, seq);
	if (!sb.failed) {
		rt__send_to_wait(hub, ls->wait_node, ls->wait_key, sb.data, sb.len);
	}
	rt_sb_free(&sb);
	ls->last_poll = hub->net.now;
}

static void rt__ready(rt_longpoll *lp)
{
	rt__lp *ls = lp->owner;

	/* Not now: the send may come from a fan-out walking a channel. */
	ls->ready = 1;
	ls->hub->polling->dirty = 1;
}

static void rt__home_poll(rt_hub *hub, rt__lp *ls, uint64_t ack, uint32_t node, uint64_t key)
{
	/* What was never sent cannot be acknowledged (it would drop what comes). */
	if (ack > rt_longpoll_last(&ls->lp)) {
		ack = rt_longpoll_last(&ls->lp);
	}
	rt_longpoll_ack(&ls->lp, ack);
	if (ls->waiting) {
		/* A newer poll replaces it: the older gets an empty batch, so that
		 * no event is handed out twice. */
		rt_sb sb;
		rt_sb_init(&sb);
		rt__trailer(&sb, ls->s->id, ls->s->id_len, ls->lp.first_seq - 1);
		if (!sb.failed) {
			rt__send_to_wait(hub, ls->wait_node, ls->wait_key, sb.data, sb.len);
		}
		rt_sb_free(&sb);
		ls->waiting = 0;
	}
	ls->waiting = 1;
	ls->wait_node = node;
	ls->wait_key = key;
	ls->wait_until = hub->net.now + hub->cfg.longpoll_timeout;
	ls->last_poll = hub->net.now;
	if (ls->lp.count > 0 || ls->lp.closed) {
		rt__deliver(hub, ls);
	}
}

static int rt__same_user(const rt_session *s, const char *user, size_t len)
{
	if (s->identity == NULL) {
		return user == NULL;
	}
	return user != NULL && len == s->identity->user_id_len
			&& memcmp(user, s->identity->user_id, len) == 0;
}

static rt__lp *rt__find(rt_hub *hub, const char *id, size_t len)
{
	rt_session *s = rt_session_find(hub, id, len);

	if (s == NULL || s->ops != &rt_longpoll_transport) {
		return NULL;
	}
	return ((rt_longpoll *) s->transport)->owner;
}

/* Whether node may be another live hub of the app: with the memory broker,
 * one in its list; with another broker, maybe (it has no list of them all). */
static int rt__node_alive(rt_hub *hub, uint32_t node)
{
	rt_hub_peer peers[64];
	int n;

	if (!hub->has_link) {
		return 0;
	}
	/* Only the memory broker's hubs are all on this host, all in its list. */
	if (hub->link.peers == NULL || strcmp(hub->cfg.broker, "memory") != 0) {
		return 1;
	}
	n = hub->link.peers(hub->link.ctx, peers, 64);
	if (n < 0 || n >= 64) {
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (peers[i].node == node) {
			return 1;
		}
	}
	return 0;
}

static int rt__parse_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (len == 0 || len > 19) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9') {
			return -1;
		}
		n = n * 10 + (uint64_t) (v[i] - '0');
	}
	*out = n;
	return 0;
}

static int rt__open(rt_hub *hub, rt_conn *conn, rt_identity *identity, rt_http_answer *ans)
{
	rt_polling *st = rt__state(hub);
	rt__lp *ls;
	rt_sb sb;

	if (st == NULL || hub->net.stopping) {
		rt_identity_free(identity);
		rt__json(ans, 503, "{\"error\":\"unavailable\"}\n");
		return 0;
	}
	if (atomic_load_explicit(&hub->net.stat_connections, memory_order_relaxed)
			+ atomic_load_explicit(&hub->stat_lp_sessions, memory_order_relaxed)
			>= hub->cfg.max_connections) {
		rt_identity_free(identity);
		rt_limits_refuse(&hub->net, RT_REFUSE_CONNECTIONS, "refused a long-polling session: "
				"realtime.max_connections=%u reached", hub->cfg.max_connections);
		rt__json(ans, 503, "{\"error\":\"server full: realtime.max_connections reached\"}\n");
		return 0;
	}
	ls = calloc(1, sizeof(*ls));
	if (ls == NULL || rt_longpoll_init(&ls->lp, hub->cfg.longpoll_max_queue) != 0) {
		free(ls);
		rt_identity_free(identity);
		rt__json(ans, 503, "{\"error\":\"out of memory\"}\n");
		return 0;
	}
	ls->hub = hub;
	ls->lp.owner = ls;
	ls->lp.ready = rt__ready;
	ls->lp.stat_dropped = &hub->stat_lp_dropped;
	if (rt_session_new(hub, &rt_longpoll_transport, &ls->lp, RT_PROTO_NATIVE_SSE,
			&rt_proto_native_sse, identity, &ls->s) != 0) {
		rt_longpoll_free(&ls->lp);
		free(ls);
		rt__json(ans, 503, "{\"error\":\"out of memory\"}\n");
		return 0;
	}
	ls->next = st->sessions;
	st->sessions = ls;
	ls->last_poll = hub->net.now;
	atomic_fetch_add_explicit(&hub->stat_lp_sessions, 1, memory_order_relaxed);
	rt_session_open(ls->s);
	ls->s->protocol->on_open(ls->s, conn->http);
	/* Its first events (connected, subscribed) are the answer. */
	rt_sb_init(&sb);
	rt__trailer(&sb, ls->s->id, ls->s->id_len, rt_longpoll_batch(&ls->lp, &sb, RT__BATCH_MAX));
	ls->ready = 0;
	if (sb.failed) {
		rt__json(ans, 503, "{\"error\":\"out of memory\"}\n");
	} else {
		rt_http_answer_set(ans, 200, "text/event-stream", sb.data, sb.len);
	}
	rt_sb_free(&sb);
	return 0;
}

int rt_polling_request(rt_hub *hub, rt_conn *conn, rt_identity *identity, rt_http_answer *ans)
{
	size_t id_len, ack_len;
	const char *id = rt_http_req_query(conn->http, "connection_id", &id_len);
	const char *ackv = rt_http_req_query(conn->http, "ack", &ack_len);
	rt_polling *st;
	uint64_t ack = 0;
	rt__wait *w;
	rt__lp *ls;
	uint64_t node = 0;
	const char *dot;

	if (id == NULL) {
		return rt__open(hub, conn, identity, ans);
	}
	st = rt__state(hub);
	dot = memchr(id, '.', id_len);
	if (st == NULL || id_len == 0 || id_len >= 32 || dot == NULL
			|| rt__parse_u64(id, (size_t) (dot - id), &node) != 0 || node > UINT32_MAX
			|| (ackv != NULL && rt__parse_u64(ackv, ack_len, &ack) != 0)) {
		rt_identity_free(identity);
		rt__json(ans, 400, "{\"error\":\"connection_id and a numeric ack\"}\n");
		return 0;
	}
	ls = rt__find(hub, id, id_len);
	if (node != hub->node_id && !rt__node_alive(hub, (uint32_t) node)) {
		/* No live hub of the app has that node: nobody would answer. */
		rt_identity_free(identity);
		rt__json(ans, 404, "{\"error\":\"unknown session\"}\n");
		return 0;
	}
	if (node == hub->node_id && (ls == NULL || !rt__same_user(ls->s, identity ? identity->user_id
			: NULL, identity ? identity->user_id_len : 0))) {
		/* Its home is here and it is gone (or not the caller's). */
		rt_identity_free(identity);
		rt__json(ans, 404, "{\"error\":\"unknown session\"}\n");
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		rt_identity_free(identity);
		rt__json(ans, 503, "{\"error\":\"out of memory\"}\n");
		return 0;
	}
	w->conn = conn;
	w->key = ++st->next_key;
	/* The home hub answers by the timeout; this bounds a home that is gone. */
	w->until = hub->net.now + hub->cfg.longpoll_timeout + 2;
	w->next = st->waits;
	st->waits = w;
	conn->deadline = 0;
	if (ls != NULL) {
		rt__home_poll(hub, ls, ack, hub->node_id, w->key);
	} else {
		rt_msg *msg;
		rt_sb sb;
		char num[64];
		rt_sb_init(&sb);
		rt_sb_puts(&sb, "{\"user\":");
		if (identity != NULL) {
			rt_sb_json_string(&sb, identity->user_id, identity->user_id_len);
		} else {
			rt_sb_puts(&sb, "null");
		}
		snprintf(num, sizeof(num), ",\"node\":%" PRIu32 ",\"key\":%" PRIu64 ",\"ack\":%" PRIu64 "}",
				hub->node_id, w->key, ack);
		rt_sb_puts(&sb, num);
		msg = sb.failed ? NULL
				: rt_msg_to_connection(RT_POLLING_ASK, sb.data, sb.len, id, id_len);
		rt_sb_free(&sb);
		if (msg != NULL) {
			hub->hooks->publish(hub, msg);
		}
	}
	rt_identity_free(identity);
	return 1;
}

int rt_polling_message(rt_hub *hub, const rt_msg *msg)
{
	static rt_log_limit refused_log;
	int ask = msg->event.len == sizeof(RT_POLLING_ASK) - 1
			&& memcmp(msg->event.ptr, RT_POLLING_ASK, msg->event.len) == 0;
	int batch = msg->event.len == sizeof(RT_POLLING_BATCH) - 1
			&& memcmp(msg->event.ptr, RT_POLLING_BATCH, msg->event.len) == 0;
	rt_polling *st = hub->polling;
	json_t *root;

	if (!ask && !batch) {
		return 0;
	}
	if (st == NULL) {
		return 1;
	}
	root = json_loadb(msg->data.ptr, msg->data.len, JSON_DECODE_ANY, NULL);
	if (ask) {
		rt__lp *ls = rt__find(hub, msg->target.ptr, msg->target.len);
		json_t *user = json_object_get(root, "user"), *node = json_object_get(root, "node");
		json_t *key = json_object_get(root, "key"), *ack = json_object_get(root, "ack");
		if (ls != NULL && json_is_integer(node) && json_is_integer(key) && json_is_integer(ack)) {
			if (rt__same_user(ls->s, json_is_string(user) ? json_string_value(user) : NULL,
					json_is_string(user) ? json_string_length(user) : 0)) {
				rt__home_poll(hub, ls, (uint64_t) json_integer_value(ack),
						(uint32_t) json_integer_value(node), (uint64_t) json_integer_value(key));
			} else {
				atomic_fetch_add_explicit(&hub->net.stat_unauthorized, 1, memory_order_relaxed);
				rt_log_limited(&refused_log, RT_LOG_WARNING, "refused a poll of session %s: "
						"another user than the session's", ls->s->id);
			}
		}
	} else {
		/* "<node>.lp<key>": a poll this hub holds. */
		const char *lp = msg->target.len > 3 ? memchr(msg->target.ptr, '.', msg->target.len) : NULL;
		uint64_t key, node;
		/* Bytes from the broker: every length checked, nothing read past them. */
		if (lp != NULL && (size_t) (lp - msg->target.ptr) + 3 < msg->target.len && lp[1] == 'l'
				&& lp[2] == 'p' && json_is_string(root)
				&& rt__parse_u64(lp + 3, msg->target.len - (size_t) (lp + 3 - msg->target.ptr),
						&key) == 0
				&& rt__parse_u64(msg->target.ptr, (size_t) (lp - msg->target.ptr), &node) == 0
				&& node == hub->node_id) {
			rt__wait *w = rt__take_wait(st, key);
			if (w != NULL) {
				rt__answer(w->conn, 200, json_string_value(root), json_string_length(root));
				free(w);
			}
		}
	}
	json_decref(root);
	return 1;
}

void rt_polling_flush(rt_hub *hub)
{
	rt_polling *st = hub->polling;

	if (st == NULL || !st->dirty) {
		return;
	}
	st->dirty = 0;
	for (rt__lp *ls = st->sessions; ls != NULL; ls = ls->next) {
		if (ls->ready && ls->waiting) {
			rt__deliver(hub, ls);
		}
	}
}

void rt_polling_tick(rt_hub *hub)
{
	rt_polling *st = hub->polling;
	uint32_t now = hub->net.now;
	rt__lp *ls, *next;

	if (st == NULL) {
		return;
	}
	for (ls = st->sessions; ls != NULL; ls = next) {
		next = ls->next;
		if (ls->waiting && now >= ls->wait_until) {
			rt__deliver(hub, ls);
		} else if (!ls->waiting && (now - ls->last_poll > hub->cfg.longpoll_session_ttl
				|| (ls->lp.closed && ls->lp.count == 0))) {
			rt__end(hub, ls);
		}
	}
	for (rt__wait **p = &st->waits; *p != NULL;) {
		rt__wait *w = *p;
		if (now >= w->until) {
			/* Its home never answered (gone): the client starts again. */
			*p = w->next;
			rt__answer(w->conn, 404, "{\"error\":\"unknown session\"}\n", strlen("{\"error\":\"unknown session\"}\n"));
			free(w);
		} else {
			p = &w->next;
		}
	}
}

void rt_polling_conn_closed(rt_hub *hub, rt_conn *conn)
{
	rt_polling *st = hub->polling;

	for (rt__wait **p = st != NULL ? &st->waits : NULL; p != NULL && *p != NULL;) {
		if ((*p)->conn == conn) {
			rt__wait *w = *p;
			*p = w->next;
			free(w);
		} else {
			p = &(*p)->next;
		}
	}
}

void rt_polling_stop(rt_hub *hub)
{
	rt_polling *st = hub->polling;

	while (st != NULL && st->sessions != NULL) {
		rt__end(hub, st->sessions);
	}
}

void rt_polling_free(rt_hub *hub)
{
	rt_polling *st = hub->polling;

	if (st == NULL) {
		return;
	}
	rt_polling_stop(hub);
	while (st->waits != NULL) {
		rt__wait *w = st->waits;
		st->waits = w->next;
		free(w);
	}
	free(st);
	hub->polling = NULL;
}
