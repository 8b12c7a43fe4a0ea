/* SipHash-2-4 (Aumasson and Bernstein), and the per-process key that makes
 * the hub's hash maps unpredictable to the clients that name their keys. */
#ifndef RT_HUB_SIPHASH_H
#define RT_HUB_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* The 64-bit SipHash-2-4 of data under a 16-byte key (bytes 0-7 are k0 and
 * bytes 8-15 k1, little-endian, as in the paper). */
uint64_t rt_siphash24(const uint8_t key[16], const void *data, size_t len);

/* SipHash-2-4 under this process's key: 16 bytes from getrandom(), drawn
 * once, at the first call. Never use it for a value that processes must
 * agree on. */
uint64_t rt_siphash_keyed(const void *data, size_t len);

#endif
