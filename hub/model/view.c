#include "hub/model/view.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Sets origin's count; returns the total before. */
static int rt__vcounts_set(rt_vcounts *c, uint32_t origin, uint32_t count, uint64_t *before)
{
	uint32_t i;

	*before = c->total;
	for (i = 0; i < c->n && c->v[i].origin != origin; i++) {
	}
	if (i == c->n) {
		if (count == 0) {
			return 0;
		}
		if (c->n == c->cap) {
			uint32_t cap = c->cap ? c->cap * 2 : 2;
			rt_vcount *v = realloc(c->v, cap * sizeof(*v));
			if (v == NULL) {
				return -ENOMEM;
			}
			c->v = v;
			c->cap = cap;
		}
		c->v[c->n].origin = origin;
		c->v[c->n].count = 0;
		c->n++;
	}
	c->total = c->total - c->v[i].count + count;
	c->v[i].count = count;
	c->v[i].stale = 0;
	if (count == 0) {
		c->v[i] = c->v[--c->n];
	}
	return 0;
}

static void rt__vcounts_free(rt_vcounts *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static void rt__vmember_free(rt_vmember *m)
{
	rt__vcounts_free(&m->origins);
	if (m->member != NULL) {
		free(m->member->info);
		free(m->member);
	}
	free(m);
}

static void rt__vchannel_free(rt_vchannel *ch)
{
	size_t it = 0;
	void *m;

	while (rt_map_next(&ch->members, &it, &m)) {
		rt__vmember_free(m);
	}
	rt_map_free(&ch->members);
	rt__vcounts_free(&ch->subs);
	free(ch);
}

void rt_view_init(rt_view *v, const rt_view_events *ev)
{
	rt_map_init(&v->channels);
	v->ev = *ev;
}

void rt_view_free(rt_view *v)
{
	size_t it = 0;
	void *ch;

	while (rt_map_next(&v->channels, &it, &ch)) {
		rt__vchannel_free(ch);
	}
	rt_map_free(&v->channels);
}

static rt_vchannel *rt__channel(rt_view *v, const char *name, size_t len, int create)
{
	rt_vchannel *ch = rt_map_get(&v->channels, name, len);

	if (ch != NULL || !create) {
		return ch;
	}
	ch = calloc(1, sizeof(*ch) + len + 1);
	if (ch == NULL) {
		return NULL;
	}
	memcpy(ch->name, name, len);
	ch->name_len = len;
	rt_map_init(&ch->members);
	if (rt_map_put(&v->channels, ch->name, len, ch) != 0) {
		free(ch);
		return NULL;
	}
	return ch;
}

/* A channel with no subscribers and no members left is forgotten. */
static void rt__maybe_forget(rt_view *v, rt_vchannel *ch)
{
	if (ch->subs.total == 0 && ch->members.count == 0) {
		rt_map_remove(&v->channels, ch->name, ch->name_len);
		rt__vchannel_free(ch);
	}
}

int rt_view_set_subscribers(rt_view *v, uint32_t origin, const char *name, size_t len,
		uint32_t count)
{
	rt_vchannel *ch = rt__channel(v, name, len, count > 0);
	uint64_t before;

	if (ch == NULL) {
		return count > 0 ? -ENOMEM : 0;
	}
	if (rt__vcounts_set(&ch->subs, origin, count, &before) != 0) {
		return -ENOMEM;
	}
	if (before == 0 && ch->subs.total > 0 && v->ev.occupied) {
		v->ev.occupied(v->ev.ctx, ch, origin);
	} else if (before > 0 && ch->subs.total == 0 && v->ev.vacated) {
		v->ev.vacated(v->ev.ctx, ch, origin);
	}
	rt__maybe_forget(v, ch);
	return 0;
}

static rt_vmember *rt__member_new(const char *user, size_t user_len, const char *info,
		size_t info_len)
{
	rt_vmember *vm = calloc(1, sizeof(*vm));
	rt_member *m = calloc(1, sizeof(*m) + user_len + 1);

	if (vm == NULL || m == NULL) {
		free(vm);
		free(m);
		return NULL;
	}
	memcpy(m->id, user, user_len);
	m->id_len = user_len;
	if (info != NULL) {
		m->info = strndup(info, info_len);
		m->info_len = info_len;
		if (m->info == NULL) {
			free(m);
			free(vm);
			return NULL;
		}
	}
	vm->member = m;
	return vm;
}

int rt_view_set_member(rt_view *v, uint32_t origin, const char *name, size_t len,
		const char *user, size_t user_len, const char *info, size_t info_len, uint32_t count)
{
	rt_vchannel *ch = rt__channel(v, name, len, count > 0);
	rt_vmember *vm;
	uint64_t before;

	if (ch == NULL) {
		return count > 0 ? -ENOMEM : 0;
	}
	vm = rt_map_get(&ch->members, user, user_len);
	if (vm == NULL) {
		if (count == 0) {
			return 0;
		}
		vm = rt__member_new(user, user_len, info, info_len);
		if (vm == NULL || rt_map_put(&ch->members, vm->member->id, user_len, vm) != 0) {
			if (vm) {
				rt__vmember_free(vm);
			}
			rt__maybe_forget(v, ch);
			return -ENOMEM;
		}
	}
	if (rt__vcounts_set(&vm->origins, origin, count, &before) != 0) {
		return -ENOMEM;
	}
	vm->member->conns = (uint32_t) vm->origins.total;
	if (before == 0 && vm->origins.total > 0) {
		if (v->ev.member_added) {
			v->ev.member_added(v->ev.ctx, ch, vm->member, origin);
		}
	} else if (before > 0 && vm->origins.total == 0) {
		rt_map_remove(&ch->members, vm->member->id, vm->member->id_len);
		if (v->ev.member_removed) {
			v->ev.member_removed(v->ev.ctx, ch, vm->member, origin);
		}
		rt__vmember_free(vm);
	}
	rt__maybe_forget(v, ch);
	return 0;
}

static int rt__vcounts_mark(rt_vcounts *c, uint32_t origin, int mark)
{
	for (uint32_t i = 0; i < c->n; i++) {
		if (c->v[i].origin == origin) {
			if (mark) {
				c->v[i].stale = 1;
			}
			return c->v[i].stale;
		}
	}
	return 0;
}

void rt_view_mark_origin(rt_view *v, uint32_t origin)
{
	size_t it = 0;
	void *p;

	while (rt_map_next(&v->channels, &it, &p)) {
		rt_vchannel *ch = p;
		size_t mit = 0;
		void *m;
		rt__vcounts_mark(&ch->subs, origin, 1);
		while (rt_map_next(&ch->members, &mit, &m)) {
			rt__vcounts_mark(&((rt_vmember *) m)->origins, origin, 1);
		}
	}
}

static void rt__drop(rt_view *v, uint32_t origin, int stale_only);

void rt_view_sweep_origin(rt_view *v, uint32_t origin)
{
	rt__drop(v, origin, 1);
}

void rt_view_drop_origin(rt_view *v, uint32_t origin)
{
	rt__drop(v, origin, 0);
}

/* Sets origin's counts to 0 everywhere (stale_only: where still marked). */
static void rt__drop(rt_view *v, uint32_t origin, int stale_only)
{
	size_t it = 0;
	void *p;
	/* Collect names first: a transition may forget the channel being walked. */
	size_t n = v->channels.count, k = 0;
	char **names = calloc(n ? n : 1, sizeof(char *));
	size_t *lens = calloc(n ? n : 1, sizeof(size_t));

	if (names == NULL || lens == NULL) {
		free(names);
		free(lens);
		return;
	}
	while (rt_map_next(&v->channels, &it, &p) && k < n) {
		rt_vchannel *ch = p;
		names[k] = strndup(ch->name, ch->name_len);
		lens[k] = ch->name_len;
		if (names[k] != NULL) {
			k++;
		}
	}
	for (size_t i = 0; i < k; i++) {
		rt_vchannel *ch = rt_map_get(&v->channels, names[i], lens[i]);
		size_t mit = 0, users = ch ? ch->members.count : 0, u = 0;
		char **ids = calloc(users ? users : 1, sizeof(char *));
		size_t *id_lens = calloc(users ? users : 1, sizeof(size_t));
		void *m;

		while (ch != NULL && ids != NULL && id_lens != NULL
				&& rt_map_next(&ch->members, &mit, &m) && u < users) {
			rt_vmember *vm = m;
			if (stale_only && !rt__vcounts_mark(&vm->origins, origin, 0)) {
				continue;
			}
			ids[u] = strndup(vm->member->id, vm->member->id_len);
			id_lens[u] = vm->member->id_len;
			if (ids[u] != NULL) {
				u++;
			}
		}
		for (size_t j = 0; j < u; j++) {
			rt_view_set_member(v, origin, names[i], lens[i], ids[j], id_lens[j], NULL, 0, 0);
			free(ids[j]);
		}
		free(ids);
		free(id_lens);
		ch = rt_map_get(&v->channels, names[i], lens[i]);
		if (ch != NULL && (!stale_only || rt__vcounts_mark(&ch->subs, origin, 0))) {
			rt_view_set_subscribers(v, origin, names[i], lens[i], 0);
		}
		free(names[i]);
	}
	free(names);
	free(lens);
}

const rt_vchannel *rt_view_channel(const rt_view *v, const char *name, size_t len)
{
	return rt_map_get(&v->channels, name, len);
}

int rt_view_has_member(const rt_view *v, const char *channel, size_t len, const char *user,
		size_t user_len)
{
	const rt_vchannel *ch = rt_view_channel(v, channel, len);
	return ch != NULL && rt_map_get(&ch->members, user, user_len) != NULL;
}

void rt_view_members_json(const rt_view *v, const char *channel, size_t len, rt_sb *out)
{
	const rt_vchannel *ch = rt_view_channel(v, channel, len);
	size_t it = 0;
	void *m;
	int first = 1;

	rt_sb_puts(out, "[");
	while (ch != NULL && rt_map_next(&ch->members, &it, &m)) {
		if (!first) {
			rt_sb_puts(out, ",");
		}
		first = 0;
		rt_member_json(((rt_vmember *) m)->member, out);
	}
	rt_sb_puts(out, "]");
}

