/* hub/model/registry.c: the channel registry and channel names. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/model/registry.h"
#include "hub/util/buf.h"
#include "hub/model/config.h" /* RT_CHANNEL_MAX; channel.h names it but does not include it */

/* The registry never dereferences a session: distinct addresses do. */
static char dummy_conns[1000];
#define CONN(i) ((struct rt_session *) &dummy_conns[(i)])

typedef struct events {
	int occupied, vacated;
	char last_occupied[RT_CHANNEL_MAX + 1];
	char last_vacated[RT_CHANNEL_MAX + 1];
	uint32_t count_at_vacated;
	const rt_channel *vacated_ch;
} events;

static void on_occupied(void *ctx, const rt_channel *ch)
{
	events *ev = ctx;

	ev->occupied++;
	memcpy(ev->last_occupied, ch->name, ch->name_len);
	ev->last_occupied[ch->name_len] = '\0';
}

static void on_vacated(void *ctx, const rt_channel *ch)
{
	events *ev = ctx;

	ev->vacated++;
	/* The channel is still intact when the callback runs. */
	memcpy(ev->last_vacated, ch->name, ch->name_len);
	ev->last_vacated[ch->name_len] = '\0';
	ev->count_at_vacated = ch->count;
	ev->vacated_ch = ch;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng(void)
{
	/* xorshift64*: fixed seed, so runs are reproducible. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t) ((rng_state * 2685821657736338717ULL) >> 32);
}

/* Every subscription's index is its position, and points back to ch. */
static void check_indexes(const rt_channel *ch)
{
	RT_ASSERT(ch->count <= ch->cap);
	for (uint32_t i = 0; i < ch->count; i++) {
		if (ch->subs[i]->index != i || ch->subs[i]->channel != ch) {
			RT_FAIL_("sub at position %u has index %u", i, ch->subs[i]->index);
			return;
		}
	}
}

RT_TEST(subscribe_creates_channel)
{
	rt_registry reg;
	rt_sub *sub = NULL;
	char name[] = "news";
	rt_channel *ch;

	rt_registry_init(&reg);
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 0);
	RT_ASSERT(rt_registry_find(&reg, "news", 4) == NULL);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(1), name, 4, &sub), 0);
	RT_ASSERT(sub != NULL);
	/* The registry keeps its own copy of the name. */
	memset(name, 'x', 4);
	ch = rt_registry_find(&reg, "news", 4);
	RT_ASSERT(ch != NULL);
	RT_ASSERT(rt_registry_find(&reg, "xxxx", 4) == NULL);
	RT_ASSERT(rt_registry_find(&reg, "new", 3) == NULL);
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 1);
	RT_ASSERT_EQ_INT(ch->name_len, 4);
	RT_ASSERT_EQ_STR(ch->name, "news");
	RT_ASSERT_EQ_INT(ch->count, 1);
	RT_ASSERT(ch->subs[0] == sub);
	RT_ASSERT(sub->channel == ch);
	RT_ASSERT(sub->session == CONN(1));
	RT_ASSERT_EQ_INT(sub->index, 0);

	rt_registry_unsubscribe(&reg, sub);
	RT_ASSERT(rt_registry_find(&reg, "news", 4) == NULL);
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 0);
	rt_registry_free(&reg);
}

