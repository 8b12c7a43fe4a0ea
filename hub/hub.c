#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr */
#endif
#include "hub/core/hub.h"
#include "hub/api/api.h"
#include "hub/api/client_js.h"
#include "hub/subscription_count.h"
#include "hub/api/metrics.h"
#include "hub/auth.h"
#include "hub/handoff.h"
#include "hub/spread.h"
#include "hub/net/conn.h"
#include "hub/net/stream.h"
#include "hub/net/http_client.h"
#include "hub/model/identity.h"
#include "hub/net/limits.h"
#include "hub/model/presence.h"
#include "hub/proto/proto.h"
#include "hub/proto/native_sse.h"
#include "hub/proto/mercure.h"
#include "hub/model/mercure_update.h"
#include "hub/polling.h"
#include "hub/wire/sse.h"
#include "hub/model/query.h"
#include "hub/core/session.h"
#include "hub/webhook.h"
#include "hub/util/log.h"
#include "hub/core/server.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <unistd.h>

static void rt__dispatch(rt_hub *hub, rt_msg *msg);
static void rt__observe_latency(rt_hub *hub, uint64_t born);
static void rt__on_synced(uv_timer_t *t);

/* ---- what connections call above them (hub/net/conn.h) ---- */

/* Whether the client is on this host (127.0.0.0/8, ::1, ::ffff:127.x). */
static int rt__peer_loopback(rt_conn *conn)
{
	struct sockaddr_storage sa;
	int len = (int) sizeof(sa);

	if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *) &sa, &len) != 0) {
		return 0;
	}
	if (sa.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *) &sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &sa;
		static const unsigned char v4mapped[12] = { 0,0,0,0, 0,0,0,0, 0,0,0xff,0xff };
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)
				|| (memcmp(in6->sin6_addr.s6_addr, v4mapped, 12) == 0
						&& in6->sin6_addr.s6_addr[12] == 127);
	}
	return 0;
}

static void rt__conn_request(rt_conn *conn, int route, const char *body, size_t len,
		rt_http_answer *ans)
{
	size_t path_len;
	const char *path = rt_http_req_path(conn->http, &path_len);

	if (route == RT_ROUTE_HEALTH && rt_client_js_owns(path, path_len, &conn->hub->cfg)) {
		rt_client_js_request(conn->http, &conn->hub->cfg, ans);
	} else if (route == RT_ROUTE_HEALTH && rt_metrics_owns(path, path_len)) {
		rt_metrics_request(conn->hub, conn->http, rt__peer_loopback(conn), ans);
	} else if (route == RT_ROUTE_HEALTH) {
		rt_api_health(conn->hub, conn->http, ans);
	} else {
		rt_api_handle(conn->hub, conn->http, body, len, ans);
	}
}

/* Counts how a connection's auth ended (/metrics), then lets it go on. */
static void rt__auth_counted(rt_conn *conn, int status, rt_identity *identity,
		const char *reason)
{
	int kind = status == 0 ? RT_STAT_AUTH_OK : status == 401 ? RT_STAT_AUTH_UNAUTHENTICATED
			: status == 403 ? RT_STAT_AUTH_FORBIDDEN : status >= 500 ? RT_STAT_AUTH_UNAVAILABLE
			: RT_STAT_AUTH_OTHER;

	rt_stat_add(&conn->hub->stat_auth[kind], 1);
	rt_conn_auth_finished(conn, status, identity, reason);
}

static void rt__conn_upgrade(rt_conn *conn)
{
	rt_auth_begin(conn, rt__auth_counted);
}

static void rt__conn_upgrade_expired(rt_conn *conn)
{
	rt_auth_cancel(conn);
	rt__auth_counted(conn, 503, NULL, "authentication service did not answer in time");
}

static int rt__conn_admit(rt_conn *conn, rt_identity *identity)
{
	int stream = rt_http_proto_is_stream(conn->proto);
	int r = rt_session_new(conn->hub, stream ? &rt_stream_transport : &rt_conn_transport, conn,
			conn->proto, rt_proto(conn->proto), identity, &conn->session);

	if (r == 0) {
		memcpy(conn->id, conn->session->id, sizeof(conn->id));
		conn->id_len = conn->session->id_len;
		if (stream) {
			atomic_fetch_add_explicit(&conn->hub->stat_sse, 1, memory_order_relaxed);
		}
	}
	return r;
}

static int rt__publish_msg(rt_hub *hub, rt_msg *msg);

static void rt__json_answer(rt_http_answer *ans, int status, const char *body)
{
	rt_http_answer_set(ans, status, "application/json", body, strlen(body));
}

/* POST {realtime.path}/sse/subscribe|unsubscribe?connection_id=..&channels=..:
 * the stream may be on any hub of the app, so the change travels to it as
 * a message to the connection (RT_NATIVE_SSE_CONTROL), checked there
 * against the stream's own identity (rt_native_sse_control). */
static int rt__conn_control_call(rt_conn *conn, rt_identity *identity, rt_http_answer *ans)
{
	size_t path_len, id_len, list_len;
	const char *path = rt_http_req_path(conn->http, &path_len);
	const char *id = rt_http_req_query(conn->http, "connection_id", &id_len);
	const char *list = rt_http_req_query(conn->http, "channels", &list_len);
	int sub = path_len >= 10 && memcmp(path + path_len - 10, "/subscribe", 10) == 0;

	if (path_len >= 5 && memcmp(path + path_len - 5, "/poll", 5) == 0) {
		return rt_polling_request(conn->hub, conn, identity, ans);
	}
	char *names = NULL;
	long names_len;
	rt_msg *msg;
	rt_sb sb;

	if (id == NULL || id_len == 0 || id_len >= sizeof(conn->id) || list == NULL) {
		rt__json_answer(ans, 400, "{\"error\":\"connection_id and channels are required\"}\n");
		goto done;
	}
	names = malloc(list_len + 1);
	names_len = names != NULL ? rt_http_url_decode(list, list_len, 1, names, list_len + 1) : -1;
	rt_sb_init(&sb);
	rt_sb_puts(&sb, sub ? "{\"op\":\"subscribe\",\"user\":" : "{\"op\":\"unsubscribe\",\"user\":");
	if (identity != NULL) {
		rt_sb_json_string(&sb, identity->user_id, identity->user_id_len);
	} else {
		rt_sb_puts(&sb, "null");
	}
	rt_sb_puts(&sb, ",\"channels\":");
	rt_sb_json_string(&sb, names_len >= 0 ? names : "", names_len >= 0 ? (size_t) names_len : 0);
	/* A request id and a since position (the JS client's subscribe over
	 * a stream), raw: checked on the stream's hub, where they are used. */
	for (int i = 0; i < 3; i++) {
		static const char *const keys[] = {"id", "offset", "epoch"};
		size_t vlen;
		const char *v = rt_http_req_query(conn->http, keys[i], &vlen);
		if (v != NULL && vlen <= 64) {
			char dec[65];
			long n = rt_http_url_decode(v, vlen, 1, dec, sizeof(dec));
			rt_sb_puts(&sb, ",\"");
			rt_sb_puts(&sb, keys[i]);
			rt_sb_puts(&sb, "\":");
			rt_sb_json_string(&sb, dec, n > 0 ? (size_t) n : 0);
		}
	}
	rt_sb_puts(&sb, "}");
	msg = names_len >= 0 && !sb.failed
			? rt_msg_to_connection(RT_NATIVE_SSE_CONTROL, sb.data, sb.len, id, id_len) : NULL;
	rt_sb_free(&sb);
	if (msg == NULL) {
		rt__json_answer(ans, 503, "{\"error\":\"out of memory\"}\n");
		goto done;
	}
	/* What comes of it (subscribed, forbidden) is said on the stream. */
	if (rt__publish_msg(conn->hub, msg) != 0) {
		rt__json_answer(ans, 503, "{\"error\":\"the broker did not take the change\"}\n");
		goto done;
	}
	rt__json_answer(ans, 202, "{\"ok\":true}\n");
done:
	free(names);
	rt_identity_free(identity);
	return 0;
}

/* A page of another origin (its Origin passed the router's check) may read
 * the answer, as it reads the stream. */
static int rt__conn_control(rt_conn *conn, rt_identity *identity, rt_http_answer *ans)
{
	int held = rt__conn_control_call(conn, identity, ans);

	if (!held) {
		rt_sse_cors(ans, conn->http);
	}
	return held;
}

static void rt__conn_open(rt_conn *conn)
{
	rt_session_open(conn->session);
	conn->session->protocol->on_open(conn->session, conn->http);
}

static void rt__conn_message(rt_conn *conn, const char *text, size_t len)
{
	conn->session->protocol->on_message(conn->session, text, len);
}

static uint16_t rt__conn_close_code(const rt_conn *conn, uint16_t code)
{
	const rt_proto_ops *ops = rt_proto(conn->proto);

	return ops->close_code != NULL ? ops->close_code(code) : code;
}

