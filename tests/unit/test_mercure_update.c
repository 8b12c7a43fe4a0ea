/* hub/model/mercure_update.c: a Mercure update as a publish message. What
 * a publisher gives comes back from the message's target unchanged; data
 * that is not JSON is wrapped as a JSON string; bad fields are refused. */
#include "rt_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "hub/model/mercure_update.h"
#include "hub/model/registry.h"

static rt_str s(const char *text)
{
	rt_str r = {text, strlen(text)};
	return r;
}

static rt_msg *make(const rt_mercure_input *in, char *id)
{
	char err[200];
	rt_msg *m = NULL;

	if (rt_mercure_update_new(in, &m, id, err, sizeof(err)) != 0) {
		fprintf(stderr, "rt_mercure_update_new: %s\n", err);
		abort();
	}
	return m;
}

RT_TEST(fields_round_trip)
{
	rt_str topics[] = {s("https://example.com/books/1"), s("https://example.com/all")};
	rt_mercure_input in = {topics, 2, s("{\"a\":1}"), 1, s("my-id"), s("upd"), 1500};
	char id[RT_MERCURE_ID_MAX + 1];
	rt_mercure_update u;
	rt_msg *m = make(&in, id);

	RT_ASSERT_EQ_STR(id, "my-id");
	RT_ASSERT_EQ_INT(rt_mercure_update_parse(m, &u), 1);
	RT_ASSERT(u.id.len == 5 && memcmp(u.id.ptr, "my-id", 5) == 0);
	RT_ASSERT(u.type.len == 3 && memcmp(u.type.ptr, "upd", 3) == 0);
	RT_ASSERT_EQ_INT((int) u.retry, 1500);
	RT_ASSERT_EQ_INT(u.is_private, 1);
	RT_ASSERT_EQ_INT(u.data_text, 0);
	RT_ASSERT(rt_mercure_is_private(m));
	/* A private update of several topics lists them all, for split parts. */
	RT_ASSERT(u.topics.len == strlen("https://example.com/books/1\nhttps://example.com/all"));
	RT_ASSERT_EQ_INT((int) m->channel_count, 2);
	RT_ASSERT(m->data.len == 7 && memcmp(m->data.ptr, "{\"a\":1}", 7) == 0);
	RT_ASSERT(m->event.len == 3 && memcmp(m->event.ptr, "upd", 3) == 0);
	rt_msg_free(m);
}

RT_TEST(defaults_and_generated_id)
{
	rt_str topic = s("t");
	rt_mercure_input in = {&topic, 1, s(""), 0, {NULL, 0}, {NULL, 0}, -1};
	char id[RT_MERCURE_ID_MAX + 1], id2[RT_MERCURE_ID_MAX + 1];
	rt_mercure_update u;
	rt_msg *m = make(&in, id), *m2 = make(&in, id2);

	RT_ASSERT_EQ_INT((int) strlen(id), 45);
	RT_ASSERT(memcmp(id, "urn:uuid:", 9) == 0 && id[9 + 14] == '4');
	RT_ASSERT(strcmp(id, id2) != 0);
	RT_ASSERT_EQ_INT(rt_mercure_update_parse(m, &u), 1);
	RT_ASSERT(u.type.ptr == NULL && u.retry == -1 && !u.is_private && u.topics.len == 0);
	RT_ASSERT(!rt_mercure_is_private(m));
	/* Empty data is no JSON: it travels as the JSON string "". */
	RT_ASSERT_EQ_INT(u.data_text, 1);
	RT_ASSERT(m->data.len == 2 && memcmp(m->data.ptr, "\"\"", 2) == 0);
	rt_msg_free(m);
	rt_msg_free(m2);
}

RT_TEST(text_data_is_wrapped)
{
	rt_str topic = s("t");
	rt_mercure_input in = {&topic, 1, s("line 1\nsays \"hi\""), 0, {NULL, 0}, {NULL, 0}, -1};
	char id[RT_MERCURE_ID_MAX + 1];
	rt_mercure_update u;
	rt_msg *m = make(&in, id);

	RT_ASSERT_EQ_INT(rt_mercure_update_parse(m, &u), 1);
	RT_ASSERT_EQ_INT(u.data_text, 1);
	RT_ASSERT_EQ_STR(m->data.ptr, "\"line 1\\nsays \\\"hi\\\"\"");
	rt_msg_free(m);
}

