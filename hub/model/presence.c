#include "hub/model/presence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

rt_presence *rt_presence_new(void)
{
	rt_presence *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		rt_map_init(&p->members);
	}
	return p;
}

static void rt__member_free(rt_member *m)
{
	free(m->info);
	free(m);
}

void rt_presence_free(rt_presence *p)
{
	size_t it = 0;
	void *v;

	if (p == NULL) {
		return;
	}
	while (rt_map_next(&p->members, &it, &v)) {
		rt__member_free(v);
	}
	rt_map_free(&p->members);
	free(p);
}

int rt_presence_add(rt_presence *p, const rt_identity *user, rt_member **out)
{
	rt_member *m = rt_map_get(&p->members, user->user_id, user->user_id_len);

	if (m != NULL) {
		m->conns++;
		*out = m;
		return 0;
	}
	m = calloc(1, sizeof(*m) + user->user_id_len + 1);
	if (m == NULL) {
		return -ENOMEM;
	}
	memcpy(m->id, user->user_id, user->user_id_len);
	m->id_len = user->user_id_len;
	if (user->user_info != NULL) {
		m->info = strndup(user->user_info, user->user_info_len);
		m->info_len = user->user_info_len;
		if (m->info == NULL) {
			free(m);
			return -ENOMEM;
		}
	}
	if (rt_map_put(&p->members, m->id, m->id_len, m) != 0) {
		rt__member_free(m);
		return -ENOMEM;
	}
	m->conns = 1;
	*out = m;
	return 1;
}

int rt_presence_remove(rt_presence *p, const char *user_id, size_t len)
{
	rt_member *m = rt_map_get(&p->members, user_id, len);

	if (m == NULL || --m->conns > 0) {
		return 0;
	}
	rt_map_remove(&p->members, user_id, len);
	rt__member_free(m);
	return 1;
}

void rt_member_json(const rt_member *m, rt_sb *out)
{
	rt_sb_puts(out, "{\"id\":");
	rt_sb_json_string(out, m->id, m->id_len);
	rt_sb_puts(out, ",\"info\":");
	if (m->info != NULL) {
		rt_sb_append(out, m->info, m->info_len);
	} else {
		rt_sb_puts(out, "null");
	}
	rt_sb_puts(out, "}");
}

