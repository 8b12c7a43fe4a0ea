#include "hub/util/map.h"
#include "hub/util/siphash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RT_MAP_EMPTY 0
#define RT_MAP_DELETED 1

uint64_t rt_hash(const char *s, size_t len)
{
	/* FNV-1a, kept off the two reserved slot markers. */
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char) s[i];
		h *= 1099511628211ULL;
	}
	return h < 2 ? h + 2 : h;
}

/* Keys come from clients (channel names, user and connection ids): a keyed
 * hash stops them from choosing keys that collide, which would turn every
 * lookup of an open-addressing map into a scan. */
uint64_t rt_map_hash(const char *s, size_t len)
{
	uint64_t h = rt_siphash_keyed(s, len);
	return h < 2 ? h + 2 : h;
}

void rt_map_init(rt_map *m)
{
	memset(m, 0, sizeof(*m));
}

void rt_map_free(rt_map *m)
{
	free(m->slots);
	rt_map_init(m);
}

static rt_map_slot *rt__map_find(const rt_map *m, const char *key, size_t len,
		uint64_t h)
{
	size_t mask, i;

	if (m->cap == 0) {
		return NULL;
	}
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		rt_map_slot *s = &m->slots[i];
		if (s->hash == RT_MAP_EMPTY) {
			return NULL;
		}
		if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0) {
			return s;
		}
	}
}

static int rt__map_grow(rt_map *m)
{
	size_t cap = m->cap ? m->cap : 8;
	rt_map_slot *old = m->slots;
	size_t old_cap = m->cap;

	while ((m->count + 1) * 2 > cap) {
		cap *= 2;
	}
	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = cap;
	m->used = m->count;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].hash > RT_MAP_DELETED) {
			size_t j = old[i].hash & (cap - 1);
			while (m->slots[j].hash != RT_MAP_EMPTY) {
				j = (j + 1) & (cap - 1);
			}
			m->slots[j] = old[i];
		}
	}
	free(old);
	return 0;
}

void *rt_map_get(const rt_map *m, const char *key, size_t len)
{
	rt_map_slot *s = rt__map_find(m, key, len, rt_map_hash(key, len));
	return s ? s->value : NULL;
}

int rt_map_put(rt_map *m, const char *key, size_t len, void *value)
{
	uint64_t h = rt_map_hash(key, len);
	rt_map_slot *s = rt__map_find(m, key, len, h);
	size_t i, mask;

	if (s != NULL) {
		s->key = key;
		s->value = value;
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3 && rt__map_grow(m) != 0) {
		return -ENOMEM;
	}
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].hash > RT_MAP_DELETED; i = (i + 1) & mask) {
	}
	if (m->slots[i].hash == RT_MAP_EMPTY) {
		m->used++;
	}
	m->slots[i].hash = h;
	m->slots[i].key = key;
	m->slots[i].key_len = len;
	m->slots[i].value = value;
	m->count++;
	return 0;
}

void *rt_map_remove(rt_map *m, const char *key, size_t len)
{
	rt_map_slot *s = rt__map_find(m, key, len, rt_map_hash(key, len));
	void *v;

	if (s == NULL) {
		return NULL;
	}
	v = s->value;
	s->hash = RT_MAP_DELETED;
	s->key = NULL;
	s->value = NULL;
	m->count--;
	return v;
}

int rt_map_next(const rt_map *m, size_t *iter, void **value)
{
	while (*iter < m->cap) {
		rt_map_slot *s = &m->slots[(*iter)++];
		if (s->hash > RT_MAP_DELETED) {
			*value = s->value;
			return 1;
		}
	}
	return 0;
}
