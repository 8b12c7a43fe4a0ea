/* Token verification (hub/model/token.c) and the identity it carries
 * (hub/model/identity.c). Input: a mode byte, then either a whole token as a
 * client sends it (mode even), or a payload that the harness signs with
 * the hub's secret (mode odd), so that the JSON behind a valid signature
 * is explored too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/identity.h"
#include "hub/model/token.h"

static const char secret[] = "fuzz-secret";

static void check(const char *token, size_t len)
{
	char err[200];
	rt_identity *id = rt_token_verify(secret, sizeof(secret) - 1, token, len, 1700000000,
			512, err, sizeof(err));

	if (id != NULL) {
		if (id->user_id == NULL || strlen(id->user_id) != id->user_id_len) {
			abort();
		}
		rt_identity_may_join(id, "private-x", 9);
		rt_identity_may_join(id, "presence-room", 13);
		rt_identity_free(id);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;

	if (size < 1 || size > 20000) {
		return 0;
	}
	if (data[0] & 1) {
		char *t = rt_token_sign(secret, sizeof(secret) - 1, (const char *) data + 1, size - 1);
		if (t != NULL) {
			check(t, strlen(t));
			free(t);
		}
		return 0;
	}
	/* An exact-size copy, so that reading past the token is caught. */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	check(copy, size - 1);
	free(copy);
	return 0;
}
