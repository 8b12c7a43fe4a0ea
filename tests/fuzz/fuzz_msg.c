/* Messages decoded from the shared ring (rt_msg_decode, hub/model/msg.c): the
 * bytes come from memory every process of the server can write. What
 * decodes must encode back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	rt_msg *msg, *copy;

	/* An exact-size copy, so that reading past the end is caught. */
	memcpy(in, data, size);
	msg = rt_msg_decode(in, size);
	if (msg != NULL) {
		size_t n = rt_msg_encoded_size(msg);
		char *out = malloc(n ? n : 1);
		if (n != size || rt_msg_encode(msg, out, n) != size || memcmp(out, in, size) != 0) {
			abort();
		}
		if (n > 0 && rt_msg_encode(msg, out, n - 1) != 0) {
			abort(); /* encode needs all the room it claims */
		}
		copy = rt_msg_copy(msg);
		rt_msg_free(copy);
		free(out);
		rt_msg_free(msg);
	}
	free(in);
	return 0;
}
