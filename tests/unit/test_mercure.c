/* hub/proto/mercure.c: the event a Mercure subscriber is sent for an update
 * (id, retry, type, data given back as the publisher sent it) and for a
 * native publish (its position as the id, its event as the type), made
 * byte for byte as message_size says; a malformed update frames nothing. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/model/mercure_update.h"
#include "hub/proto/mercure.h"
#include "hub/proto/proto.h"
#include "hub/wire/sse.h"

static rt_str s(const char *text)
{
	rt_str r = {text, strlen(text)};
	return r;
}

/* The event made for msg on its first channel, NUL-terminated (malloc'd). */
static char *event_of(const rt_msg *msg)
{
	rt_buf *b = rt_proto_mercure.frame_message(msg, msg->channels[0]);
	char *out;

	if (b == NULL) {
		return NULL;
	}
	if (rt_proto_mercure.message_size(msg, msg->channels[0]) != b->len) {
		rt_buf_unref(b);
		return strdup("message_size differs");
	}
	out = malloc(b->len + 1);
	memcpy(out, b->data, b->len);
	out[b->len] = '\0';
	rt_buf_unref(b);
	return out;
}

static rt_msg *update(const char *data, int is_private, const char *id, const char *type,
		int64_t retry)
{
	rt_str topic = s("https://example.com/books/1");
	rt_mercure_input in = {&topic, 1, s(data), is_private, {id, id ? strlen(id) : 0},
		{type, type ? strlen(type) : 0}, retry};
	char out[RT_MERCURE_ID_MAX + 1], err[200];
	rt_msg *m = NULL;

	if (rt_mercure_update_new(&in, &m, out, err, sizeof(err)) != 0) {
		abort();
	}
	return m;
}

RT_TEST(update_event_fields)
{
	rt_msg *m = update("{\"a\":1}", 0, "u-1", "book", 2500);
	char *e = event_of(m);

	RT_ASSERT_EQ_STR(e, "id: u-1\nretry: 2500\nevent: book\ndata: {\"a\":1}\n\n");
	free(e);
	rt_msg_free(m);
}

RT_TEST(text_data_given_back_as_sent)
{
	rt_msg *m = update("two\nlines \"quoted\"", 1, "u-2", NULL, -1);
	char *e = event_of(m);

	RT_ASSERT_EQ_STR(e, "id: u-2\ndata: two\ndata: lines \"quoted\"\n\n");
	free(e);
	rt_msg_free(m);
}

RT_TEST(native_publish_id_is_its_position)
{
	rt_str ch = s("news");
	rt_pos pos = {42, 0x0123456789abcdefULL};
	rt_msg_fields f = {0};
	char want[128], id[RT_MERCURE_ID_MAX + 1];
	rt_msg *m;
	char *e;

	f.channels = &ch;
	f.channel_count = 1;
	f.event = s("goal");
	f.data = s("{\"score\":\"2-1\"}");
	f.positions = &pos;
	m = rt_msg_new(RT_MSG_PUBLISH, &f);
	snprintf(want, sizeof(want), "id: %08x-42-0123456789abcdef\nevent: goal\ndata: {\"score\":\"2-1\"}\n\n",
			rt_sse_channel_hash("news", 4));
	e = event_of(m);
	RT_ASSERT_EQ_STR(e, want);
	RT_ASSERT(rt_mercure_event_id(m, ch, id) == strlen(want) - strlen("id: ")
			- strlen("\nevent: goal\ndata: {\"score\":\"2-1\"}\n\n"));
	free(e);
	rt_msg_free(m);
	/* Without a position: no id. */
	f.positions = NULL;
	f.event.ptr = NULL;
	m = rt_msg_new(RT_MSG_PUBLISH, &f);
	e = event_of(m);
	RT_ASSERT_EQ_STR(e, "data: {\"score\":\"2-1\"}\n\n");
	RT_ASSERT_EQ_INT((int) rt_mercure_event_id(m, ch, id), 0);
	free(e);
	rt_msg_free(m);
}

RT_TEST(malformed_update_frames_nothing)
{
	rt_str ch = s("news");
	rt_msg_fields f = {0};
	rt_msg *m;

	f.channels = &ch;
	f.channel_count = 1;
	f.data = s("1");
	f.target = s("Mp-\n\n\n");
	m = rt_msg_new(RT_MSG_PUBLISH, &f);
	RT_ASSERT(rt_proto_mercure.frame_message(m, ch) == NULL);
	rt_msg_free(m);
}

RT_TEST(presence_and_whispers_are_not_mercure)
{
	rt_whisper w = {0};

	RT_ASSERT(rt_proto_mercure.frame_whisper(&w) == NULL);
	RT_ASSERT(rt_proto_mercure.frame_member_removed(NULL, "u", 1) == NULL);
	RT_ASSERT(rt_proto(RT_PROTO_MERCURE) == &rt_proto_mercure);
}

int main(void)
{
	RT_RUN(update_event_fields);
	RT_RUN(text_data_given_back_as_sent);
	RT_RUN(native_publish_id_is_its_position);
	RT_RUN(malformed_update_frames_nothing);
	RT_RUN(presence_and_whispers_are_not_mercure);
	return rt_test_summary();
}
