/* hub/model/msg.c: messages handed to the hub thread are one self-contained block. */
#include "rt_test.h"

#include <malloc.h>
#include <stdlib.h>

#include "hub/model/msg.h"

static const rt_str none = {NULL, 0};

static rt_str str(const char *s)
{
	rt_str r = {s, strlen(s)};
	return r;
}

/* The one place that knows rt_msg_new's signature. */
static rt_msg *make_msg(rt_msg_type type, const rt_str *channels, uint32_t n,
		rt_str event, rt_str data, rt_str exclude)
{
	rt_msg_fields fl = {0};

	memset(&fl, 0, sizeof(fl));
	fl.channels = channels;
	fl.channel_count = n;
	fl.event = event;
	fl.data = data;
	fl.exclude = exclude;
	return rt_msg_new(type, &fl);
}

/* s lies inside msg's allocation, NUL-terminated. */
static void check_inside(const rt_msg *msg, rt_str s, const char *what)
{
	const char *lo = (const char *) msg;
	const char *hi = lo + malloc_usable_size((void *) msg);

	if (s.ptr == NULL) {
		return;
	}
	if (s.ptr < lo || s.ptr + s.len + 1 > hi) {
		RT_FAIL_("%s is not inside the message block", what);
		return;
	}
	if (s.ptr[s.len] != '\0') {
		RT_FAIL_("%s is not NUL-terminated", what);
		return;
	}
}

static void check_str(rt_str s, const char *want, size_t want_len)
{
	RT_ASSERT(s.ptr != NULL);
	RT_ASSERT_EQ_INT(s.len, want_len);
	RT_ASSERT_MEM(s.ptr, want, want_len);
}

RT_TEST(copies_everything)
{
	char ch0[] = "news", ch1[] = "sport.football", ev[] = "update";
	char data[] = "{\"score\":[1,2]}", ex[] = "12345.6";
	rt_str chans[2];
	rt_msg *msg;

	chans[0] = str(ch0);
	chans[1] = str(ch1);
	msg = make_msg(RT_MSG_PUBLISH, chans, 2, str(ev), str(data), str(ex));
	RT_ASSERT(msg != NULL);
	/* Scribble over every source, including the channel array. */
	memset(ch0, '?', strlen(ch0));
	memset(ch1, '?', strlen(ch1));
	memset(ev, '?', strlen(ev));
	memset(data, '?', strlen(data));
	memset(ex, '?', strlen(ex));
	memset(chans, 0, sizeof(chans));

	RT_ASSERT(msg->next == NULL);
	RT_ASSERT_EQ_INT(msg->type, RT_MSG_PUBLISH);
	RT_ASSERT_EQ_INT(msg->channel_count, 2);
	check_str(msg->channels[0], "news", 4);
	check_str(msg->channels[1], "sport.football", 14);
	check_str(msg->event, "update", 6);
	check_str(msg->data, "{\"score\":[1,2]}", 15);
	check_str(msg->exclude, "12345.6", 7);

	/* One block: the channel array and every string live inside it. */
	RT_ASSERT((const char *) msg->channels > (const char *) msg);
	check_inside(msg, msg->channels[0], "channel 0");
	check_inside(msg, msg->channels[1], "channel 1");
	check_inside(msg, msg->event, "event");
	check_inside(msg, msg->data, "data");
	check_inside(msg, msg->exclude, "exclude");
	RT_ASSERT((const char *) (msg->channels + 2)
			<= (const char *) msg + malloc_usable_size(msg));
	rt_msg_free(msg); /* a single free releases it all (ASan checks) */
}

RT_TEST(null_event_and_exclude_stay_null)
{
	rt_str ch = str("news");
	rt_msg *msg = make_msg(RT_MSG_PUBLISH, &ch, 1, none, str("\"hello\""), none);

	RT_ASSERT(msg != NULL);
	RT_ASSERT(msg->event.ptr == NULL);
	RT_ASSERT_EQ_INT(msg->event.len, 0);
	RT_ASSERT(msg->exclude.ptr == NULL);
	RT_ASSERT_EQ_INT(msg->exclude.len, 0);
	check_str(msg->data, "\"hello\"", 7);
	check_inside(msg, msg->data, "data");
	rt_msg_free(msg);
}

/* A control message for one connection: its own copies, and it travels
 * between processes (the target's hub may be another). */
