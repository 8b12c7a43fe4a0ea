/* UTF-8 validation of what clients send (RFC 3629). */
#ifndef RT_HUB_UTF8_H
#define RT_HUB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* 1 when s is valid UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
int rt_utf8_valid(const uint8_t *s, size_t len);

#endif