static void rt__conn_close(rt_conn *conn)
{
	rt_polling_conn_closed(conn->hub, conn);
	if (conn->session != NULL && rt_http_proto_is_stream(conn->proto)) {
		atomic_fetch_sub_explicit(&conn->hub->stat_sse, 1, memory_order_relaxed);
	}
	rt_session_free(conn->session);
	conn->session = NULL;
	rt_auth_cancel(conn);
	if (conn->flags & RT_CONN_F_COUNTED) {
		rt_session_report_connections(conn->hub);
	}
	/* The others balance and pick handoff takers by this: keep it current. */
	rt_spread_note_load(conn->hub);
}

static void rt__all_closed(rt_hub *hub);
static int rt__publish_msg(rt_hub *hub, rt_msg *msg);
static int rt__publish_api(rt_hub *hub, rt_msg *msg);
static void rt__user_interest(rt_hub *hub, const char *id, size_t len, int on);

static const rt_hub_hooks rt__hooks = {
	.publish = rt__publish_msg,
	.publish_api = rt__publish_api,
	.check_publish = rt_hub_check_publish,
	.user_interest = rt__user_interest,
};

static const rt_conn_handlers rt__conn_handlers = {
	.request = rt__conn_request,
	.upgrade = rt__conn_upgrade,
	.upgrade_expired = rt__conn_upgrade_expired,
	.admit = rt__conn_admit,
	.control = rt__conn_control,
	.open = rt__conn_open,
	.message = rt__conn_message,
	.close_code = rt__conn_close_code,
	.close = rt__conn_close,
	.drained = rt__all_closed,
};

/* ---- loop callbacks ---- */

static void rt__on_connection(uv_stream_t *server, int status)
{
	rt_hub *hub = server->data;

	if (status < 0) {
		rt_log(RT_LOG_WARNING, "accept failed: %s", uv_strerror(status));
		return;
	}
	rt_conn_accept(&hub->net, server);
	rt_spread_note_load(hub);
}

/* What a posted message costs against the inbox's bound: messages for
 * clients count their size; control messages (a query, the stop) are
 * never refused. */
static size_t rt__inbox_cost(const rt_msg *msg)
{
	if (msg->type <= RT_MSG_DISCONNECT_USER || msg->type == RT_MSG_WHISPER) {
		return rt_msg_encoded_size(msg);
	}
	return 0;
}

static void rt__begin_stop(rt_hub *hub);

static void rt__on_wake(uv_async_t *handle)
{
	rt_hub *hub = handle->data;
	rt_msg *msg;
	size_t cost = 0;

	/* Before the lock: a stop asked from a signal handler may have
	 * interrupted the thread that holds it. */
	{
		int cut = atomic_exchange(&hub->handoff_cut, 0);
		if (cut > 0) {
			rt_handoff_cut(hub, (unsigned) (cut - 1));
		}
	}
	if (atomic_load(&hub->stop_asked)) {
		rt__begin_stop(hub);
	}
	pthread_mutex_lock(&hub->lock);
	msg = hub->inbox_head;
	hub->inbox_head = hub->inbox_tail = NULL;
	pthread_mutex_unlock(&hub->lock);
	for (rt_msg *m = msg; m != NULL; m = m->next) {
		cost += rt__inbox_cost(m);
	}
	pthread_mutex_lock(&hub->lock);
	hub->inbox_bytes -= cost;
	pthread_mutex_unlock(&hub->lock);
	while (msg != NULL) {
		rt_msg *next = msg->next;
		rt__dispatch(hub, msg);
		msg = next;
	}
}

static void rt__on_flush(uv_check_t *handle)
{
	rt_hub *hub = handle->data;
	rt_conn *conn;

	rt_polling_flush(hub);
	conn = hub->net.dirty;
	hub->net.dirty = NULL;
	while (conn != NULL) {
		rt_conn *next = conn->dirty_next;
		conn->flags &= (uint16_t) ~RT_CONN_F_DIRTY;
		conn->dirty_next = NULL;
		rt_conn_flush(conn);
		conn = next;
	}
}

static void rt__on_tick(uv_timer_t *handle)
{
	rt_hub *hub = handle->data;
	rt_conn *conn = hub->net.conns;

	hub->net.now++;
	while (conn != NULL) {
		rt_conn *next = conn->next;
		rt_conn_sweep(conn);
		conn = next;
	}
	rt_polling_tick(hub);
	/* Pings and closes queued above go out now, not when the loop next
	 * wakes for something else. */
	rt__on_flush(&hub->flush);
	rt_webhooks_tick(hub->webhooks);
	if (hub->has_link && !hub->net.stopping && hub->link.tick != NULL) {
		hub->link.tick(hub->link.ctx);
	}
	rt_spread_note_load(hub);
	rt_metrics_publish(hub);
	rt_subscription_count_tick(hub);
}

/* ---- fan-out ---- */

/* Sends to every subscriber of ch but skip, the subscribers that count as
 * user skip_user (who need no news of themselves) and, with quiet_moved,
 * the sessions moved in from another hub (who heard it there); build makes
 * the frame of one protocol, at most once per protocol. */
static void rt__fanout(rt_channel *ch, rt_frame_builder build, const void *arg,
		const rt_session *skip, const rt_member *skip_user, int quiet_moved)
{
	rt_frames frames = {0};

	/* Sends never close a transport on the spot (rt_transport_ops), so the
	 * subscriber list stays as it is while it is walked. */
	for (uint32_t i = 0; i < ch->count; i++) {
		const rt_sub *sub = ch->subs[i];
		rt_session *s = sub->session;
		rt_buf *frame;
		if (s == skip || (quiet_moved && s->moved_in) || (skip_user != NULL && sub->member != NULL
				&& sub->member->user_id_len == skip_user->id_len
				&& memcmp(sub->member->user_id, skip_user->id, skip_user->id_len) == 0)) {
			continue;
		}
		frame = rt_frames_get(&frames, s->proto, build, arg);
		if (frame != NULL) {
			rt_session_send(s, frame);
		}
	}
	rt_frames_release(&frames);
}

typedef struct rt__publish_arg {
	const rt_msg *msg;
	rt_str channel;
} rt__publish_arg;

static rt_buf *rt__build_message(const rt_proto_ops *ops, const void *arg)
{
	const rt__publish_arg *a = arg;
	return ops->frame_message(a->msg, a->channel);
}

typedef struct rt__member_arg {
	const rt_channel *ch;
	const rt_member *member;
	rt_str user_id;
} rt__member_arg;

static rt_buf *rt__build_member_added(const rt_proto_ops *ops, const void *arg)
{
	const rt__member_arg *a = arg;
	return ops->frame_member_added(a->ch, a->member);
}

static rt_buf *rt__build_member_removed(const rt_proto_ops *ops, const void *arg)
{
	const rt__member_arg *a = arg;
	return ops->frame_member_removed(a->ch, a->user_id.ptr, a->user_id.len);
}

static rt_buf *rt__build_whisper(const rt_proto_ops *ops, const void *arg)
{
	return ops->frame_whisper(arg);
}

static void rt__deliver_whisper(rt_hub *hub, const rt_msg *msg)
{
	rt_channel *ch;
	rt_whisper w;

	if (msg->channel_count != 1) {
		return;
	}
	ch = rt_registry_find(&hub->registry, msg->channels[0].ptr, msg->channels[0].len);
	if (ch == NULL) {
		return;
	}
	w.channel = msg->channels[0];
	w.event = msg->event;
	w.data = msg->data;
	w.connection_id = msg->exclude;
	w.user_id = msg->target;
	rt__fanout(ch, rt__build_whisper, &w, rt_session_find(hub, msg->exclude.ptr, msg->exclude.len),
			NULL, 0);
}

/* A subscription whose next live message skips offsets: this hub never
 * got the ones between (Redis Pub/Sub loses what is published while a hub
 * reconnects, or between a subscribe's history read and the hub's
 * SUBSCRIBE). They are read from the history and sent first; what arrives
 * meanwhile is held (rt_session_hold). Only for a link whose history
 * answers later: a synchronous one would answer inside the fan-out. */
typedef struct rt__gap {
	rt_hub *hub;
	uint8_t session_len;
	char session[32];
	size_t len;
	char name[];
} rt__gap;

static void rt__gap_filled(void *arg, const rt_hub_history *res)
{
	static rt_log_limit unfilled_log;
	rt__gap *g = arg;
	rt_session *s = rt_session_find(g->hub, g->session, g->session_len);
	rt_sub *sub = s != NULL ? rt_session_find_sub(s, g->name, g->len) : NULL;

	if (sub != NULL) {
		/* Live messages dropped meanwhile leave a gap of their own. */
		int whole = res->status == 1 && rt_session_held_dropped(sub) == 0;
		if (res->status == 1) {
			for (uint32_t i = 0; i < res->count; i++) {
				rt_hub_publish_to(g->hub, res->msgs[i], s);
			}
		}
		rt_stat_add(&g->hub->stat_history_gaps[whole], 1);
		if (!whole) {
			rt_log_limited(&unfilled_log, RT_LOG_WARNING, "a subscriber of %.*s missed messages "
					"this hub never received: the history no longer holds them, could not be "
					"read, or more arrived meanwhile than realtime.history_hold", (int) g->len,
					g->name);
		}
		rt_session_unhold(s, sub, s->protocol->positioned);
	}
	free(g);
}

