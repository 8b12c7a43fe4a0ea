/* hub/model/view.c: the app-wide view of channels and members, summed over the
 * hubs (origins) that report them, and the events its changes raise. */
#include "rt_test.h"

#include "hub/model/view.h"

typedef struct seen {
	int occupied, vacated, added, removed;
	char last[64];
} seen;

static void on_occupied(void *ctx, const rt_vchannel *ch, uint32_t origin)
{
	(void) ch;
	(void) origin;
	((seen *) ctx)->occupied++;
}

static void on_vacated(void *ctx, const rt_vchannel *ch, uint32_t origin)
{
	(void) ch;
	(void) origin;
	((seen *) ctx)->vacated++;
}

static void on_added(void *ctx, const rt_vchannel *ch, const rt_member *m, uint32_t origin)
{
	seen *s = ctx;
	(void) ch;
	(void) origin;
	s->added++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int) m->id_len, m->id);
}

static void on_removed(void *ctx, const rt_vchannel *ch, const rt_member *m, uint32_t origin)
{
	seen *s = ctx;
	(void) ch;
	(void) origin;
	s->removed++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int) m->id_len, m->id);
}

static void init(rt_view *v, seen *s)
{
	rt_view_events ev = {on_occupied, on_vacated, on_added, on_removed, s};

	memset(s, 0, sizeof(*s));
	rt_view_init(v, &ev);
}

RT_TEST(subscribers_sum_over_origins)
{
	rt_view v;
	seen s;

	init(&v, &s);
	RT_ASSERT_EQ_INT(rt_view_set_subscribers(&v, 1, "news", 4, 2), 0);
	RT_ASSERT_EQ_INT(rt_view_set_subscribers(&v, 2, "news", 4, 3), 0);
	RT_ASSERT_EQ_INT(rt_view_channel(&v, "news", 4)->subs.total, 5);
	RT_ASSERT_EQ_INT(s.occupied, 1);                    /* once, not per hub */
	rt_view_set_subscribers(&v, 1, "news", 4, 0);
	RT_ASSERT_EQ_INT(s.vacated, 0);                     /* hub 2 still has some */
	rt_view_drop_origin(&v, 2);                         /* hub 2 died */
	RT_ASSERT_EQ_INT(s.vacated, 1);
	RT_ASSERT(rt_view_channel(&v, "news", 4) == NULL);  /* forgotten */
	rt_view_free(&v);
}

RT_TEST(members_added_once_removed_last)
{
	rt_view v;
	seen s;
	rt_sb sb;

	init(&v, &s);
	rt_view_set_member(&v, 1, "presence-r", 10, "u", 1, "{\"x\":1}", 7, 1);
	rt_view_set_member(&v, 2, "presence-r", 10, "u", 1, "{\"x\":1}", 7, 2);
	RT_ASSERT_EQ_INT(s.added, 1);
	RT_ASSERT_EQ_STR(s.last, "u");
	RT_ASSERT(rt_view_has_member(&v, "presence-r", 10, "u", 1));
	RT_ASSERT(!rt_view_has_member(&v, "presence-r", 10, "w", 1));
	rt_sb_init(&sb);
	rt_view_members_json(&v, "presence-r", 10, &sb);
	rt_sb_append(&sb, "", 1);
	RT_ASSERT_EQ_STR(sb.data, "[{\"id\":\"u\",\"info\":{\"x\":1}}]");
	rt_sb_free(&sb);
	rt_view_set_member(&v, 1, "presence-r", 10, "u", 1, NULL, 0, 0);
	RT_ASSERT_EQ_INT(s.removed, 0);
	rt_view_set_member(&v, 2, "presence-r", 10, "u", 1, NULL, 0, 0);
	RT_ASSERT_EQ_INT(s.removed, 1);
	RT_ASSERT(!rt_view_has_member(&v, "presence-r", 10, "u", 1));
	rt_view_free(&v);
}

/* A hub reporting its whole state again: what it leaves out is forgotten. */
RT_TEST(mark_and_sweep)
{
	rt_view v;
	seen s;

	init(&v, &s);
	rt_view_set_subscribers(&v, 1, "a", 1, 1);
	rt_view_set_subscribers(&v, 1, "b", 1, 1);
	rt_view_mark_origin(&v, 1);
	rt_view_set_subscribers(&v, 1, "a", 1, 1);
	rt_view_sweep_origin(&v, 1);
	RT_ASSERT(rt_view_channel(&v, "a", 1) != NULL);
	RT_ASSERT(rt_view_channel(&v, "b", 1) == NULL);
	RT_ASSERT_EQ_INT(s.vacated, 1);
	rt_view_free(&v);
}

int main(void)
{
	RT_RUN(subscribers_sum_over_origins);
	RT_RUN(members_added_once_removed_last);
	RT_RUN(mark_and_sweep);
	return rt_test_summary();
}
