/* hub/frame.c: server frame headers (RFC 6455 section 5.2) and UTF-8. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/frame.h"

static void check_header(uint8_t opcode, uint64_t len, const uint8_t *want, size_t want_len)
{
	uint8_t out[16];
	size_t n;

	memset(out, 0xee, sizeof(out));
	n = rt_frame_header(out, opcode, len);
	if (n != want_len) {
		RT_FAIL_("length %" PRIu64 ": header is %zu bytes, expected %zu", len, n, want_len);
		return;
	}
	RT_ASSERT_MEM(out, want, want_len);
	/* Nothing written past the header. */
	RT_ASSERT_EQ_INT(out[n], 0xee);
}

RT_TEST(header_7bit_lengths)
{
	check_header(RT_FRAME_TEXT, 0, (const uint8_t[]){0x81, 0x00}, 2);
	check_header(RT_FRAME_TEXT, 1, (const uint8_t[]){0x81, 0x01}, 2);
	check_header(RT_FRAME_TEXT, 125, (const uint8_t[]){0x81, 0x7d}, 2);
}

RT_TEST(header_16bit_lengths)
{
	check_header(RT_FRAME_TEXT, 126, (const uint8_t[]){0x81, 0x7e, 0x00, 0x7e}, 4);
	check_header(RT_FRAME_TEXT, 256, (const uint8_t[]){0x81, 0x7e, 0x01, 0x00}, 4);
	check_header(RT_FRAME_TEXT, 65535, (const uint8_t[]){0x81, 0x7e, 0xff, 0xff}, 4);
}

