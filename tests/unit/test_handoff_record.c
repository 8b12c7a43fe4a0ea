/* hub/model/handoff_record.c: what one hub sends another to hand over a
 * connection, and the datagrams that carry it. The decoders take bytes
 * from another process: cut, garbage and over-limit input is refused whole. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "hub/model/handoff_record.h"

static const rt_handoff_limits lim = {{2, 8, 256, 10, 8}, 4096, 1024, 25};

/* A small image: a native client on one channel. */
static void image_bytes(rt_sb *sb)
{
	rt_session_image img;
	rt_session_image_sub sub = {"news", 4, NULL};

	memset(&img, 0, sizeof(img));
	img.proto = 0;
	img.id_len = 3;
	memcpy(img.id, "7.1", 3);
	img.subs = &sub;
	img.sub_count = 1;
	rt_sb_init(sb);
	rt_session_image_encode(&img, sb);
}

static void record_bytes(rt_sb *out, size_t out_len, size_t carry_len)
{
	static uint8_t zeros[8192];
	const uint8_t *pieces[2] = {zeros, zeros + 1};
	size_t lens[2] = {out_len / 2, out_len - out_len / 2};
	rt_sb img;

	image_bytes(&img);
	rt_sb_init(out);
	rt_handoff_record_encode(out, RT_HANDOFF_F_AWAIT_PONG, 12, img.data, img.len, pieces, lens,
			2, zeros, carry_len);
	rt_sb_free(&img);
}

RT_TEST(round_trip)
{
	rt_handoff_record rec;
	char err[160];
	rt_sb sb;

	record_bytes(&sb, 100, 7);
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rec.flags, RT_HANDOFF_F_AWAIT_PONG);
	RT_ASSERT_EQ_INT((int) rec.ping_in, 12);
	RT_ASSERT_EQ_INT((int) rec.out_len, 100);
	RT_ASSERT_EQ_INT((int) rec.carry_len, 7);
	RT_ASSERT_EQ_INT(rec.image.id_len, 3);
	RT_ASSERT_EQ_INT((int) rec.image.sub_count, 1);
	RT_ASSERT_EQ_INT(memcmp(rec.image.subs[0].name, "news", 4), 0);
	rt_handoff_record_free(&rec);
	rt_sb_free(&sb);
}

RT_TEST(every_cut_refused)
{
	rt_handoff_record rec;
	char err[160];
	rt_sb sb;

	record_bytes(&sb, 30, 5);
	for (size_t n = 0; n < sb.len; n++) {
		if (rt_handoff_record_decode(&rec, sb.data, n, &lim, err, sizeof(err)) != -EINVAL) {
			RT_FAIL_("a record cut to %zu of %zu bytes was taken", n, sb.len);
			rt_handoff_record_free(&rec);
			break;
		}
	}
	/* One byte too many is refused as well. */
	rt_sb_append(&sb, "x", 1);
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	RT_ASSERT(strstr(err, "after the record") != NULL);
	rt_sb_free(&sb);
}

RT_TEST(limits_refused)
{
	rt_handoff_record rec;
	char err[160];
	rt_sb sb;

	record_bytes(&sb, 4097, 0);  /* over max_out */
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	RT_ASSERT(strstr(err, "max_outbound") != NULL);
	rt_sb_free(&sb);
	record_bytes(&sb, 0, 1025);  /* over max_carry */
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	RT_ASSERT(strstr(err, "max_message_size") != NULL);
	rt_sb_free(&sb);
	record_bytes(&sb, 0, 0);
	sb.data[4] = 0x80;           /* an unknown flag */
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	sb.data[4] = 0;
	sb.data[8] = 26;             /* a ping beyond realtime.ping_interval */
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	sb.data[8] = 0;
	sb.data[13] = 'X';           /* the image's magic */
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	RT_ASSERT(strstr(err, "session image") != NULL);
	sb.data[0] = 'X';            /* the record's magic */
	RT_ASSERT_EQ_INT(rt_handoff_record_decode(&rec, sb.data, sb.len, &lim, err, sizeof(err)),
			-EINVAL);
	rt_sb_free(&sb);
}

RT_TEST(datagrams)
{
	uint8_t buf[32];
	rt_handoff_dgram d;
	size_t n;

	n = rt_handoff_dgram_head(buf, RT_HANDOFF_HELLO, UINT64_C(0x0102030405060708), 42);
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n), 0);
	RT_ASSERT_EQ_INT(d.type, RT_HANDOFF_HELLO);
	RT_ASSERT_EQ_INT((int) d.node, 42);
	RT_ASSERT(d.fence == UINT64_C(0x0102030405060708));
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n - 1), -EINVAL);
	n = rt_handoff_dgram_head(buf, RT_HANDOFF_HELLO, 1, 0);  /* node 0 is no hub */
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n), -EINVAL);

	n = rt_handoff_dgram_head(buf, RT_HANDOFF_RECORD, 9, 3);
	memcpy(buf + n, "abc", 3);
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n + 3), 0);
	RT_ASSERT_EQ_INT((int) d.seq, 9);
	RT_ASSERT_EQ_INT((int) d.len, 3);
	/* More bytes than the record's total: refused. */
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n + 3 + 1), -EINVAL);
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n - 1), -EINVAL);

	n = rt_handoff_dgram_head(buf, RT_HANDOFF_ACK, 5, 0);
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n), 0);
	RT_ASSERT_EQ_INT((int) d.seq, 5);
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, n + 1), -EINVAL);
	buf[0] = RT_HANDOFF_MORE;
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, 1), -EINVAL);  /* empty */
	buf[0] = 'Z';
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, 5), -EINVAL);
	RT_ASSERT_EQ_INT(rt_handoff_dgram_parse(&d, buf, 0), -EINVAL);
}

int main(void)
{
	RT_RUN(round_trip);
	RT_RUN(every_cut_refused);
	RT_RUN(limits_refused);
	RT_RUN(datagrams);
	return rt_test_summary();
}
