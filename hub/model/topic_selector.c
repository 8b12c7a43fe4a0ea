#include "hub/model/topic_selector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int rt__unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
			|| c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
}

/* Whether c may appear inside the expansion of an expression with
 * operator op (after its leading operator character). Values are
 * percent-encoded except under + and #, so a plain expansion cannot hold
 * a '/' and cannot swallow the next path segment. */
static int rt__in_class(char op, unsigned char c)
{
	switch (op) {
	case '+':
	case '#':
		return c > 0x20 && c < 0x7f;
	case '.':
		return rt__unreserved(c) || c == ',';
	case '/':
		return rt__unreserved(c) || c == '/' || c == ',';
	case ';':
		return rt__unreserved(c) || c == ';' || c == '=' || c == ',';
	case '?':
	case '&':
		return rt__unreserved(c) || c == '&' || c == '=' || c == ',';
	default:
		return rt__unreserved(c) || c == ',';
	}
}

/* reach[p]: the selector read so far can produce topic[0..p). One pass per
 * selector character or expression keeps the match linear in each. */
int rt_topic_selector_match(const char *selector, size_t slen, const char *topic, size_t tlen)
{
	unsigned char *reach, *next;
	size_t i = 0;
	int r;

	if (slen > RT_TOPIC_SELECTOR_MAX || tlen > RT_TOPIC_SELECTOR_MAX) {
		return -EINVAL;
	}
	if (slen == 1 && selector[0] == '*') {
		return 1;
	}
	if (memchr(selector, '{', slen) == NULL && memchr(selector, '}', slen) == NULL) {
		return slen == tlen && memcmp(selector, topic, slen) == 0;
	}
	reach = calloc(2, tlen + 1);
	if (reach == NULL) {
		return -ENOMEM;
	}
	next = reach + tlen + 1;
	reach[0] = 1;
	while (i < slen) {
		if (selector[i] == '}') {
			free(reach);
			return -EINVAL;
		}
		if (selector[i] != '{') {
			memset(next, 0, tlen + 1);
			for (size_t p = 0; p < tlen; p++) {
				next[p + 1] = reach[p] && topic[p] == selector[i];
			}
			i++;
		} else {
			const char *close = memchr(selector + i, '}', slen - i);
			char op = (i + 1 < slen) ? selector[i + 1] : '\0';
			size_t body;
			if (close == NULL) {
				free(reach);
				return -EINVAL;
			}
			if (strchr("+#./;?&", op) == NULL || op == '\0') {
				op = '\0';
			}
			body = (size_t) (close - selector) - i - 1 - (op != '\0');
			if (body == 0 || memchr(selector + i + 1, '{', (size_t) (close - selector) - i - 1)) {
				free(reach);
				return -EINVAL;
			}
			if (op == '\0' || op == '+') {
				/* No leading character: the run may start where we are. */
				memcpy(next, reach, tlen + 1);
			} else {
				/* Empty (undefined) or the operator's character first. */
				memset(next, 0, tlen + 1);
				for (size_t p = 0; p < tlen; p++) {
					next[p + 1] = reach[p] && topic[p] == op;
				}
			}
			for (size_t p = 1; p <= tlen; p++) {
				if (!next[p] && next[p - 1] && rt__in_class(op, (unsigned char) topic[p - 1])) {
					next[p] = 1;
				}
			}
			if (op != '\0' && op != '+') {
				for (size_t p = 0; p <= tlen; p++) {
					next[p] |= reach[p];
				}
			}
			i = (size_t) (close - selector) + 1;
		}
		memcpy(reach, next, tlen + 1);
	}
	r = reach[tlen];
	free(reach);
	return r;
}
