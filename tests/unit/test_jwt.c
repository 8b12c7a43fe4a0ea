/* hub/model/jwt.c: Mercure JWTs. Only HS256 signed with the right key and
 * within exp/nbf passes; the claims come back as bounded topic lists. */
#include "rt_test.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <time.h>

#include "hub/model/jwt.h"
#include "hub/model/token.h"

static const char key[] = "!ChangeThisMercureHubJWTSecretKey!";

/* header.payload.signature, signed with k (NULL: no signature part). */
static char *make(const char *header, const char *payload, const char *k)
{
	size_t hl = strlen(header), pl = strlen(payload);
	char *t = malloc(4 * (hl / 3 + 1) + 4 * (pl / 3 + 1) + 48 + 3);
	unsigned char mac[32];
	unsigned int ml = 32;
	size_t n = rt_base64url_encode((const unsigned char *) header, hl, t);

	t[n++] = '.';
	n += rt_base64url_encode((const unsigned char *) payload, pl, t + n);
	t[n] = '\0';
	HMAC(EVP_sha256(), k ? k : "", (int) (k ? strlen(k) : 0), (unsigned char *) t, n, mac, &ml);
	t[n++] = '.';
	if (k != NULL) {
		rt_base64url_encode(mac, 32, t + n);
	} else {
		t[n] = '\0';
	}
	return t;
}

static int check(const char *token, rt_jwt_claims *c, char *err)
{
	return rt_jwt_verify(key, strlen(key), token, strlen(token), 1000000, c, err, 200);
}

#define HS "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

RT_TEST(valid_token_returns_claims)
{
	char *t = make(HS, "{\"mercure\":{\"publish\":[\"*\"],\"subscribe\":[\"https://e.x/{id}\",\"a\"]}}", key);
	rt_jwt_claims c;
	char err[200];

	RT_ASSERT_EQ_INT(check(t, &c, err), 0);
	RT_ASSERT_EQ_INT((int) c.publish_count, 1);
	RT_ASSERT_EQ_STR(c.publish[0], "*");
	RT_ASSERT_EQ_INT((int) c.subscribe_count, 2);
	RT_ASSERT_EQ_STR(c.subscribe[1], "a");
	rt_jwt_claims_free(&c);
	free(t);
}

RT_TEST(absent_claims_are_null)
{
	char *t = make(HS, "{}", key);
	rt_jwt_claims c;
	char err[200];

	RT_ASSERT_EQ_INT(check(t, &c, err), 0);
	RT_ASSERT(c.publish == NULL && c.subscribe == NULL);
	rt_jwt_claims_free(&c);
	free(t);
}

RT_TEST(wrong_key_alg_none_and_other_algs_refused)
{
	static const char *bad_headers[] = {
		"{\"alg\":\"none\"}", "{\"alg\":\"HS512\"}", "{\"alg\":\"RS256\"}", "{}", "[]", "x",
	};
	rt_jwt_claims c;
	char err[200];
	char *t = make(HS, "{}", "another key");

	RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
	RT_ASSERT_EQ_STR(err, "the token's signature does not match");
	free(t);
	for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
		t = make(bad_headers[i], "{}", key);
		RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
		RT_ASSERT_EQ_STR(err, "the token's alg must be HS256");
		free(t);
		t = make(bad_headers[i], "{}", NULL);
		RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
		free(t);
	}
	t = make(HS, "{}", key);
	RT_ASSERT_EQ_INT(rt_jwt_verify("", 0, t, strlen(t), 1000000, &c, err, 200), -EINVAL);
	free(t);
}

RT_TEST(exp_and_nbf)
{
	rt_jwt_claims c;
	char err[200];
	char *t = make(HS, "{\"exp\":1000000}", key);

	RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
	RT_ASSERT_EQ_STR(err, "the token has expired");
	free(t);
	t = make(HS, "{\"exp\":1000001,\"nbf\":1000000}", key);
	RT_ASSERT_EQ_INT(check(t, &c, err), 0);
	rt_jwt_claims_free(&c);
	free(t);
	t = make(HS, "{\"nbf\":1000001}", key);
	RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
	RT_ASSERT_EQ_STR(err, "the token is not valid yet");
	free(t);
	t = make(HS, "{\"exp\":\"soon\"}", key);
	RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
	free(t);
}

RT_TEST(malformed_shapes_refused)
{
	static const char *bad[] = {
		"", "a", "a.b", "a.b.c.d", "..", "eyJhbGciOiJIUzI1NiJ9..", "!!.!!.!!",
	};
	rt_jwt_claims c;
	char err[200];
	char *t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		RT_ASSERT_EQ_INT(check(bad[i], &c, err), -EINVAL);
	}
	t = make(HS, "{\"mercure\":{\"publish\":\"*\"}}", key);
	RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
	free(t);
	t = make(HS, "{\"mercure\":{\"subscribe\":[\"a\",1]}}", key);
	RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
	free(t);
	t = make(HS, "{\"mercure\":[]}", key);
	RT_ASSERT_EQ_INT(check(t, &c, err), -EINVAL);
	free(t);
}

/* A token larger than RT_JWT_MAX is refused before it is decoded. */
RT_TEST(oversized_token_refused)
{
	size_t n = RT_JWT_MAX + 1;
	char *t = malloc(n);
	rt_jwt_claims c;
	char err[200];

	memset(t, 'A', n);
	t[10] = '.';
	t[20] = '.';
	RT_ASSERT_EQ_INT(rt_jwt_verify(key, strlen(key), t, n, 0, &c, err, 200), -EINVAL);
	RT_ASSERT_EQ_STR(err, "malformed token");
	free(t);
}

int main(void)
{
	RT_RUN(valid_token_returns_claims);
	RT_RUN(absent_claims_are_null);
	RT_RUN(wrong_key_alg_none_and_other_algs_refused);
	RT_RUN(exp_and_nbf);
	RT_RUN(malformed_shapes_refused);
	RT_RUN(oversized_token_refused);
	return rt_test_summary();
}
