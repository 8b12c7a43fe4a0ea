/* hub/wire/mercure_req.c: a Mercure publish's form and a subscription's
 * query, decoded; topic bounds; the JWT's three places, in Mercure's order. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "hub/wire/mercure_req.h"

static int parse(const char *text, uint32_t max, rt_mercure_form *f)
{
	char err[200];
	return rt_mercure_form_parse(text, strlen(text), max, f, err, sizeof(err));
}

RT_TEST(publish_form)
{
	rt_mercure_form f;

	RT_ASSERT_EQ_INT(parse("topic=https%3A%2F%2Fe.x%2Fbooks%2F1&topic=b&data=hello+world"
			"&private=on&id=x1&type=upd&retry=250&data=second", 10, &f), 0);
	RT_ASSERT_EQ_INT((int) f.topic_count, 2);
	RT_ASSERT(f.topics[0].len == 19 && memcmp(f.topics[0].ptr, "https://e.x/books/1", 19) == 0);
	RT_ASSERT(f.data.len == 11 && memcmp(f.data.ptr, "hello world", 11) == 0);
	RT_ASSERT_EQ_INT(f.is_private, 1);
	RT_ASSERT(f.id.len == 2 && f.type.len == 3);
	RT_ASSERT_EQ_INT((int) f.retry, 250);
	rt_mercure_form_free(&f);
}

RT_TEST(empty_and_absent_fields)
{
	rt_mercure_form f;

	RT_ASSERT_EQ_INT(parse("topic=a&id=&type=&retry=", 10, &f), 0);
	RT_ASSERT(f.data.ptr == NULL && f.id.ptr == NULL && f.type.ptr == NULL);
	RT_ASSERT_EQ_INT((int) f.retry, -1);
	RT_ASSERT_EQ_INT(f.is_private, 0);
	rt_mercure_form_free(&f);
	RT_ASSERT_EQ_INT(parse("", 10, &f), 0);
	RT_ASSERT_EQ_INT((int) f.topic_count, 0);
	rt_mercure_form_free(&f);
}

RT_TEST(bounds_and_bad_retry)
{
	rt_mercure_form f;

	RT_ASSERT_EQ_INT(parse("topic=a&topic=b&topic=c", 2, &f), -E2BIG);
	rt_mercure_form_free(&f);
	RT_ASSERT_EQ_INT(rt_mercure_topic_count("topic=a&%74opic=b&topics=c&x=topic", 34), 2);
	RT_ASSERT_EQ_INT(parse("topic=a&retry=12a", 2, &f), -EINVAL);
	rt_mercure_form_free(&f);
	RT_ASSERT_EQ_INT(parse("topic=a&retry=2147483648", 2, &f), -EINVAL);
	rt_mercure_form_free(&f);
}

RT_TEST(subscription_query)
{
	rt_mercure_form f;

	RT_ASSERT_EQ_INT(parse("topic=https://e.x/books/%7Bid%7D&lastEventID=earliest"
			"&authorization=a.b.c", 10, &f), 0);
	RT_ASSERT(f.topics[0].len == 22 && memcmp(f.topics[0].ptr, "https://e.x/books/{id}", 22) == 0);
	RT_ASSERT(f.last_event_id.len == 8 && memcmp(f.last_event_id.ptr, "earliest", 8) == 0);
	RT_ASSERT(f.authorization.len == 5);
	rt_mercure_form_free(&f);
	RT_ASSERT_EQ_INT(parse("topic=x&Last-Event-ID=abc", 10, &f), 0);
	RT_ASSERT(f.last_event_id.len == 3);
	rt_mercure_form_free(&f);
}

RT_TEST(cookies)
{
	const char *h = "a=1; mercureAuthorization=tok.en.x ; b=\"q\"; mercureAuthorizationX=no";
	size_t n;
	const char *v = rt_mercure_cookie(h, strlen(h), "mercureAuthorization", &n);

	RT_ASSERT(v != NULL && n == 8 && memcmp(v, "tok.en.x", 8) == 0);
	v = rt_mercure_cookie(h, strlen(h), "b", &n);
	RT_ASSERT(v != NULL && n == 1 && v[0] == 'q');
	RT_ASSERT(rt_mercure_cookie(h, strlen(h), "c", &n) == NULL);
	RT_ASSERT(rt_mercure_cookie("", 0, "a", &n) == NULL);
	RT_ASSERT(rt_mercure_cookie(";;;", 3, "a", &n) == NULL);
}

static rt_http_req *request(const char *text)
{
	rt_http_req *req = malloc(sizeof(*req));
	size_t used;

	rt_http_req_init(req, 1024);
	if (rt_http_req_feed(req, text, strlen(text), &used) != RT_HTTP_DONE) {
		abort();
	}
	return req;
}

RT_TEST(token_places_in_order)
{
	char buf[64];
	const char *t;
	size_t n;
	rt_http_req *req = request("GET /.well-known/mercure?topic=a&authorization=q%2Eq HTTP/1.1\r\n"
			"Host: x\r\nCookie: mercureAuthorization=c.c\r\nAuthorization: Bearer h.h\r\n\r\n");

	RT_ASSERT_EQ_INT(rt_mercure_token(req, buf, sizeof(buf), &t, &n), RT_MERCURE_TOKEN_BEARER);
	RT_ASSERT(n == 3 && memcmp(t, "h.h", 3) == 0);
	rt_http_req_free(req);
	req = request("GET /.well-known/mercure?topic=a&authorization=q%2Eq HTTP/1.1\r\n"
			"Host: x\r\nCookie: mercureAuthorization=c.c\r\n\r\n");
	RT_ASSERT_EQ_INT(rt_mercure_token(req, buf, sizeof(buf), &t, &n), RT_MERCURE_TOKEN_COOKIE);
	RT_ASSERT(n == 3 && memcmp(t, "c.c", 3) == 0);
	rt_http_req_free(req);
	req = request("GET /.well-known/mercure?topic=a&authorization=q%2Eq HTTP/1.1\r\nHost: x\r\n\r\n");
	RT_ASSERT_EQ_INT(rt_mercure_token(req, buf, sizeof(buf), &t, &n), RT_MERCURE_TOKEN_QUERY);
	RT_ASSERT(n == 3 && memcmp(t, "q.q", 3) == 0);
	RT_ASSERT_EQ_INT(rt_mercure_token(req, buf, 3, &t, &n), -1);
	rt_http_req_free(req);
	req = request("GET /.well-known/mercure?topic=a HTTP/1.1\r\nHost: x\r\n\r\n");
	RT_ASSERT_EQ_INT(rt_mercure_token(req, buf, sizeof(buf), &t, &n), RT_MERCURE_TOKEN_NONE);
	rt_http_req_free(req);
}

int main(void)
{
	RT_RUN(publish_form);
	RT_RUN(empty_and_absent_fields);
	RT_RUN(bounds_and_bad_retry);
	RT_RUN(subscription_query);
	RT_RUN(cookies);
	RT_RUN(token_places_in_order);
	return rt_test_summary();
}