RT_TEST(to_connection_copies_and_travels)
{
	char data[] = "{\"key\":7}", target[] = "12.lp3";
	rt_msg *msg = rt_msg_to_connection("poll_batch", data, strlen(data), target, strlen(target));
	char wire[256];
	size_t n;
	rt_msg *back;

	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(msg->type, RT_MSG_TO_CONNECTION);
	memset(data, 'x', strlen(data));
	memset(target, 'y', strlen(target));
	check_str(msg->event, "poll_batch", 10);
	check_str(msg->data, "{\"key\":7}", 9);
	check_str(msg->target, "12.lp3", 6);
	check_inside(msg, msg->target, "target");
	n = rt_msg_encode(msg, wire, sizeof(wire));
	RT_ASSERT(n > 0 && n <= sizeof(wire));
	back = rt_msg_decode(wire, n);
	RT_ASSERT(back != NULL);
	RT_ASSERT_EQ_INT(back->type, RT_MSG_TO_CONNECTION);
	check_str(back->target, "12.lp3", 6);
	check_str(back->data, "{\"key\":7}", 9);
	rt_msg_free(back);
	rt_msg_free(msg);
}

/* An empty string is not "none": it stays a (valid, empty) string. */
RT_TEST(empty_strings_are_not_null)
{
	rt_str ch = str("c");
	rt_msg *msg = make_msg(RT_MSG_PUBLISH, &ch, 1, str(""), str("null"), str(""));

	RT_ASSERT(msg != NULL);
	RT_ASSERT(msg->event.ptr != NULL);
	RT_ASSERT_EQ_INT(msg->event.len, 0);
	RT_ASSERT_EQ_STR(msg->event.ptr, "");
	RT_ASSERT(msg->exclude.ptr != NULL);
	RT_ASSERT_EQ_STR(msg->exclude.ptr, "");
	check_inside(msg, msg->event, "event");
	check_inside(msg, msg->exclude, "exclude");
	rt_msg_free(msg);
}

RT_TEST(many_channels_in_order)
{
	enum { N = 100 };
	static char names[N][16];
	rt_str chans[N];
	rt_msg *msg;

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "ch-%d", i * 37);
		chans[i] = str(names[i]);
	}
	msg = make_msg(RT_MSG_PUBLISH, chans, N, str("e"), str("1"), none);
	RT_ASSERT(msg != NULL);
	memset(names, 0, sizeof(names));
	RT_ASSERT_EQ_INT(msg->channel_count, N);
	for (int i = 0; i < N; i++) {
		char want[16];
		snprintf(want, sizeof(want), "ch-%d", i * 37);
		RT_ASSERT_EQ_STR(msg->channels[i].ptr, want);
		RT_ASSERT_EQ_INT(msg->channels[i].len, strlen(want));
		check_inside(msg, msg->channels[i], "channel");
	}
	rt_msg_free(msg);
}

/* Lengths, not NULs, delimit the copies. */
RT_TEST(binary_safe)
{
	static const char data[] = "a\0b\0c";
	static const char chan[] = "x\0y";
	rt_str ch = {chan, 3};
	rt_str d = {data, 5};
	rt_str ev = {"evtTRAILING", 3};
	rt_msg *msg = make_msg(RT_MSG_PUBLISH, &ch, 1, ev, d, none);

	RT_ASSERT(msg != NULL);
	check_str(msg->channels[0], "x\0y", 3);
	check_str(msg->data, "a\0b\0c", 5);
	check_str(msg->event, "evt", 3);
	RT_ASSERT_EQ_INT(msg->event.ptr[3], '\0');
	rt_msg_free(msg);
}

RT_TEST(no_channels)
{
	rt_msg *msg = make_msg(RT_MSG_STOP, NULL, 0, none, none, none);

	RT_ASSERT(msg != NULL);
	RT_ASSERT_EQ_INT(msg->type, RT_MSG_STOP);
	RT_ASSERT_EQ_INT(msg->channel_count, 0);
	RT_ASSERT(msg->data.ptr == NULL);
	RT_ASSERT(msg->event.ptr == NULL);
	RT_ASSERT(msg->exclude.ptr == NULL);
	rt_msg_free(msg);
}

RT_TEST(large_data)
{
	size_t n = 4u << 20;
	char *data = malloc(n);
	rt_str ch = str("big"), d;
	rt_msg *msg;

	RT_ASSERT(data != NULL);
	for (size_t i = 0; i < n; i++) {
		data[i] = (char) ('a' + i % 23);
	}
	d.ptr = data;
	d.len = n;
	msg = make_msg(RT_MSG_PUBLISH, &ch, 1, none, d, none);
	if (msg == NULL) {
		free(data);
		RT_FAIL_("rt_msg_new failed");
		return;
	}
	RT_ASSERT_EQ_INT(msg->data.len, n);
	if (memcmp(msg->data.ptr, data, n) != 0) {
		RT_FAIL_("data differs");
	}
	free(data);
	check_inside(msg, msg->data, "data");
	rt_msg_free(msg);
}

