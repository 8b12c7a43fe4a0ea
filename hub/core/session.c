#include "hub/core/session.h"
#include "hub/model/identity.h"
#include "hub/net/limits.h"
#include "hub/net/longpoll.h"
#include "hub/wire/http.h"
#include "hub/util/log.h"
#include "hub/model/presence.h"
#include "hub/model/view.h"

#include <errno.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>

static int rt__add_sub(rt_session *s, rt_sub *sub);
static void rt__remove_sub(rt_session *s, rt_sub *sub);

/* Counts the session as open, by protocol and transport (/metrics). */
static void rt__count_open(rt_session *s)
{
	/* RT_PROTO_* are these path numbers (hub/proto/proto.h, a layer above). */
	int kind = s->proto == RT_HTTP_WS_PUSHER ? RT_STAT_PUSHER_WS
			: s->proto == RT_HTTP_STREAM_MERCURE ? RT_STAT_MERCURE_SSE
			: s->proto != RT_HTTP_STREAM_SSE ? RT_STAT_NATIVE_WS
			: s->ops == &rt_longpoll_transport ? RT_STAT_NATIVE_LONGPOLL : RT_STAT_NATIVE_SSE;

	rt_stat_add(&s->hub->stat_sessions[kind], 1);
	s->stat_kind = (uint8_t) (kind + 1);
}

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
		uint32_t count, int moved)
{
	rt_msg_fields f = {0};
	rt_str ch = {channel, len};
	rt_msg *msg;

	f.channels = &ch;
	f.channel_count = 1;
	f.origin = hub->node_id;
	f.count = count;
	if (moved) {
		f.event.ptr = RT_STATE_MOVED;
		f.event.len = sizeof(RT_STATE_MOVED) - 1;
	}
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
	hub->hooks->publish(hub, msg);
}

void rt_session_report_connections(rt_hub *hub)
{
	rt__report(hub, "", 0, NULL,
			(uint32_t) atomic_load_explicit(&hub->net.stat_connections, memory_order_relaxed), 0);
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
	hub->hooks->publish(hub, msg);
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
		rt__report(hub, ch->name, ch->name_len, NULL, ch->count, 0);
		while (ch->presence != NULL && rt_map_next(&ch->presence->members, &mit, &m)) {
			rt_member *member = m;
			rt_identity id = {0};
			id.user_id = member->id;
			id.user_id_len = member->id_len;
			id.user_info = member->info;
			id.user_info_len = member->info_len;
			rt__report(hub, ch->name, ch->name_len, &id, member->conns, 0);
		}
	}
	rt__report_marker(hub, RT_MSG_STATE_END);
}