/* Starts filling sub's gap; 1 when its live messages are held meanwhile. */
static int rt__gap_fill(rt_session *s, rt_sub *sub)
{
	rt_hub *hub = s->hub;
	rt_channel *ch = sub->channel;
	rt_pos since = {sub->hist_offset, sub->hist_epoch};
	rt__gap *g;

	if (s->id_len > sizeof(g->session) || (g = malloc(sizeof(*g) + ch->name_len)) == NULL) {
		return 0;
	}
	g->hub = hub;
	g->session_len = s->id_len;
	memcpy(g->session, s->id, s->id_len);
	g->len = ch->name_len;
	memcpy(g->name, ch->name, ch->name_len);
	rt_session_hold(sub);
	hub->link.history(hub->link.ctx, g->name, g->len, &since, UINT32_MAX, rt__gap_filled, g);
	return sub->holding;
}

/* Whether s is to be sent msg, a publish: its protocol decides
 * (Mercure: private updates, one delivery per message); without a say, a
 * private Mercure update (priv: rt_mercure_is_private, once per message)
 * reaches no one. */
static inline int rt__may_deliver(rt_session *s, const rt_msg *msg, int priv)
{
	return s->protocol->accepts != NULL ? s->protocol->accepts(s, msg) : !priv;
}

/* rt__fanout of a publish: each subscriber that may have it (rt__may_deliver)
 * gets it, once and, with a history position (pos), after what it was
 * already given (a recovery's replay may have covered messages the ring
 * still brings). */
static void rt__fanout_publish(rt_channel *ch, const rt__publish_arg *a, const rt_pos *pos,
		const rt_session *skip)
{
	rt_frames frames = {0};
	int priv = rt_mercure_is_private(a->msg);

	for (uint32_t i = 0; i < ch->count; i++) {
		rt_sub *sub = ch->subs[i];
		rt_session *s = sub->session;
		rt_buf *frame;
		if (s == skip) {
			continue;
		}
		if (pos == NULL) {
			if (rt__may_deliver(s, a->msg, priv)
					&& (frame = rt_frames_get(&frames, s->proto, rt__build_message, a)) != NULL) {
				rt_session_send(s, frame);
			}
			continue;
		}
		if (!sub->holding && s->hub->has_link && s->hub->link.history_async
				&& s->hub->link.history != NULL && sub->hist_epoch == pos->epoch
				&& pos->offset > sub->hist_offset + 1) {
			rt__gap_fill(s, sub);
		}
		if (!sub->holding && sub->hist_epoch == pos->epoch && pos->offset <= sub->hist_offset) {
			continue;
		}
		if (!rt__may_deliver(s, a->msg, priv)) {
			continue;
		}
		if (sub->holding) {
			/* Its history is being read: this goes after the replay. */
			frame = rt_frames_get(&frames, s->proto, rt__build_message, a);
			if (frame != NULL && rt_registry_hold(sub, frame, pos->offset, pos->epoch,
					s->hub->cfg.history_hold) != 1) {
				static rt_log_limit held_log;
				rt_stat_add(&s->hub->stat_history_held_dropped, 1);
				rt_log_limited(&held_log, RT_LOG_WARNING, "a subscriber waiting for the history "
						"of %.*s held realtime.history_hold (%u) live messages: dropped one "
						"(a subscribe answers recovered:false)", (int) ch->name_len, ch->name,
						s->hub->cfg.history_hold);
			}
			continue;
		}
		sub->hist_epoch = pos->epoch;
		sub->hist_offset = pos->offset;
		frame = rt_frames_get(&frames, s->proto, rt__build_message, a);
		if (frame != NULL) {
			rt_session_send(s, frame);
			if (s->protocol->positioned != NULL) {
				s->protocol->positioned(s);
			}
		}
	}
	rt_frames_release(&frames);
}

static void rt__publish(rt_hub *hub, const rt_msg *msg)
{
	const rt_session *skip = NULL;

	hub->publish_seq++;
	if (msg->exclude.ptr != NULL) {
		skip = rt_session_find(hub, msg->exclude.ptr, msg->exclude.len);
	}
	for (uint32_t c = 0; c < msg->channel_count; c++) {
		rt__publish_arg a = {msg, msg->channels[c]};
		rt_channel *ch = rt_registry_find(&hub->registry, a.channel.ptr, a.channel.len);
		if (ch == NULL) {
			continue;
		}
		rt__fanout_publish(ch, &a, msg->positions != NULL && msg->positions[c].offset > 0
				? &msg->positions[c] : NULL, skip);
	}
	rt_mercure_fanout_selectors(hub, msg);
}

void rt_hub_publish_to(rt_hub *hub, const rt_msg *msg, rt_session *s)
{
	if (msg->exclude.ptr != NULL && s == rt_session_find(hub, msg->exclude.ptr, msg->exclude.len)) {
		return;
	}
	hub->publish_seq++;
	for (uint32_t c = 0; c < msg->channel_count; c++) {
		rt_sub *sub = rt_session_find_sub(s, msg->channels[c].ptr, msg->channels[c].len);
		const rt_pos *pos = msg->positions != NULL && msg->positions[c].offset > 0
				? &msg->positions[c] : NULL;
		rt_buf *frame;
		if (sub == NULL || (pos != NULL && sub->hist_epoch == pos->epoch
				&& pos->offset <= sub->hist_offset)) {
			continue;
		}
		if (!rt__may_deliver(s, msg, rt_mercure_is_private(msg))) {
			continue;
		}
		if (pos != NULL) {
			sub->hist_epoch = pos->epoch;
			sub->hist_offset = pos->offset;
		}
		frame = s->protocol->frame_message(msg, msg->channels[c]);
		if (frame == NULL) {
			continue;
		}
		rt_session_send(s, frame);
		rt_buf_unref(frame);
		if (pos != NULL && s->protocol->positioned != NULL) {
			s->protocol->positioned(s);
		}
	}
}

void rt_hub_member_to(rt_hub *hub, const char *channel, size_t len, const rt_member *m,
		int added, rt_session *s)
{
	rt_sub *sub = rt_session_find_sub(s, channel, len);
	rt_channel *ch = rt_registry_find(&hub->registry, channel, len);
	rt_buf *frame;

	/* As rt__fanout: a member's own sessions are not told of it. */
	if (sub == NULL || ch == NULL || (sub->member != NULL && sub->member->user_id_len == m->id_len
			&& memcmp(sub->member->user_id, m->id, m->id_len) == 0)) {
		return;
	}
	frame = added ? s->protocol->frame_member_added(ch, m)
			: s->protocol->frame_member_removed(ch, m->id, m->id_len);
	if (frame != NULL) {
		rt_session_send(s, frame);
		rt_buf_unref(frame);
	}
}

/* Sends a user- or connection-addressed message to each of sessions. */
static void rt__direct(const rt_msg *msg, rt_session *const *sessions, uint32_t count)
{
	rt__publish_arg a = {msg, {NULL, 0}};
	rt_frames frames = {0};

	for (uint32_t i = 0; i < count; i++) {
		rt_buf *frame = rt_frames_get(&frames, sessions[i]->proto, rt__build_message, &a);
		if (frame != NULL) {
			rt_session_send(sessions[i], frame);
		}
	}
	rt_frames_release(&frames);
}

static void rt__to_user(rt_hub *hub, const rt_msg *msg)
{
	rt_user *user = rt_session_find_user(hub, msg->target.ptr, msg->target.len);

	if (user != NULL) {
		rt__direct(msg, user->sessions, user->count);
	}
}

static void rt__to_connection(rt_hub *hub, const rt_msg *msg)
{
	rt_session *s = rt_session_find(hub, msg->target.ptr, msg->target.len);

	if (rt_polling_message(hub, msg)) {
		return;
	}
	if (msg->event.len == sizeof(RT_NATIVE_SSE_CONTROL) - 1
			&& memcmp(msg->event.ptr, RT_NATIVE_SSE_CONTROL, msg->event.len) == 0) {
		if (s != NULL) {
			rt_native_sse_control(s, msg->data.ptr, msg->data.len);
		}
		return;
	}
	if (s != NULL) {
		rt__direct(msg, &s, 1);
	}
}

static void rt__disconnect_user(rt_hub *hub, const rt_msg *msg)
{
	rt_user *user = rt_session_find_user(hub, msg->target.ptr, msg->target.len);

	/* Closing detaches the session from the user only when its transport
	 * ends; the close handshake just starts here. */
	for (uint32_t i = 0; user != NULL && i < user->count; i++) {
		rt_session_close_ws(user->sessions[i], RT_CLOSE_DISCONNECTED, "disconnected by the app");
	}
}

