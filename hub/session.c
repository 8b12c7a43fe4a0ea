#include "hub/session.h"
#include "hub/identity.h"
#include "hub/limits.h"
#include "hub/log.h"
#include "hub/native.h"
#include "hub/presence.h"
#include "hub/proto.h"
#include "hub/view.h"
#include "hub/webhook.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void rt__update_channel_stat(rt_hub *hub)
{
	atomic_store_explicit(&hub->stat_channels, rt_registry_count(&hub->registry),
			memory_order_relaxed);
}

/* The other hubs' view of this one is wrong until the next whole report
 * (after a broker outage): say so, since nothing else will. */
static void rt__report_lost(const char *channel, size_t len)
{
	static rt_log_limit lost_log; /* clients' joins and leaves can repeat it */

	if (channel == NULL) {
		rt_log_limited(&lost_log, RT_LOG_ERROR, "state report marker dropped: out of memory");
	} else {
		rt_log_limited(&lost_log, RT_LOG_ERROR, "state report of channel \"%.*s\" dropped: "
				"out of memory", (int) (len > 200 ? 200 : len), channel);
	}
}

/* Tells every hub of the app, this one included, how many connections
 * this hub has: on a channel, or of one user on a channel (user NULL: the
 * channel's subscribers; channel "": open connections). */
static void rt__report(rt_hub *hub, const char *channel, size_t len, const rt_identity *user,
		uint32_t count)
{
	rt_msg_fields f = {0};
	rt_str ch = {channel, len};
	rt_msg *msg;

	f.channels = &ch;
	f.channel_count = 1;
	f.origin = hub->node_id;
	f.count = count;
	if (user != NULL) {
		f.target.ptr = user->user_id;
		f.target.len = user->user_id_len;
		f.data.ptr = user->user_info;
		f.data.len = user->user_info_len;
	}
	msg = rt_msg_new(RT_MSG_STATE, &f);
	if (msg == NULL) {
		rt__report_lost(channel, len);
		return;
	}
	rt_hub__publish(hub, msg);
}

void rt_session_report_connections(rt_hub *hub)
{
	rt__report(hub, "", 0, NULL,
			(uint32_t) atomic_load_explicit(&hub->stat_connections, memory_order_relaxed));
}

static void rt__report_marker(rt_hub *hub, rt_msg_type type)
{
	rt_msg_fields f = {0};
	rt_msg *msg;

	f.origin = hub->node_id;
	msg = rt_msg_new(type, &f);
	if (msg == NULL) {
		rt__report_lost(NULL, 0);
		return;
	}
	rt_hub__publish(hub, msg);
}

void rt_session_report_all(rt_hub *hub)
{
	size_t it = 0;
	void *v;

	/* A whole report, between markers: what it leaves out (gone while
	 * messages were lost) is dropped by every hub at the end marker. */
	rt__report_marker(hub, RT_MSG_STATE_BEGIN);
	rt_session_report_connections(hub);
	while (rt_map_next(&hub->registry.channels, &it, &v)) {
		rt_channel *ch = v;
		size_t mit = 0;
		void *m;
		rt__report(hub, ch->name, ch->name_len, NULL, ch->count);
		while (ch->presence != NULL && rt_map_next(&ch->presence->members, &mit, &m)) {
			rt_member *member = m;
			rt_identity id = {0};
			id.user_id = member->id;
			id.user_id_len = member->id_len;
			id.user_info = member->info;
			id.user_info_len = member->info_len;
			rt__report(hub, ch->name, ch->name_len, &id, member->conns);
		}
	}
	rt__report_marker(hub, RT_MSG_STATE_END);
}

