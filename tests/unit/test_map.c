/* hub/util/map.c: the string-keyed open-addressing hash map. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/util/map.h"

#define N_BIG 5000

/* Keys live as long as their entries, as the map requires. */
static char big_keys[N_BIG][24];
static int big_vals[N_BIG];

static void fill_big(rt_map *m, int n)
{
	for (int i = 0; i < n; i++) {
		snprintf(big_keys[i], sizeof(big_keys[i]), "key-%d", i);
		big_vals[i] = i;
		RT_ASSERT_EQ_INT(rt_map_put(m, big_keys[i], strlen(big_keys[i]), &big_vals[i]), 0);
	}
}

/* The invariants put/remove/grow maintain. */
static void check_shape(const rt_map *m)
{
	size_t live = 0, marked = 0;

	RT_ASSERT(m->cap == 0 || (m->cap & (m->cap - 1)) == 0);
	for (size_t i = 0; i < m->cap; i++) {
		if (m->slots[i].hash > 1) {
			live++;
		}
		if (m->slots[i].hash != 0) {
			marked++;
		}
	}
	RT_ASSERT_EQ_INT(live, m->count);
	RT_ASSERT_EQ_INT(marked, m->used);
	/* At least one empty slot, or a failed lookup would never stop. */
	RT_ASSERT(m->cap == 0 || m->used < m->cap);
	RT_ASSERT(m->used * 4 <= m->cap * 3);
}

RT_TEST(empty)
{
	rt_map m;
	size_t it = 0;
	void *v = NULL;

	rt_map_init(&m);
	RT_ASSERT(rt_map_get(&m, "a", 1) == NULL);
	RT_ASSERT(rt_map_get(&m, "", 0) == NULL);
	RT_ASSERT(rt_map_remove(&m, "a", 1) == NULL);
	RT_ASSERT_EQ_INT(rt_map_next(&m, &it, &v), 0);
	RT_ASSERT_EQ_INT(m.count, 0);
	rt_map_free(&m);
	/* Freeing twice (or an empty map) is harmless: free leaves it initialised. */
	rt_map_free(&m);
	RT_ASSERT(m.slots == NULL);
	RT_ASSERT_EQ_INT(m.cap, 0);
}

RT_TEST(put_get_remove)
{
	rt_map m;
	int a = 1, b = 2, c = 3;

	rt_map_init(&m);
	RT_ASSERT_EQ_INT(rt_map_put(&m, "alpha", 5, &a), 0);
	RT_ASSERT_EQ_INT(rt_map_put(&m, "beta", 4, &b), 0);
	RT_ASSERT_EQ_INT(rt_map_put(&m, "", 0, &c), 0);
	RT_ASSERT_EQ_INT(m.count, 3);
	RT_ASSERT(rt_map_get(&m, "alpha", 5) == &a);
	RT_ASSERT(rt_map_get(&m, "beta", 4) == &b);
	RT_ASSERT(rt_map_get(&m, "", 0) == &c);
	RT_ASSERT(rt_map_get(&m, "gamma", 5) == NULL);
	RT_ASSERT(rt_map_get(&m, "ALPHA", 5) == NULL); /* case-sensitive */

	RT_ASSERT(rt_map_remove(&m, "alpha", 5) == &a);
	RT_ASSERT_EQ_INT(m.count, 2);
	RT_ASSERT(rt_map_get(&m, "alpha", 5) == NULL);
	RT_ASSERT(rt_map_remove(&m, "alpha", 5) == NULL);
	RT_ASSERT(rt_map_get(&m, "beta", 4) == &b);
	RT_ASSERT(rt_map_remove(&m, "", 0) == &c);
	RT_ASSERT(rt_map_remove(&m, "beta", 4) == &b);
	RT_ASSERT_EQ_INT(m.count, 0);
	check_shape(&m);
	rt_map_free(&m);
}

/* Lookups compare bytes, not C strings: keys need no NUL and lookups
 * work on slices of longer buffers. */