/* ---- the app-wide view ---- */

static void rt__on_view_occupied(void *ctx, const rt_vchannel *vch, uint32_t origin)
{
	rt_hub *hub = ctx;
	(void) origin;
	if (hub->hooks_mine && vch->name_len > 0) {
		rt_webhooks_event(hub->webhooks, RT_WEBHOOK_CHANNEL_OCCUPIED, vch->name, vch->name_len,
				NULL, 0);
	}
}

static void rt__on_view_vacated(void *ctx, const rt_vchannel *vch, uint32_t origin)
{
	rt_hub *hub = ctx;
	(void) origin;
	if (hub->hooks_mine && vch->name_len > 0) {
		rt_webhooks_event(hub->webhooks, RT_WEBHOOK_CHANNEL_VACATED, vch->name, vch->name_len,
				NULL, 0);
	}
}

static void rt__on_view_member(rt_hub *hub, const rt_vchannel *vch, const rt_member *m, int added)
{
	rt__member_arg a = {NULL, m, {m->id, m->id_len}};
	rt_channel *ch;

	if (!rt_channel_is_presence(vch->name, vch->name_len)) {
		return;
	}
	ch = rt_registry_find(&hub->registry, vch->name, vch->name_len);
	if (ch != NULL) {
		a.ch = ch;
		rt__fanout(ch, added ? rt__build_member_added : rt__build_member_removed, &a, NULL, m,
				hub->quiet_moved_in);
	}
	if (!hub->quiet_moved_in && rt_handoff_replaying(hub)) {
		rt_handoff_note_member(hub, vch->name, vch->name_len, m, added);
	}
	if (hub->hooks_mine) {
		rt_webhooks_event(hub->webhooks,
				added ? RT_WEBHOOK_MEMBER_ADDED : RT_WEBHOOK_MEMBER_REMOVED, vch->name,
				vch->name_len, m->id, m->id_len);
	}
}

static void rt__on_view_member_added(void *ctx, const rt_vchannel *vch, const rt_member *m,
		uint32_t origin)
{
	(void) origin;
	rt__on_view_member(ctx, vch, m, 1);
}

static void rt__on_view_member_removed(void *ctx, const rt_vchannel *vch, const rt_member *m,
		uint32_t origin)
{
	(void) origin;
	rt__on_view_member(ctx, vch, m, 0);
}

/* A whole-state report of origin begins (1) or ends (0). Reports are
 * short and few at a time; past the table's room they go unmarked, which
 * only means a moved-in client may hear of a member twice. */
static void rt__note_report(rt_hub *hub, uint32_t origin, int begins)
{
	uint32_t n = hub->reporting_count;

	for (uint32_t i = 0; i < n; i++) {
		if (hub->reporting[i] == origin) {
			if (!begins) {
				hub->reporting[i] = hub->reporting[n - 1];
				hub->reporting_count = n - 1;
			}
			return;
		}
	}
	if (begins && origin != hub->node_id
			&& n < sizeof(hub->reporting) / sizeof(hub->reporting[0])) {
		hub->reporting[n] = origin;
		hub->reporting_count = n + 1;
	}
}

static int rt__is_reporting(const rt_hub *hub, uint32_t origin)
{
	for (uint32_t i = 0; i < hub->reporting_count; i++) {
		if (hub->reporting[i] == origin) {
			return 1;
		}
	}
	return 0;
}

/* A state report that announces a member a hub took over (RT_STATE_MOVED). */
static int rt__is_moved_report(const rt_msg *msg)
{
	return msg->event.len == sizeof(RT_STATE_MOVED) - 1
			&& memcmp(msg->event.ptr, RT_STATE_MOVED, msg->event.len) == 0;
}

static void rt__apply_state(rt_hub *hub, const rt_msg *msg)
{
	int moved = rt__is_moved_report(msg);
	int r;

	if (msg->channel_count != 1) {
		return;
	}
	/* What a syncing hub learns from the others' whole reports, or from
	 * their announcements of members they took over, was there before it
	 * started: news to its own clients, not to those moved in from a hub
	 * that had told them. Joins reach everyone. */
	hub->quiet_moved_in = hub->syncing && (moved || rt__is_reporting(hub, msg->origin));
	/* A member or channel a hub took over joined where it was before, which
	 * sent the webhook then: a view that lacked it sends none now. */
	hub->hooks_mine = (msg->origin == hub->node_id) && !moved;
	if (msg->target.ptr != NULL) {
		r = rt_view_set_member(&hub->view, msg->origin, msg->channels[0].ptr,
				msg->channels[0].len, msg->target.ptr, msg->target.len, msg->data.ptr,
				msg->data.len, msg->count);
	} else {
		r = rt_view_set_subscribers(&hub->view, msg->origin, msg->channels[0].ptr,
				msg->channels[0].len, msg->count);
	}
	hub->hooks_mine = 0;
	hub->quiet_moved_in = 0;
	if (r != 0) {
		rt_log(RT_LOG_ERROR, "out of memory updating the view of %s", msg->channels[0].ptr);
	}
}

/* ---- queries ---- */

static void rt__answer_channel_users(rt_hub *hub, rt_query *q, rt_sb *sb)
{
	rt_view_members_json(&hub->view, q->subject, q->subject_len, sb);
}

static void rt__answer(rt_hub *hub, rt_query *q)
{
	rt_sb sb;
	char num[32];

	rt_sb_init(&sb);
	switch (q->kind) {
	case RT_QUERY_CHANNEL_USERS:
		rt__answer_channel_users(hub, q, &sb);
		break;
	case RT_QUERY_CHANNELS: {
		size_t it = 0;
		void *v;
		int first = 1;
		rt_sb_puts(&sb, "{");
		while (rt_map_next(&hub->view.channels, &it, &v)) {
			rt_vchannel *ch = v;
			if (ch->name_len == 0 || ch->subs.total == 0) {
				continue; /* the connection counter, or members only */
			}
			if (!first) {
				rt_sb_puts(&sb, ",");
			}
			first = 0;
			rt_sb_json_string(&sb, ch->name, ch->name_len);
			snprintf(num, sizeof(num), ":%" PRIu64, ch->subs.total);
			rt_sb_puts(&sb, num);
		}
		rt_sb_puts(&sb, "}");
		break;
	}
	case RT_QUERY_CONNECTIONS: {
		const rt_vchannel *ch = rt_view_channel(&hub->view, q->subject ? q->subject : "",
				q->subject ? q->subject_len : 0);
		uint64_t n = ch ? ch->subs.total : 0;
		snprintf(num, sizeof(num), "%" PRIu64, n);
		rt_sb_puts(&sb, num);
		break;
	}
	}
	if (sb.failed) {
		rt_sb_free(&sb);
		rt_query_answer(q, NULL, 0);
		return;
	}
	rt_query_answer(q, sb.data, sb.len);
}

/* ---- stopping ---- */

static void rt__close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h)) {
		uv_close(h, NULL);
	}
}

static void rt__all_closed(rt_hub *hub)
{
	rt_handoff_close(hub);
	rt__close_handle((uv_handle_t *) &hub->wake);
	rt__close_handle((uv_handle_t *) &hub->flush);
	rt__close_handle((uv_handle_t *) &hub->tick);
	rt_spread_close(hub);
}

/* A stop is bounded by realtime.shutdown_timeout: every grace it gives
 * (a client reading its close frame, the close handshake, a webhook or an
 * auth call in flight) ends there. Then what is left is cut: sockets are
 * closed with their unsent bytes, outbound HTTP calls cancelled. If the
 * loop still has work after RT_STOP_STUCK_MS (a handle that is not ours,
 * such as a Redis connection waiting on replies), it is stopped as is. */
#define RT_STOP_STUCK_MS 250
#define RT_STOP_SLACK_MS 1000  /* PHP's wait beyond shutdown_timeout */

static void rt__on_stop_stuck(uv_timer_t *t)
{
	rt_hub *hub = t->data;

	rt_log(RT_LOG_ERROR, "hub still busy %d ms after realtime.shutdown_timeout: "
			"stopping its loop with handles open", RT_STOP_STUCK_MS);
	hub->stop_forced = 1;
	uv_stop(&hub->loop);
}

static void rt__on_stop_deadline(uv_timer_t *t)
{
	rt_hub *hub = t->data;
	unsigned open = 0;
	rt_conn *conn;

	for (conn = hub->net.conns; conn != NULL; conn = conn->next) {
		if (conn->state != RT_CONN_DEAD) {
			open++;
			rt_conn_close(conn);
		}
	}
	if (open > 0 || hub->http != NULL) {
		rt_log(RT_LOG_WARNING, "stopping: realtime.shutdown_timeout (%u ms) reached; "
				"force-closed %u connection(s), cancelled outbound HTTP calls",
				hub->cfg.shutdown_timeout, open);
	}
	rt_webhooks_free(hub->webhooks);
	hub->webhooks = NULL;
	rt_http_client_free(hub->http);
	hub->http = NULL;
	uv_timer_start(&hub->stop_timer, rt__on_stop_stuck, RT_STOP_STUCK_MS, 0);
}

