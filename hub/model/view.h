/* The app-wide view: for every channel, how many connections each hub
 * (origin) has on it, and on presence channels which users each hub holds.
 * Every hub of an app keeps its own copy, fed by the same ordered stream of
 * state messages, so all of them see the same transitions (a channel
 * occupied or vacated, a user's first or last connection) at the same point
 * in the stream. A hub that dies is dropped as a whole. */
#ifndef RT_HUB_VIEW_H
#define RT_HUB_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"
#include "hub/util/map.h"
#include "hub/model/presence.h"

typedef struct rt_vcount {
	uint32_t origin;
	uint32_t count;
	uint32_t stale;       /* marked by rt_view_mark_origin, not reported since */
} rt_vcount;

/* Counts per origin, with their sum. */
typedef struct rt_vcounts {
	rt_vcount *v;
	uint32_t n, cap;
	uint64_t total;
} rt_vcounts;

typedef struct rt_vmember {
	rt_vcounts origins;
	rt_member *member;    /* id, info; member->conns is origins.total */
} rt_vmember;

typedef struct rt_vchannel {
	rt_vcounts subs;
	rt_map members;       /* user id -> rt_vmember (presence channels) */
	size_t name_len;
	char name[];
} rt_vchannel;

typedef struct rt_view_events {
	void (*occupied)(void *ctx, const rt_vchannel *ch, uint32_t origin);
	void (*vacated)(void *ctx, const rt_vchannel *ch, uint32_t origin);
	void (*member_added)(void *ctx, const rt_vchannel *ch, const rt_member *m, uint32_t origin);
	void (*member_removed)(void *ctx, const rt_vchannel *ch, const rt_member *m, uint32_t origin);
	void *ctx;
} rt_view_events;

typedef struct rt_view {
	rt_map channels;      /* name -> rt_vchannel */
	rt_view_events ev;
} rt_view;

void rt_view_init(rt_view *v, const rt_view_events *ev);
void rt_view_free(rt_view *v);

/* origin now has count subscribers on channel. Returns 0 or -ENOMEM. */
int rt_view_set_subscribers(rt_view *v, uint32_t origin, const char *channel, size_t len,
		uint32_t count);
/* origin now has count connections of user on presence channel; info is
 * the user's JSON info (kept from the first report). */
int rt_view_set_member(rt_view *v, uint32_t origin, const char *channel, size_t len,
		const char *user, size_t user_len, const char *info, size_t info_len, uint32_t count);
/* Forgets everything origin reported (a hub that stopped or died). */
void rt_view_drop_origin(rt_view *v, uint32_t origin);
/* origin is about to report its whole state again: mark what it reported
 * so far; rt_view_sweep_origin() then forgets what it did not report again. */
void rt_view_mark_origin(rt_view *v, uint32_t origin);
void rt_view_sweep_origin(rt_view *v, uint32_t origin);

const rt_vchannel *rt_view_channel(const rt_view *v, const char *name, size_t len);
/* 1 when user is a member of the presence channel. */
int rt_view_has_member(const rt_view *v, const char *channel, size_t len, const char *user,
		size_t user_len);
/* Appends [{"id":..,"info":..},...] of the channel's members. */
void rt_view_members_json(const rt_view *v, const char *channel, size_t len, rt_sb *out);

#endif