RT_TEST(channels_are_independent)
{
	rt_registry reg;
	rt_sub *a1, *a2, *b1;
	rt_channel *a, *b;

	rt_registry_init(&reg);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(1), "a", 1, &a1), 0);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(2), "a", 1, &a2), 0);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(1), "ab", 2, &b1), 0);
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 2);
	a = rt_registry_find(&reg, "a", 1);
	b = rt_registry_find(&reg, "ab", 2);
	RT_ASSERT(a != NULL && b != NULL && a != b);
	RT_ASSERT_EQ_INT(a->count, 2);
	RT_ASSERT_EQ_INT(b->count, 1);
	RT_ASSERT(a1->channel == a && a2->channel == a && b1->channel == b);
	RT_ASSERT(a1 != a2);

	rt_registry_unsubscribe(&reg, a1);
	RT_ASSERT(rt_registry_find(&reg, "a", 1) == a);
	RT_ASSERT_EQ_INT(a->count, 1);
	RT_ASSERT(a->subs[0] == a2);
	RT_ASSERT_EQ_INT(a2->index, 0);
	rt_registry_unsubscribe(&reg, a2);
	RT_ASSERT(rt_registry_find(&reg, "a", 1) == NULL);
	RT_ASSERT(rt_registry_find(&reg, "ab", 2) == b);
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 1);
	rt_registry_free(&reg); /* frees b1 and its channel */
}

/* The registry does not check duplicates (callers do): a connection
 * subscribed twice has two subscriptions. */
RT_TEST(duplicate_subscription_is_callers_job)
{
	rt_registry reg;
	rt_sub *s1, *s2;
	rt_channel *ch;

	rt_registry_init(&reg);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(5), "dup", 3, &s1), 0);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(5), "dup", 3, &s2), 0);
	ch = rt_registry_find(&reg, "dup", 3);
	RT_ASSERT(ch != NULL);
	RT_ASSERT_EQ_INT(ch->count, 2);
	RT_ASSERT(s1 != s2);
	rt_registry_unsubscribe(&reg, s2);
	rt_registry_unsubscribe(&reg, s1);
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 0);
	rt_registry_free(&reg);
}

/* 1000 subscriptions removed in a random order: after every removal each
 * remaining subscription's index matches its position, and the set of
 * connections is exactly the ones not yet removed. */
RT_TEST(swap_remove_keeps_indexes)
{
	enum { N = 1000 };
	static rt_sub *subs[N];
	static int order[N];
	static unsigned char present[N];
	rt_registry reg;
	rt_channel *ch = NULL;
	uint32_t max_cap = 0;

	rt_registry_init(&reg);
	for (int i = 0; i < N; i++) {
		RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(i), "big", 3, &subs[i]), 0);
		RT_ASSERT_EQ_INT(subs[i]->index, i);
		order[i] = i;
		present[i] = 1;
	}
	ch = rt_registry_find(&reg, "big", 3);
	RT_ASSERT(ch != NULL);
	RT_ASSERT_EQ_INT(ch->count, N);
	check_indexes(ch);
	max_cap = ch->cap;
	/* Fisher-Yates shuffle of the removal order. */
	for (int i = N - 1; i > 0; i--) {
		int j = (int) (rng() % (uint32_t) (i + 1));
		int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (int k = 0; k < N - 1; k++) {
		int victim = order[k];
		rt_registry_unsubscribe(&reg, subs[victim]);
		present[victim] = 0;
		RT_ASSERT(rt_registry_find(&reg, "big", 3) == ch);
		RT_ASSERT_EQ_INT(ch->count, N - 1 - k);
		check_indexes(ch);
		if (rt_test_cur_failed_) {
			return;
		}
		for (uint32_t i = 0; i < ch->count; i++) {
			int c = (int) ((char *) ch->subs[i]->session - dummy_conns);
			RT_ASSERT(c >= 0 && c < N);
			RT_ASSERT(present[c]);
			RT_ASSERT(subs[c] == ch->subs[i]);
		}
	}
	/* The array shrank as the channel emptied. */
	RT_ASSERT(ch->cap < max_cap);
	RT_ASSERT(ch->cap <= 16);
	rt_registry_unsubscribe(&reg, subs[order[N - 1]]);
	RT_ASSERT(rt_registry_find(&reg, "big", 3) == NULL);
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 0);
	rt_registry_free(&reg);
}