static void rt__begin_stop(rt_hub *hub)
{
	rt_conn *conn;
	int restart = atomic_load(&hub->restart);
	uint64_t restarted = 0;

	if (hub->net.stopping) {
		return;
	}
	if (hub->delivering > 0) {
		/* Reached from a message the broker is handing over: the stop ends
		 * the broker's link, which must not go under its own reader. */
		atomic_store(&hub->stop_asked, 1);
		uv_async_send(&hub->wake);
		return;
	}
	/* First, while it still delivers, the clients move to hubs that stay;
	 * the stop goes on when that is over. */
	if (rt_handoff_begin(hub, rt__begin_stop)) {
		return;
	}
	hub->net.stopping = 1;
	uv_timer_start(&hub->stop_timer, rt__on_stop_deadline, hub->cfg.shutdown_timeout, 0);
	if (hub->syncing) {
		uv_timer_stop(&hub->sync_timer);
		rt__on_synced(&hub->sync_timer);
	}
	if (hub->has_link) {
		/* The others forget this hub before its clients go, so its leaving
		 * reads as one change to them, announced by a hub that stays. */
		hub->link.stop(hub->link.ctx);
		hub->has_link = 0;
	}
	rt__close_handle((uv_handle_t *) &hub->listener);
	if (hub->has_shared_listener) {
		rt__close_handle((uv_handle_t *) &hub->shared_listener);
	}
	for (conn = hub->net.conns; conn != NULL; conn = conn->next) {
		if (conn->state == RT_CONN_OPEN) {
			if (restart) {
				rt_conn_close_ws(conn, RT_CLOSE_SERVICE_RESTART, "server restarting: reconnect now");
				restarted++;
			} else {
				rt_conn_close_ws(conn, 1001, "server shutting down");
			}
			/* No grace for the reply: the process is leaving. */
			conn->flags |= RT_CONN_F_CLOSE_AFTER_FLUSH;
		} else {
			rt_conn_close(conn);
		}
	}
	if (restarted > 0) {
		atomic_fetch_add_explicit(&hub->stat_closed_restart, restarted, memory_order_relaxed);
		rt_log(RT_LOG_INFO, "closed %llu client(s) with 1012 (Pusher 4200): this worker ends, "
				"the server goes on; they reconnect at once", (unsigned long long) restarted);
	}
	/* Long-polling sessions end with their hub (their clients start anew). */
	rt_polling_stop(hub);
	/* Make sure the close frames reach the sockets this turn. */
	rt__on_flush(&hub->flush);
	if (hub->net.conns == NULL) {
		rt__all_closed(hub);
	}
}

/* The hub every hub would pick, from the same view, to announce what a
 * departed hub leaves behind: the lowest id left. */
static uint32_t rt__lowest_other(rt_hub *hub, uint32_t gone)
{
	uint32_t origins[256], best = hub->node_id;
	size_t n = rt_hub_known_origins(hub, origins, 256);

	for (size_t i = 0; i < n; i++) {
		if (origins[i] != gone && origins[i] < best) {
			best = origins[i];
		}
	}
	return best;
}

static void rt__dispatch(rt_hub *hub, rt_msg *msg)
{
	uint64_t delivered = atomic_load_explicit(&hub->net.stat_delivered, memory_order_relaxed);

	if (rt_handoff_hold(hub, msg)) {
		return; /* delivered once a handoff to this hub is in */
	}
	if (hub->net.stopping && msg->type != RT_MSG_QUERY && msg->type != RT_MSG_STATE) {
		rt_msg_free(msg);
		return;
	}
	switch (msg->type) {
	case RT_MSG_PUBLISH:
		atomic_fetch_add_explicit(&hub->stat_published, 1, memory_order_relaxed);
		rt__publish(hub, msg);
		break;
	case RT_MSG_TO_USER:
		atomic_fetch_add_explicit(&hub->stat_published, 1, memory_order_relaxed);
		rt__to_user(hub, msg);
		break;
	case RT_MSG_TO_CONNECTION:
		atomic_fetch_add_explicit(&hub->stat_published, 1, memory_order_relaxed);
		rt__to_connection(hub, msg);
		break;
	case RT_MSG_DISCONNECT_USER:
		rt__disconnect_user(hub, msg);
		break;
	case RT_MSG_QUERY:
		if (hub->syncing) {
			/* Held until the other hubs' state has had time to arrive. */
			msg->next = NULL;
			*hub->deferred_tail = msg;
			hub->deferred_tail = &msg->next;
			return;
		}
		rt__answer(hub, msg->query);
		break;
	case RT_MSG_STATE:
		rt__apply_state(hub, msg);
		break;
	case RT_MSG_WHISPER:
		rt__deliver_whisper(hub, msg);
		break;
	case RT_MSG_STATE_BEGIN:
		rt__note_report(hub, msg->origin, 1);
		rt_view_mark_origin(&hub->view, msg->origin);
		break;
	case RT_MSG_STATE_END:
		rt__note_report(hub, msg->origin, 0);
		/* The reporting hub sends the webhooks of what it no longer has. */
		hub->hooks_mine = (msg->origin == hub->node_id);
		rt_view_sweep_origin(&hub->view, msg->origin);
		hub->hooks_mine = 0;
		break;
	case RT_MSG_SYNC:
		if (msg->origin != hub->node_id) {
			rt_hub_report_state(hub);
		}
		break;
	case RT_MSG_GONE:
		if (msg->origin != hub->node_id) {
			rt__note_report(hub, msg->origin, 0);
			hub->hooks_mine = (msg->count != 0) ? msg->count == hub->node_id
					: rt__lowest_other(hub, msg->origin) == hub->node_id;
			rt_view_drop_origin(&hub->view, msg->origin);
			hub->hooks_mine = 0;
			break;
		}
		if (!hub->net.stopping) {
			/* Taken for dead (a missed heartbeat): say again what we hold. */
			rt_session_report_all(hub);
		}
		break;
	case RT_MSG_STOP:
		rt__begin_stop(hub);
		break;
	case RT_MSG_HANDOFF:
		rt_handoff_fence(hub, msg);
		break;
	}
	/* Only a message this hub wrote to a client of its own is observed. */
	if (msg->born != 0 && atomic_load_explicit(&hub->net.stat_delivered,
			memory_order_relaxed) != delivered) {
		rt__observe_latency(hub, msg->born);
	}
	rt_msg_free(msg);
}

void rt_hub_count_mercure_publish(rt_hub *hub)
{
	atomic_fetch_add_explicit(&hub->stat_source[RT_STAT_SRC_MERCURE_FUNCTION], 1,
			memory_order_relaxed);
}

void rt_hub_count_php_publish(rt_hub *hub)
{
	/* PHP threads, not the loop: a locked add, once per broadcast() call. */
	atomic_fetch_add_explicit(&hub->stat_source[RT_STAT_SRC_PHP], 1, memory_order_relaxed);
}

/* Once per message and hub, after its frames are queued to this hub's
 * clients (written by rt_conn_flush later in the same loop turn). A clock
 * that went back counts as 0; buckets are cumulative, as Prometheus has them. */
static void rt__observe_latency(rt_hub *hub, uint64_t born)
{
	uint64_t now = rt_msg_now_us();
	uint64_t us = now > born ? now - born : 0;

	for (int i = RT_LATENCY_BUCKETS - 1; i >= 0 && us <= rt_metrics_latency_bounds[i]; i--) {
		rt_stat_add(&hub->stat_latency[i], 1);
	}
	rt_stat_add(&hub->stat_latency[RT_LATENCY_BUCKETS], 1);
	rt_stat_add(&hub->stat_latency[RT_LATENCY_BUCKETS + 1], us);
}

static int rt__publish_msg(rt_hub *hub, rt_msg *msg)
{
	int r;

	if (msg->born == 0) {
		msg->born = rt_msg_now_us();
	}

	if (!hub->has_link) {
		rt__dispatch(hub, msg);
		return 0;
	}
	r = hub->link.publish(hub->link.ctx, msg);
	if (r != 0) {
		/* The broker has logged why. */
		atomic_fetch_add_explicit(&hub->stat_broker_refused, 1, memory_order_relaxed);
	}
	return r;
}

static int rt__publish_api(rt_hub *hub, rt_msg *msg)
{
	static rt_log_limit refused_log;

	if (hub->has_link && hub->link.up != NULL && !hub->link.up(hub->link.ctx)) {
		rt_msg_free(msg);
		atomic_fetch_add_explicit(&hub->stat_broker_refused, 1, memory_order_relaxed);
		rt_log_limited(&refused_log, RT_LOG_ERROR, "the %s broker cannot reach the other hubs "
				"now: HTTP API message refused (503)", hub->cfg.broker);
		return -ENOTCONN;
	}
	return rt__publish_msg(hub, msg);
}

