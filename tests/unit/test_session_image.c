/* hub/model/session_image.c: a session as bytes and back, and a decoder that
 * refuses truncated, garbage and over-limit input. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "hub/model/config.h"
#include "hub/model/session_image.h"

static const rt_session_limits lim = {2, 8, 256, 10, 8};

static rt_identity *identity(const char *user, const char *info, const char **patterns, size_t n)
{
	rt_identity *id = calloc(1, sizeof(*id));

	id->user_id = strdup(user);
	id->user_id_len = strlen(user);
	if (info != NULL) {
		id->user_info = strdup(info);
		id->user_info_len = strlen(info);
	}
	id->patterns = n ? calloc(n, sizeof(char *)) : NULL;
	for (size_t i = 0; i < n; i++) {
		id->patterns[i] = strdup(patterns[i]);
	}
	id->pattern_count = n;
	return id;
}

/* A signed-in Pusher client on a public, a private and a presence channel. */
static void sample(rt_session_image *img)
{
	static const char *patterns[] = {"private-*", "presence-room"};
	static char names[3][32] = {"news", "private-a", "presence-room"};

	memset(img, 0, sizeof(*img));
	img->proto = 1;
	img->id_len = (uint8_t) strlen("7.123456789012345678");
	memcpy(img->id, "7.123456789012345678", img->id_len);
	img->identity = identity("alice", "{\"name\":\"Alice\"}", patterns, 2);
	img->bucket_age = 1234;
	img->bucket_tokens = 9;
	img->sub_age = 77;
	img->sub_tokens = 3;
	img->subs = calloc(3, sizeof(*img->subs));
	for (int i = 0; i < 3; i++) {
		img->subs[i].name = strdup(names[i]);
		img->subs[i].name_len = strlen(names[i]);
	}
	img->subs[2].member = identity("alice", "{\"seat\":4}", NULL, 0);
	img->sub_count = 3;
}

static void encode(const rt_session_image *img, rt_sb *sb)
{
	rt_sb_init(sb);
	RT_ASSERT_EQ_INT(rt_session_image_encode(img, sb), 0);
}

RT_TEST(round_trip)
{
	rt_session_image a, b;
	rt_sb sb, again;
	char err[128];

	sample(&a);
	encode(&a, &sb);
	RT_ASSERT_EQ_INT(rt_session_image_decode(&b, sb.data, sb.len, &lim, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(b.proto, 1);
	RT_ASSERT_EQ_STR(b.id, "7.123456789012345678");
	RT_ASSERT_EQ_INT(b.bucket_age, 1234);
	RT_ASSERT_EQ_INT(b.bucket_tokens, 9);
	RT_ASSERT_EQ_INT(b.sub_age, 77);
	RT_ASSERT_EQ_INT(b.sub_tokens, 3);
	RT_ASSERT(b.identity != NULL);
	RT_ASSERT_EQ_STR(b.identity->user_id, "alice");
	RT_ASSERT_EQ_STR(b.identity->user_info, "{\"name\":\"Alice\"}");
	RT_ASSERT_EQ_INT(b.identity->pattern_count, 2);
	RT_ASSERT_EQ_STR(b.identity->patterns[1], "presence-room");
	RT_ASSERT_EQ_INT(b.sub_count, 3);
	RT_ASSERT_EQ_STR(b.subs[1].name, "private-a");
	RT_ASSERT(b.subs[0].member == NULL);
	RT_ASSERT(b.subs[2].member != NULL);
	RT_ASSERT_EQ_STR(b.subs[2].member->user_info, "{\"seat\":4}");
	/* Encoding what was decoded gives the same bytes. */
	encode(&b, &again);
	RT_ASSERT_EQ_INT(again.len, sb.len);
	RT_ASSERT(memcmp(again.data, sb.data, sb.len) == 0);
	rt_sb_free(&again);
	rt_sb_free(&sb);
	rt_session_image_free(&a);
	rt_session_image_free(&b);
}

RT_TEST(anonymous_native_without_subscriptions)
{
	rt_session_image a, b;
	rt_sb sb;
	char err[128];

	memset(&a, 0, sizeof(a));
	a.id_len = 3;
	memcpy(a.id, "1.2", 3);
	encode(&a, &sb);
	RT_ASSERT_EQ_INT(rt_session_image_decode(&b, sb.data, sb.len, &lim, err, sizeof(err)), 0);
	RT_ASSERT(b.identity == NULL);
	RT_ASSERT_EQ_INT(b.sub_count, 0);
	RT_ASSERT_EQ_INT(b.proto, 0);
	RT_ASSERT_EQ_STR(b.id, "1.2");
	rt_sb_free(&sb);
	rt_session_image_free(&b);
}

/* Every prefix of a good image is refused, as is one extra byte. */
RT_TEST(truncated_and_trailing)
{
	rt_session_image a, b;
	rt_sb sb;
	char err[128];

	sample(&a);
	encode(&a, &sb);
	for (size_t n = 0; n < sb.len; n++) {
		/* A copy of exactly n bytes, so ASan sees any read past them. */
		char *cut = malloc(n ? n : 1);
		memcpy(cut, sb.data, n);
		if (rt_session_image_decode(&b, cut, n, &lim, err, sizeof(err)) != -EINVAL) {
			free(cut);
			RT_FAIL_("a prefix of %zu bytes was not refused", n);
			break;
		}
		RT_ASSERT(b.subs == NULL && b.identity == NULL);
		free(cut);
	}
	rt_sb_append(&sb, "x", 1);
	RT_ASSERT_EQ_INT(rt_session_image_decode(&b, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	RT_ASSERT(strstr(err, "bytes after the end") != NULL);
	rt_sb_free(&sb);
	rt_session_image_free(&a);
}

/* Random bytes, and a good image with each byte flipped: no crash, no
 * leak, and whatever is accepted is within the limits. */
RT_TEST(garbage)
{
	rt_session_image a, b;
	rt_sb sb;
	char err[128], junk[512];
	uint32_t seed = 12345;

	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t) (round % (int) sizeof(junk));
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (char) (seed >> 16);
		}
		if (n >= 4) {
			memcpy(junk, "RTS1", 4); /* past the magic, into the fields */
		}
		if (rt_session_image_decode(&b, junk, n, &lim, err, sizeof(err)) == 0) {
			RT_ASSERT(b.sub_count <= lim.max_subscriptions);
			rt_session_image_free(&b);
		}
	}
	sample(&a);
	encode(&a, &sb);
	for (size_t i = 0; i < sb.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			sb.data[i] ^= (char) (1 << bit);
			if (rt_session_image_decode(&b, sb.data, sb.len, &lim, err, sizeof(err)) == 0) {
				RT_ASSERT(b.proto < lim.protocols);
				RT_ASSERT(b.sub_count <= lim.max_subscriptions);
				rt_session_image_free(&b);
			}
			sb.data[i] ^= (char) (1 << bit);
		}
	}
	rt_sb_free(&sb);
	rt_session_image_free(&a);
}

