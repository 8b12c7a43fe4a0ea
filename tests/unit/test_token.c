/* hub/token.c: signed connection tokens, base64url, HMAC and comparisons. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/token.h"

static const char secret[] = "s3cret";

static char *sign(const char *payload)
{
	return rt_token_sign(secret, strlen(secret), payload, strlen(payload));
}

RT_TEST(round_trip)
{
	char *t = sign("{\"uid\":\"alice\",\"exp\":2000,\"info\":{\"n\":1},\"channels\":[\"private-*\"]}");
	char err[200];
	rt_identity *id = rt_token_verify(secret, strlen(secret), t, strlen(t), 1999, 4096, err,
			sizeof(err));

	RT_ASSERT(id != NULL);
	RT_ASSERT_EQ_STR(id->user_id, "alice");
	RT_ASSERT_EQ_STR(id->user_info, "{\"n\":1}");
	RT_ASSERT_EQ_INT(id->pattern_count, 1);
	RT_ASSERT(rt_identity_may_join(id, "private-x", 9));
	rt_identity_free(id);
	free(t);
}

RT_TEST(expired_forged_tampered_malformed)
{
	char *t = sign("{\"uid\":\"alice\",\"exp\":2000}");
	char err[200];
	size_t n = strlen(t);

	RT_ASSERT(rt_token_verify(secret, strlen(secret), t, n, 2000, 4096, err, sizeof(err)) == NULL);
	RT_ASSERT_EQ_STR(err, "token expired");
	RT_ASSERT(rt_token_verify("other", 5, t, n, 1, 4096, err, sizeof(err)) == NULL);
	RT_ASSERT_EQ_STR(err, "token signature does not match");
	t[0] ^= 1; /* the payload changes under the same signature */
	RT_ASSERT(rt_token_verify(secret, strlen(secret), t, n, 1, 4096, err, sizeof(err)) == NULL);
	RT_ASSERT_EQ_STR(err, "token signature does not match");
	RT_ASSERT(rt_token_verify(secret, strlen(secret), "nodot", 5, 1, 4096, err, sizeof(err)) == NULL);
	RT_ASSERT_EQ_STR(err, "malformed token");
	RT_ASSERT(rt_token_verify("", 0, t, n, 1, 4096, err, sizeof(err)) == NULL);
	RT_ASSERT(strstr(err, "realtime.secret") != NULL);
	free(t);
	t = sign("{\"uid\":\"alice\"}");
	RT_ASSERT(rt_token_verify(secret, strlen(secret), t, strlen(t), 1, 4096, err, sizeof(err)) == NULL);
	RT_ASSERT_EQ_STR(err, "token has no expiry");
	free(t);
	t = sign("[1]");
	RT_ASSERT(rt_token_verify(secret, strlen(secret), t, strlen(t), 1, 4096, err, sizeof(err)) == NULL);
	RT_ASSERT_EQ_STR(err, "malformed token payload");
	free(t);
}

RT_TEST(user_info_limit)
{
	char *t = sign("{\"uid\":\"a\",\"exp\":9,\"info\":\"0123456789\"}");
	char err[200];
	rt_identity *id;

	RT_ASSERT(rt_token_verify(secret, strlen(secret), t, strlen(t), 1, 11, err, sizeof(err)) == NULL);
	RT_ASSERT(strstr(err, "realtime.max_user_info") != NULL);
	id = rt_token_verify(secret, strlen(secret), t, strlen(t), 1, 12, err, sizeof(err));
	RT_ASSERT(id != NULL);
	rt_identity_free(id);
	free(t);
}

RT_TEST(base64url)
{
	unsigned char out[16];
	char enc[32];

	RT_ASSERT_EQ_INT(rt_base64url_encode((const unsigned char *) "\xfb\xff", 2, enc), 3);
	RT_ASSERT_EQ_STR(enc, "-_8");
	RT_ASSERT_EQ_INT(rt_base64url_decode("-_8", 3, out), 2);
	RT_ASSERT(out[0] == 0xfb && out[1] == 0xff);
	RT_ASSERT_EQ_INT(rt_base64url_decode("a+b", 3, out), -1);
	RT_ASSERT_EQ_INT(rt_base64url_decode("a=", 2, out), -1);
}

/* RFC 4231 test case 2. */
RT_TEST(hmac_sha256_hex)
{
	char out[65];

	rt_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, out);
	RT_ASSERT_EQ_STR(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* A /publish signature signs the timestamp and the body, with a dot between. */
RT_TEST(publish_signature)
{
	char a[65], b[65];

	RT_ASSERT_EQ_INT(rt_publish_sign("k", "123", 3, "{}", 2, a), 0);
	rt_hmac_sha256_hex("k", 1, "123.{}", 6, b);
	RT_ASSERT_EQ_STR(a, b);
	RT_ASSERT_EQ_INT(rt_publish_sign("k", "124", 3, "{}", 2, b), 0);
	RT_ASSERT(strcmp(a, b) != 0);
	RT_ASSERT_EQ_INT(rt_publish_sign("k", "123", 3, "", 0, a), 0);
	rt_hmac_sha256_hex("k", 1, "123.", 4, b);
	RT_ASSERT_EQ_STR(a, b);
}

RT_TEST(secure_equals)
{
	RT_ASSERT(rt_secure_equals("abc", "abc", 3));
	RT_ASSERT(!rt_secure_equals("abc", "abd", 3));
	RT_ASSERT(rt_secure_equals("x", "y", 0));
}

int main(void)
{
	RT_RUN(round_trip);
	RT_RUN(expired_forged_tampered_malformed);
	RT_RUN(user_info_limit);
	RT_RUN(base64url);
	RT_RUN(hmac_sha256_hex);
	RT_RUN(publish_signature);
	RT_RUN(secure_equals);
	return rt_test_summary();
}