int rt_session_join(rt_session *s, const char *name, size_t len, const rt_identity *member,
		int authorized, rt_sub **out)
{
	rt_hub *hub = s->hub;
	rt_member *m = NULL;
	rt_channel *ch;
	rt_sub *sub;

	if ((*out = rt_session_find_sub(s, name, len)) != NULL) {
		return RT_JOIN_ALREADY;
	}
	if (member == NULL) {
		member = s->identity;
	}
	if (!authorized && !rt_identity_may_join(s->identity, name, len)) {
		return RT_JOIN_FORBIDDEN;
	}
	if (rt_channel_is_presence(name, len) && member == NULL) {
		return RT_JOIN_FORBIDDEN;
	}
	if (s->sub_count >= hub->cfg.max_subscriptions) {
		rt_limits_refuse(&hub->net, RT_REFUSE_SUBSCRIPTIONS, "refused a subscription of connection "
				"%s: it is on %u channels (realtime.max_subscriptions)", s->id,
				s->sub_count);
		return RT_JOIN_LIMIT;
	}
	ch = rt_registry_find(&hub->registry, name, len);
	if (ch == NULL && rt_registry_count(&hub->registry) >= hub->cfg.max_channels) {
		rt_limits_refuse(&hub->net, RT_REFUSE_CHANNELS, "refused a subscription of connection %s: "
				"the hub has %zu channels (realtime.max_channels)", s->id,
				rt_registry_count(&hub->registry));
		return RT_JOIN_CHANNELS;
	}
	if (ch != NULL && member != NULL && ch->presence != NULL && rt_channel_is_presence(name, len)
			&& ch->presence->members.count >= hub->cfg.max_presence_members
			&& rt_map_get(&ch->presence->members, member->user_id, member->user_id_len) == NULL) {
		rt_limits_refuse(&hub->net, RT_REFUSE_PRESENCE_MEMBERS, "refused a subscription of "
				"connection %s: the channel has %zu members on this hub "
				"(realtime.max_presence_members)", s->id, ch->presence->members.count);
		return RT_JOIN_MEMBERS;
	}
	if (rt_registry_subscribe(&hub->registry, s, name, len, &sub) != 0) {
		return RT_JOIN_NOMEM;
	}
	ch = sub->channel;
	/* Users are counted on every channel (Realtime\getChannelUsers());
	 * only presence channels announce them. */
	if (rt__add_sub(s, sub) != 0
			|| (member && (sub->member = rt_identity_dup_user(member)) == NULL)
			|| (member && ch->presence == NULL && (ch->presence = rt_presence_new()) == NULL)
			|| (member && rt_presence_add(ch->presence, sub->member, &m) < 0)) {
		rt__remove_sub(s, sub);
		rt_registry_unsubscribe(&hub->registry, sub);
		rt__update_channel_stat(hub);
		return RT_JOIN_NOMEM;
	}
	rt__update_channel_stat(hub);
	*out = sub;
	rt__report(hub, name, len, NULL, ch->count, s->moved_in == RT_SESSION_RESTORING);
	if (m != NULL) {
		rt__report(hub, name, len, sub->member, m->conns, s->moved_in == RT_SESSION_RESTORING);
	}
	return RT_JOIN_OK;
}

void rt_session_leave(rt_session *s, rt_sub *sub)
{
	rt_hub *hub = s->hub;
	rt_channel *ch = sub->channel;
	const rt_identity *id = sub->member;

	rt__remove_sub(s, sub);
	/* Report while the channel still exists: unsubscribing its last
	 * subscriber frees it. */
	if (ch->presence != NULL && id != NULL) {
		rt_member *m = rt_map_get(&ch->presence->members, id->user_id, id->user_id_len);
		uint32_t left = (m && m->conns > 0) ? m->conns - 1 : 0;
		rt__report(hub, ch->name, ch->name_len, id, left, 0);
		rt_presence_remove(ch->presence, id->user_id, id->user_id_len);
	}
	rt__report(hub, ch->name, ch->name_len, NULL, ch->count - 1, 0);
	rt_registry_unsubscribe(&hub->registry, sub);
	rt__update_channel_stat(hub);
}