void rt_hub_deliver(rt_hub *hub, rt_msg *msg)
{
	hub->delivering++;
	rt__dispatch(hub, msg);
	hub->delivering--;
}

uint32_t rt_hub_node_id(const rt_hub *hub)
{
	return hub->node_id;
}

void rt_hub_each_interest(rt_hub *hub, void (*fn)(void *ctx, char kind, const char *name,
		size_t len), void *ctx)
{
	size_t it = 0;
	void *v;

	while (rt_map_next(&hub->registry.channels, &it, &v)) {
		fn(ctx, 'c', ((rt_channel *) v)->name, ((rt_channel *) v)->name_len);
	}
	it = 0;
	while (rt_map_next(&hub->users, &it, &v)) {
		fn(ctx, 'u', ((rt_user *) v)->id, ((rt_user *) v)->id_len);
	}
	if (rt_mercure_needs_all(hub)) {
		fn(ctx, '*', NULL, 0);
	}
}

int rt_hub_has_channel(rt_hub *hub, const char *channel, size_t len)
{
	return rt_registry_find(&hub->registry, channel, len) != NULL;
}

static size_t rt__add_origins(const rt_vcounts *c, uint32_t self, uint32_t *out, size_t n,
		size_t max)
{
	for (uint32_t i = 0; i < c->n && n < max; i++) {
		size_t k;
		for (k = 0; k < n && out[k] != c->v[i].origin; k++) {
		}
		if (k == n && c->v[i].origin != self) {
			out[n++] = c->v[i].origin;
		}
	}
	return n;
}

size_t rt_hub_known_origins(rt_hub *hub, uint32_t *out, size_t max)
{
	size_t it = 0, n = 0;
	void *v;

	while (rt_map_next(&hub->view.channels, &it, &v)) {
		rt_vchannel *ch = v;
		size_t mit = 0;
		void *m;
		n = rt__add_origins(&ch->subs, hub->node_id, out, n, max);
		while (rt_map_next(&ch->members, &mit, &m)) {
			n = rt__add_origins(&((rt_vmember *) m)->origins, hub->node_id, out, n, max);
		}
	}
	return n;
}

void rt_hub_report_state(rt_hub *hub)
{
	/* A hub handing its clients off has let go of some whose takers have
	 * not announced them yet: a whole report now would read as their
	 * leaving (member_removed, then member_added), so it sends none; its
	 * departure follows anyway. */
	if (!rt_handoff_leaving(hub)) {
		rt_session_report_all(hub);
	}
}

/* Channels and users gained or lost locally, for brokers that route. */
static void rt__on_occupied(void *ctx, const rt_channel *ch)
{
	rt_hub *hub = ctx;
	if (hub->has_link && hub->link.interest != NULL) {
		hub->link.interest(hub->link.ctx, 'c', ch->name, ch->name_len, 1);
	}
}

static void rt__on_vacated(void *ctx, const rt_channel *ch)
{
	rt_hub *hub = ctx;
	if (hub->has_link && hub->link.interest != NULL) {
		hub->link.interest(hub->link.ctx, 'c', ch->name, ch->name_len, 0);
	}
}

static void rt__user_interest(rt_hub *hub, const char *id, size_t len, int on)
{
	if (hub->has_link && hub->link.interest != NULL) {
		hub->link.interest(hub->link.ctx, 'u', id, len, on);
	}
}

/* ---- thread ---- */

#define RT_SYNC_WINDOW_MS 150

static void rt__on_synced(uv_timer_t *t)
{
	rt_hub *hub = t->data;
	rt_msg *msg = hub->deferred;

	hub->syncing = 0;
	hub->deferred = NULL;
	hub->deferred_tail = &hub->deferred;
	while (msg != NULL) {
		rt_msg *next = msg->next;
		rt__dispatch(hub, msg);
		msg = next;
	}
	uv_close((uv_handle_t *) t, NULL);
}

static void *rt__thread_main(void *arg)
{
	rt_hub *hub = arg;
	rt_conn *conn;

	hub->deferred_tail = &hub->deferred;
	if (hub->has_link && hub->link.start(hub->link.ctx, hub, &hub->loop) != 0) {
		rt_log(RT_LOG_ERROR, "hub cannot reach the other hubs of its app: it serves its own clients only");
		hub->has_link = 0;
	}
	if (hub->has_link) {
		(void) rt_handoff_start(hub);
		hub->syncing = 1;
		uv_timer_init(&hub->loop, &hub->sync_timer);
		hub->sync_timer.data = hub;
		uv_timer_start(&hub->sync_timer, rt__on_synced, RT_SYNC_WINDOW_MS, 0);
	}
	uv_run(&hub->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&hub->stop_timer);
	rt__close_handle((uv_handle_t *) &hub->stop_timer);
	if (hub->has_link) {
		hub->link.stop(hub->link.ctx);
		hub->has_link = 0;
	}
	/* Connections still open when stop gave up waiting; close them here. */
	for (conn = hub->net.conns; conn != NULL; conn = conn->next) {
		rt_conn_close(conn);
	}
	rt__all_closed(hub);
	rt__close_handle((uv_handle_t *) &hub->listener);
	if (hub->has_shared_listener) {
		rt__close_handle((uv_handle_t *) &hub->shared_listener);
	}
	rt_webhooks_free(hub->webhooks);
	hub->webhooks = NULL;
	rt_http_client_free(hub->http);
	hub->http = NULL;
	if (!hub->stop_forced) {
		uv_run(&hub->loop, UV_RUN_DEFAULT);
	} else {
		/* What is ours closes within a few turns; what is stuck stays. */
		for (int turn = 0; turn < 16 && uv_run(&hub->loop, UV_RUN_NOWAIT) != 0; turn++) {
		}
	}
	rt_handoff_free(hub);
	if (uv_loop_close(&hub->loop) != 0) {
		rt_log(RT_LOG_WARNING, "hub stopped with handles still open; they are left as they are");
	}
	rt_spread_free(hub);

	atomic_store(&hub->finished, 1);
	pthread_mutex_lock(&hub->lock);
	hub->stopped = 1;
	pthread_cond_signal(&hub->stopped_cond);
	pthread_mutex_unlock(&hub->lock);
	return NULL;
}

/* realtime.listen as a socket address; *len is its size. 0 or a libuv error. */
static int rt__listen_addr(const rt_config *cfg, struct sockaddr_storage *addr, socklen_t *len)
{
	memset(addr, 0, sizeof(*addr));
	if (strchr(cfg->host, ':') != NULL) {
		*len = sizeof(struct sockaddr_in6);
		return uv_ip6_addr(cfg->host, cfg->port, (struct sockaddr_in6 *) addr);
	}
	*len = sizeof(struct sockaddr_in);
	return uv_ip4_addr(cfg->host, cfg->port, (struct sockaddr_in *) addr);
}

/* share: other hubs of this server bind the same port (SO_REUSEPORT);
 * otherwise the port must be free, so two unrelated servers never split
 * one port's clients between them. */
static int rt__bind(rt_hub *hub, int share, char *err, size_t errlen)
{
	const rt_config *cfg = &hub->cfg;
	struct sockaddr_storage addr;
	socklen_t len;
	int r = rt__listen_addr(cfg, &addr, &len);

	if (r == 0) {
		r = uv_tcp_init_ex(&hub->loop, &hub->listener, addr.ss_family);
	}
	if (r == 0) {
		uv_os_fd_t fd;
		int one = 1;
		uv_fileno((uv_handle_t *) &hub->listener, &fd);
		/* Workers of one pool each bind the same port; the kernel spreads
		 * connections among them. */
		if (share) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		}
		r = uv_tcp_bind(&hub->listener, (const struct sockaddr *) &addr, 0);
		if (r == 0) {
			r = uv_listen((uv_stream_t *) &hub->listener, 511, rt__on_connection);
		}
		if (r != 0) {
			uv_close((uv_handle_t *) &hub->listener, NULL);
		}
	}
	if (r != 0) {
		snprintf(err, errlen, "cannot listen on %s:%d (realtime.listen): %s", cfg->host,
				cfg->port, uv_strerror(r));
	}
	return r;
}

int rt_hub_prebind(const rt_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage addr;
	socklen_t len;
	int fd, one = 1, r;

	r = rt__listen_addr(cfg, &addr, &len);
	fd = r == 0 ? socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0) : -1;
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket for %s:%d", cfg->host, cfg->port);
		return -EINVAL;
	}
	/* First without SO_REUSEPORT: fails when another server listens on the
	 * port (SO_REUSEADDR only lets connections in TIME_WAIT be). */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *) &addr, len) != 0) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s:%d (realtime.listen): %s", cfg->host,
				cfg->port, strerror(errno));
		close(fd);
		return r;
	}
	close(fd);
	fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket for %s:%d", cfg->host, cfg->port);
		return -EINVAL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *) &addr, len) != 0 || listen(fd, 511) != 0) {
		r = -errno;
		snprintf(err, errlen, "cannot listen on %s:%d (realtime.listen): %s", cfg->host,
				cfg->port, strerror(errno));
		close(fd);
		return r;
	}
	return fd;
}

