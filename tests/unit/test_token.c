/* hub/token.c and the decoders it shares with the HTTP side: every decoder
 * writes through an explicit bound, so a hostile token or URL cannot write
 * past its output. Buffers are malloc'd at their exact size so that ASan
 * sees the first byte written too far. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "hub/http.h"
#include "hub/identity.h"
#include "hub/token.h"

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

RT_TEST(url_decode_stops_at_its_bound)
{
	static const struct {
		const char *in;
		int plus;
		const char *out;
	} cases[] = {
		{"a%20b+c", 1, "a b c"},
		{"a%20b+c", 0, "a b+c"},
		{"%", 0, "%"},
		{"%4", 0, "%4"},
		{"%zz%41", 0, "%zzA"},
		{"", 0, ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in), want = strlen(cases[i].out);
		for (size_t cap = 0; cap <= len + 1; cap++) {
			char *out = malloc(cap ? cap : 1);
			long got = rt_http_url_decode(cases[i].in, len, cases[i].plus, out, cap);
			if (cap < want + 1) {
				RT_ASSERT_EQ_INT(got, -ENOSPC);
			} else {
				RT_ASSERT_EQ_INT(got, (long) want);
				RT_ASSERT_EQ_STR(out, cases[i].out);
			}
			free(out);
		}
	}
}

int main(void)
{
	RT_RUN(long_signature_is_refused_without_overflow);
	RT_RUN(signature_lengths_around_32_bytes);
	RT_RUN(base64url_decode_stops_at_its_bound);
	RT_RUN(base64url_decode_refuses_bad_input);
	RT_RUN(url_decode_stops_at_its_bound);
	return rt_test_summary();
}
