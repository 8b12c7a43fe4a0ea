/* What the fuzzers of tests/fuzz found, as unit tests where a plain call
 * shows it (docs/fuzzing.md lists every finding). The inputs themselves
 * are replayed from tests/fuzz/regressions/ by scripts/fuzz.sh. */
#include "rt_test.h"

#include <stdint.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "broker/redis_reader.h"
#include "hub/model/msg.h"

/* fuzz_redis: a pub/sub reply whose payload is not a string (an integer or
 * nil) reached rt_msg_decode as (NULL, 0), and the decoder did pointer
 * arithmetic on NULL before checking the length (UBSan). */
RT_TEST(msg_decode_of_null_is_refused)
{
	RT_ASSERT(rt_msg_decode(NULL, 0) == NULL);
	RT_ASSERT(rt_msg_decode(NULL, 11) == NULL);
}

/* The sanitizer runtime's allocation hooks, when the tests are built with
 * one (make check); the valgrind build has none and checks results only. */
int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void *, size_t),
		void (*)(const volatile void *)) __attribute__((weak));

static size_t largest_alloc;

static void on_malloc(const volatile void *p, size_t size)
{
	(void) p;
	if (size > largest_alloc) {
		largest_alloc = size;
	}
}

static void on_free(const volatile void *p)
{
	(void) p;
}

/* fuzz_msg: an 11-byte message announcing 65,535 channels made the decoder
 * allocate a megabyte before noticing that the bytes could not hold them;
 * from the shared ring, any process could make every hub do that for each
 * message. Now the count is checked against the bytes first. */
RT_TEST(msg_decode_refuses_a_channel_count_its_bytes_cannot_hold)
{
	char in[11 + 4 * 3] = {1};
	uint16_t cc = 0xffff;
	int hooked = __sanitizer_install_malloc_and_free_hooks != NULL
			&& __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;

	memcpy(in + 9, &cc, 2);
	largest_alloc = 0;
	RT_ASSERT(rt_msg_decode(in, 11) == NULL);
	if (hooked) {
		RT_ASSERT_EQ_INT(largest_alloc, 0);
	}
	/* 3 channels need at least 12 bytes of lengths; 8 are not enough. */
	cc = 3;
	memcpy(in + 9, &cc, 2);
	RT_ASSERT(rt_msg_decode(in, 19) == NULL);
	if (hooked) {
		RT_ASSERT_EQ_INT(largest_alloc, 0);
	}
}

/* fuzz_redis: "*333333333" made hiredis 0.14 calloc 2.7 GB for the element
 * pointers before a single element arrived. The broker's readers now refuse
 * arrays longer than the replies it expects, and nested ones, while the
 * pub/sub messages it lives on still go through. */
RT_TEST(redis_reader_refuses_huge_and_nested_arrays)
{
	static const char message[] = "*3\r\n$7\r\nmessage\r\n$4\r\nrt:c\r\n$2\r\nhi\r\n";
	static const char *const refused[] = {"*333333333\r\n", "*9\r\n", "*2\r\n*1\r\n:1\r\n:2\r\n"};
	int hooked = __sanitizer_install_malloc_and_free_hooks != NULL
			&& __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0;
	redisReader *r;
	redisReply *reply;
	void *got;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		r = redisReaderCreate();
		rt_redis_reader_limit(r);
		largest_alloc = 0;
		RT_ASSERT_EQ_INT(redisReaderFeed(r, refused[i], strlen(refused[i])), REDIS_OK);
		got = NULL;
		RT_ASSERT_EQ_INT(redisReaderGetReply(r, &got), REDIS_ERR);
		RT_ASSERT(got == NULL);
		if (hooked) {
			RT_ASSERT(largest_alloc < 64 * 1024);
		}
		redisReaderFree(r);
	}
	r = redisReaderCreate();
	rt_redis_reader_limit(r);
	RT_ASSERT_EQ_INT(redisReaderFeed(r, message, sizeof(message) - 1), REDIS_OK);
	got = NULL;
	RT_ASSERT_EQ_INT(redisReaderGetReply(r, &got), REDIS_OK);
	reply = got;
	RT_ASSERT(reply != NULL && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3);
	RT_ASSERT_EQ_STR(reply->element[2]->str, "hi");
	freeReplyObject(reply);
	redisReaderFree(r);
}

int main(void)
{
	RT_RUN(msg_decode_of_null_is_refused);
	RT_RUN(msg_decode_refuses_a_channel_count_its_bytes_cannot_hold);
	RT_RUN(redis_reader_refuses_huge_and_nested_arrays);
	return rt_test_summary();
}