RT_TEST(occupied_and_vacated_fire_once)
{
	rt_registry reg;
	events ev;
	rt_sub *s[3], *other;

	memset(&ev, 0, sizeof(ev));
	rt_registry_init(&reg);
	reg.on_occupied = on_occupied;
	reg.on_vacated = on_vacated;
	reg.ctx = &ev;

	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(1), "room", 4, &s[0]), 0);
	RT_ASSERT_EQ_INT(ev.occupied, 1);
	RT_ASSERT_EQ_STR(ev.last_occupied, "room");
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(2), "room", 4, &s[1]), 0);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(3), "room", 4, &s[2]), 0);
	RT_ASSERT_EQ_INT(ev.occupied, 1);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(1), "lobby", 5, &other), 0);
	RT_ASSERT_EQ_INT(ev.occupied, 2);
	RT_ASSERT_EQ_STR(ev.last_occupied, "lobby");

	rt_registry_unsubscribe(&reg, s[1]);
	rt_registry_unsubscribe(&reg, s[0]);
	RT_ASSERT_EQ_INT(ev.vacated, 0);
	rt_registry_unsubscribe(&reg, s[2]);
	RT_ASSERT_EQ_INT(ev.vacated, 1);
	RT_ASSERT_EQ_STR(ev.last_vacated, "room");
	RT_ASSERT_EQ_INT(ev.count_at_vacated, 0);

	/* A channel that comes back is occupied again. */
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(9), "room", 4, &s[0]), 0);
	RT_ASSERT_EQ_INT(ev.occupied, 3);
	RT_ASSERT_EQ_STR(ev.last_occupied, "room");
	rt_registry_unsubscribe(&reg, s[0]);
	RT_ASSERT_EQ_INT(ev.vacated, 2);
	rt_registry_unsubscribe(&reg, other);
	RT_ASSERT_EQ_INT(ev.vacated, 3);
	RT_ASSERT_EQ_STR(ev.last_vacated, "lobby");
	RT_ASSERT_EQ_INT(ev.occupied, 3);
	rt_registry_free(&reg);
}

/* Freeing the registry with subscriptions left frees them all (ASan's
 * leak check is the assertion here). */
RT_TEST(free_with_subscriptions_left)
{
	rt_registry reg;
	rt_sub *sub;
	char name[32];

	rt_registry_init(&reg);
	for (int c = 0; c < 50; c++) {
		snprintf(name, sizeof(name), "ch-%d", c);
		for (int i = 0; i < 20; i++) {
			RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(i), name, strlen(name), &sub), 0);
		}
	}
	RT_ASSERT_EQ_INT(rt_registry_count(&reg), 50);
	rt_registry_free(&reg);
}

/* ---- names ---- */

static int valid(const char *s)
{
	return rt_channel_name_valid(s, strlen(s));
}

RT_TEST(name_length)
{
	char name[RT_CHANNEL_MAX + 2];

	memset(name, 'a', sizeof(name));
	RT_ASSERT(!rt_channel_name_valid(name, 0));
	RT_ASSERT(!rt_channel_name_valid("", 0));
	RT_ASSERT(rt_channel_name_valid(name, 1));
	RT_ASSERT(rt_channel_name_valid(name, RT_CHANNEL_MAX));
	RT_ASSERT(!rt_channel_name_valid(name, RT_CHANNEL_MAX + 1));
	RT_ASSERT_EQ_INT(RT_CHANNEL_MAX, 200);
}

RT_TEST(name_charset)
{
	for (int c = 0; c < 256; c++) {
		char s[3] = {'a', (char) c, 'b'};
		int want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
				|| (c >= '0' && c <= '9') || (c != 0 && strchr("_-=@,.;:#/?&%+!$'()[]~", c) != NULL);
		if (rt_channel_name_valid(s, 3) != want) {
			RT_FAIL_("byte 0x%02x: valid=%d, expected %d", c, !want, want);
			return;
		}
		/* Alone, too. */
		if (rt_channel_name_valid(s + 1, 1) != want) {
			RT_FAIL_("byte 0x%02x alone: expected %d", c, want);
			return;
		}
	}
}

