/* hub/model/presence.c: a presence channel's members on this hub. */
#include "rt_test.h"

#include "hub/model/presence.h"

static rt_identity user(const char *id, const char *info)
{
	rt_identity u = {0};

	u.user_id = (char *) id;
	u.user_id_len = strlen(id);
	u.user_info = (char *) info;
	u.user_info_len = info ? strlen(info) : 0;
	return u;
}

RT_TEST(counts_connections_per_user)
{
	rt_presence *p = rt_presence_new();
	rt_identity a = user("a", "{\"n\":1}"), b = user("b", NULL);
	rt_member *m;

	RT_ASSERT(p != NULL);
	RT_ASSERT_EQ_INT(rt_presence_add(p, &a, &m), 1);   /* a new member */
	RT_ASSERT_EQ_INT(m->conns, 1);
	RT_ASSERT_EQ_INT(rt_presence_add(p, &a, &m), 0);   /* a's second connection */
	RT_ASSERT_EQ_INT(m->conns, 2);
	RT_ASSERT_EQ_INT(rt_presence_add(p, &b, &m), 1);
	RT_ASSERT_EQ_INT(p->members.count, 2);
	RT_ASSERT_EQ_INT(rt_presence_remove(p, "a", 1), 0); /* a is still there */
	RT_ASSERT_EQ_INT(rt_presence_remove(p, "a", 1), 1); /* a left */
	RT_ASSERT_EQ_INT(rt_presence_remove(p, "a", 1), 0); /* unknown: nothing */
	RT_ASSERT_EQ_INT(p->members.count, 1);
	rt_presence_free(p);
}

RT_TEST(member_json)
{
	rt_presence *p = rt_presence_new();
	rt_identity a = user("a\"b", "{\"n\":1}"), b = user("c", NULL);
	rt_member *m;
	rt_sb sb;

	rt_presence_add(p, &a, &m);
	rt_sb_init(&sb);
	rt_member_json(m, &sb);
	rt_sb_append(&sb, "", 1);
	RT_ASSERT_EQ_STR(sb.data, "{\"id\":\"a\\\"b\",\"info\":{\"n\":1}}");
	rt_sb_free(&sb);
	rt_presence_add(p, &b, &m);
	rt_sb_init(&sb);
	rt_member_json(m, &sb);
	rt_sb_append(&sb, "", 1);
	RT_ASSERT_EQ_STR(sb.data, "{\"id\":\"c\",\"info\":null}");
	rt_sb_free(&sb);
	rt_presence_free(p);
}

int main(void)
{
	RT_RUN(counts_connections_per_user);
	RT_RUN(member_json);
	return rt_test_summary();
}
