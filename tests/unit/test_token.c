/* hub/model/token.c: signed tokens, base64url, HMAC and comparisons. Every
 * decoder writes through an explicit bound, so a hostile token cannot write
 * past its output. Buffers are malloc'd at their exact size so that ASan
 * sees the first byte written too far. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "hub/model/identity.h"
#include "hub/model/token.h"

static const char secret[] = "s3cret";

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static rt_identity *verify(const char *token, size_t len, char *err, size_t errlen)
{
	return rt_token_verify(secret, strlen(secret), token, len, time(NULL), 1024, err, errlen);
}

/* The defect of issue 11: "x." and 8,000 characters overflowed a 48-byte
 * stack buffer before the length was checked. */
RT_TEST(long_signature_is_refused_without_overflow)
{
	char err[200];
	char *token = repeat('A', 8002);

	token[0] = 'x';
	token[1] = '.';
	RT_ASSERT(verify(token, 8002, err, sizeof(err)) == NULL);
	RT_ASSERT_EQ_STR(err, "malformed token");
	free(token);
}

/* Around 43 characters (32 bytes), every signature length is refused except
 * the right one, whatever it decodes to. */
RT_TEST(signature_lengths_around_32_bytes)
{
	static const char payload[] = "{\"uid\":\"u\",\"exp\":99999999999}";
	char *good = rt_token_sign(secret, strlen(secret), payload, sizeof(payload) - 1);
	const char *dot = strchr(good, '.');
	size_t head = (size_t) (dot - good) + 1;
	char err[200];

	RT_ASSERT(good != NULL);
	for (size_t sig = 0; sig <= 64; sig++) {
		char *t = malloc(head + sig);
		rt_identity *id;
		memcpy(t, good, head);
		memset(t + head, 'A', sig);
		if (sig <= 43) {
			memcpy(t + head, dot + 1, sig);
		}
		id = verify(t, head + sig, err, sizeof(err));
		if (sig == 43) {
			RT_ASSERT(id != NULL);
			RT_ASSERT_EQ_STR(id->user_id, "u");
		} else {
			RT_ASSERT(id == NULL);
		}
		rt_identity_free(id);
		free(t);
	}
	free(good);
}

RT_TEST(base64url_decode_stops_at_its_bound)
{
	static const unsigned char raw[] = "any carnal pleasure.";
	char enc[64];

	for (size_t n = 0; n <= 20; n++) {
		size_t elen = rt_base64url_encode(raw, n, enc);
		for (size_t cap = 0; cap <= n; cap++) {
			unsigned char *out = malloc(cap ? cap : 1);
			long got = rt_base64url_decode(enc, elen, out, cap);
			if (cap < n) {
				RT_ASSERT_EQ_INT(got, -ENOSPC);
			} else {
				RT_ASSERT_EQ_INT(got, (long) n);
				RT_ASSERT_MEM(out, raw, n);
			}
			free(out);
		}
	}
}

RT_TEST(base64url_decode_refuses_bad_input)
{
	unsigned char out[8];

	RT_ASSERT_EQ_INT(rt_base64url_decode("A", 1, out, sizeof(out)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_base64url_decode("AB=", 3, out, sizeof(out)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_base64url_decode("A+/A", 4, out, sizeof(out)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_base64url_decode("AB\0A", 4, out, sizeof(out)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_base64url_decode("", 0, out, 0), 0);
}

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

RT_TEST(base64url_round_trip)
{
	unsigned char out[16];
	char enc[32];

	RT_ASSERT_EQ_INT(rt_base64url_encode((const unsigned char *) "\xfb\xff", 2, enc), 3);
	RT_ASSERT_EQ_STR(enc, "-_8");
	RT_ASSERT_EQ_INT(rt_base64url_decode("-_8", 3, out, sizeof(out)), 2);
	RT_ASSERT(out[0] == 0xfb && out[1] == 0xff);
	RT_ASSERT_EQ_INT(rt_base64url_decode("a+b", 3, out, sizeof(out)), -EINVAL);
	RT_ASSERT_EQ_INT(rt_base64url_decode("a=", 2, out, sizeof(out)), -EINVAL);
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
	RT_RUN(long_signature_is_refused_without_overflow);
	RT_RUN(signature_lengths_around_32_bytes);
	RT_RUN(base64url_decode_stops_at_its_bound);
	RT_RUN(base64url_decode_refuses_bad_input);
	RT_RUN(round_trip);
	RT_RUN(expired_forged_tampered_malformed);
	RT_RUN(user_info_limit);
	RT_RUN(base64url_round_trip);
	RT_RUN(hmac_sha256_hex);
	RT_RUN(publish_signature);
	RT_RUN(secure_equals);
	return rt_test_summary();
}
