#include "hub/model/token.h"
#include "hub/util/text.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char rt__b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t rt_base64url_encode(const unsigned char *in, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t) in[i] << 16;
		size_t n = len - i;
		if (n > 1) {
			v |= (uint32_t) in[i + 1] << 8;
		}
		if (n > 2) {
			v |= in[i + 2];
		}
		out[o++] = rt__b64url[(v >> 18) & 63];
		out[o++] = rt__b64url[(v >> 12) & 63];
		if (n > 1) {
			out[o++] = rt__b64url[(v >> 6) & 63];
		}
		if (n > 2) {
			out[o++] = rt__b64url[v & 63];
		}
	}
	out[o] = '\0';
	return o;
}

static int rt__b64_value(char c)
{
	const char *p = (c != '\0') ? strchr(rt__b64url, c) : NULL;
	return p ? (int) (p - rt__b64url) : -1;
}

long rt_base64url_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	if (len % 4 == 1 || len > (size_t) LONG_MAX) {
		return -EINVAL;
	}
	/* Every 4 characters make 3 bytes; a tail of 2 or 3 makes 1 or 2. */
	if (len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0) > cap) {
		return -ENOSPC;
	}
	for (size_t i = 0; i < len; i++) {
		int v = rt__b64_value(in[i]);
		if (v < 0) {
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char) (acc >> bits);
		}
	}
	return (long) o;
}

int rt_secure_equals(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++) {
		diff |= x[i] ^ y[i];
	}
	return diff == 0;
}

static void rt__hmac(const char *key, size_t key_len, const void *data, size_t len,
		unsigned char mac[32])
{
	unsigned int mac_len = 32;
	HMAC(EVP_sha256(), key, (int) key_len, data, len, mac, &mac_len);
}

void rt_hmac_sha256_hex(const char *key, size_t key_len, const void *data, size_t len, char *out)
{
	unsigned char mac[32];

	rt__hmac(key, key_len, data, len, mac);
	rt_hex_encode(mac, sizeof(mac), out);
}

char *rt_token_sign(const char *secret, size_t secret_len, const char *payload, size_t len)
{
	unsigned char mac[32];
	char *out = malloc(4 * ((len + 2) / 3) + 1 + 44 + 1);
	size_t n;

	if (out == NULL) {
		return NULL;
	}
	n = rt_base64url_encode((const unsigned char *) payload, len, out);
	rt__hmac(secret, secret_len, out, n, mac);
	out[n++] = '.';
	rt_base64url_encode(mac, sizeof(mac), out + n);
	return out;
}

rt_identity *rt_token_verify(const char *secret, size_t secret_len, const char *token,
		size_t len, time_t now, size_t max_info, char *err, size_t errlen)
{
	const char *dot = memchr(token, '.', len);
	unsigned char mac[32], given[32];
	unsigned char *payload;
	long plen;
	json_t *root, *exp;
	json_error_t jerr;
	rt_identity *id = NULL;

	if (secret_len == 0) {
		snprintf(err, errlen, "tokens are not accepted: realtime.secret is not set");
		return NULL;
	}
	if (dot == NULL || len > 16384
			|| rt_base64url_decode(dot + 1, len - (size_t) (dot - token) - 1, given,
					sizeof(given)) != (long) sizeof(given)) {
		snprintf(err, errlen, "malformed token");
		return NULL;
	}
	rt__hmac(secret, secret_len, token, (size_t) (dot - token), mac);
	if (!rt_secure_equals(mac, given, sizeof(mac))) {
		snprintf(err, errlen, "token signature does not match");
		return NULL;
	}
	payload = malloc((size_t) (dot - token) + 1);
	if (payload == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	plen = rt_base64url_decode(token, (size_t) (dot - token), payload, (size_t) (dot - token) + 1);
	root = plen < 0 ? NULL : json_loadb((const char *) payload, (size_t) plen, 0, &jerr);
	free(payload);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "malformed token payload");
		json_decref(root);
		return NULL;
	}
	exp = json_object_get(root, "exp");
	if (!json_is_integer(exp)) {
		snprintf(err, errlen, "token has no expiry");
	} else if ((json_int_t) now >= json_integer_value(exp)) {
		snprintf(err, errlen, "token expired");
	} else {
		id = rt_identity_from_json(json_object_get(root, "uid"), json_object_get(root, "info"),
				json_object_get(root, "channels"), max_info, err, errlen);
	}
	json_decref(root);
	return id;
}

int rt_publish_sign(const char *secret, const char *ts, size_t ts_len, const char *body,
		size_t len, char out[65])
{
	char *subject = malloc(ts_len + 1 + len + 1);

	if (subject == NULL) {
		return -ENOMEM;
	}
	memcpy(subject, ts, ts_len);
	subject[ts_len] = '.';
	if (len > 0) {
		memcpy(subject + ts_len + 1, body, len);
	}
	rt_hmac_sha256_hex(secret, strlen(secret), subject, ts_len + 1 + len, out);
	free(subject);
	return 0;
}
