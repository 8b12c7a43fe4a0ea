#include "hub/model/jwt.h"
#include "hub/model/token.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rt__fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -EINVAL;
}

/* Decodes one base64url part into a malloc'd, NUL-terminated buffer sized
 * from the input, so the decoder's bound is exact. */
static unsigned char *rt__part(const char *in, size_t len, long *out_len)
{
	size_t cap = len / 4 * 3 + 3;
	unsigned char *buf = malloc(cap + 1);
	long n;

	if (buf == NULL) {
		return NULL;
	}
	n = rt_base64url_decode(in, len, buf, cap);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*out_len = n;
	return buf;
}

/* -1 when the claim is not an array of short strings. */
static int rt__topics(json_t *v, char ***list, size_t *count)
{
	size_t i, n;
	json_t *e;

	if (v == NULL) {
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > RT_JWT_TOPICS_MAX) {
		return -1;
	}
	n = json_array_size(v);
	*list = calloc(n + 1, sizeof(char *));
	if (*list == NULL) {
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) > RT_JWT_TOPIC_MAX
				|| (size_t) strlen(json_string_value(e)) != json_string_length(e)) {
			return -1;
		}
		(*list)[i] = strdup(json_string_value(e));
		if ((*list)[i] == NULL) {
			return -1;
		}
		*count = i + 1;
	}
	return 0;
}

/* A numeric date claim: absent is fine; a non-number is malformed. */
static int rt__date(json_t *root, const char *name, double *out)
{
	json_t *v = json_object_get(root, name);

	if (v == NULL) {
		return 0;
	}
	if (!json_is_number(v)) {
		return -1;
	}
	*out = json_number_value(v);
	return 1;
}

int rt_jwt_verify(const char *key, size_t key_len, const char *token, size_t len, time_t now,
		rt_jwt_claims *out, char *err, size_t errlen)
{
	const char *d1, *d2;
	unsigned char mac[32], given[32];
	unsigned int mac_len = sizeof(mac);
	unsigned char *head = NULL, *body = NULL;
	long hlen, blen;
	json_t *h = NULL, *b = NULL, *alg, *claim;
	json_error_t jerr;
	double when;
	int r = -EINVAL, k;

	memset(out, 0, sizeof(*out));
	if (key_len == 0) {
		return rt__fail(err, errlen, "no key is set for these tokens");
	}
	if (len == 0 || len > RT_JWT_MAX) {
		return rt__fail(err, errlen, "malformed token");
	}
	d1 = memchr(token, '.', len);
	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t) (d1 + 1 - token)) : NULL;
	if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', len - (size_t) (d2 + 1 - token)) != NULL) {
		return rt__fail(err, errlen, "malformed token");
	}
	head = rt__part(token, (size_t) (d1 - token), &hlen);
	h = head ? json_loadb((const char *) head, (size_t) hlen, 0, &jerr) : NULL;
	alg = json_object_get(h, "alg");
	/* Only HS256: "none" and every other algorithm are refused before any
	 * signature is looked at, so a token cannot pick its own check. */
	if (!json_is_object(h) || !json_is_string(alg) || strcmp(json_string_value(alg), "HS256") != 0) {
		rt__fail(err, errlen, "the token's alg must be HS256");
		goto done;
	}
	if (rt_base64url_decode(d2 + 1, len - (size_t) (d2 + 1 - token), given, sizeof(given))
			!= (long) sizeof(given)) {
		rt__fail(err, errlen, "malformed token signature");
		goto done;
	}
	HMAC(EVP_sha256(), key, (int) key_len, (const unsigned char *) token, (size_t) (d2 - token),
			mac, &mac_len);
	if (!rt_secure_equals(mac, given, sizeof(mac))) {
		rt__fail(err, errlen, "the token's signature does not match");
		goto done;
	}
	body = rt__part(d1 + 1, (size_t) (d2 - d1 - 1), &blen);
	b = body ? json_loadb((const char *) body, (size_t) blen, 0, &jerr) : NULL;
	if (!json_is_object(b)) {
		rt__fail(err, errlen, "the token's payload is not a JSON object");
		goto done;
	}
	if ((k = rt__date(b, "exp", &when)) < 0 || (k == 1 && (double) now >= when)) {
		rt__fail(err, errlen, k < 0 ? "malformed exp" : "the token has expired");
		goto done;
	}
	if ((k = rt__date(b, "nbf", &when)) < 0 || (k == 1 && (double) now < when)) {
		rt__fail(err, errlen, k < 0 ? "malformed nbf" : "the token is not valid yet");
		goto done;
	}
	claim = json_object_get(b, "mercure");
	if (claim != NULL && !json_is_object(claim)) {
		rt__fail(err, errlen, "the mercure claim must be an object");
		goto done;
	}
	if (rt__topics(json_object_get(claim, "publish"), &out->publish, &out->publish_count) != 0
			|| rt__topics(json_object_get(claim, "subscribe"), &out->subscribe,
					&out->subscribe_count) != 0) {
		rt_jwt_claims_free(out);
		rt__fail(err, errlen, "mercure.publish and mercure.subscribe must be arrays of topics");
		goto done;
	}
	r = 0;
done:
	json_decref(h);
	json_decref(b);
	free(head);
	free(body);
	return r;
}

static void rt__free_list(char **list)
{
	if (list != NULL) {
		for (size_t i = 0; list[i] != NULL; i++) {
			free(list[i]);
		}
		free(list);
	}
}

void rt_jwt_claims_free(rt_jwt_claims *c)
{
	rt__free_list(c->publish);
	rt__free_list(c->subscribe);
	memset(c, 0, sizeof(*c));
}