RT_TEST(target_origin_count)
{
	char target[] = "user-42";
	rt_msg_fields fl = {0};
	rt_msg *msg;

	memset(&fl, 0, sizeof(fl));
	fl.target = str(target);
	fl.data = str("{}");
	fl.origin = 77;
	fl.count = 3;
	msg = rt_msg_new(RT_MSG_TO_USER, &fl);
	RT_ASSERT(msg != NULL);
	memset(target, '?', strlen(target));
	RT_ASSERT_EQ_INT(msg->type, RT_MSG_TO_USER);
	check_str(msg->target, "user-42", 7);
	check_inside(msg, msg->target, "target");
	RT_ASSERT_EQ_INT(msg->origin, 77);
	RT_ASSERT_EQ_INT(msg->count, 3);
	RT_ASSERT(msg->query == NULL);
	RT_ASSERT_EQ_INT(msg->channel_count, 0);
	RT_ASSERT(msg->event.ptr == NULL);
	RT_ASSERT(msg->exclude.ptr == NULL);
	rt_msg_free(msg);
}

/* ---- encoding between processes ---- */

static rt_msg *sample(void)
{
	static const char data[] = "{\"x\":\"a\0b\"}";
	rt_str chans[3] = {str("news"), str(""), str("presence-room")};
	rt_msg_fields fl = {0};

	memset(&fl, 0, sizeof(fl));
	fl.channels = chans;
	fl.channel_count = 3;
	fl.event = str("ev");
	fl.data.ptr = data;
	fl.data.len = sizeof(data) - 1;
	fl.target = str("u1");
	fl.origin = 0x01020304;
	fl.count = 9;
	return rt_msg_new(RT_MSG_PUBLISH, &fl);
}

