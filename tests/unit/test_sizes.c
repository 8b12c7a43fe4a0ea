/* What a message costs a client's queue, computed before it is published
 * (hub/proto/proto.c): exactly the frames each protocol then makes, so that a
 * message is refused where it is published if and only if no subscriber
 * could be sent it (realtime.max_outbound). */
#include "rt_test.h"
#include "hub/wire/frame.h"
#include "hub/proto/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static rt_str str(const char *s)
{
	rt_str r = {s, s ? strlen(s) : 0};
	return r;
}

/* Each protocol's frame of msg for each destination is as large as
 * predicted, and the maximum is the largest of them. */
static void check_exact(const rt_msg *msg)
{
	size_t max = 0;
	rt_str none = {NULL, 0};

	for (int p = 0; p < RT_PROTO_COUNT; p++) {
		const rt_proto_ops *ops = rt_proto(p);
		uint32_t n = msg->type == RT_MSG_PUBLISH ? msg->channel_count : 1;
		for (uint32_t i = 0; i < n; i++) {
			rt_str ch = msg->type == RT_MSG_PUBLISH ? msg->channels[i] : none;
			rt_buf *frame = ops->frame_message(msg, ch);
			size_t want = rt_proto_frame_size(p, ops->message_size(msg, ch));
			RT_ASSERT(frame != NULL);
			if (frame->len != want) {
				RT_FAIL_("%s, data of %zu bytes: frame of %u bytes, predicted %zu", ops->name,
						msg->data.len, frame->len, want);
			}
			max = frame->len > max ? frame->len : max;
			rt_buf_unref(frame);
		}
	}
	RT_ASSERT_EQ_INT(rt_proto_message_frame_max(msg), max);
}

static void check_data(rt_msg_type type, const char *data, size_t len)
{
	rt_str chans[2] = {str("news"), str("presence-room.42")};
	rt_msg_fields f = {0};
	rt_msg msg;

	memset(&f, 0, sizeof(f));
	if (type == RT_MSG_PUBLISH) {
		f.channels = chans;
		f.channel_count = 2;
	} else {
		f.target = str("user \"q\" \xc3\xa9");
	}
	f.data.ptr = data;
	f.data.len = len;
	rt_msg_view(&msg, type, &f);
	check_exact(&msg);
	f.event = str("ev\"ent\\");
	rt_msg_view(&msg, type, &f);
	check_exact(&msg);
}

RT_TEST(frame_size_is_exact)
{
	static const rt_msg_type types[] = {RT_MSG_PUBLISH, RT_MSG_TO_USER, RT_MSG_TO_CONNECTION};
	static const size_t sizes[] = {0, 1, 60, 100, 125, 126, 127, 200, 65400, 65535, 65536,
		70000, 300 * 1024};
	char *buf = malloc(300 * 1024 + 2);

	RT_ASSERT(buf != NULL);
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t n = sizes[s];
			/* Plain text, a JSON string, and text full of escapes. */
			memset(buf, 'x', n);
			check_data(types[t], buf, n);
			if (n >= 2) {
				buf[0] = '"';
				buf[n - 1] = '"';
				check_data(types[t], buf, n);
			}
			for (size_t i = 0; i < n; i++) {
				buf[i] = "\"\\\n\x01\xc3\xa9z"[i % 7];
			}
			check_data(types[t], buf, n);
		}
	}
	check_data(RT_MSG_PUBLISH, NULL, 0);
	free(buf);
}

/* The limit is the frame, header included: the largest message that fits
 * passes, one byte more is refused, naming the setting and its value. A
 * message published without its position yet is measured with the largest
 * one, which a channel with history adds to the native frame. */
RT_TEST(check_outbound_at_the_limit)
{
	rt_str ch = str("news");
	rt_msg_fields f = {0};
	rt_msg msg, positioned;
	rt_pos worst = {UINT64_MAX, 0x0123456789abcdefULL}, small = {7, 1};
	char err[256] = "";
	char *data = malloc(70000);
	size_t frame, bare;

	RT_ASSERT(data != NULL);
	memset(data, 'a', 70000);
	memset(&f, 0, sizeof(f));
	f.channels = &ch;
	f.channel_count = 1;
	f.data.ptr = data;
	f.data.len = 70000;
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
	bare = rt_proto_message_frame_max(&msg);
	f.positions = &worst;
	rt_msg_view(&positioned, RT_MSG_PUBLISH, &f);
	frame = rt_proto_message_frame_max(&positioned);
	RT_ASSERT(frame > bare);
	RT_ASSERT_EQ_INT(rt_proto_check_outbound(&msg, (uint32_t) frame, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_proto_check_outbound(&msg, (uint32_t) frame - 1, err, sizeof(err)),
			-EMSGSIZE);
	RT_ASSERT(strstr(err, "realtime.max_outbound=") != NULL);
	/* One that has its position already is measured as it is. */
	f.positions = &small;
	rt_msg_view(&positioned, RT_MSG_PUBLISH, &f);
	frame = rt_proto_message_frame_max(&positioned);
	RT_ASSERT_EQ_INT(rt_proto_check_outbound(&positioned, (uint32_t) frame, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_proto_check_outbound(&positioned, (uint32_t) frame - 1, err,
			sizeof(err)), -EMSGSIZE);
	f.positions = NULL;
	rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
	/* Messages that frame nothing for clients are not limited here. */
	rt_msg_view(&msg, RT_MSG_STATE, &f);
	RT_ASSERT_EQ_INT(rt_proto_check_outbound(&msg, 1024, err, sizeof(err)), 0);
	free(data);
}

int main(void)
{
	RT_RUN(frame_size_is_exact);
	RT_RUN(check_outbound_at_the_limit);
	return rt_test_summary();
}
