/* hub/model/topic_selector.c: "*", exact topics and URI templates. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "hub/model/topic_selector.h"

static int m(const char *s, const char *t)
{
	return rt_topic_selector_match(s, strlen(s), t, strlen(t));
}

RT_TEST(star_and_exact)
{
	RT_ASSERT_EQ_INT(m("*", "https://example.com/books/1"), 1);
	RT_ASSERT_EQ_INT(m("https://example.com/books/1", "https://example.com/books/1"), 1);
	RT_ASSERT_EQ_INT(m("https://example.com/books/1", "https://example.com/books/12"), 0);
	RT_ASSERT_EQ_INT(m("a", ""), 0);
}

RT_TEST(simple_expansion_stays_in_one_segment)
{
	RT_ASSERT_EQ_INT(m("https://example.com/books/{id}", "https://example.com/books/1"), 1);
	RT_ASSERT_EQ_INT(m("https://example.com/books/{id}", "https://example.com/books/1/x"), 0);
	RT_ASSERT_EQ_INT(m("https://example.com/books/{id}", "https://example.com/books/"), 1);
	RT_ASSERT_EQ_INT(m("https://example.com/{a}/{b}", "https://example.com/x/y"), 1);
	RT_ASSERT_EQ_INT(m("https://example.com/{a}/{b}", "https://example.com/x"), 0);
	RT_ASSERT_EQ_INT(m("/users/{id}.json", "/users/a%20b.json"), 1);
}

RT_TEST(operators)
{
	RT_ASSERT_EQ_INT(m("https://e.x{+path}", "https://e.x/a/b/c"), 1);
	RT_ASSERT_EQ_INT(m("/a{/seg}", "/a/b/c"), 1);
	RT_ASSERT_EQ_INT(m("/a{/seg}", "/a"), 1);
	RT_ASSERT_EQ_INT(m("/a{/seg}", "/ab"), 0);
	RT_ASSERT_EQ_INT(m("/f{.ext}", "/f.json"), 1);
	RT_ASSERT_EQ_INT(m("/f{?q,r}", "/f?q=1&r=2"), 1);
	RT_ASSERT_EQ_INT(m("/f{?q}{&r}", "/f?q=1&r=2"), 1);
	RT_ASSERT_EQ_INT(m("/f{;p}", "/f;p=1"), 1);
	RT_ASSERT_EQ_INT(m("/f{#frag}", "/f#x/y"), 1);
	RT_ASSERT_EQ_INT(m("/f{#frag}", "/fx"), 0);
}

RT_TEST(malformed_templates)
{
	RT_ASSERT_EQ_INT(m("/a/{id", "/a/1"), -EINVAL);
	RT_ASSERT_EQ_INT(m("/a/id}", "/a/1"), -EINVAL);
	RT_ASSERT_EQ_INT(m("/a/{}", "/a/1"), -EINVAL);
	RT_ASSERT_EQ_INT(m("/a/{+}", "/a/1"), -EINVAL);
	RT_ASSERT_EQ_INT(m("/a/{x{y}", "/a/1"), -EINVAL);
}

/* Many expressions against a long topic that almost matches: linear per
 * expression, so this ends at once rather than exploring every split. */
RT_TEST(no_backtracking_blowup)
{
	size_t n = RT_TOPIC_SELECTOR_MAX;
	char *sel = malloc(n), *top = malloc(n);

	for (size_t i = 0; i + 3 <= n; i += 3) {
		memcpy(sel + i, "{+a", 3);
	}
	/* every third byte closes an expression */
	for (size_t i = 2; i < n; i += 3) {
		sel[i] = '}';
	}
	for (size_t i = 0; i + 1 < n; i += 3) {
		sel[i] = '{';
		sel[i + 1] = 'a';
	}
	memset(top, 'a', n);
	top[n - 1] = ' ';
	RT_ASSERT_EQ_INT(rt_topic_selector_match(sel, n / 3 * 3, top, n), 0);
	RT_ASSERT_EQ_INT(rt_topic_selector_match(sel, n / 3 * 3, top, n - 1), 1);
	RT_ASSERT_EQ_INT(rt_topic_selector_match(sel, n + 1, top, n), -EINVAL);
	free(sel);
	free(top);
}

int main(void)
{
	RT_RUN(star_and_exact);
	RT_RUN(simple_expansion_stays_in_one_segment);
	RT_RUN(operators);
	RT_RUN(malformed_templates);
	RT_RUN(no_backtracking_blowup);
	return rt_test_summary();
}
