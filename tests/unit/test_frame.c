/* hub/wire/frame.c: server frame headers (RFC 6455 section 5.2). */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/wire/frame.h"

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

int main(void)
{
	RT_RUN(header_7bit_lengths);
	RT_RUN(header_16bit_lengths);
	RT_RUN(header_64bit_lengths);
	RT_RUN(header_opcodes);
	RT_RUN(frame_new_small);
	RT_RUN(frame_new_empty);
	RT_RUN(frame_new_sizes);
	return rt_test_summary();
}