static int same_str(rt_str a, rt_str b)
{
	if (a.ptr == NULL || b.ptr == NULL) {
		return a.ptr == b.ptr;
	}
	return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static void check_same_msg(const rt_msg *a, const rt_msg *b)
{
	RT_ASSERT_EQ_INT(a->type, b->type);
	RT_ASSERT_EQ_INT(a->origin, b->origin);
	RT_ASSERT_EQ_INT(a->count, b->count);
	RT_ASSERT_EQ_INT(a->channel_count, b->channel_count);
	for (uint32_t i = 0; i < a->channel_count; i++) {
		RT_ASSERT(same_str(a->channels[i], b->channels[i]));
	}
	RT_ASSERT(same_str(a->event, b->event));
	RT_ASSERT(same_str(a->data, b->data));
	RT_ASSERT(same_str(a->exclude, b->exclude));
	RT_ASSERT(same_str(a->target, b->target));
}

/* Decodes from an exact-size heap copy, so ASan sees any over-read. */
static rt_msg *decode_copy(const char *in, size_t len)
{
	char *copy = malloc(len ? len : 1);
	rt_msg *m;

	if (copy == NULL) {
		return NULL;
	}
	memcpy(copy, in, len);
	m = rt_msg_decode(copy, len);
	free(copy);
	return m;
}

RT_TEST(encode_decode_round_trip)
{
	rt_msg *m = sample(), *back;
	char buf[512];
	size_t n;

	RT_ASSERT(m != NULL);
	n = rt_msg_encode(m, buf, sizeof(buf));
	RT_ASSERT(n > 0);
	RT_ASSERT_EQ_INT(n, rt_msg_encoded_size(m));
	back = decode_copy(buf, n);
	if (back == NULL) {
		rt_msg_free(m);
		RT_FAIL_("decoding a fresh encoding failed");
		return;
	}
	check_same_msg(m, back);
	/* The decoded message owns its bytes: it outlives the buffer. */
	RT_ASSERT(back->channels[1].ptr != NULL);
	RT_ASSERT_EQ_INT(back->channels[1].len, 0);
	RT_ASSERT(back->exclude.ptr == NULL);
	RT_ASSERT(back->query == NULL);
	rt_msg_free(back);
	rt_msg_free(m);
}

/* The publish time (for /metrics' latency) travels as an 8-byte tail
 * flagged in the type byte; a message without one encodes as before. */
RT_TEST(publish_time_travels)
{
	rt_msg *m = sample(), *back, *copy;
	char buf[512];
	size_t plain, n;

	RT_ASSERT(m != NULL);
	plain = rt_msg_encoded_size(m);
	m->born = 0x0102030405060708ull;
	n = rt_msg_encode(m, buf, sizeof(buf));
	RT_ASSERT_EQ_INT(n, plain + 8);
	RT_ASSERT_EQ_INT((unsigned char) buf[0], m->type | 0x80);
	back = decode_copy(buf, n);
	RT_ASSERT(back != NULL);
	if (back != NULL) {
		check_same_msg(m, back);
		RT_ASSERT(back->born == m->born);
		copy = rt_msg_copy(back);
		RT_ASSERT(copy != NULL && copy->born == m->born);
		rt_msg_free(copy);
		rt_msg_free(back);
	}
	/* A flagged message too short for its tail is refused, not read past. */
	for (size_t cut = 0; cut < n; cut++) {
		RT_ASSERT(decode_copy(buf, cut) == NULL);
	}
	/* Flagged with a time of 0, which encodes unflagged: refused, so that
	 * what decodes encodes back to the same bytes (found by fuzz_msg). */
	memset(buf + n - 8, 0, 8);
	RT_ASSERT(decode_copy(buf, n) == NULL);
	m->born = 0;
	RT_ASSERT_EQ_INT(rt_msg_encode(m, buf, sizeof(buf)), plain);
	back = decode_copy(buf, plain);
	RT_ASSERT(back != NULL && back->born == 0);
	rt_msg_free(back);
	RT_ASSERT(rt_msg_now_us() > 1600000000ull * 1000000u);
	rt_msg_free(m);
}

RT_TEST(encode_needs_room)
{
	rt_msg *m = sample();
	char buf[512];
	size_t n;

	RT_ASSERT(m != NULL);
	n = rt_msg_encoded_size(m);
	RT_ASSERT(n < sizeof(buf));
	memset(buf, 0x5a, sizeof(buf));
	RT_ASSERT_EQ_INT(rt_msg_encode(m, buf, n - 1), 0);
	RT_ASSERT_EQ_INT(rt_msg_encode(m, buf, 0), 0);
	RT_ASSERT_EQ_INT(rt_msg_encode(m, buf, n), n);
	RT_ASSERT_EQ_INT((unsigned char) buf[n], 0x5a); /* nothing written past n */
	rt_msg_free(m);
}

RT_TEST(decode_rejects_truncation_and_trailing_bytes)
{
	rt_msg *m = sample();
	char buf[512];
	size_t n;

	RT_ASSERT(m != NULL);
	n = rt_msg_encode(m, buf, sizeof(buf) - 1);
	rt_msg_free(m);
	RT_ASSERT(n > 0);
	for (size_t k = 0; k < n; k++) {
		rt_msg *d = decode_copy(buf, k);
		if (d != NULL) {
			rt_msg_free(d);
			RT_FAIL_("a message cut to %zu of %zu bytes decoded", k, n);
			return;
		}
	}
	buf[n] = 0;
	RT_ASSERT(decode_copy(buf, n + 1) == NULL);
}

RT_TEST(decode_rejects_bad_types_and_lengths)
{
	rt_msg *m = sample();
	char buf[512], bad[512];
	size_t n;
	static const int types[] = {0, RT_MSG_STOP, RT_MSG_QUERY, 200, 255};

	RT_ASSERT(m != NULL);
	n = rt_msg_encode(m, buf, sizeof(buf));
	rt_msg_free(m);
	RT_ASSERT(n > 0);
	/* Types that never travel between processes. */
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		memcpy(bad, buf, n);
		bad[0] = (char) types[i];
		RT_ASSERT(decode_copy(bad, n) == NULL);
	}
	/* A first channel length larger than the message. */
	memcpy(bad, buf, n);
	memset(bad + 11, 0x7f, 4);
	RT_ASSERT(decode_copy(bad, n) == NULL);
	/* An absent channel (only other strings may be absent). */
	memcpy(bad, buf, n);
	memset(bad + 11, 0xff, 4);
	RT_ASSERT(decode_copy(bad, n) == NULL);
	/* More channels than there are bytes for. */
	memcpy(bad, buf, n);
	memset(bad + 9, 0xff, 2);
	RT_ASSERT(decode_copy(bad, n) == NULL);
}

/* Random damage never crashes the decoder (ASan), and whatever still
 * decodes re-encodes to exactly the same bytes: the encoding is canonical. */