int rt_session_join(rt_conn *conn, const char *name, size_t len, const rt_identity *member,
		int authorized, rt_sub **out)
{
	rt_hub *hub = conn->hub;
	rt_member *m = NULL;
	rt_channel *ch;
	rt_sub *sub;

	if ((*out = rt_conn_find_sub(conn, name, len)) != NULL) {
		return RT_JOIN_ALREADY;
	}
	if (member == NULL) {
		member = conn->identity;
	}
	if (!authorized && !rt_identity_may_join(conn->identity, name, len)) {
		return RT_JOIN_FORBIDDEN;
	}
	if (rt_channel_is_presence(name, len) && member == NULL) {
		return RT_JOIN_FORBIDDEN;
	}
	if (conn->sub_count >= hub->cfg.max_subscriptions) {
		rt_limits_refuse(hub, RT_REFUSE_SUBSCRIPTIONS, "refused a subscription of connection "
				"%s: it is on %u channels (realtime.max_subscriptions)", conn->id,
				conn->sub_count);
		return RT_JOIN_LIMIT;
	}
	ch = rt_registry_find(&hub->registry, name, len);
	if (ch == NULL && rt_registry_count(&hub->registry) >= hub->cfg.max_channels) {
		rt_limits_refuse(hub, RT_REFUSE_CHANNELS, "refused a subscription of connection %s: "
				"the hub has %zu channels (realtime.max_channels)", conn->id,
				rt_registry_count(&hub->registry));
		return RT_JOIN_CHANNELS;
	}
	if (ch != NULL && member != NULL && ch->presence != NULL && rt_channel_is_presence(name, len)
			&& ch->presence->members.count >= hub->cfg.max_presence_members
			&& rt_map_get(&ch->presence->members, member->user_id, member->user_id_len) == NULL) {
		rt_limits_refuse(hub, RT_REFUSE_PRESENCE_MEMBERS, "refused a subscription of "
				"connection %s: the channel has %zu members on this hub "
				"(realtime.max_presence_members)", conn->id, ch->presence->members.count);
		return RT_JOIN_MEMBERS;
	}
	if (rt_registry_subscribe(&hub->registry, conn, name, len, &sub) != 0) {
		return RT_JOIN_NOMEM;
	}
	ch = sub->channel;
	/* Users are counted on every channel (Realtime\getChannelUsers());
	 * only presence channels announce them. */
	if (rt_conn_add_sub(conn, sub) != 0
			|| (member && (sub->member = rt_identity_dup_user(member)) == NULL)
			|| (member && ch->presence == NULL && (ch->presence = rt_presence_new()) == NULL)
			|| (member && rt_presence_add(ch->presence, sub->member, &m) < 0)) {
		rt_conn_remove_sub(conn, sub);
		rt_registry_unsubscribe(&hub->registry, sub);
		rt__update_channel_stat(hub);
		return RT_JOIN_NOMEM;
	}
	rt__update_channel_stat(hub);
	*out = sub;
	rt__report(hub, name, len, NULL, ch->count);
	if (m != NULL) {
		rt__report(hub, name, len, sub->member, m->conns);
	}
	return RT_JOIN_OK;
}

void rt_session_leave(rt_conn *conn, rt_sub *sub)
{
	rt_hub *hub = conn->hub;
	rt_channel *ch = sub->channel;
	const rt_identity *id = sub->member;

	rt_conn_remove_sub(conn, sub);
	/* Report while the channel still exists: unsubscribing its last
	 * subscriber frees it. */
	if (ch->presence != NULL && id != NULL) {
		rt_member *m = rt_map_get(&ch->presence->members, id->user_id, id->user_id_len);
		uint32_t left = (m && m->conns > 0) ? m->conns - 1 : 0;
		rt__report(hub, ch->name, ch->name_len, id, left);
		rt_presence_remove(ch->presence, id->user_id, id->user_id_len);
	}
	rt__report(hub, ch->name, ch->name_len, NULL, ch->count - 1);
	rt_registry_unsubscribe(&hub->registry, sub);
	rt__update_channel_stat(hub);
}

void rt_session_members_json(rt_conn *conn, const rt_sub *sub, rt_sb *out)
{
	rt_hub *hub = conn->hub;
	const rt_channel *ch = sub->channel;
	const rt_identity *me = sub->member;

	/* Through a broker the view learns of this join a moment later. */
	if (me != NULL && !rt_view_has_member(&hub->view, ch->name, ch->name_len, me->user_id,
			me->user_id_len)) {
		size_t mark = out->len;
		rt_view_members_json(&hub->view, ch->name, ch->name_len, out);
		out->len--; /* reopen the list */
		if (out->len > mark + 1) {
			rt_sb_puts(out, ",");
		}
		rt_sb_puts(out, "{\"id\":");
		rt_sb_json_string(out, me->user_id, me->user_id_len);
		rt_sb_puts(out, ",\"info\":");
		rt_sb_puts(out, me->user_info ? me->user_info : "null");
		rt_sb_puts(out, "}]");
		return;
	}
	rt_view_members_json(&hub->view, ch->name, ch->name_len, out);
}

void rt_session_leave_all(rt_conn *conn)
{
	while (conn->sub_count > 0) {
		rt_session_leave(conn, conn->subs[conn->sub_count - 1]);
	}
}

rt_user *rt_session_find_user(rt_hub *hub, const char *id, size_t len)
{
	return rt_map_get(&hub->users, id, len);
}

int rt_session_user_attach(rt_conn *conn)
{
	rt_hub *hub = conn->hub;
	const rt_identity *id = conn->identity;
	rt_user *user;

	if (id == NULL) {
		return 0;
	}
	user = rt_session_find_user(hub, id->user_id, id->user_id_len);
	if (user == NULL) {
		user = calloc(1, sizeof(*user) + id->user_id_len + 1);
		if (user == NULL) {
			return -ENOMEM;
		}
		memcpy(user->id, id->user_id, id->user_id_len);
		user->id_len = id->user_id_len;
		if (rt_map_put(&hub->users, user->id, user->id_len, user) != 0) {
			free(user);
			return -ENOMEM;
		}
		rt_hub__user_interest(hub, user->id, user->id_len, 1);
	}
	if (user->count == user->cap) {
		uint32_t cap = user->cap ? user->cap * 2 : 2;
		rt_conn **conns = realloc(user->conns, cap * sizeof(*conns));
		if (conns == NULL) {
			if (user->count == 0) {
				rt_map_remove(&hub->users, user->id, user->id_len);
				free(user);
			}
			return -ENOMEM;
		}
		user->conns = conns;
		user->cap = cap;
	}
	user->conns[user->count++] = conn;
	conn->user = user;
	return 0;
}