void rt_session_members_json(rt_session *s, const rt_sub *sub, rt_sb *out)
{
	rt_hub *hub = s->hub;
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

/* ---- the session itself ---- */

static int rt__add_sub(rt_session *s, rt_sub *sub)
{
	if (s->sub_count == s->sub_cap) {
		uint32_t cap = s->sub_cap ? s->sub_cap * 2 : 4;
		rt_sub **subs = realloc(s->subs, cap * sizeof(*subs));
		if (subs == NULL) {
			return -ENOMEM;
		}
		s->subs = subs;
		s->sub_cap = cap;
	}
	s->subs[s->sub_count++] = sub;
	rt_stat_add(&s->hub->stat_subscriptions, 1);
	return 0;
}

static void rt__remove_sub(rt_session *s, rt_sub *sub)
{
	for (uint32_t i = 0; i < s->sub_count; i++) {
		if (s->subs[i] == sub) {
			s->subs[i] = s->subs[--s->sub_count];
			rt_stat_add(&s->hub->stat_subscriptions, (uint64_t) -1);
			return;
		}
	}
}

rt_sub *rt_session_find_sub(const rt_session *s, const char *channel, size_t len)
{
	for (uint32_t i = 0; i < s->sub_count; i++) {
		const rt_channel *ch = s->subs[i]->channel;
		if (ch->name_len == len && memcmp(ch->name, channel, len) == 0) {
			return s->subs[i];
		}
	}
	return NULL;
}

rt_session *rt_session_find(rt_hub *hub, const char *id, size_t len)
{
	if (id == NULL) {
		return NULL;
	}
	return rt_map_get(&hub->sessions_by_id, id, len);
}

/* "<node>.<18 random digits>": a connection id lets its holder exclude
 * it from a broadcast or message it directly (Pusher's socket_id), so it is
 * drawn from the kernel's generator, not counted. The shape (digits, dot,
 * digits) is what pusher-js checks. */
static int rt__new_id(rt_session *s)
{
	rt_hub *hub = s->hub;

	for (int tries = 0; tries < 8; tries++) {
		uint64_t r;
		int n;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t) sizeof(r)) {
			rt_log(RT_LOG_ERROR, "refused a connection: no random bytes for its id");
			return -EIO;
		}
		n = snprintf(s->id, sizeof(s->id), "%" PRIu32 ".%018" PRIu64,
				hub->node_id, (uint64_t) (r % UINT64_C(1000000000000000000)));
		s->id_len = (uint8_t) n;
		if (rt_map_get(&hub->sessions_by_id, s->id, s->id_len) == NULL) {
			return 0;
		}
	}
	return -EEXIST;
}

int rt_session_new(rt_hub *hub, const rt_transport_ops *ops, void *transport, int proto,
		const struct rt_proto_ops *protocol, rt_identity *identity, rt_session **out)
{
	rt_session *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL) {
		rt_identity_free(identity);
		return -ENOMEM;
	}
	s->hub = hub;
	s->cfg = &hub->cfg;
	s->view = &hub->view;
	s->ops = ops;
	s->transport = transport;
	s->proto = (uint8_t) proto;
	s->protocol = protocol;
	s->identity = identity;
	if (rt_session_user_attach(s) != 0) {
		rt_session_free(s);
		return -ENOMEM;
	}
	if (rt__new_id(s) != 0 || rt_map_put(&hub->sessions_by_id, s->id, s->id_len, s) != 0) {
		s->id_len = 0;
		rt_session_free(s);
		return -ENOMEM;
	}
	rt__count_open(s);
	*out = s;
	return 0;
}

void rt_session_open(rt_session *s)
{
	rt_hub *hub = s->hub;

	rt_session_report_connections(hub);
	s->bucket_tokens = (uint16_t) hub->cfg.client_event_rate;
	s->bucket_time = hub->net.now;
	s->sub_tokens = rt_session_subscribe_burst(&hub->cfg);
	s->sub_time = hub->net.now;
}

void rt_session_free(rt_session *s)
{
	if (s == NULL) {
		return;
	}
	rt_session_leave_all(s);
	if (s->proto_free != NULL) {
		s->proto_free(s);
	}
	if (s->stat_kind > 0) {
		rt_stat_add(&s->hub->stat_sessions[s->stat_kind - 1], (uint64_t) -1);
	}
	rt_session_user_detach(s);
	if (s->id_len) {
		rt_map_remove(&s->hub->sessions_by_id, s->id, s->id_len);
	}
	free(s->subs);
	rt_identity_free(s->identity);
	free(s);
}

void rt_session_leave_all(rt_session *s)
{
	while (s->sub_count > 0) {
		rt_session_leave(s, s->subs[s->sub_count - 1]);
	}
}

rt_user *rt_session_find_user(rt_hub *hub, const char *id, size_t len)
{
	return rt_map_get(&hub->users, id, len);
}

