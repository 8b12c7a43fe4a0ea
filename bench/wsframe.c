#include "wsframe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_parse(const uint8_t *data, size_t len, ws_frame *f)
{
	size_t hlen = 2;
	uint64_t plen;

	f->frame_len = 0;
	if (len < 2) {
		return 0;
	}
	if (data[1] & 0x80) {
		return -1; /* servers never mask */
	}
	plen = data[1] & 0x7f;
	if (plen == 126) {
		hlen = 4;
		if (len < hlen) {
			return 0;
		}
		plen = ((uint64_t) data[2] << 8) | data[3];
	} else if (plen == 127) {
		hlen = 10;
		if (len < hlen) {
			return 0;
		}
		plen = 0;
		for (int i = 0; i < 8; i++) {
			plen = (plen << 8) | data[2 + i];
		}
		if (plen > (1ull << 31)) {
			return -1;
		}
	}
	f->opcode = data[0] & 0x0f;
	f->fin = (data[0] & 0x80) != 0;
	f->len = plen;
	f->frame_len = hlen + (size_t) plen;
	f->payload = data + hlen;
	return len >= f->frame_len ? 1 : 0;
}

size_t ws_build(uint8_t *out, uint8_t opcode, const void *payload, size_t len, uint32_t mask)
{
	size_t h = 2;
	uint8_t m[4];
	const uint8_t *p = payload;

	out[0] = (uint8_t) (0x80 | opcode);
	if (len < 126) {
		out[1] = (uint8_t) (0x80 | len);
	} else if (len <= 0xffff) {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t) (len >> 8);
		out[3] = (uint8_t) len;
		h = 4;
	} else {
		out[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++) {
			out[2 + i] = (uint8_t) ((uint64_t) len >> (56 - 8 * i));
		}
		h = 10;
	}
	memcpy(m, &mask, 4);
	memcpy(out + h, m, 4);
	h += 4;
	for (size_t i = 0; i < len; i++) {
		out[h + i] = p[i] ^ m[i & 3];
	}
	return h + len;
}

size_t ws_upgrade_request(char *out, size_t cap, const char *host, int port, const char *path)
{
	/* Any 16 bytes, base64: the load generator does not check the accept hash. */
	int n = snprintf(out, cap,
			"GET %s HTTP/1.1\r\n"
			"Host: %s:%d\r\n"
			"Upgrade: websocket\r\n"
			"Connection: Upgrade\r\n"
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n", path, host, port);
	return n > 0 && (size_t) n < cap ? (size_t) n : 0;
}

size_t ws_response_head(const char *data, size_t len, int *status)
{
	for (size_t i = 3; i < len; i++) {
		if (data[i] == '\n' && data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r') {
			*status = 0;
			if (len > 12 && memcmp(data, "HTTP/1.", 7) == 0) {
				*status = atoi(data + 9);
			}
			return i + 1;
		}
	}
	return 0;
}
