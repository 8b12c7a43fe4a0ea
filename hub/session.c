#include "hub/session.h"
#include "hub/identity.h"
#include "hub/native.h"
#include "hub/presence.h"
#include "hub/webhook.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void rt__update_channel_stat(rt_hub *hub)
{
	atomic_store_explicit(&hub->stat_channels, rt_registry_count(&hub->registry),
			memory_order_relaxed);
}

int rt_session_join(rt_conn *conn, const char *name, size_t len, const rt_identity *member,
		int authorized, rt_sub **out)
{
	rt_hub *hub = conn->hub;
	int presence = rt_channel_is_presence(name, len);
	rt_member *m;
	rt_channel *ch;
	rt_sub *sub;
	int joined;

	if ((*out = rt_conn_find_sub(conn, name, len)) != NULL) {
		return RT_JOIN_ALREADY;
	}
	if (member == NULL) {
		member = conn->identity;
	}
	if (!authorized && !rt_identity_may_join(conn->identity, name, len)) {
		return RT_JOIN_FORBIDDEN;
	}
	if (presence && member == NULL) {
		return RT_JOIN_FORBIDDEN;
	}
	if (conn->sub_count >= hub->cfg.max_subscriptions) {
		return RT_JOIN_LIMIT;
	}
	if (rt_registry_subscribe(&hub->registry, conn, name, len, &sub) != 0) {
		return RT_JOIN_NOMEM;
	}
	ch = sub->channel;
	if (rt_conn_add_sub(conn, sub) != 0
			|| (presence && (sub->member = rt_identity_dup_user(member)) == NULL)
			|| (presence && ch->presence == NULL && (ch->presence = rt_presence_new()) == NULL)) {
		rt_conn_remove_sub(conn, sub);
		rt_registry_unsubscribe(&hub->registry, sub);
		rt__update_channel_stat(hub);
		return RT_JOIN_NOMEM;
	}
	rt__update_channel_stat(hub);
	*out = sub;
	if (!presence) {
		return RT_JOIN_OK;
	}
	joined = rt_presence_add(ch->presence, sub->member, &m);
	if (joined < 0) {
		rt_identity_free(sub->member);
		sub->member = NULL;
		rt_session_leave(conn, sub);
		return RT_JOIN_NOMEM;
	}
	if (joined) {
		rt_hub__member_added(hub, ch, m, conn);
		rt_webhooks_event(hub->webhooks, RT_WEBHOOK_MEMBER_ADDED, ch->name, ch->name_len,
				m->id, m->id_len);
	}
	return RT_JOIN_OK;
}

void rt_session_leave(rt_conn *conn, rt_sub *sub)
{
	rt_hub *hub = conn->hub;
	rt_channel *ch = sub->channel;
	const rt_identity *id = sub->member;

	rt_conn_remove_sub(conn, sub);
	/* Announce while the channel still exists: unsubscribing its last
	 * subscriber frees it. */
	if (ch->presence != NULL && id != NULL
			&& rt_presence_remove(ch->presence, id->user_id, id->user_id_len)) {
		rt_hub__member_removed(hub, ch, id->user_id, id->user_id_len, conn);
		rt_webhooks_event(hub->webhooks, RT_WEBHOOK_MEMBER_REMOVED, ch->name, ch->name_len,
				id->user_id, id->user_id_len);
	}
	rt_registry_unsubscribe(&hub->registry, sub);
	rt__update_channel_stat(hub);
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
		rt_map_remove(&conn->hub->users, user->id, user->id_len);
		free(user->conns);
		free(user);
	}
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