int rt_session_user_attach(rt_session *s)
{
	rt_hub *hub = s->hub;
	const rt_identity *id = s->identity;
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
		hub->hooks->user_interest(hub, user->id, user->id_len, 1);
	}
	if (user->count == user->cap) {
		uint32_t cap = user->cap ? user->cap * 2 : 2;
		rt_session **sessions = realloc(user->sessions, cap * sizeof(*sessions));
		if (sessions == NULL) {
			if (user->count == 0) {
				rt_map_remove(&hub->users, user->id, user->id_len);
				free(user);
			}
			return -ENOMEM;
		}
		user->sessions = sessions;
		user->cap = cap;
	}
	user->sessions[user->count++] = s;
	s->user = user;
	return 0;
}

void rt_session_user_detach(rt_session *s)
{
	rt_user *user = s->user;

	if (user == NULL) {
		return;
	}
	for (uint32_t i = 0; i < user->count; i++) {
		if (user->sessions[i] == s) {
			user->sessions[i] = user->sessions[--user->count];
			break;
		}
	}
	s->user = NULL;
	if (user->count == 0) {
		s->hub->hooks->user_interest(s->hub, user->id, user->id_len, 0);
		rt_map_remove(&s->hub->users, user->id, user->id_len);
		free(user->sessions);
		free(user);
	}
}

uint32_t rt_session_subscribe_burst(const rt_config *cfg)
{
	/* A client that reconnects may resubscribe to all its channels at once. */
	return cfg->max_subscriptions > cfg->subscribe_rate ? cfg->max_subscriptions
			: cfg->subscribe_rate;
}

void rt_session_history(rt_session *s, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, void (*done)(void *arg, const rt_hub_history *res), void *arg)
{
	rt_hub *hub = s->hub;
	rt_hub_history none = {0};

	if (hub != NULL && hub->has_link && hub->link.history != NULL) {
		hub->link.history(hub->link.ctx, channel, len, since, limit, done, arg);
		return;
	}
	none.status = -ENOENT;
	done(arg, &none);
}

void rt_session_hold(rt_sub *sub)
{
	sub->holding = 1;
}

uint32_t rt_session_held_dropped(const rt_sub *sub)
{
	return sub->hold != NULL ? sub->hold->dropped : 0;
}

void rt_session_unhold(rt_session *s, rt_sub *sub, void (*sent)(rt_session *s))
{
	rt_sub_hold *h = rt_registry_hold_end(sub);

	for (uint32_t i = 0; h != NULL && i < h->count; i++) {
		const rt_sub_held *it = &h->items[i];
		if (sub->hist_epoch == it->epoch && it->offset <= sub->hist_offset) {
			continue;
		}
		sub->hist_epoch = it->epoch;
		sub->hist_offset = it->offset;
		rt_session_send(s, it->frame);
		if (sent != NULL) {
			sent(s);
		}
	}
	rt_registry_hold_free(h);
}

int rt_session_take_subscribe_token(rt_session *s)
{
	rt_hub *hub = s->hub;
	uint32_t burst = rt_session_subscribe_burst(&hub->cfg);
	uint32_t elapsed = hub->net.now - s->sub_time;

	if (elapsed > 0) {
		uint64_t tokens = s->sub_tokens + (uint64_t) elapsed * hub->cfg.subscribe_rate;
		s->sub_tokens = (uint32_t) (tokens > burst ? burst : tokens);
		s->sub_time = hub->net.now;
	}
	if (s->sub_tokens == 0) {
		rt_limits_refuse(&hub->net, RT_REFUSE_SUBSCRIBE_RATE, "refused a subscribe or unsubscribe "
				"of connection %s: over realtime.subscribe_rate (%u per second)", s->id,
				hub->cfg.subscribe_rate);
		return 0;
	}
	s->sub_tokens--;
	return 1;
}

