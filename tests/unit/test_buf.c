/* hub/util/buf.c: refcounted frames and the string builder. */
#include "rt_test.h"

#include <jansson.h>
#include <stdlib.h>

#include "hub/util/buf.h"

RT_TEST(buf_refcount)
{
	rt_buf *b = rt_buf_new(10);

	RT_ASSERT(b != NULL);
	RT_ASSERT_EQ_INT(b->refs, 1);
	RT_ASSERT_EQ_INT(b->len, 10);
	memcpy(b->data, "0123456789", 10); /* the whole payload is writable */
	RT_ASSERT(rt_buf_ref(b) == b);
	RT_ASSERT_EQ_INT(b->refs, 2);
	RT_ASSERT(rt_buf_ref(b) == b);
	RT_ASSERT_EQ_INT(b->refs, 3);
	rt_buf_unref(b);
	RT_ASSERT_EQ_INT(b->refs, 2);
	rt_buf_unref(b);
	RT_ASSERT_EQ_INT(b->refs, 1);
	RT_ASSERT_MEM(b->data, "0123456789", 10);
	rt_buf_unref(b); /* freed here: ASan reports a leak otherwise */
}

RT_TEST(buf_edge_sizes)
{
	rt_buf *b = rt_buf_new(0);

	RT_ASSERT(b != NULL);
	RT_ASSERT_EQ_INT(b->len, 0);
	RT_ASSERT_EQ_INT(b->refs, 1);
	rt_buf_unref(b);
	rt_buf_unref(NULL); /* harmless */
	/* len is 32 bits: larger buffers are refused, not truncated. */
	RT_ASSERT(rt_buf_new((size_t) UINT32_MAX + 1) == NULL);
}

/* ---- rt_sb ---- */

RT_TEST(sb_append)
{
	rt_sb sb;

	rt_sb_init(&sb);
	RT_ASSERT(sb.data == NULL);
	RT_ASSERT_EQ_INT(sb.len, 0);
	rt_sb_append(&sb, "abc", 3);
	RT_ASSERT_EQ_INT(sb.len, 3);
	RT_ASSERT_EQ_STR(sb.data, "abc"); /* always NUL-terminated */
	RT_ASSERT(sb.cap >= 4);
	rt_sb_puts(&sb, "def");
	RT_ASSERT_EQ_STR(sb.data, "abcdef");
	rt_sb_append(&sb, "g\0h", 3); /* bytes, not C strings */
	RT_ASSERT_EQ_INT(sb.len, 9);
	RT_ASSERT_MEM(sb.data, "abcdefg\0h", 10);
	rt_sb_append(&sb, "", 0);
	RT_ASSERT_EQ_INT(sb.len, 9);
	RT_ASSERT_EQ_INT(sb.failed, 0);
	rt_sb_free(&sb);
	RT_ASSERT(sb.data == NULL);
	RT_ASSERT_EQ_INT(sb.len, 0);
	RT_ASSERT_EQ_INT(sb.cap, 0);
	/* Usable again after free. */
	rt_sb_puts(&sb, "again");
	RT_ASSERT_EQ_STR(sb.data, "again");
	rt_sb_free(&sb);
}

RT_TEST(sb_empty_append_terminates)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sb_puts(&sb, "");
	RT_ASSERT(sb.data != NULL);
	RT_ASSERT_EQ_STR(sb.data, "");
	rt_sb_free(&sb);
}

