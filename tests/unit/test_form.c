/* Form-encoded text (hub/wire/form.c): pairs in order, repeated keys,
 * empty and valueless pairs, decoding within a bound. */
#include "rt_test.h"

#include <errno.h>
#include <string.h>

#include "hub/wire/form.h"

typedef struct pair {
	char key[64], value[256];
} pair;

/* Decodes every pair of text; returns how many (at most max). */
static int all_pairs(const char *text, pair *out, int max)
{
	rt_form_iter it;
	const char *k, *v;
	size_t kl, vl;
	int n = 0;

	rt_form_begin(&it, text, strlen(text));
	while (n < max && rt_form_next(&it, &k, &kl, &v, &vl)) {
		if (rt_form_decode(k, kl, out[n].key, sizeof(out[n].key)) < 0
				|| rt_form_decode(v, vl, out[n].value, sizeof(out[n].value)) < 0) {
			return -1;
		}
		n++;
	}
	return n;
}

RT_TEST(pairs_in_order_with_repeated_keys)
{
	pair p[8];

	RT_ASSERT_EQ_INT(all_pairs("topic=a&data=x%20y&topic=https%3A%2F%2Fex.com%2Fb%2F1&private=on", p, 8), 4);
	RT_ASSERT_EQ_STR(p[0].key, "topic");
	RT_ASSERT_EQ_STR(p[0].value, "a");
	RT_ASSERT_EQ_STR(p[1].value, "x y");
	RT_ASSERT_EQ_STR(p[2].key, "topic");
	RT_ASSERT_EQ_STR(p[2].value, "https://ex.com/b/1");
	RT_ASSERT_EQ_STR(p[3].value, "on");
}

RT_TEST(plus_is_space_and_empty_pairs_are_skipped)
{
	pair p[8];

	RT_ASSERT_EQ_INT(all_pairs("&&a=1+2&&private&b=&", p, 8), 3);
	RT_ASSERT_EQ_STR(p[0].key, "a");
	RT_ASSERT_EQ_STR(p[0].value, "1 2");
	RT_ASSERT_EQ_STR(p[1].key, "private");
	RT_ASSERT_EQ_STR(p[1].value, "");
	RT_ASSERT_EQ_STR(p[2].key, "b");
	RT_ASSERT_EQ_STR(p[2].value, "");
	RT_ASSERT_EQ_INT(all_pairs("", p, 8), 0);
	RT_ASSERT_EQ_INT(all_pairs("&", p, 8), 0);
}

RT_TEST(keys_compare_decoded)
{
	RT_ASSERT_EQ_INT(rt_form_key_is("topic", 5, "topic"), 1);
	RT_ASSERT_EQ_INT(rt_form_key_is("%74opic", 7, "topic"), 1);
	RT_ASSERT_EQ_INT(rt_form_key_is("topics", 6, "topic"), 0);
	RT_ASSERT_EQ_INT(rt_form_key_is("topi", 4, "topic"), 0);
	RT_ASSERT_EQ_INT(rt_form_key_is("", 0, "topic"), 0);
}

RT_TEST(decoding_stays_within_its_bound)
{
	char out[4];

	RT_ASSERT_EQ_INT((int) rt_form_decode("abc", 3, out, sizeof(out)), 3);
	RT_ASSERT_EQ_STR(out, "abc");
	RT_ASSERT_EQ_INT((int) rt_form_decode("abcd", 4, out, sizeof(out)), -ENOSPC);
	RT_ASSERT_EQ_INT((int) strlen(out), 3);
	/* A broken escape stays as it was. */
	RT_ASSERT_EQ_INT((int) rt_form_decode("%4", 2, out, sizeof(out)), 2);
	RT_ASSERT_EQ_STR(out, "%4");
	/* A NUL byte decodes, and counts. */
	RT_ASSERT_EQ_INT((int) rt_form_decode("a%00b", 5, out, sizeof(out)), 3);
	RT_ASSERT(out[1] == '\0' && out[2] == 'b');
}

int main(void)
{
	RT_RUN(pairs_in_order_with_repeated_keys);
	RT_RUN(plus_is_space_and_empty_pairs_are_skipped);
	RT_RUN(keys_compare_decoded);
	RT_RUN(decoding_stays_within_its_bound);
	return rt_test_summary();
}
