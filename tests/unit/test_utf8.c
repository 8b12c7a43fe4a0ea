/* hub/util/utf8.c: UTF-8 validation (RFC 3629). */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/util/utf8.h"

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
	RT_RUN(utf8_valid);
	RT_RUN(utf8_overlongs);
	RT_RUN(utf8_surrogates);
	RT_RUN(utf8_out_of_range);
	RT_RUN(utf8_truncated);
	RT_RUN(utf8_bad_continuations);
	RT_RUN(utf8_exhaustive_short);
	return rt_test_summary();
}