RT_TEST(sb_growth)
{
	enum { N = 100000 };
	rt_sb sb;
	size_t last_cap = 0;
	int grew = 0;

	rt_sb_init(&sb);
	for (int i = 0; i < N; i++) {
		char c = (char) ('a' + i % 26);
		rt_sb_append(&sb, &c, 1);
		if (sb.cap != last_cap) {
			/* Doubling: few reallocations, capacity always ahead of len. */
			RT_ASSERT(last_cap == 0 || sb.cap == last_cap * 2);
			last_cap = sb.cap;
			grew++;
		}
		RT_ASSERT(sb.cap > sb.len);
	}
	RT_ASSERT_EQ_INT(sb.len, N);
	RT_ASSERT(grew < 20);
	for (int i = 0; i < N; i++) {
		if (sb.data[i] != (char) ('a' + i % 26)) {
			RT_FAIL_("byte %d wrong after growth", i);
			break;
		}
	}
	RT_ASSERT_EQ_INT(sb.data[N], '\0');
	/* One large append at once. */
	{
		char *big = malloc(1 << 20);
		RT_ASSERT(big != NULL);
		memset(big, 'z', 1 << 20);
		rt_sb_append(&sb, big, 1 << 20);
		free(big);
	}
	RT_ASSERT_EQ_INT(sb.len, N + (1 << 20));
	RT_ASSERT_EQ_INT(sb.data[N], 'z');
	RT_ASSERT_EQ_INT(sb.data[sb.len - 1], 'z');
	RT_ASSERT_EQ_INT(sb.data[sb.len], '\0');
	RT_ASSERT_EQ_INT(sb.failed, 0);
	rt_sb_free(&sb);
}

/* ---- rt_sb_json_string ---- */

static void expect_json(const char *in, size_t len, const char *want)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sb_json_string(&sb, in, len);
	RT_ASSERT_EQ_INT(sb.failed, 0);
	if (sb.len != strlen(want) || strcmp(sb.data, want) != 0) {
		RT_FAIL_("json_string: got %s, expected %s", sb.data, want);
	}
	rt_sb_free(&sb);
}

#define JSON(lit, want) expect_json(lit, sizeof(lit) - 1, want)

RT_TEST(json_string_escapes)
{
	JSON("", "\"\"");
	JSON("plain", "\"plain\"");
	JSON("say \"hi\"", "\"say \\\"hi\\\"\"");
	JSON("back\\slash", "\"back\\\\slash\"");
	JSON("line\nbreak", "\"line\\nbreak\"");
	JSON("cr\rtab\t", "\"cr\\rtab\\t\"");
	JSON("\x01", "\"\\u0001\"");
	JSON("a\x1f" "b", "\"a\\u001fb\"");
	JSON("\x08\x0c", "\"\\u0008\\u000c\"");
	JSON("nul\0in", "\"nul\\u0000in\"");
	JSON("\"", "\"\\\"\"");
	JSON("\\", "\"\\\\\"");
	/* Not escaped: DEL, '/', and every byte >= 0x80. */
	JSON("\x7f/", "\"\x7f/\"");
	JSON("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Escapes at the very start and end. */
	JSON("\n\"", "\"\\n\\\"\"");
}

RT_TEST(json_string_appends)
{
	rt_sb sb;

	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"k\":");
	rt_sb_json_string(&sb, "v\"", 2);
	rt_sb_puts(&sb, "}");
	RT_ASSERT_EQ_STR(sb.data, "{\"k\":\"v\\\"\"}");
	rt_sb_free(&sb);
}

/* Whatever goes in comes back out of a JSON parser unchanged: every byte
 * from 0x00 to 0x7f plus multi-byte UTF-8. */
RT_TEST(json_string_round_trip)
{
	char in[128 + 16];
	size_t n = 0;
	rt_sb sb;
	json_error_t jerr;
	json_t *j;

	for (int c = 0; c < 128; c++) {
		in[n++] = (char) c;
	}
	memcpy(in + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	n += 9;
	rt_sb_init(&sb);
	rt_sb_json_string(&sb, in, n);
	RT_ASSERT_EQ_INT(sb.failed, 0);
	j = json_loadb(sb.data, sb.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (j == NULL) {
		RT_FAIL_("not JSON: %s (%s)", jerr.text, sb.data);
		rt_sb_free(&sb);
		return;
	}
	rt_sb_free(&sb);
	RT_ASSERT(json_is_string(j));
	if (json_string_length(j) != n || memcmp(json_string_value(j), in, n) != 0) {
		json_decref(j);
		RT_FAIL_("round trip changed the string");
		return;
	}
	json_decref(j);
}

int main(void)
{
	RT_RUN(buf_refcount);
	RT_RUN(buf_edge_sizes);
	RT_RUN(sb_append);
	RT_RUN(sb_empty_append_terminates);
	RT_RUN(sb_growth);
	RT_RUN(json_string_escapes);
	RT_RUN(json_string_appends);
	RT_RUN(json_string_round_trip);
	return rt_test_summary();
}
