/* The client side of RFC 6455 frames, shared by the load generator (bench/)
 * and the unit tests' client (tests/unit/wsclient.h): building a frame and
 * reading a frame's header. Header-only, no I/O. */
#ifndef BENCH_WSCODEC_H
#define BENCH_WSCODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Writes a frame whose first byte is b0 (FIN, RSV bits and opcode, so a
 * test can make malformed ones) into out, which holds len + 14 bytes;
 * masked with mask unless it is NULL. Returns the frame's size. */
static inline size_t ws_frame_build(uint8_t *out, uint8_t b0, const void *payload, size_t len,
		const uint8_t *mask)
{
	const uint8_t *p = payload;
	uint8_t m = mask != NULL ? 0x80 : 0;
	size_t h = 0;

	out[h++] = b0;
	if (len < 126) {
		out[h++] = (uint8_t) (m | len);
	} else if (len <= 0xffff) {
		out[h++] = (uint8_t) (m | 126);
		out[h++] = (uint8_t) (len >> 8);
		out[h++] = (uint8_t) len;
	} else {
		out[h++] = (uint8_t) (m | 127);
		for (int i = 7; i >= 0; i--) {
			out[h++] = (uint8_t) ((uint64_t) len >> (8 * i));
		}
	}
	if (mask != NULL) {
		memcpy(out + h, mask, 4);
		h += 4;
	}
	for (size_t i = 0; i < len; i++) {
		out[h + i] = mask != NULL ? (uint8_t) (p[i] ^ mask[i & 3]) : p[i];
	}
	return h + len;
}

typedef struct ws_head {
	uint8_t b0;          /* the first byte as it came */
	uint8_t opcode;
	int fin;
	int masked;
	uint8_t mask[4];     /* when masked */
	uint64_t len;        /* payload bytes */
	size_t size;         /* header bytes, mask included */
} ws_head;

/* Reads a frame header from the n bytes at h. 1: complete, *out filled;
 * 0: more bytes needed, out->size is how many the header takes (2 until
 * the second byte is in). */
static inline int ws_head_parse(const uint8_t *h, size_t n, ws_head *out)
{
	uint8_t l;

	memset(out, 0, sizeof(*out));
	out->size = 2;
	if (n < 2) {
		return 0;
	}
	out->b0 = h[0];
	out->opcode = h[0] & 0x0f;
	out->fin = (h[0] & 0x80) != 0;
	out->masked = (h[1] & 0x80) != 0;
	l = h[1] & 0x7f;
	out->size = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + (out->masked ? 4 : 0);
	if (n < out->size) {
		return 0;
	}
	if (l == 126) {
		out->len = ((uint64_t) h[2] << 8) | h[3];
	} else if (l == 127) {
		for (int i = 0; i < 8; i++) {
			out->len = (out->len << 8) | h[2 + i];
		}
	} else {
		out->len = l;
	}
	if (out->masked) {
		memcpy(out->mask, h + out->size - 4, 4);
	}
	return 1;
}

#endif