static void expect_refused(rt_session_image *img, const rt_session_limits *l, const char *why)
{
	rt_session_image b;
	rt_sb sb;
	char err[128];

	encode(img, &sb);
	RT_ASSERT_EQ_INT(rt_session_image_decode(&b, sb.data, sb.len, l, err, sizeof(err)), -EINVAL);
	if (strstr(err, why) == NULL) {
		RT_FAIL_("expected \"%s\", got \"%s\"", why, err);
	}
	rt_sb_free(&sb);
}

RT_TEST(limits)
{
	rt_session_image a;
	rt_session_limits l = lim;
	char saved;

	sample(&a);
	l.max_subscriptions = 2;
	expect_refused(&a, &l, "max_subscriptions");
	l = lim;
	l.max_user_info = 10;
	expect_refused(&a, &l, "max_user_info");
	l = lim;
	l.protocols = 1;
	expect_refused(&a, &l, "unknown protocol");
	l = lim;
	l.event_burst = 8; /* the sample holds 9 */
	expect_refused(&a, &l, "over its burst");
	l = lim;
	l.subscribe_burst = 2; /* the sample holds 3 */
	expect_refused(&a, &l, "over its burst");
	saved = a.subs[1].name[0];
	a.subs[1].name[0] = ' ';
	expect_refused(&a, &lim, "invalid channel name");
	a.subs[1].name[0] = saved;
	a.subs[0].member = a.subs[2].member;
	expect_refused(&a, &lim, "not a presence channel");
	a.subs[0].member = NULL;
	memcpy(a.subs[1].name, "news\0", 5);
	a.subs[1].name_len = 4;
	expect_refused(&a, &lim, "listed twice");
	memcpy(a.subs[1].name, "private-a", 10);
	a.subs[1].name_len = 9;
	a.id[0] = 'x';
	expect_refused(&a, &lim, "bad connection id");
	a.id[0] = '7';
	a.identity->user_info[0] = '[';
	expect_refused(&a, &lim, "not JSON");
	rt_session_image_free(&a);
}

int main(void)
{
	RT_RUN(round_trip);
	RT_RUN(anonymous_native_without_subscriptions);
	RT_RUN(truncated_and_trailing);
	RT_RUN(garbage);
	RT_RUN(limits);
	return rt_test_summary();
}