RT_TEST(lookup_by_slice)
{
	rt_map m;
	char key[] = {'c', 'h', 'a', 'n'};
	int v = 7;

	rt_map_init(&m);
	RT_ASSERT_EQ_INT(rt_map_put(&m, key, sizeof(key), &v), 0);
	RT_ASSERT(rt_map_get(&m, "channel-1", 4) == &v);
	RT_ASSERT(rt_map_get(&m, "chan", 4) == &v);
	RT_ASSERT(rt_map_remove(&m, "channel", 4) == &v);
	rt_map_free(&m);
}

RT_TEST(replace)
{
	rt_map m;
	int a = 1, b = 2;
	char *k1 = strdup("same"), *k2 = strdup("same");

	RT_ASSERT(k1 != NULL && k2 != NULL);
	rt_map_init(&m);
	RT_ASSERT_EQ_INT(rt_map_put(&m, k1, 4, &a), 0);
	RT_ASSERT_EQ_INT(rt_map_put(&m, k2, 4, &b), 0);
	RT_ASSERT_EQ_INT(m.count, 1);
	RT_ASSERT(rt_map_get(&m, "same", 4) == &b);
	/* The entry now points at the new key, so the old one may go away
	 * (ASan reports a use after free otherwise). */
	free(k1);
	RT_ASSERT(rt_map_get(&m, "same", 4) == &b);
	RT_ASSERT(rt_map_remove(&m, "same", 4) == &b);
	RT_ASSERT_EQ_INT(m.count, 0);
	free(k2);
	rt_map_free(&m);
}

RT_TEST(same_prefix_different_length)
{
	static const char *const keys[] = {"a", "ab", "abc", "abcd", "abcde", "b", "ba"};
	static const char nul_key[] = {'a', '\0', 'b'};
	int vals[8];
	rt_map m;

	rt_map_init(&m);
	for (int i = 0; i < 7; i++) {
		vals[i] = i;
		RT_ASSERT_EQ_INT(rt_map_put(&m, keys[i], strlen(keys[i]), &vals[i]), 0);
	}
	vals[7] = 7;
	RT_ASSERT_EQ_INT(rt_map_put(&m, nul_key, 3, &vals[7]), 0);
	RT_ASSERT_EQ_INT(m.count, 8);
	for (int i = 0; i < 7; i++) {
		RT_ASSERT(rt_map_get(&m, keys[i], strlen(keys[i])) == &vals[i]);
	}
	RT_ASSERT(rt_map_get(&m, nul_key, 3) == &vals[7]);
	RT_ASSERT(rt_map_get(&m, "abcdef", 6) == NULL);
	RT_ASSERT(rt_map_get(&m, "abcdef", 3) == &vals[2]);
	RT_ASSERT(rt_map_get(&m, "a\0c", 3) == NULL);
	RT_ASSERT(rt_map_get(&m, "a\0b", 2) == NULL);
	/* Removing one leaves its prefixes and extensions alone. */
	RT_ASSERT(rt_map_remove(&m, "abc", 3) == &vals[2]);
	RT_ASSERT(rt_map_get(&m, "ab", 2) == &vals[1]);
	RT_ASSERT(rt_map_get(&m, "abcd", 4) == &vals[3]);
	RT_ASSERT(rt_map_get(&m, "abc", 3) == NULL);
	RT_ASSERT(rt_map_get(&m, "a", 1) == &vals[0]);
	check_shape(&m);
	rt_map_free(&m);
}