int rt_session_take_event_token(rt_session *s)
{
	rt_hub *hub = s->hub;
	uint32_t rate = hub->cfg.client_event_rate;
	uint32_t elapsed = hub->net.now - s->bucket_time;

	if (elapsed > 0) {
		uint64_t tokens = s->bucket_tokens + (uint64_t) elapsed * rate;
		s->bucket_tokens = (uint16_t) (tokens > rate ? rate : tokens);
		s->bucket_time = hub->net.now;
	}
	if (s->bucket_tokens == 0) {
		return 0;
	}
	s->bucket_tokens--;
	return 1;
}

int rt_session_serialize(const rt_session *s, rt_sb *out)
{
	rt_session_image img;
	int r;

	memset(&img, 0, sizeof(img));
	img.proto = s->proto;
	img.id_len = s->id_len;
	memcpy(img.id, s->id, s->id_len);
	img.identity = s->identity;
	img.bucket_age = s->hub->net.now - s->bucket_time;
	img.bucket_tokens = s->bucket_tokens;
	img.sub_age = s->hub->net.now - s->sub_time;
	img.sub_tokens = s->sub_tokens;
	if (s->sub_count > 0 && (img.subs = calloc(s->sub_count, sizeof(*img.subs))) == NULL) {
		return -ENOMEM;
	}
	/* The image borrows the session's strings: nothing is copied twice. */
	for (uint32_t i = 0; i < s->sub_count; i++) {
		rt_channel *ch = s->subs[i]->channel;
		img.subs[i].name = ch->name;
		img.subs[i].name_len = ch->name_len;
		img.subs[i].member = s->subs[i]->member;
	}
	img.sub_count = s->sub_count;
	r = rt_session_image_encode(&img, out);
	free(img.subs);
	return r;
}

void rt_session_limits_get(const rt_hub *hub, uint8_t protocols, rt_session_limits *out)
{
	out->protocols = protocols;
	out->max_subscriptions = hub->cfg.max_subscriptions;
	out->max_user_info = hub->cfg.max_user_info;
	out->event_burst = hub->cfg.client_event_rate;
	out->subscribe_burst = rt_session_subscribe_burst(&hub->cfg);
}

void rt_session_send_sb(rt_session *s, rt_sb *sb)
{
	if (sb->failed) {
		rt_session_abort(s);
	} else {
		rt_session_send_text(s, sb->data, sb->len);
	}
	rt_sb_free(sb);
}