void rt_session_user_detach(rt_conn *conn)
{
	rt_user *user = conn->user;

	if (user == NULL) {
		return;
	}
	for (uint32_t i = 0; i < user->count; i++) {
		if (user->conns[i] == conn) {
			user->conns[i] = user->conns[--user->count];
			break;
		}
	}
	conn->user = NULL;
	if (user->count == 0) {
		rt_hub__user_interest(conn->hub, user->id, user->id_len, 0);
		rt_map_remove(&conn->hub->users, user->id, user->id_len);
		free(user->conns);
		free(user);
	}
}

uint32_t rt_session_subscribe_burst(const rt_config *cfg)
{
	/* A client that reconnects may resubscribe to all its channels at once. */
	return cfg->max_subscriptions > cfg->subscribe_rate ? cfg->max_subscriptions
			: cfg->subscribe_rate;
}

int rt_session_take_subscribe_token(rt_conn *conn)
{
	rt_hub *hub = conn->hub;
	uint32_t burst = rt_session_subscribe_burst(&hub->cfg);
	uint32_t elapsed = hub->now - conn->sub_time;

	if (elapsed > 0) {
		uint64_t tokens = conn->sub_tokens + (uint64_t) elapsed * hub->cfg.subscribe_rate;
		conn->sub_tokens = (uint32_t) (tokens > burst ? burst : tokens);
		conn->sub_time = hub->now;
	}
	if (conn->sub_tokens == 0) {
		rt_limits_refuse(hub, RT_REFUSE_SUBSCRIBE_RATE, "refused a subscribe or unsubscribe "
				"of connection %s: over realtime.subscribe_rate (%u per second)", conn->id,
				hub->cfg.subscribe_rate);
		return 0;
	}
	conn->sub_tokens--;
	return 1;
}

int rt_session_take_event_token(rt_conn *conn)
{
	rt_hub *hub = conn->hub;
	uint32_t rate = hub->cfg.client_event_rate;
	uint32_t elapsed = hub->now - conn->bucket_time;

	if (elapsed > 0) {
		uint64_t tokens = conn->bucket_tokens + (uint64_t) elapsed * rate;
		conn->bucket_tokens = (uint16_t) (tokens > rate ? rate : tokens);
		conn->bucket_time = hub->now;
	}
	if (conn->bucket_tokens == 0) {
		return 0;
	}
	conn->bucket_tokens--;
	return 1;
}

void rt_session_open(rt_conn *conn)
{
	rt_hub *hub = conn->hub;

	rt_session_report_connections(hub);
	conn->bucket_tokens = (uint16_t) hub->cfg.client_event_rate;
	conn->bucket_time = hub->now;
	conn->sub_tokens = rt_session_subscribe_burst(&hub->cfg);
	conn->sub_time = hub->now;
	rt_proto(conn->proto)->on_open(conn);
}

void rt_session_close(rt_conn *conn)
{
	rt_session_leave_all(conn);
	rt_session_user_detach(conn);
}

int rt_session_serialize(const rt_conn *conn, rt_sb *out)
{
	rt_session_image img;
	int r;

	memset(&img, 0, sizeof(img));
	img.proto = conn->proto;
	img.id_len = conn->id_len;
	memcpy(img.id, conn->id, conn->id_len);
	img.identity = conn->identity;
	img.bucket_time = conn->bucket_time;
	img.bucket_tokens = conn->bucket_tokens;
	img.sub_time = conn->sub_time;
	img.sub_tokens = conn->sub_tokens;
	if (conn->sub_count > 0 && (img.subs = calloc(conn->sub_count, sizeof(*img.subs))) == NULL) {
		return -ENOMEM;
	}
	/* The image borrows the connection's strings: nothing is copied twice. */
	for (uint32_t i = 0; i < conn->sub_count; i++) {
		rt_channel *ch = conn->subs[i]->channel;
		img.subs[i].name = ch->name;
		img.subs[i].name_len = ch->name_len;
		img.subs[i].member = conn->subs[i]->member;
	}
	img.sub_count = conn->sub_count;
	r = rt_session_image_encode(&img, out);
	free(img.subs);
	return r;
}

void rt_session_limits_get(const rt_hub *hub, rt_session_limits *out)
{
	out->protocols = RT_PROTO_COUNT;
	out->max_subscriptions = hub->cfg.max_subscriptions;
	out->max_user_info = hub->cfg.max_user_info;
}
