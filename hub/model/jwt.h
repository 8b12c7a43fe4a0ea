/* Mercure JWTs (RFC 7519, HS256 only): verifies a compact token against a
 * key and returns its mercure.publish / mercure.subscribe topic lists. */
#ifndef RT_HUB_JWT_H
#define RT_HUB_JWT_H

#include <stddef.h>
#include <time.h>

#define RT_JWT_MAX        16384  /* bytes of a whole token */
#define RT_JWT_TOPICS_MAX 256    /* entries of one claim array */
#define RT_JWT_TOPIC_MAX  2048   /* bytes of one entry */

typedef struct rt_jwt_claims {
	char **publish;        /* NULL-terminated; NULL when the claim is absent */
	size_t publish_count;
	char **subscribe;
	size_t subscribe_count;
} rt_jwt_claims;

/* Returns 0 and fills out (free with rt_jwt_claims_free), or -EINVAL with
 * err set when the token is malformed, not HS256, forged, expired (exp) or
 * not yet valid (nbf). An empty key refuses every token. */
int rt_jwt_verify(const char *key, size_t key_len, const char *token, size_t len, time_t now,
		rt_jwt_claims *out, char *err, size_t errlen);
void rt_jwt_claims_free(rt_jwt_claims *c);

#endif