RT_TEST(growth_to_thousands)
{
	rt_map m;

	rt_map_init(&m);
	fill_big(&m, N_BIG);
	RT_ASSERT_EQ_INT(m.count, N_BIG);
	check_shape(&m);
	for (int i = 0; i < N_BIG; i++) {
		char k[24];
		snprintf(k, sizeof(k), "key-%d", i);
		if (rt_map_get(&m, k, strlen(k)) != &big_vals[i]) {
			RT_FAIL_("lost %s after growth", k);
			break;
		}
	}
	RT_ASSERT(rt_map_get(&m, "key-5000", 8) == NULL);
	RT_ASSERT(rt_map_get(&m, "key-", 4) == NULL);

	/* Remove every odd key: the even ones stay reachable even where a
	 * removed key sat in the middle of their probe sequence. */
	for (int i = 1; i < N_BIG; i += 2) {
		RT_ASSERT(rt_map_remove(&m, big_keys[i], strlen(big_keys[i])) == &big_vals[i]);
	}
	RT_ASSERT_EQ_INT(m.count, N_BIG / 2);
	check_shape(&m);
	for (int i = 0; i < N_BIG; i++) {
		void *want = (i % 2) ? NULL : &big_vals[i];
		if (rt_map_get(&m, big_keys[i], strlen(big_keys[i])) != want) {
			RT_FAIL_("%s: wrong value after removals", big_keys[i]);
			break;
		}
	}
	/* And put them back. */
	for (int i = 1; i < N_BIG; i += 2) {
		RT_ASSERT_EQ_INT(rt_map_put(&m, big_keys[i], strlen(big_keys[i]), &big_vals[i]), 0);
	}
	RT_ASSERT_EQ_INT(m.count, N_BIG);
	check_shape(&m);
	for (int i = 0; i < N_BIG; i++) {
		RT_ASSERT(rt_map_get(&m, big_keys[i], strlen(big_keys[i])) == &big_vals[i]);
	}
	rt_map_free(&m);
}

/* Removing and re-adding the same key reuses its tombstone. */
RT_TEST(tombstone_reused_by_same_key)
{
	rt_map m;
	int v = 1;

	rt_map_init(&m);
	RT_ASSERT_EQ_INT(rt_map_put(&m, "k", 1, &v), 0);
	size_t used = m.used, cap = m.cap;
	for (int i = 0; i < 1000; i++) {
		RT_ASSERT(rt_map_remove(&m, "k", 1) == &v);
		RT_ASSERT_EQ_INT(m.count, 0);
		RT_ASSERT_EQ_INT(rt_map_put(&m, "k", 1, &v), 0);
		RT_ASSERT_EQ_INT(m.used, used);
		RT_ASSERT_EQ_INT(m.cap, cap);
	}
	check_shape(&m);
	rt_map_free(&m);
}

/* Churn through many distinct keys with few alive at a time (connection ids
 * come and go like this): tombstones are recycled, the table stays small. */
RT_TEST(tombstones_do_not_grow_the_table)
{
	static char keys[8][24];
	static int vals[8];
	rt_map m;
	size_t max_cap = 0;

	rt_map_init(&m);
	for (int i = 0; i < 20000; i++) {
		int s = i % 8;
		if (i >= 8) {
			RT_ASSERT(rt_map_remove(&m, keys[s], strlen(keys[s])) == &vals[s]);
		}
		snprintf(keys[s], sizeof(keys[s]), "conn.%d", i);
		vals[s] = i;
		RT_ASSERT_EQ_INT(rt_map_put(&m, keys[s], strlen(keys[s]), &vals[s]), 0);
		if (m.cap > max_cap) {
			max_cap = m.cap;
		}
		if (i % 997 == 0) {
			check_shape(&m);
		}
	}
	RT_ASSERT_EQ_INT(m.count, 8);
	RT_ASSERT(max_cap <= 32);
	for (int s = 0; s < 8; s++) {
		RT_ASSERT(rt_map_get(&m, keys[s], strlen(keys[s])) == &vals[s]);
	}
	check_shape(&m);
	rt_map_free(&m);
}

static void check_iteration(const rt_map *m, int n, int (*live)(int))
{
	static unsigned char seen[N_BIG];
	size_t it = 0;
	void *v;
	int visits = 0;

	memset(seen, 0, sizeof(seen));
	while (rt_map_next(m, &it, &v)) {
		int i = (int) ((int *) v - big_vals);
		RT_ASSERT(i >= 0 && i < n);
		if (!live(i)) {
			RT_FAIL_("iteration visited removed value %d", i);
			return;
		}
		if (seen[i]++) {
			RT_FAIL_("iteration visited value %d twice", i);
			return;
		}
		visits++;
	}
	RT_ASSERT_EQ_INT(visits, m->count);
	for (int i = 0; i < n; i++) {
		if (live(i) && !seen[i]) {
			RT_FAIL_("iteration missed value %d", i);
			return;
		}
	}
	/* Iteration stays finished. */
	RT_ASSERT_EQ_INT(rt_map_next(m, &it, &v), 0);
}

