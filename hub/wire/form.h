/* application/x-www-form-urlencoded text (a POST body, or a URL's query):
 * its key=value pairs one at a time, as slices of the input, and their
 * decoding into a caller's bounded buffer. No allocation, no I/O. */
#ifndef RT_HUB_WIRE_FORM_H
#define RT_HUB_WIRE_FORM_H

#include <stddef.h>

typedef struct rt_form_iter {
	const char *p, *end;
} rt_form_iter;

/* Iterates over text (len bytes; a URL's query without its '?'). */
void rt_form_begin(rt_form_iter *it, const char *text, size_t len);

/* The next pair, still encoded: key and value point into the text (value
 * empty, not NULL, for "key" and "key="). Empty pairs ("a&&b") are
 * skipped. 1 with a pair, 0 at the end. */
int rt_form_next(rt_form_iter *it, const char **key, size_t *key_len, const char **value,
		size_t *value_len);

/* 1 when the encoded key decodes to name (its bytes, exactly). */
int rt_form_key_is(const char *key, size_t key_len, const char *name);

/* Decodes one key or value ('+' is a space, %XX a byte) into out, which
 * gets a NUL after it. The decoded length, or -ENOSPC when it needs more
 * than cap - 1 bytes (out then holds a truncated, terminated prefix). A
 * decoded NUL byte is kept: callers that need text check for it. */
long rt_form_decode(const char *in, size_t len, char *out, size_t cap);

#endif
