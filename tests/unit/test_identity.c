/* hub/model/identity.c: identities from JSON, channel permissions, user ids. */
#include "rt_test.h"

#include <jansson.h>

#include "hub/model/identity.h"

static rt_identity *from(const char *json, size_t max_info, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loads(json, 0, &jerr);
	rt_identity *id = rt_identity_from_json(json_object_get(root, "uid"),
			json_object_get(root, "info"), json_object_get(root, "channels"), max_info, err,
			errlen);

	json_decref(root);
	return id;
}

RT_TEST(from_json)
{
	char err[200];
	rt_identity *id = from("{\"uid\":42,\"info\":{\"a\":[1,2]},\"channels\":[\"presence-*\",\"private-x\"]}",
			100, err, sizeof(err));

	RT_ASSERT(id != NULL);
	RT_ASSERT_EQ_STR(id->user_id, "42");
	RT_ASSERT_EQ_STR(id->user_info, "{\"a\":[1,2]}");
	RT_ASSERT_EQ_INT(id->pattern_count, 2);
	rt_identity_free(id);
}

RT_TEST(from_json_refusals)
{
	char err[200];

	RT_ASSERT(from("{}", 100, err, sizeof(err)) == NULL);
	RT_ASSERT(strstr(err, "user id missing") != NULL);
	RT_ASSERT(from("{\"uid\":\"\"}", 100, err, sizeof(err)) == NULL);
	RT_ASSERT(from("{\"uid\":\"a\\u0001\"}", 100, err, sizeof(err)) == NULL);
	RT_ASSERT(from("{\"uid\":\"a\",\"info\":\"xxxxxxxx\"}", 5, err, sizeof(err)) == NULL);
	RT_ASSERT(strstr(err, "realtime.max_user_info") != NULL);
	RT_ASSERT(from("{\"uid\":\"a\",\"channels\":\"private-x\"}", 100, err, sizeof(err)) == NULL);
	RT_ASSERT(from("{\"uid\":\"a\",\"channels\":[1]}", 100, err, sizeof(err)) == NULL);
	RT_ASSERT(strstr(err, "channels[0]") != NULL);
}

RT_TEST(may_join)
{
	char err[200];
	rt_identity *id = from("{\"uid\":\"u\",\"channels\":[\"private-team-*\",\"presence-lobby\"]}",
			100, err, sizeof(err));

	RT_ASSERT(id != NULL);
	RT_ASSERT(rt_identity_may_join(NULL, "news", 4));          /* public: anyone */
	RT_ASSERT(!rt_identity_may_join(NULL, "private-a", 9));    /* private: needs an identity */
	RT_ASSERT(rt_identity_may_join(id, "private-team-red", 16));
	RT_ASSERT(!rt_identity_may_join(id, "private-other", 13));
	RT_ASSERT(rt_identity_may_join(id, "presence-lobby", 14));
	RT_ASSERT(!rt_identity_may_join(id, "presence-lobby2", 15));
	rt_identity_free(id);
}

RT_TEST(patterns_and_names)
{
	RT_ASSERT(rt_pattern_match("a*c", "abbbc", 5));
	RT_ASSERT(rt_pattern_match("*", "", 0));
	RT_ASSERT(!rt_pattern_match("a*c", "abbb", 4));
	RT_ASSERT(rt_pattern_match("a**", "a", 1));
	RT_ASSERT(rt_channel_is_private("private-x", 9));
	RT_ASSERT(rt_channel_is_private("presence-x", 10));
	RT_ASSERT(!rt_channel_is_private("privatex", 8));
	RT_ASSERT(rt_channel_is_presence("presence-", 9));
	RT_ASSERT(!rt_channel_is_presence("presence", 8));
	RT_ASSERT(rt_user_id_valid("\xc3\xa9", 2));
	RT_ASSERT(!rt_user_id_valid("\xc3", 1));
	RT_ASSERT(!rt_user_id_valid("a\x7f", 2));
}

RT_TEST(dup_user)
{
	char err[200];
	rt_identity *id = from("{\"uid\":\"u\",\"info\":1,\"channels\":[\"private-*\"]}", 100, err,
			sizeof(err));
	rt_identity *copy = rt_identity_dup_user(id);

	RT_ASSERT(copy != NULL);
	RT_ASSERT_EQ_STR(copy->user_id, "u");
	RT_ASSERT_EQ_STR(copy->user_info, "1");
	RT_ASSERT_EQ_INT(copy->pattern_count, 0); /* a member carries no permissions */
	rt_identity_free(copy);
	rt_identity_free(id);
}

int main(void)
{
	RT_RUN(from_json);
	RT_RUN(from_json_refusals);
	RT_RUN(may_join);
	RT_RUN(patterns_and_names);
	RT_RUN(dup_user);
	return rt_test_summary();
}
