#include "hub/wire/form.h"
#include "hub/wire/http.h"

#include <errno.h>
#include <string.h>

void rt_form_begin(rt_form_iter *it, const char *text, size_t len)
{
	it->p = text;
	it->end = text + len;
}

int rt_form_next(rt_form_iter *it, const char **key, size_t *key_len, const char **value,
		size_t *value_len)
{
	while (it->p < it->end) {
		const char *pair = it->p;
		const char *amp = memchr(pair, '&', (size_t) (it->end - pair));
		const char *stop = amp != NULL ? amp : it->end;
		const char *eq = memchr(pair, '=', (size_t) (stop - pair));

		it->p = amp != NULL ? amp + 1 : it->end;
		if (stop == pair) {
			continue;
		}
		*key = pair;
		*key_len = (size_t) ((eq != NULL ? eq : stop) - pair);
		*value = eq != NULL ? eq + 1 : stop;
		*value_len = (size_t) (stop - *value);
		return 1;
	}
	return 0;
}

int rt_form_key_is(const char *key, size_t key_len, const char *name)
{
	char buf[64];
	size_t n = strlen(name);
	long got;

	/* A key is at most three encoded bytes per byte of the name. */
	if (n >= sizeof(buf) || key_len > 3 * n) {
		return 0;
	}
	got = rt_form_decode(key, key_len, buf, sizeof(buf));
	return got == (long) n && memcmp(buf, name, n) == 0;
}

long rt_form_decode(const char *in, size_t len, char *out, size_t cap)
{
	return rt_http_url_decode(in, len, 1, out, cap);
}
