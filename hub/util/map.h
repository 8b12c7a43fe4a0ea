/* A string-keyed hash map with open addressing; keys are owned by the
 * values (the map stores pointers only), so lookups never allocate. */
#ifndef RT_HUB_MAP_H
#define RT_HUB_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_map_slot {
	uint64_t hash;      /* 0: empty; 1: deleted */
	const char *key;
	size_t key_len;
	void *value;
} rt_map_slot;

typedef struct rt_map {
	rt_map_slot *slots;
	size_t cap;          /* power of two */
	size_t count;
	size_t used;         /* count + deleted */
} rt_map;

void rt_map_init(rt_map *m);
void rt_map_free(rt_map *m);
void *rt_map_get(const rt_map *m, const char *key, size_t len);
/* key must live as long as the entry. Returns 0 or -ENOMEM; replaces an existing key. */
int rt_map_put(rt_map *m, const char *key, size_t len, void *value);
void *rt_map_remove(rt_map *m, const char *key, size_t len);

/* Iteration: for (i = 0; rt_map_next(m, &i, &v);) */
int rt_map_next(const rt_map *m, size_t *iter, void **value);

/* The map's hash: SipHash-2-4 under a per-process random key, so it differs
 * between processes; never above 1 (the slot markers). */
uint64_t rt_map_hash(const char *s, size_t len);

/* FNV-1a, unkeyed: the same in every process, for values processes must
 * agree on (broker/pool.c's app id). Never for a map of client input. */
uint64_t rt_hash(const char *s, size_t len);

#endif
