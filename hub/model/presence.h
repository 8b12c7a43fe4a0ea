/* Members of a presence channel: one entry per user, however many of the
 * user's connections (tabs) are subscribed; the user leaves with the last. */
#ifndef RT_HUB_PRESENCE_H
#define RT_HUB_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"
#include "hub/model/identity.h"
#include "hub/util/map.h"

typedef struct rt_member {
	uint32_t conns;
	char *info;          /* JSON text, or NULL */
	size_t info_len;
	size_t id_len;
	char id[];
} rt_member;

typedef struct rt_presence {
	rt_map members;      /* user id -> rt_member */
} rt_presence;

rt_presence *rt_presence_new(void);
void rt_presence_free(rt_presence *p);
/* Counts one more connection of user; 1 when the user just joined, 0 when
 * already a member, -ENOMEM. *out is the member either way. */
int rt_presence_add(rt_presence *p, const rt_identity *user, rt_member **out);
/* Counts one connection fewer; 1 when that was the user's last (the member
 * is gone), 0 otherwise. */
int rt_presence_remove(rt_presence *p, const char *user_id, size_t len);
/* Appends {"id":..,"info":..} */
void rt_member_json(const rt_member *m, rt_sb *out);

#endif
