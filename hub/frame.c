#include "hub/frame.h"

#include <string.h>

size_t rt_frame_header(uint8_t *out, uint8_t opcode, uint64_t len)
{
	out[0] = (uint8_t) (0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t) len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t) (len >> 8);
		out[3] = (uint8_t) len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++) {
		out[2 + i] = (uint8_t) (len >> (56 - 8 * i));
	}
	return 10;
}

rt_buf *rt_frame_new(uint8_t opcode, const void *payload, size_t len)
{
	uint8_t header[10];
	size_t hlen = rt_frame_header(header, opcode, len);
	rt_buf *b = rt_buf_new(hlen + len);

	if (b == NULL) {
		return NULL;
	}
	memcpy(b->data, header, hlen);
	if (len) {
		memcpy(b->data + hlen, payload, len);
	}
	return b;
}

int rt_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t need;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= need) {
			return 0;
		}
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80) {
				return 0;
			}
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
				|| (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			return 0;
		}
		i += need + 1;
	}
	return 1;
}
