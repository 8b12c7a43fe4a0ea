/* Signed connection tokens, issued by Realtime\token() and checked by the
 * hub without calling PHP:
 *   base64url(payload JSON) "." base64url(HMAC-SHA256(secret, first part))
 * The payload holds "uid", "exp" (unix seconds), and optionally "info" and
 * "channels" (patterns of private and presence channels the user may join). */
#ifndef RT_HUB_TOKEN_H
#define RT_HUB_TOKEN_H

#include <stddef.h>
#include <time.h>

#include "hub/model/identity.h"

/* Writes the token for payload into a malloc'd string; NULL when out of memory. */
char *rt_token_sign(const char *secret, size_t secret_len, const char *payload, size_t len);

/* Returns the identity the token carries, or NULL with err set when it is
 * malformed, forged, tampered with or expired. */
rt_identity *rt_token_verify(const char *secret, size_t secret_len, const char *token,
		size_t len, time_t now, size_t max_info, char *err, size_t errlen);

/* base64url without padding. out must hold 4 * ceil(len / 3) + 1 bytes. */
size_t rt_base64url_encode(const unsigned char *in, size_t len, char *out);
/* Decodes into out, which holds cap bytes; writes nothing past them.
 * Returns the decoded length, -EINVAL on a bad character or length, or
 * -ENOSPC when the result would not fit. */
long rt_base64url_decode(const char *in, size_t len, unsigned char *out, size_t cap);

/* Constant-time comparison. */
int rt_secure_equals(const void *a, const void *b, size_t len);

/* The signature of a POST /publish request (hub/api/publish_api.c, and the
 * remote broker that sends them): hex(HMAC-SHA256(secret, ts "." body))
 * into out. Returns 0, or -ENOMEM. */
int rt_publish_sign(const char *secret, const char *ts, size_t ts_len, const char *body,
		size_t len, char out[65]);

/* hex(HMAC-SHA256(key, data)) into out (65 bytes). */
void rt_hmac_sha256_hex(const char *key, size_t key_len, const void *data, size_t len, char *out);

#endif
