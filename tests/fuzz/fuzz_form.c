/* Form-encoded text (hub/wire/form.c): the input copied to an exact-size
 * buffer, split into pairs, each key and value decoded into a buffer just
 * as large as its encoding needs (a decoding never grows), so a read or
 * write past either is caught. Pairs come in order, never overlap, and
 * stay within the input (a key may be empty: "=v"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/wire/form.h"

static void decode_exact(const char *in, size_t len)
{
	char *out = malloc(len + 1);
	long n = rt_form_decode(in, len, out, len + 1);

	if (n < 0 || (size_t) n > len || out[n] != '\0') {
		abort();
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	const char *k, *v, *last = NULL;
	size_t kl, vl;
	rt_form_iter it;

	memcpy(text, data, size);
	rt_form_begin(&it, text, size);
	while (rt_form_next(&it, &k, &kl, &v, &vl)) {
		if (k < text || v < k || v + vl > text + size || (last != NULL && k <= last)
				|| memchr(k, '&', kl) != NULL || memchr(v, '&', vl) != NULL) {
			abort();
		}
		last = v + vl;
		decode_exact(k, kl);
		decode_exact(v, vl);
		(void) rt_form_key_is(k, kl, "topic");
	}
	free(text);
	return 0;
}