RT_TEST(header_64bit_lengths)
{
	check_header(RT_FRAME_TEXT, 65536,
			(const uint8_t[]){0x81, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, 10);
	check_header(RT_FRAME_TEXT, 4294967296ULL,
			(const uint8_t[]){0x81, 0x7f, 0, 0, 0, 0x01, 0, 0, 0, 0}, 10);
	check_header(RT_FRAME_TEXT, 0x0102030405060708ULL,
			(const uint8_t[]){0x81, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8}, 10);
	/* The most significant bit must be 0 (RFC 6455 5.2); lengths that
	 * large cannot be produced, the largest realistic one is framed plainly. */
	check_header(RT_FRAME_TEXT, 0x7fffffffffffffffULL,
			(const uint8_t[]){0x81, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 10);
}

RT_TEST(header_opcodes)
{
	/* FIN set, RSV bits clear, never masked. */
	check_header(RT_FRAME_CLOSE, 2, (const uint8_t[]){0x88, 0x02}, 2);
	check_header(RT_FRAME_PING, 0, (const uint8_t[]){0x89, 0x00}, 2);
	/* Only the low four bits of the opcode are used. */
	check_header(0xf1, 0, (const uint8_t[]){0x81, 0x00}, 2);
}

RT_TEST(frame_new_small)
{
	rt_buf *b = rt_frame_new(RT_FRAME_TEXT, "hello", 5);

	RT_ASSERT(b != NULL);
	RT_ASSERT_EQ_INT(b->refs, 1);
	RT_ASSERT_EQ_INT(b->len, 7);
	RT_ASSERT_MEM(b->data, "\x81\x05hello", 7);
	rt_buf_unref(b);
}

RT_TEST(frame_new_empty)
{
	rt_buf *b = rt_frame_new(RT_FRAME_PING, NULL, 0);

	RT_ASSERT(b != NULL);
	RT_ASSERT_EQ_INT(b->len, 2);
	RT_ASSERT_MEM(b->data, "\x89\x00", 2);
	rt_buf_unref(b);
}

static void check_frame_new(size_t len, size_t hlen)
{
	char *payload = malloc(len);
	uint8_t header[10];
	rt_buf *b;

	RT_ASSERT(payload != NULL);
	for (size_t i = 0; i < len; i++) {
		payload[i] = (char) (i * 7 + 3);
	}
	b = rt_frame_new(RT_FRAME_TEXT, payload, len);
	if (b == NULL) {
		free(payload);
		RT_FAIL_("rt_frame_new(%zu) failed", len);
		return;
	}
	RT_ASSERT_EQ_INT(rt_frame_header(header, RT_FRAME_TEXT, len), hlen);
	if (b->len != hlen + len || memcmp(b->data, header, hlen) != 0
			|| memcmp(b->data + hlen, payload, len) != 0) {
		RT_FAIL_("frame of %zu bytes: wrong content", len);
	}
	free(payload);
	rt_buf_unref(b);
}

RT_TEST(frame_new_sizes)
{
	check_frame_new(125, 2);
	check_frame_new(126, 4);
	check_frame_new(65535, 4);
	check_frame_new(65536, 10);
	check_frame_new(300000, 10);
}

/* ---- UTF-8 ---- */

/* Checks on an exact-size heap copy, so ASan catches any read past len. */
static int utf8(const char *s, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int r;

	if (copy == NULL) {
		return -1;
	}
	memcpy(copy, s, len);
	r = rt_utf8_valid(copy, len);
	free(copy);
	return r;
}

#define VALID(lit) expect_utf8(lit, sizeof(lit) - 1, 1, #lit)
#define INVALID(lit) expect_utf8(lit, sizeof(lit) - 1, 0, #lit)

static void expect_utf8(const char *s, size_t len, int want, const char *text)
{
	int r = utf8(s, len);

	if (r != want) {
		RT_FAIL_("rt_utf8_valid(%s) = %d, expected %d", text, r, want);
	}
}

RT_TEST(utf8_valid)
{
	VALID("");
	VALID("plain ascii {\"json\":1}");
	VALID("\x00");                    /* U+0000 is valid UTF-8 */
	VALID("\x7f");
	VALID("\xc2\x80");                /* U+0080, smallest 2-byte */
	VALID("\xc3\xa9");                /* é */
	VALID("\xdf\xbf");                /* U+07FF */
	VALID("\xe0\xa0\x80");            /* U+0800, smallest 3-byte */
	VALID("\xe2\x82\xac");            /* € */
	VALID("\xed\x9f\xbf");            /* U+D7FF, just below the surrogates */
	VALID("\xee\x80\x80");            /* U+E000, just above them */
	VALID("\xef\xbf\xbd");            /* U+FFFD */
	VALID("\xef\xbf\xbf");            /* U+FFFF */
	VALID("\xf0\x90\x80\x80");        /* U+10000, smallest 4-byte */
	VALID("\xf0\x9d\x84\x9e");        /* 𝄞 */
	VALID("\xf0\x9f\x98\x80");        /* 😀 */
	VALID("\xf4\x8f\xbf\xbf");        /* U+10FFFF, the largest */
	VALID("a\xc3\xa9" "b\xe2\x82\xac" "c\xf0\x9f\x98\x80" "d");
}

RT_TEST(utf8_overlongs)
{
	INVALID("\xc0\x80");              /* NUL in 2 bytes */
	INVALID("\xc0\xaf");              /* '/' in 2 bytes */
	INVALID("\xc1\xbf");              /* U+007F in 2 bytes */
	INVALID("\xe0\x80\x80");
	INVALID("\xe0\x80\xaf");
	INVALID("\xe0\x9f\xbf");          /* U+07FF in 3 bytes */
	INVALID("\xf0\x80\x80\x80");
	INVALID("\xf0\x80\x80\xaf");
	INVALID("\xf0\x8f\xbf\xbf");      /* U+FFFF in 4 bytes */
}

RT_TEST(utf8_surrogates)
{
	INVALID("\xed\xa0\x80");          /* U+D800 */
	INVALID("\xed\xad\xbf");          /* U+DB7F */
	INVALID("\xed\xb0\x80");          /* U+DC00 */
	INVALID("\xed\xbf\xbf");          /* U+DFFF */
	INVALID("\xed\xa0\xbd\xed\xb8\x80"); /* a CESU-8 pair */
}

RT_TEST(utf8_out_of_range)
{
	INVALID("\xf4\x90\x80\x80");      /* U+110000 */
	INVALID("\xf4\xbf\xbf\xbf");
	INVALID("\xf5\x80\x80\x80");
	INVALID("\xf7\xbf\xbf\xbf");
	INVALID("\xf8\x88\x80\x80\x80");  /* old 5-byte form */
	INVALID("\xfc\x84\x80\x80\x80\x80");
	INVALID("\xfe");
	INVALID("\xff");
}

RT_TEST(utf8_truncated)
{
	INVALID("\xc3");
	INVALID("\xe2");
	INVALID("\xe2\x82");
	INVALID("\xf0");
	INVALID("\xf0\x9f");
	INVALID("\xf0\x9f\x98");
	INVALID("abc\xe2\x82");
	INVALID("abc\xf0\x9f\x98");
	/* A valid sequence cut by len. */
	RT_ASSERT_EQ_INT(utf8("\xe2\x82\xac", 2), 0);
	RT_ASSERT_EQ_INT(utf8("\xf0\x9f\x98\x80", 3), 0);
	RT_ASSERT_EQ_INT(utf8("x\xc3\xa9", 2), 0);
}

RT_TEST(utf8_bad_continuations)
{
	INVALID("\x80");                  /* lone continuation bytes */
	INVALID("\xbf");
	INVALID("a\x80z");
	INVALID("\xc3\xa9\xa9");          /* one too many */
	INVALID("\xc3\x28");              /* lead followed by ASCII */
	INVALID("\xc3\xc3\xa9");
	INVALID("\xe2\x28\xa1");
	INVALID("\xe2\x82\x28");
	INVALID("\xf0\x28\x8c\xbc");
	INVALID("\xf0\x90\x28\xbc");
	INVALID("\xf0\x90\x8c\x28");
}

/* Every 2-byte and 3-byte sequence agrees with a plain decoder. */
RT_TEST(utf8_exhaustive_short)
{
	for (int a = 0x80; a < 0x100; a++) {
		for (int b = 0; b < 0x100; b++) {
			char s[2] = {(char) a, (char) b};
			int want = a >= 0xc2 && a <= 0xdf && (b & 0xc0) == 0x80;
			if (rt_utf8_valid((const uint8_t *) s, 2) != want) {
				RT_FAIL_("%02x %02x: expected %d", a, b, want);
				return;
			}
		}
	}
	for (int a = 0xe0; a < 0xf0; a++) {
		for (int b = 0x80; b < 0xc0; b++) {
			for (int c = 0; c < 0x100; c++) {
				uint8_t s[3] = {(uint8_t) a, (uint8_t) b, (uint8_t) c};
				uint32_t cp = ((uint32_t) (a & 0x0f) << 12) | ((uint32_t) (b & 0x3f) << 6)
						| (uint32_t) (c & 0x3f);
				int want = (c & 0xc0) == 0x80 && cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
				if (rt_utf8_valid(s, 3) != want) {
					RT_FAIL_("%02x %02x %02x: expected %d", a, b, c, want);
					return;
				}
			}
		}
	}
}

int main(void)
{
	RT_RUN(header_7bit_lengths);
	RT_RUN(header_16bit_lengths);
	RT_RUN(header_64bit_lengths);
	RT_RUN(header_opcodes);
	RT_RUN(frame_new_small);
	RT_RUN(frame_new_empty);
	RT_RUN(frame_new_sizes);
	RT_RUN(utf8_valid);
	RT_RUN(utf8_overlongs);
	RT_RUN(utf8_surrogates);
	RT_RUN(utf8_out_of_range);
	RT_RUN(utf8_truncated);
	RT_RUN(utf8_bad_continuations);
	RT_RUN(utf8_exhaustive_short);
	return rt_test_summary();
}
