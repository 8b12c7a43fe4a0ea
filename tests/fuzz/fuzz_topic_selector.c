/* Mercure topic selectors (hub/model/topic_selector.c). Input: selector,
 * a NUL byte, topic; each copied to an exact-size buffer so that reading
 * past either is caught. A selector always matches itself when it has no
 * template, and "*" matches everything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/topic_selector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t slen = nul ? (size_t) (nul - data) : size;
	size_t tlen = nul ? size - slen - 1 : 0;
	char *s = malloc(slen ? slen : 1), *t = malloc(tlen ? tlen : 1);
	int r;

	memcpy(s, data, slen);
	if (tlen) {
		memcpy(t, nul + 1, tlen);
	}
	r = rt_topic_selector_match(s, slen, t, tlen);
	if (r < -1000 || r > 1) {
		abort();
	}
	if (tlen <= RT_TOPIC_SELECTOR_MAX && rt_topic_selector_match("*", 1, t, tlen) != 1) {
		abort();
	}
	if (slen <= RT_TOPIC_SELECTOR_MAX && memchr(s, '{', slen) == NULL && memchr(s, '}', slen) == NULL
			&& !(slen == 1 && s[0] == '*') && rt_topic_selector_match(s, slen, s, slen) != 1) {
		abort();
	}
	free(s);
	free(t);
	return 0;
}