RT_TEST(bad_input_refused)
{
	rt_str topic = s("t"), bad_topic = s("a b"), braces = s("https://e.x/{id}");
	char id[RT_MERCURE_ID_MAX + 1], err[200], longid[RT_MERCURE_ID_MAX + 2];
	rt_msg *m = NULL;
	rt_mercure_input in = {&topic, 1, s("x"), 0, {NULL, 0}, {NULL, 0}, -1};

	in.topic_count = 0;
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	in.topic_count = 1;
	in.topics = &bad_topic;
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	in.topics = &braces; /* a selector is no topic */
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	in.topics = &topic;
	in.id = s("#hash");
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	in.id = s("a\nb");
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	in.id = s(longid);
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	in.id.ptr = NULL;
	in.type = s("a\rb");
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	in.type.ptr = NULL;
	in.retry = -2;
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	in.retry = -1;
	in.data = s("\xff\xfe");
	RT_ASSERT_EQ_INT(rt_mercure_update_new(&in, &m, id, err, sizeof(err)), -EINVAL);
	RT_ASSERT_EQ_STR(err, "data must be UTF-8");
	RT_ASSERT(m == NULL);
}

static int parse_target(const char *target)
{
	rt_msg_fields f = {0};
	rt_str ch = s("t");
	rt_mercure_update u;
	rt_msg m;

	f.channels = &ch;
	f.channel_count = 1;
	f.target = s(target);
	rt_msg_view(&m, RT_MSG_PUBLISH, &f);
	return rt_mercure_update_parse(&m, &u);
}

RT_TEST(malformed_targets_refused)
{
	RT_ASSERT_EQ_INT(parse_target("M--\nid\n\n"), 1);
	RT_ASSERT_EQ_INT(parse_target("M--\nid\n\n12"), 1);
	RT_ASSERT_EQ_INT(parse_target("M--\nid\n"), -EINVAL);       /* no retry field */
	RT_ASSERT_EQ_INT(parse_target("M--\n\n\n"), -EINVAL);       /* empty id */
	RT_ASSERT_EQ_INT(parse_target("Mx-\nid\n\n"), -EINVAL);
	RT_ASSERT_EQ_INT(parse_target("X--\nid\n\n"), -EINVAL);
	RT_ASSERT_EQ_INT(parse_target("M--\nid\n\n1x"), -EINVAL);
	RT_ASSERT_EQ_INT(parse_target("M--\nid\n\n99999999999"), -EINVAL);
	RT_ASSERT_EQ_INT(parse_target("Mp-\nid\n\n\n"), -EINVAL);   /* empty topic list */
	RT_ASSERT_EQ_INT(parse_target("M"), -EINVAL);
}

RT_TEST(other_messages_are_not_updates)
{
	rt_msg_fields f = {0};
	rt_mercure_update u;
	rt_msg m;

	rt_msg_view(&m, RT_MSG_PUBLISH, &f);
	RT_ASSERT_EQ_INT(rt_mercure_update_parse(&m, &u), 0);
	f.target = s("Mp-\nid\n\n");
	rt_msg_view(&m, RT_MSG_TO_USER, &f);
	RT_ASSERT_EQ_INT(rt_mercure_update_parse(&m, &u), 0);
	RT_ASSERT(!rt_mercure_is_private(&m));
}

RT_TEST(topic_urls_are_channel_names)
{
	const char *ok = "https://example.com/books/1?x=1&y=%20+!$'()[]~";
	RT_ASSERT(rt_channel_name_valid(ok, strlen(ok)));
	RT_ASSERT(!rt_channel_name_valid("a{b}", 4));
	RT_ASSERT(!rt_channel_name_valid("a*", 2));
	RT_ASSERT(!rt_channel_name_valid("a\"b", 3));
	RT_ASSERT(!rt_channel_name_valid("a\\b", 3));
	RT_ASSERT(!rt_channel_name_valid("a b", 3));
}

int main(void)
{
	RT_RUN(fields_round_trip);
	RT_RUN(defaults_and_generated_id);
	RT_RUN(text_data_is_wrapped);
	RT_RUN(bad_input_refused);
	RT_RUN(malformed_targets_refused);
	RT_RUN(other_messages_are_not_updates);
	RT_RUN(topic_urls_are_channel_names);
	return rt_test_summary();
}
