#include "hub/model/registry.h"
#include "hub/util/hot.h"
#include "hub/model/config.h"
#include "hub/model/identity.h"
#include "hub/model/presence.h"
#include "hub/util/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void rt_registry_init(rt_registry *reg)
{
	memset(reg, 0, sizeof(*reg));
	rt_map_init(&reg->channels);
}

void rt_registry_free(rt_registry *reg)
{
	size_t it = 0;
	void *v;

	while (rt_map_next(&reg->channels, &it, &v)) {
		rt_channel *ch = v;
		for (uint32_t i = 0; i < ch->count; i++) {
			rt_identity_free(ch->subs[i]->member);
			free(ch->subs[i]);
		}
		rt_presence_free(ch->presence);
		free(ch->subs);
		free(ch);
	}
	rt_map_free(&reg->channels);
}

rt_channel *rt_registry_find(const rt_registry *reg, const char *name, size_t len)
{
	return rt_map_get(&reg->channels, name, len);
}

size_t rt_registry_count(const rt_registry *reg)
{
	return reg->channels.count;
}

static rt_channel *rt__channel_new(rt_registry *reg, const char *name, size_t len)
{
	rt_channel *ch = calloc(1, sizeof(*ch) + len + 1);

	if (ch == NULL) {
		return NULL;
	}
	memcpy(ch->name, name, len);
	ch->name_len = len;
	if (rt_map_put(&reg->channels, ch->name, len, ch) != 0) {
		free(ch);
		return NULL;
	}
	return ch;
}

static void rt__channel_free(rt_registry *reg, rt_channel *ch)
{
	rt_map_remove(&reg->channels, ch->name, ch->name_len);
	rt_presence_free(ch->presence);
	free(ch->subs);
	free(ch);
}

int rt_registry_subscribe(rt_registry *reg, struct rt_session *session,
		const char *name, size_t len, rt_sub **out)
{
	rt_channel *ch = rt_registry_find(reg, name, len);
	int created = 0;
	rt_sub *sub;

	if (ch == NULL) {
		ch = rt__channel_new(reg, name, len);
		if (ch == NULL) {
			return -ENOMEM;
		}
		created = 1;
	}
	if (ch->count == ch->cap) {
		uint32_t cap = ch->cap ? ch->cap * 2 : 4;
		rt_sub **subs = realloc(ch->subs, cap * sizeof(*subs));
		if (subs == NULL) {
			goto fail;
		}
		ch->subs = subs;
		ch->cap = cap;
	}
	sub = malloc(sizeof(*sub));
	if (sub == NULL) {
		goto fail;
	}
	sub->channel = ch;
	sub->session = session;
	sub->member = NULL;
	sub->hist_offset = 0;
	sub->hist_epoch = 0;
	sub->holding = 0;
	sub->hold = NULL;
	sub->index = ch->count;
	ch->subs[ch->count++] = sub;
	ch->count_joined = 1;
	*out = sub;
	if (created && reg->on_occupied) {
		reg->on_occupied(reg->ctx, ch);
	}
	return 0;

fail:
	if (created) {
		rt__channel_free(reg, ch);
	}
	return -ENOMEM;
}

void rt_registry_unsubscribe(rt_registry *reg, rt_sub *sub)
{
	rt_channel *ch = sub->channel;
	rt_sub *last = ch->subs[--ch->count];

	ch->subs[sub->index] = last;
	last->index = sub->index;
	rt_identity_free(sub->member);
	rt_registry_hold_free(sub->hold);
	free(sub);
	if (ch->count == 0) {
		if (reg->on_vacated) {
			reg->on_vacated(reg->ctx, ch);
		}
		rt__channel_free(reg, ch);
	} else if (ch->cap > 16 && ch->count < ch->cap / 4) {
		rt_sub **subs = realloc(ch->subs, (ch->cap / 2) * sizeof(*subs));
		if (subs != NULL) {
			ch->subs = subs;
			ch->cap /= 2;
		}
	}
}

RT_HOT int rt_channel_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > RT_CHANNEL_MAX) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
				|| (c >= '0' && c <= '9') || strchr("_-=@,.;:#/?&%+!$'()[]~", c) != NULL) || c == 0) {
			return 0;
		}
	}
	return 1;
}

int rt_registry_hold(rt_sub *sub, rt_buf *frame, uint64_t offset, uint64_t epoch, uint32_t max)
{
	rt_sub_hold *h = sub->hold;

	if (h == NULL) {
		h = calloc(1, sizeof(*h));
		if (h == NULL) {
			return -ENOMEM;
		}
		sub->hold = h;
	}
	if (h->count >= max) {
		h->dropped++;
		return 0;
	}
	if (h->count == h->cap) {
		/* Grown as needed: most reads answer before anything arrives. */
		uint32_t cap = h->cap < 8 ? 8 : h->cap * 2;
		rt_sub_held *items;
		if (cap > max) {
			cap = max;
		}
		items = realloc(h->items, cap * sizeof(*items));
		if (items == NULL) {
			h->dropped++;
			return 0;
		}
		h->items = items;
		h->cap = cap;
	}
	h->items[h->count].frame = rt_buf_ref(frame);
	h->items[h->count].offset = offset;
	h->items[h->count].epoch = epoch;
	h->count++;
	return 1;
}

rt_sub_hold *rt_registry_hold_end(rt_sub *sub)
{
	rt_sub_hold *h = sub->hold;

	sub->holding = 0;
	sub->hold = NULL;
	return h;
}

void rt_registry_hold_free(rt_sub_hold *hold)
{
	if (hold == NULL) {
		return;
	}
	for (uint32_t i = 0; i < hold->count; i++) {
		rt_buf_unref(hold->items[i].frame);
	}
	free(hold->items);
	free(hold);
}