RT_TEST(name_examples)
{
	RT_ASSERT(valid("news"));
	RT_ASSERT(valid("private-user.42"));
	RT_ASSERT(valid("presence-room:lobby#1"));
	RT_ASSERT(valid("a=b,c;d@e"));
	RT_ASSERT(valid("_-=@,.;:#"));
	RT_ASSERT(valid("ABCxyz0189"));
	RT_ASSERT(!valid("has space"));
	/* A Mercure topic URL is a channel name. */
	RT_ASSERT(valid("https://example.com/books/1?x=1&y=%20"));
	RT_ASSERT(valid("slash/path"));
	RT_ASSERT(valid("q?"));
	RT_ASSERT(valid("plus+"));
	RT_ASSERT(!valid("star*"));
	RT_ASSERT(!valid("tpl{id}"));
	RT_ASSERT(!valid("back\\slash"));
	RT_ASSERT(!valid("caf\xc3\xa9"));
	RT_ASSERT(!valid("tab\t"));
	RT_ASSERT(!valid("quote\""));
	/* NUL is rejected wherever it is: strchr would otherwise "find" it. */
	RT_ASSERT(!rt_channel_name_valid("a\0b", 3));
	RT_ASSERT(!rt_channel_name_valid("\0", 1));
	RT_ASSERT(!rt_channel_name_valid("ab\0", 3));
	/* Only len bytes are looked at. */
	RT_ASSERT(rt_channel_name_valid("ok bad", 2));
}

/* Live messages held while a subscribe's history read is out: bounded,
 * counted past the bound, freed with the subscription. */
RT_TEST(hold_is_bounded_and_freed_with_the_subscription)
{
	rt_registry reg;
	rt_sub *sub;
	rt_buf *frame = rt_buf_new(4);
	rt_sub_hold *h;

	rt_registry_init(&reg);
	RT_ASSERT(frame != NULL);
	RT_ASSERT_EQ_INT(rt_registry_subscribe(&reg, CONN(1), "chat", 4, &sub), 0);
	RT_ASSERT(sub->hold == NULL && !sub->holding);
	sub->holding = 1;
	for (uint64_t i = 1; i <= 12; i++) {
		RT_ASSERT_EQ_INT(rt_registry_hold(sub, frame, i, 7, 10), i <= 10 ? 1 : 0);
	}
	RT_ASSERT_EQ_INT(frame->refs, 11);
	RT_ASSERT_EQ_INT(sub->hold->count, 10);
	RT_ASSERT_EQ_INT(sub->hold->dropped, 2);
	RT_ASSERT_EQ_INT(sub->hold->items[9].offset, 10);
	h = rt_registry_hold_end(sub);
	RT_ASSERT(h != NULL && sub->hold == NULL && !sub->holding);
	rt_registry_hold_free(h);
	RT_ASSERT_EQ_INT(frame->refs, 1);
	/* One left held when the subscription goes: its reference is dropped. */
	sub->holding = 1;
	RT_ASSERT_EQ_INT(rt_registry_hold(sub, frame, 1, 7, 10), 1);
	RT_ASSERT_EQ_INT(frame->refs, 2);
	rt_registry_unsubscribe(&reg, sub);
	RT_ASSERT_EQ_INT(frame->refs, 1);
	rt_buf_unref(frame);
	rt_registry_free(&reg);
}

int main(void)
{
	RT_RUN(subscribe_creates_channel);
	RT_RUN(channels_are_independent);
	RT_RUN(duplicate_subscription_is_callers_job);
	RT_RUN(swap_remove_keeps_indexes);
	RT_RUN(occupied_and_vacated_fire_once);
	RT_RUN(free_with_subscriptions_left);
	RT_RUN(name_length);
	RT_RUN(name_charset);
	RT_RUN(name_examples);
	RT_RUN(hold_is_bounded_and_freed_with_the_subscription);
	return rt_test_summary();
}
