/* Answers of the app's auth endpoint (hub/auth.c): the body of a 2xx
 * answer, parsed into the identity a connection gets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/auth.h"
#include "hub/model/identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200];
	char *body = malloc(size ? size : 1);
	rt_identity *id;

	memcpy(body, data, size);
	id = rt_auth_parse_reply(body, size, 512, err, sizeof(err));
	if (id != NULL) {
		if (id->user_id_len == 0 || strlen(id->user_id) != id->user_id_len
				|| (id->user_info != NULL && id->user_info_len > 512)) {
			abort();
		}
		for (size_t i = 0; i < id->pattern_count; i++) {
			rt_identity_may_join(id, id->patterns[i], strlen(id->patterns[i]));
		}
		rt_identity_may_join(id, "presence-x", 10);
		rt_identity_free(id);
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		abort();
	}
	free(body);
	return 0;
}
