/* hub/proto/native.c, hub/proto/pusher.c, hub/proto/proto.c: what each protocol frames for
 * fan-out, that message_size matches it byte for byte, Pusher's close codes
 * and its signature checks. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/model/registry.h"
#include "hub/wire/frame.h"
#include "hub/proto/proto.h"
#include "hub/proto/pusher.h"
#include "hub/model/token.h"
#include "hub/net/transport.h"

/* The text payload of an unmasked server frame, NUL-terminated (malloc'd). */
static char *payload(rt_buf *frame)
{
	size_t h = 2, len;
	char *out;

	if (frame == NULL || frame->len < 2 || (uint8_t) frame->data[0] != 0x81) {
		return NULL;
	}
	len = (uint8_t) frame->data[1] & 0x7f;
	if (len == 126) {
		len = ((size_t) (uint8_t) frame->data[2] << 8) | (uint8_t) frame->data[3];
		h = 4;
	}
	if (h + len != frame->len) {
		return NULL;
	}
	out = malloc(len + 1);
	memcpy(out, frame->data + h, len);
	out[len] = '\0';
	rt_buf_unref(frame);
	return out;
}

static rt_msg *message(rt_msg_type type, const char *channel, const char *event, const char *data,
		const char *target)
{
	rt_msg_fields f = {0};
	rt_str ch = {channel, channel ? strlen(channel) : 0};

	if (channel != NULL) {
		f.channels = &ch;
		f.channel_count = 1;
	}
	f.event.ptr = event;
	f.event.len = event ? strlen(event) : 0;
	f.data.ptr = data;
	f.data.len = data ? strlen(data) : 0;
	f.target.ptr = target;
	f.target.len = target ? strlen(target) : 0;
	return rt_msg_new(type, &f);
}

static void check_message(const rt_proto_ops *ops, const rt_msg *msg, rt_str channel,
		const char *want)
{
	char *got = payload(ops->frame_message(msg, channel));

	RT_ASSERT(got != NULL);
	RT_ASSERT_EQ_STR(got, want);
	RT_ASSERT_EQ_INT(ops->message_size(msg, channel), strlen(want));
	free(got);
}

RT_TEST(native_messages)
{
	rt_msg *m = message(RT_MSG_PUBLISH, "news", "up\"d", "{\"a\":1}", NULL);
	rt_str ch = {"news", 4}, none = {NULL, 0};

	check_message(&rt_proto_native, m, ch,
			"{\"type\":\"message\",\"channel\":\"news\",\"event\":\"up\\\"d\",\"data\":{\"a\":1}}");
	check_message(&rt_proto_native, m, none,
			"{\"type\":\"message\",\"event\":\"up\\\"d\",\"data\":{\"a\":1}}");
	rt_msg_free(m);
	m = message(RT_MSG_PUBLISH, "news", NULL, "2", NULL);
	check_message(&rt_proto_native, m, ch, "{\"type\":\"message\",\"channel\":\"news\",\"data\":2}");
	rt_msg_free(m);
}

RT_TEST(pusher_messages)
{
	rt_msg *m = message(RT_MSG_PUBLISH, "news", "up", "{\"a\":1}", NULL);
	rt_str ch = {"news", 4}, none = {NULL, 0};

	/* Pusher's data is a string: JSON that is not one goes encoded. */
	check_message(&rt_proto_pusher, m, ch,
			"{\"event\":\"up\",\"channel\":\"news\",\"data\":\"{\\\"a\\\":1}\"}");
	rt_msg_free(m);
	m = message(RT_MSG_PUBLISH, "news", NULL, "\"text\"", NULL);
	check_message(&rt_proto_pusher, m, ch, "{\"event\":\"message\",\"channel\":\"news\",\"data\":\"text\"}");
	rt_msg_free(m);
	/* To a user: on the user's own channel, which pusher-js hands to user.bind(). */
	m = message(RT_MSG_TO_USER, NULL, "hi", "1", "u\"1");
	check_message(&rt_proto_pusher, m, none,
			"{\"event\":\"hi\",\"channel\":\"#server-to-user-u\\\"1\",\"data\":\"1\"}");
	rt_msg_free(m);
}

/* Frames of every size class measure what they build. */
RT_TEST(message_size_matches_large_frames)
{
	char data[70000];
	rt_str ch = {"c", 1};
	rt_msg *m;

	memset(data, 'x', sizeof(data) - 3);
	data[0] = '"';
	data[sizeof(data) - 3] = '"';
	data[sizeof(data) - 2] = '\0';
	m = message(RT_MSG_PUBLISH, "c", "e", data, NULL);
	for (int p = 0; p < RT_PROTO_COUNT; p++) {
		rt_buf *f = rt_proto(p)->frame_message(m, ch);
		RT_ASSERT(f != NULL);
		RT_ASSERT_EQ_INT(f->len, rt_proto_frame_size(p, rt_proto(p)->message_size(m, ch)));
		rt_buf_unref(f);
	}
	RT_ASSERT(rt_proto_message_frame_max(m) >= sizeof(data));
	rt_msg_free(m);
}

static rt_channel *channel(rt_registry *reg, const char *name, rt_sub **sub)
{
	static char session;

	rt_registry_init(reg);
	rt_registry_subscribe(reg, (struct rt_session *) &session, name, strlen(name), sub);
	return (*sub)->channel;
}