int rt_session_client_event(rt_session *s, const char *channel, size_t len, int channel_ok,
		int name_ok, rt_str event, const json_t *data)
{
	rt_str name = {channel, len};
	rt_msg_fields f = {0};
	rt_msg *msg;
	rt_sub *sub;
	char *text;

	if (!s->hub->cfg.client_events) {
		return RT_CLIENT_EVENT_OFF;
	}
	if (channel == NULL) {
		return RT_CLIENT_EVENT_NO_CHANNEL;
	}
	if (!rt_channel_is_private(channel, len)) {
		return RT_CLIENT_EVENT_PUBLIC;
	}
	if (!channel_ok) {
		return RT_CLIENT_EVENT_CHANNEL;
	}
	sub = rt_session_find_sub(s, channel, len);
	if (sub == NULL) {
		return RT_CLIENT_EVENT_NOT_SUBSCRIBED;
	}
	if (!name_ok) {
		return RT_CLIENT_EVENT_NAME;
	}
	if (!rt_session_take_event_token(s)) {
		return RT_CLIENT_EVENT_RATE;
	}
	text = json_dumps(data != NULL ? data : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	if (text == NULL) {
		return RT_CLIENT_EVENT_NOMEM;
	}
	/* Through the broker like any message, so the channel's subscribers on
	 * every hub get it, once, each protocol framing it its own way
	 * (rt_proto_ops.frame_whisper). */
	f.channels = &name;
	f.channel_count = 1;
	f.event = event;
	f.data.ptr = text;
	f.data.len = strlen(text);
	f.exclude.ptr = s->id;           /* the sender */
	f.exclude.len = s->id_len;
	/* Who it counts as on the channel: its identity's user, or on Pusher
	 * the member its signed subscription named. */
	if (sub->member != NULL) {
		f.target.ptr = sub->member->user_id;
		f.target.len = sub->member->user_id_len;
	} else if (s->identity != NULL) {
		f.target.ptr = s->identity->user_id;
		f.target.len = s->identity->user_id_len;
	}
	msg = rt_msg_new(RT_MSG_WHISPER, &f);
	free(text);
	if (msg == NULL) {
		return RT_CLIENT_EVENT_NOMEM;
	}
	rt_stat_add(&s->hub->stat_source[RT_STAT_SRC_CLIENT_EVENT], 1);
	s->hub->hooks->publish(s->hub, msg);
	return RT_CLIENT_EVENT_OK;
}

/* ---- handoff: a session moving between hubs ---- */

int rt_session_restore(rt_hub *hub, const rt_transport_ops *ops, void *transport,
		const struct rt_proto_ops *protocol, rt_session_image *img, rt_session **out)
{
	rt_session *s;

	*out = NULL;
	if (img->id_len == 0 || img->id_len >= sizeof(s->id)
			|| rt_map_get(&hub->sessions_by_id, img->id, img->id_len) != NULL) {
		return -EEXIST;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->hub = hub;
	s->cfg = &hub->cfg;
	s->view = &hub->view;
	s->ops = ops;
	s->transport = transport;
	s->proto = img->proto;
	s->protocol = protocol;
	s->identity = img->identity;      /* taken over */
	img->identity = NULL;
	memcpy(s->id, img->id, img->id_len);
	s->id_len = img->id_len;
	s->moved_in = RT_SESSION_RESTORING;
	if (rt_session_user_attach(s) != 0
			|| rt_map_put(&hub->sessions_by_id, s->id, s->id_len, s) != 0) {
		s->id_len = 0;
		rt_session_free(s);
		return -ENOMEM;
	}
	/* Joined as the client already was: the permission was checked where
	 * it joined; no reply goes to the client. The reports tell the other
	 * hubs this one now counts it, before its old hub says it left, so no
	 * hub sees it gone in between (no leave, no join, no webhook). */
	for (uint32_t i = 0; i < img->sub_count; i++) {
		rt_sub *sub;
		if (rt_session_join(s, img->subs[i].name, img->subs[i].name_len, img->subs[i].member,
				1, &sub) < 0) {
			rt_session_free(s);
			return -ENOSPC;
		}
	}
	s->moved_in = RT_SESSION_MOVED_IN;
	s->bucket_tokens = img->bucket_tokens;
	s->bucket_time = hub->net.now - (img->bucket_age < hub->net.now ? img->bucket_age : 0);
	s->sub_tokens = img->sub_tokens;
	s->sub_time = hub->net.now - (img->sub_age < hub->net.now ? img->sub_age : 0);
	rt__count_open(s);
	*out = s;
	return 0;
}

void rt_session_drop(rt_session *s)
{
	rt_hub *hub = s->hub;

	/* No report: the hub that took it has announced it already, and this
	 * hub's departure (RT_MSG_GONE) comes after. */
	while (s->sub_count > 0) {
		rt_sub *sub = s->subs[--s->sub_count];
		rt_channel *ch = sub->channel;
		if (ch->presence != NULL && sub->member != NULL) {
			rt_presence_remove(ch->presence, sub->member->user_id, sub->member->user_id_len);
		}
		rt_registry_unsubscribe(&hub->registry, sub);
	}
	rt__update_channel_stat(hub);
	rt_session_user_detach(s);
	if (s->id_len) {
		rt_map_remove(&hub->sessions_by_id, s->id, s->id_len);
	}
	free(s->subs);
	rt_identity_free(s->identity);
	free(s);
}