static int rt__same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return 0;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *) a, *y = (const struct sockaddr_in *) b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const struct sockaddr_in6 *) a, *y = (const struct sockaddr_in6 *) b;
		return x->sin6_port == y->sin6_port
			&& memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return 0;
}

int rt_hub_check_prebound(const rt_config *cfg, int fd, char *err, size_t errlen)
{
	struct sockaddr_storage want, have;
	socklen_t want_len, have_len = sizeof(have);
	int listening = 0, type = 0;
	socklen_t optlen = sizeof(int);

	if (rt__listen_addr(cfg, &want, &want_len) != 0) {
		snprintf(err, errlen, "bad realtime.listen %s:%d", cfg->host, cfg->port);
		return -EINVAL;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &optlen) != 0 || type != SOCK_STREAM
			|| getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 || !listening
			|| getsockname(fd, (struct sockaddr *) &have, &have_len) != 0) {
		snprintf(err, errlen, "descriptor %d is not a listening TCP socket", fd);
		return -ENOTSOCK;
	}
	if (have_len != want_len || !rt__same_addr(&have, &want)) {
		snprintf(err, errlen, "descriptor %d is not bound to %s:%d", fd, cfg->host, cfg->port);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

static int rt__pin_module(void);

int rt_hub_start(rt_hub **out, const rt_config *cfg, const rt_hub_link *link, int inherited_fd,
		int share_port, char *err, size_t errlen)
{
	rt_hub *hub = calloc(1, sizeof(*hub));
	sigset_t all, old;
	int r;

	*out = NULL;
	if (hub == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	{
		/* Room for max_connections clients, above the descriptors PHP uses. */
		struct rlimit lim;
		if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
			lim.rlim_cur = lim.rlim_max;
			setrlimit(RLIMIT_NOFILE, &lim);
		}
	}
	hub->cfg = *cfg;
	hub->net.handlers = &rt__conn_handlers;
	hub->hooks = &rt__hooks;
	hub->net.loop = &hub->loop;
	hub->net.cfg = &hub->cfg;
	hub->net.owner = hub;
	if (getrandom(&hub->node_id, sizeof(hub->node_id), 0) != sizeof(hub->node_id)) {
		hub->node_id = (uint32_t) time(NULL) ^ (uint32_t) getpid();
	}
	hub->node_id = hub->node_id % 1000000000u + 1;
	rt_registry_init(&hub->registry);
	hub->registry.on_occupied = rt__on_occupied;
	hub->registry.on_vacated = rt__on_vacated;
	hub->registry.ctx = hub;
	{
		rt_view_events ev = {rt__on_view_occupied, rt__on_view_vacated,
			rt__on_view_member_added, rt__on_view_member_removed, hub};
		rt_view_init(&hub->view, &ev);
	}
	rt_map_init(&hub->sessions_by_id);
	rt_map_init(&hub->users);
	rt_map_init(&hub->net.per_ip);
	hub->net.now = 1; /* a deadline of 0 means none */
	pthread_mutex_init(&hub->lock, NULL);
	pthread_cond_init(&hub->stopped_cond, NULL);
	r = uv_loop_init(&hub->loop);
	if (r != 0) {
		snprintf(err, errlen, "cannot start the event loop: %s", uv_strerror(r));
		goto fail_loop;
	}
	/* A socket bound before the fork: clients that arrive before any
	 * worker's hub started wait in its backlog instead of being refused. */
	rt_spread_init(hub);
	rt_spread_adopt(hub, inherited_fd);
	r = rt__bind(hub, share_port, err, errlen);
	if (r == UV_EADDRINUSE && hub->has_shared_listener) {
		/* SO_REUSEPORT groups sockets by user: workers that run as another
		 * user than the master that bound the port serve it through the
		 * master's socket alone. */
		rt_log(RT_LOG_INFO, "serving %s:%d through the socket bound before the fork "
				"(this worker's user cannot add its own)", cfg->host, cfg->port);
		r = 0;
	}
	if (r != 0) {
		if (hub->has_shared_listener) {
			rt__close_handle((uv_handle_t *) &hub->shared_listener);
		}
		goto fail_handles;
	}
	hub->listener.data = hub;
	if (link != NULL) {
		hub->link = *link;
		hub->has_link = 1;
	}
	uv_async_init(&hub->loop, &hub->wake, rt__on_wake);
	hub->wake.data = hub;
	uv_check_init(&hub->loop, &hub->flush);
	hub->flush.data = hub;
	uv_check_start(&hub->flush, rt__on_flush);
	uv_timer_init(&hub->loop, &hub->tick);
	hub->tick.data = hub;
	uv_timer_start(&hub->tick, rt__on_tick, 1000, 1000);
	uv_timer_init(&hub->loop, &hub->stop_timer);
	hub->stop_timer.data = hub;
	uv_unref((uv_handle_t *) &hub->stop_timer);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rt_http_client_new(&hub->http, &hub->loop) != 0) {
		r = -ENOMEM;
		snprintf(err, errlen, "cannot start the HTTP client");
		goto fail_started;
	}
	if (rt_webhooks_new(hub, &hub->webhooks) != 0) {
		/* Started without them, the app would silently get no webhooks. */
		r = -ENOMEM;
		snprintf(err, errlen, "cannot start the webhooks of realtime.webhook_url: out of memory");
		rt_http_client_free(hub->http);
		goto fail_started;
	}
	rt_auth_check_config(cfg);
	hub->accepting_posts = 1;

	/* The thread inherits a full mask: PHP's signals (timeouts, FPM's soft
	 * quit) must land on PHP's threads, and SIGPIPE nowhere. Faults stay
	 * open: blocked, they kill the process before any handler (a sanitizer's
	 * report, a crash logger) can say where the hub thread failed. */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGABRT);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&hub->thread, NULL, rt__thread_main, hub);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0) {
		/* ps -T, top -H and /proc/PID/task/TID/comm show which thread it is. */
		pthread_setname_np(hub->thread, "realtime-hub");
		/* A stop from a signal handler (rt_hub_stop_in_handler) cannot pin
		 * the module then, and the thread runs this code to its end. */
		rt__pin_module();
	}
	if (r != 0) {
		snprintf(err, errlen, "cannot start the hub thread: %s", strerror(-r));
		rt_webhooks_free(hub->webhooks);
		rt_http_client_free(hub->http);
		goto fail_started;
	}
	rt_log(RT_LOG_INFO, "hub listening on %s:%d%s (node %u)", cfg->host, cfg->port,
			cfg->path, hub->node_id);
	*out = hub;
	return 0;

fail_started:
	/* The handles started above close through the loop, run once more. */
	if (hub->has_shared_listener) {
		rt__close_handle((uv_handle_t *) &hub->shared_listener);
	}
	rt__close_handle((uv_handle_t *) &hub->wake);
	rt__close_handle((uv_handle_t *) &hub->flush);
	rt__close_handle((uv_handle_t *) &hub->tick);
	rt__close_handle((uv_handle_t *) &hub->stop_timer);
	rt__close_handle((uv_handle_t *) &hub->listener);
fail_handles:
	rt_spread_close(hub);
	uv_run(&hub->loop, UV_RUN_DEFAULT);
	uv_loop_close(&hub->loop);
	rt_spread_free(hub);
fail_loop:
	rt_view_free(&hub->view);
	rt_map_free(&hub->users);
	rt_limits_free(&hub->net);
	rt_map_free(&hub->sessions_by_id);
	rt_registry_free(&hub->registry);
	rt_buf_unref(hub->sse_id);
	rt_mercure_hub_free(hub);
	rt_polling_free(hub);
	pthread_mutex_destroy(&hub->lock);
	pthread_cond_destroy(&hub->stopped_cond);
	free(hub);
	return r < 0 ? r : -r;
}

int rt_hub_post(rt_hub *hub, rt_msg *msg)
{
	static rt_log_limit full_log;
	size_t cost = rt__inbox_cost(msg);

	msg->next = NULL;
	pthread_mutex_lock(&hub->lock);
	if (!hub->accepting_posts) {
		pthread_mutex_unlock(&hub->lock);
		rt_msg_free(msg);
		return -ESHUTDOWN;
	}
	/* A hub that does not keep up must not grow its process without end:
	 * a process alone queues as much as a pool's ring holds. */
	if (cost > 0 && hub->inbox_bytes + cost > hub->cfg.pool_memory) {
		size_t queued = hub->inbox_bytes;
		pthread_mutex_unlock(&hub->lock);
		rt_msg_free(msg);
		atomic_fetch_add_explicit(&hub->stat_queue_full, 1, memory_order_relaxed);
		rt_log_limited(&full_log, RT_LOG_ERROR, "the hub's queue is full (%zu bytes waiting, "
				"a message of %zu, realtime.pool_memory %zu): message refused", queued, cost,
				(size_t) hub->cfg.pool_memory);
		return -ENOBUFS;
	}
	hub->inbox_bytes += cost;
	if (hub->inbox_tail) {
		hub->inbox_tail->next = msg;
	} else {
		hub->inbox_head = msg;
	}
	hub->inbox_tail = msg;
	pthread_mutex_unlock(&hub->lock);
	uv_async_send(&hub->wake);
	return 0;
}