RT_TEST(members_and_whispers)
{
	rt_registry reg;
	rt_sub *sub;
	rt_channel *ch = channel(&reg, "presence-r", &sub);
	rt_member *m = calloc(1, sizeof(*m) + 2);
	rt_whisper w = {{"presence-r", 10}, {"typing", 6}, {"{}", 2}, {"1.2", 3}, {"u", 1}};
	char *got;

	memcpy(m->id, "u", 2);
	m->id_len = 1;
	got = payload(rt_proto_native.frame_member_added(ch, m));
	RT_ASSERT_EQ_STR(got, "{\"type\":\"member_added\",\"channel\":\"presence-r\","
			"\"member\":{\"id\":\"u\",\"info\":null}}");
	free(got);
	got = payload(rt_proto_pusher.frame_member_added(ch, m));
	RT_ASSERT_EQ_STR(got, "{\"event\":\"pusher_internal:member_added\",\"channel\":\"presence-r\","
			"\"data\":\"{\\\"user_id\\\":\\\"u\\\",\\\"user_info\\\":null}\"}");
	free(got);
	got = payload(rt_proto_native.frame_member_removed(ch, "u", 1));
	RT_ASSERT_EQ_STR(got, "{\"type\":\"member_removed\",\"channel\":\"presence-r\","
			"\"member\":{\"id\":\"u\"}}");
	free(got);
	got = payload(rt_proto_pusher.frame_member_removed(ch, "u", 1));
	RT_ASSERT_EQ_STR(got, "{\"event\":\"pusher_internal:member_removed\",\"channel\":\"presence-r\","
			"\"data\":\"{\\\"user_id\\\":\\\"u\\\"}\"}");
	free(got);
	/* A native whisper "typing" is Pusher's client event "client-typing". */
	got = payload(rt_proto_native.frame_whisper(&w));
	RT_ASSERT_EQ_STR(got, "{\"type\":\"whisper\",\"channel\":\"presence-r\",\"event\":\"typing\","
			"\"data\":{},\"from\":{\"connection_id\":\"1.2\",\"user_id\":\"u\"}}");
	free(got);
	got = payload(rt_proto_pusher.frame_whisper(&w));
	RT_ASSERT_EQ_STR(got, "{\"event\":\"client-typing\",\"channel\":\"presence-r\",\"data\":{},"
			"\"user_id\":\"u\"}");
	free(got);
	free(m);
	rt_registry_free(&reg);
}

RT_TEST(pusher_close_codes)
{
	RT_ASSERT(rt_proto_native.close_code == NULL);
	RT_ASSERT_EQ_INT(rt_proto_pusher.close_code(RT_CLOSE_PING_TIMEOUT), 4201);
	RT_ASSERT_EQ_INT(rt_proto_pusher.close_code(RT_CLOSE_SLOW_CONSUMER), 4100);
	RT_ASSERT_EQ_INT(rt_proto_pusher.close_code(1001), 4200);
	RT_ASSERT_EQ_INT(rt_proto_pusher.close_code(RT_CLOSE_DISCONNECTED), RT_CLOSE_DISCONNECTED);
}

RT_TEST(pusher_signatures)
{
	const char *subject = "1.2:private-x";
	char sig[65], auth[128], err[200];

	rt_hmac_sha256_hex("sec", 3, subject, strlen(subject), sig);
	snprintf(auth, sizeof(auth), "key:%s", sig);
	RT_ASSERT(rt_pusher_auth_valid("key", "sec", auth, strlen(auth), subject, strlen(subject),
			err, sizeof(err)));
	/* Another subject (socket or channel), key or secret: refused. */
	RT_ASSERT(!rt_pusher_auth_valid("key", "sec", auth, strlen(auth), "1.3:private-x", 13, err,
			sizeof(err)));
	RT_ASSERT_EQ_STR(err, "invalid signature");
	RT_ASSERT(!rt_pusher_auth_valid("kez", "sec", auth, strlen(auth), subject, strlen(subject),
			err, sizeof(err)));
	RT_ASSERT(strstr(err, "app key") != NULL);
	RT_ASSERT(!rt_pusher_auth_valid("key", "sed", auth, strlen(auth), subject, strlen(subject),
			err, sizeof(err)));
	/* Truncated, missing, or no secret to check with. */
	RT_ASSERT(!rt_pusher_auth_valid("key", "sec", auth, strlen(auth) - 1, subject,
			strlen(subject), err, sizeof(err)));
	RT_ASSERT(!rt_pusher_auth_valid("key", "sec", NULL, 0, subject, strlen(subject), err,
			sizeof(err)));
	RT_ASSERT_EQ_STR(err, "an auth signature is required");
	RT_ASSERT(!rt_pusher_auth_valid("key", "", auth, strlen(auth), subject, strlen(subject), err,
			sizeof(err)));
	RT_ASSERT(strstr(err, "app_secret") != NULL);
}

RT_TEST(pusher_names)
{
	const char *user;
	size_t len;

	RT_ASSERT(rt_pusher_user_channel("#server-to-user-42", 18, &user, &len));
	RT_ASSERT(len == 2 && memcmp(user, "42", 2) == 0);
	RT_ASSERT(!rt_pusher_user_channel("private-42", 10, &user, &len));
	RT_ASSERT(rt_pusher_socket_id_valid("1.2", 3));
	RT_ASSERT(!rt_pusher_socket_id_valid("1.", 2));
	RT_ASSERT(!rt_pusher_socket_id_valid("a.2", 3));
	RT_ASSERT(!rt_pusher_socket_id_valid("12", 2));
}

int main(void)
{
	RT_RUN(native_messages);
	RT_RUN(pusher_messages);
	RT_RUN(message_size_matches_large_frames);
	RT_RUN(members_and_whispers);
	RT_RUN(pusher_close_codes);
	RT_RUN(pusher_signatures);
	RT_RUN(pusher_names);
	return rt_test_summary();
}