static int all_live(int i)
{
	(void) i;
	return 1;
}

static int not_third(int i)
{
	return i % 3 != 0;
}

RT_TEST(iteration_visits_each_live_value_once)
{
	rt_map m;

	rt_map_init(&m);
	fill_big(&m, 3000);
	check_iteration(&m, 3000, all_live);
	for (int i = 0; i < 3000; i += 3) {
		RT_ASSERT(rt_map_remove(&m, big_keys[i], strlen(big_keys[i])) == &big_vals[i]);
	}
	check_iteration(&m, 3000, not_third);
	rt_map_free(&m);
}

RT_TEST(hash_reserved_markers)
{
	/* 0 and 1 mark empty and deleted slots, so no key hashes to them. */
	static const char *const keys[] = {"", "a", "news", "presence-room.1", "x\0y"};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		RT_ASSERT(rt_hash(keys[i], strlen(keys[i])) > 1);
	}
	/* FNV-1a: deterministic, and length-sensitive. */
	RT_ASSERT(rt_hash("abc", 3) == rt_hash("abcdef", 3));
	RT_ASSERT(rt_hash("abc", 3) != rt_hash("abc", 2));
	RT_ASSERT(rt_hash("", 0) == 1469598103934665603ULL);
}

/* Channel names an attacker could compute offline against an unkeyed hash:
 * FNV-1a (the map's hash before it was keyed) puts all of them in the same
 * home slot of a table of up to 4096 slots. */
static char collide_keys[1000][16];

RT_TEST(chosen_colliding_keys_do_not_pile_up)
{
	rt_map m;
	size_t found = 0, worst = 0, total = 0;
	int vals[1];

	for (unsigned n = 0; found < 1000; n++) {
		char k[16];
		int len = snprintf(k, sizeof(k), "c%u", n);
		if ((rt_hash(k, (size_t) len) & 4095) == 0) {
			memcpy(collide_keys[found++], k, (size_t) len + 1);
		}
	}
	rt_map_init(&m);
	for (size_t i = 0; i < 1000; i++) {
		RT_ASSERT_EQ_INT(rt_map_put(&m, collide_keys[i], strlen(collide_keys[i]), vals), 0);
	}
	RT_ASSERT(m.cap <= 4096);
	/* How far each key sits from its home slot: the probes a lookup of it
	 * takes. With the keys piled on one home slot this is up to 999. */
	for (size_t i = 0; i < m.cap; i++) {
		if (m.slots[i].hash > 1) {
			size_t d = (i - (size_t) m.slots[i].hash) & (m.cap - 1);
			total += d;
			worst = d > worst ? d : worst;
		}
	}
	for (size_t i = 0; i < 1000; i++) {
		if (rt_map_get(&m, collide_keys[i], strlen(collide_keys[i])) != vals) {
			total = SIZE_MAX;
		}
	}
	rt_map_free(&m);
	RT_ASSERT(worst < 64);
	RT_ASSERT(total < 1000 * 4);
}

int main(void)
{
	RT_RUN(empty);
	RT_RUN(put_get_remove);
	RT_RUN(lookup_by_slice);
	RT_RUN(replace);
	RT_RUN(same_prefix_different_length);
	RT_RUN(growth_to_thousands);
	RT_RUN(tombstone_reused_by_same_key);
	RT_RUN(tombstones_do_not_grow_the_table);
	RT_RUN(iteration_visits_each_live_value_once);
	RT_RUN(hash_reserved_markers);
	RT_RUN(chosen_colliding_keys_do_not_pile_up);
	return rt_test_summary();
}
