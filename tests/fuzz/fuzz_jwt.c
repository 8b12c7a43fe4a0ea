/* Mercure JWT verification (hub/model/jwt.c). Input: a mode byte, then
 * either a whole token as a client sends it (mode even), or a payload that
 * the harness signs as HS256 with the hub's key (mode odd), so that the
 * claims behind a valid signature are explored too. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/jwt.h"
#include "hub/model/token.h"

static const char key[] = "fuzz-mercure-key";

static void check(const char *token, size_t len)
{
	rt_jwt_claims c;
	char err[200];

	if (rt_jwt_verify(key, sizeof(key) - 1, token, len, 1700000000, &c, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < c.publish_count; i++) {
			if (c.publish[i] == NULL || strlen(c.publish[i]) > RT_JWT_TOPIC_MAX) {
				abort();
			}
		}
		for (size_t i = 0; i < c.subscribe_count; i++) {
			if (c.subscribe[i] == NULL || strlen(c.subscribe[i]) > RT_JWT_TOPIC_MAX) {
				abort();
			}
		}
		rt_jwt_claims_free(&c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "eyJhbGciOiJIUzI1NiJ9.";  /* {"alg":"HS256"} */
	char *t;

	if (size < 1 || size > 20000) {
		return 0;
	}
	if (data[0] & 1) {
		unsigned char mac[32];
		unsigned int ml = 32;
		size_t n = sizeof(head) - 1;
		t = malloc(n + 4 * (size / 3 + 1) + 1 + 44);
		memcpy(t, head, n);
		n += rt_base64url_encode(data + 1, size - 1, t + n);
		HMAC(EVP_sha256(), key, (int) sizeof(key) - 1, (unsigned char *) t, n, mac, &ml);
		t[n++] = '.';
		n += rt_base64url_encode(mac, 32, t + n);
		check(t, n);
		free(t);
		return 0;
	}
	/* An exact-size copy, so that reading past the token is caught. */
	t = malloc(size - 1 ? size - 1 : 1);
	memcpy(t, data + 1, size - 1);
	check(t, size - 1);
	free(t);
	return 0;
}