RT_TEST(decode_survives_damage)
{
	uint64_t st = 0x2545f4914f6cdd1dULL;
	rt_msg *m = sample();
	char buf[512], bad[512], again[1024];
	size_t n;
	int decoded = 0;

	RT_ASSERT(m != NULL);
	n = rt_msg_encode(m, buf, sizeof(buf));
	rt_msg_free(m);
	RT_ASSERT(n > 0);
	for (int round = 0; round < 20000; round++) {
		size_t len = n;
		rt_msg *d;
		int flips;

		memcpy(bad, buf, n);
		st ^= st >> 12;
		st ^= st << 25;
		st ^= st >> 27;
		flips = 1 + (int) (st % 3);
		for (int k = 0; k < flips; k++) {
			uint64_t r = st * 0x2545f4914f6cdd1dULL;
			st += 0x9e3779b97f4a7c15ULL;
			bad[(r >> 8) % n] = (char) (r >> 40);
		}
		if (round % 4 == 0) {
			len = (size_t) ((st >> 20) % (n + 1));
		}
		d = decode_copy(bad, len);
		if (d != NULL) {
			size_t m2 = rt_msg_encode(d, again, sizeof(again));
			decoded++;
			if (m2 != len || memcmp(again, bad, len) != 0) {
				rt_msg_free(d);
				RT_FAIL_("round %d: decoded message re-encodes differently", round);
				return;
			}
			rt_msg_free(d);
		}
	}
	/* Damage to string contents keeps the message well-formed. */
	RT_ASSERT(decoded > 0);
}

/* A view encodes like the message it describes; a copy of it owns its bytes. */
RT_TEST(view_encodes_like_new_and_copies)
{
	char ch0[] = "news", ch1[] = "sport", ev[] = "update", data[] = "{\"a\":1}", ex[] = "7.1";
	rt_str chans[2] = {str(ch0), str(ch1)};
	rt_msg_fields fl = {0};
	rt_msg view, *owned, *copy;
	char a[256], b[256];
	size_t na, nb;

	memset(&fl, 0, sizeof(fl));
	fl.channels = chans;
	fl.channel_count = 2;
	fl.event = str(ev);
	fl.data = str(data);
	fl.exclude = str(ex);
	fl.origin = 42;
	rt_msg_view(&view, RT_MSG_PUBLISH, &fl);
	RT_ASSERT(view.data.ptr == data); /* nothing copied */
	owned = rt_msg_new(RT_MSG_PUBLISH, &fl);
	RT_ASSERT(owned != NULL);
	na = rt_msg_encode(&view, a, sizeof(a));
	nb = rt_msg_encode(owned, b, sizeof(b));
	RT_ASSERT(na > 0);
	RT_ASSERT_EQ_INT(na, nb);
	RT_ASSERT_EQ_INT(rt_msg_encoded_size(&view), na);
	RT_ASSERT_MEM(a, b, na);
	copy = rt_msg_copy(&view);
	RT_ASSERT(copy != NULL);
	memset(data, 'x', sizeof(data) - 1);
	memset(ch1, 'y', sizeof(ch1) - 1);
	check_str(copy->data, "{\"a\":1}", 7);
	check_str(copy->channels[1], "sport", 5);
	check_inside(copy, copy->data, "data");
	check_inside(copy, copy->channels[1], "channel 1");
	RT_ASSERT_EQ_INT(copy->origin, 42);
	nb = rt_msg_encode(copy, b, sizeof(b));
	RT_ASSERT_EQ_INT(nb, na);
	rt_msg_free(copy);
	rt_msg_free(owned);
}

RT_TEST(free_null)
{
	rt_msg_free(NULL);
}

int main(void)
{
	RT_RUN(copies_everything);
	RT_RUN(null_event_and_exclude_stay_null);
	RT_RUN(empty_strings_are_not_null);
	RT_RUN(many_channels_in_order);
	RT_RUN(binary_safe);
	RT_RUN(no_channels);
	RT_RUN(large_data);
	RT_RUN(target_origin_count);
	RT_RUN(encode_decode_round_trip);
	RT_RUN(publish_time_travels);
	RT_RUN(encode_needs_room);
	RT_RUN(decode_rejects_truncation_and_trailing_bytes);
	RT_RUN(decode_rejects_bad_types_and_lengths);
	RT_RUN(decode_survives_damage);
	RT_RUN(view_encodes_like_new_and_copies);
	RT_RUN(free_null);
	RT_RUN(to_connection_copies_and_travels);
	return rt_test_summary();
}
