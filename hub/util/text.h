/* Small string helpers shared across hub/: prefixes and hex. */
#ifndef RT_HUB_TEXT_H
#define RT_HUB_TEXT_H

#include <stddef.h>
#include <string.h>

/* 1 when the len bytes at s start with prefix (a C string). */
static inline int rt_has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* Lowercase hex of len bytes into out, which holds 2 * len + 1 bytes
 * (NUL-terminated). */
void rt_hex_encode(const void *in, size_t len, char *out);

#endif