/* Keeps this shared object mapped when PHP unloads the extension. Returns
 * 0, or -1 when it cannot (a binary that links the hub in has nothing to
 * pin). */
static int rt__pin_module(void)
{
	Dl_info info;

	if (dladdr((void *) rt__pin_module, &info) == 0 || info.dli_fname == NULL
			|| dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE) == NULL) {
		return -1;
	}
	return 0;
}

static void rt__ms_later(struct timespec *t, uint32_t ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long) (ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int rt__ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

int rt_hub_stop(rt_hub *hub)
{
	return rt_hub_stop_watching(hub, NULL);
}

int rt_hub_stop_watching(rt_hub *hub, int (*server_ending)(void))
{
	static const rt_msg_fields none;
	rt_msg *stop;
	struct timespec deadline, now, until;
	uint32_t wait_ms;
	int stopped, cut = 0;
	rt_msg *left;

	/* Already ended by rt_hub_stop_in_handler: join and free. */
	if (atomic_load(&hub->finished)) {
		goto join;
	}
	stop = rt_msg_new(RT_MSG_STOP, &none);
	if (stop == NULL || rt_hub_post(hub, stop) != 0) {
		return -ESHUTDOWN;
	}
	/* The thread cuts its own stop at shutdown_timeout (rt__on_stop_deadline);
	 * the slack is for that cut to finish. A handoff comes first: one
	 * handoff_timeout for what other hubs hand to this one, one for its own. */
	wait_ms = hub->cfg.shutdown_timeout + RT_STOP_SLACK_MS
			+ (hub->cfg.handoff ? 2 * hub->cfg.handoff_timeout : 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	rt__ms_later(&deadline, wait_ms);
	pthread_mutex_lock(&hub->lock);
	hub->accepting_posts = 0;
	while (!hub->stopped) {
		until = deadline;
		if (server_ending != NULL && !cut) {
			clock_gettime(CLOCK_REALTIME, &now);
			rt__ms_later(&now, 20);
			if (rt__ts_before(&now, &deadline)) {
				until = now;
			}
		}
		if (pthread_cond_timedwait(&hub->stopped_cond, &hub->lock, &until) == ETIMEDOUT) {
			clock_gettime(CLOCK_REALTIME, &now);
			if (!rt__ts_before(&now, &deadline)) {
				break;
			}
			if (server_ending != NULL && !cut && server_ending()) {
				cut = 1;
				rt_hub_cut_handoff(hub, RT_HUB_KILL_CUT_MS);
			}
		}
	}
	stopped = hub->stopped;
	pthread_mutex_unlock(&hub->lock);
	if (!stopped) {
		/* The thread may still run: its memory, and this module's code,
		 * must outlive it. Leak both rather than free under it. */
		rt_log(RT_LOG_ERROR, "hub thread did not end within %u ms (realtime.shutdown_timeout "
				"+ %d ms); leaving it running, its memory and this module loaded",
				hub->cfg.shutdown_timeout, RT_STOP_SLACK_MS);
		if (rt__pin_module() != 0) {
			rt_log(RT_LOG_ERROR, "cannot keep the extension loaded for its hub thread");
		}
		pthread_detach(hub->thread);
		return -ETIMEDOUT;
	}
join:
	pthread_join(hub->thread, NULL);
	left = hub->inbox_head;
	while (left != NULL) {
		rt_msg *next = left->next;
		rt_msg_free(left);
		left = next;
	}
	rt_view_free(&hub->view);
	rt_map_free(&hub->users);
	rt_limits_free(&hub->net);
	rt_map_free(&hub->sessions_by_id);
	rt_registry_free(&hub->registry);
	rt_buf_unref(hub->sse_id);
	rt_mercure_hub_free(hub);
	rt_polling_free(hub);
	pthread_mutex_destroy(&hub->lock);
	pthread_cond_destroy(&hub->stopped_cond);
	free(hub);
	return 0;
}

void rt_hub_mark_restart(rt_hub *hub)
{
	atomic_store(&hub->restart, 1);
}

void rt_hub_cut_handoff(rt_hub *hub, unsigned within_ms)
{
	if (atomic_load(&hub->finished)) {
		return; /* its loop is closed: nothing to wake */
	}
	if (within_ms > 60000) {
		within_ms = 60000;
	}
	atomic_store(&hub->handoff_cut, (int) within_ms + 1);
	uv_async_send(&hub->wake);
}

int rt_hub_stop_in_handler(rt_hub *hub, unsigned max_ms)
{
	const struct timespec nap = {0, 2 * 1000000L};
	struct timespec now, end;
	long budget = max_ms > 0 ? (long) max_ms : (long) hub->cfg.shutdown_timeout + RT_STOP_SLACK_MS;

	if (atomic_load(&hub->finished)) {
		return 0; /* its loop is closed: nothing to wake */
	}
	atomic_store(&hub->stop_asked, 1);
	uv_async_send(&hub->wake);
	clock_gettime(CLOCK_MONOTONIC, &end);
	rt__ms_later(&end, (uint32_t) budget);
	while (!atomic_load(&hub->finished)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!rt__ts_before(&now, &end)) {
			return -ETIMEDOUT;
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}

int rt_hub_check_publish(rt_hub *hub, const rt_msg *msg, char *err, size_t errlen)
{
	static rt_log_limit refused_log;
	size_t len;

	if (rt_proto_check_outbound(msg, hub->cfg.max_outbound, err, errlen) != 0) {
		goto refused;
	}
	len = rt_msg_encoded_size(msg);
	if (hub->has_link && hub->link.max_message > 0 && len > hub->link.max_message) {
		snprintf(err, errlen, "the message is too large: %zu bytes, over the %zu bytes the "
				"broker carries (%s)", len, hub->link.max_message,
				hub->link.max_message_setting ? hub->link.max_message_setting : "realtime.broker");
		goto refused;
	}
	return 0;
refused:
	atomic_fetch_add_explicit(&hub->stat_broker_refused, 1, memory_order_relaxed);
	rt_log_limited(&refused_log, RT_LOG_WARNING, "HTTP API message refused (413): %s", err);
	return -EMSGSIZE;
}

void rt_hub_count_lost(rt_hub *hub, uint64_t bytes)
{
	atomic_fetch_add_explicit(&hub->stat_broker_lost, bytes, memory_order_relaxed);
}

void rt_hub_stats_get(const rt_hub *hub, rt_hub_stats *out)
{
	rt_hub *h = (rt_hub *) hub;

	out->connections = atomic_load_explicit(&h->net.stat_connections, memory_order_relaxed);
	out->channels = atomic_load_explicit(&h->stat_channels, memory_order_relaxed);
	out->messages_published = atomic_load_explicit(&h->stat_published, memory_order_relaxed);
	out->frames_delivered = atomic_load_explicit(&h->net.stat_delivered, memory_order_relaxed);
	out->slow_consumers = atomic_load_explicit(&h->net.stat_slow, memory_order_relaxed);
	for (int k = 0; k < RT_REFUSE_COUNT; k++) {
		out->refused[k] = atomic_load_explicit(&h->net.stat_refused[k], memory_order_relaxed);
	}
	out->dropped_broker_refused = atomic_load_explicit(&h->stat_broker_refused, memory_order_relaxed);
	out->dropped_queue_full = atomic_load_explicit(&h->stat_queue_full, memory_order_relaxed);
	out->unauthorized = atomic_load_explicit(&h->net.stat_unauthorized, memory_order_relaxed);
	out->broker_lost_bytes = atomic_load_explicit(&h->stat_broker_lost, memory_order_relaxed);
	out->closed_for_restart = atomic_load_explicit(&h->stat_closed_restart, memory_order_relaxed);
	out->handed_off = atomic_load_explicit(&h->stat_handed_off, memory_order_relaxed);
	out->taken_over = atomic_load_explicit(&h->stat_taken_over, memory_order_relaxed);
	out->handoff_closed = atomic_load_explicit(&h->stat_handoff_closed, memory_order_relaxed);
	out->sse_connections = atomic_load_explicit(&h->stat_sse, memory_order_relaxed);
	out->sse_bad_last_event_id = atomic_load_explicit(&h->stat_sse_bad_id, memory_order_relaxed);
	out->longpoll_sessions = atomic_load_explicit(&h->stat_lp_sessions, memory_order_relaxed);
	out->longpoll_dropped = atomic_load_explicit(&h->stat_lp_dropped, memory_order_relaxed);
	out->node_id = hub->node_id;
	out->pid = (int) getpid();
}

const rt_config *rt_hub_config(const rt_hub *hub)
{
	return &hub->cfg;
}
