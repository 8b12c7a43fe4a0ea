#include "wsframe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_parse(const uint8_t *data, size_t len, ws_frame *f)
{
	ws_head h;
	int r = ws_head_parse(data, len, &h);

	f->frame_len = 0;
	if (r == 0) {
		return 0;
	}
	if (h.masked || h.len > (1ull << 31)) {
		return -1; /* servers never mask */
	}
	f->opcode = h.opcode;
	f->fin = h.fin;
	f->len = h.len;
	f->frame_len = h.size + (size_t) h.len;
	f->payload = data + h.size;
	return len >= f->frame_len ? 1 : 0;
}

size_t ws_build(uint8_t *out, uint8_t opcode, const void *payload, size_t len, uint32_t mask)
{
	uint8_t m[4];

	memcpy(m, &mask, 4);
	return ws_frame_build(out, (uint8_t) (0x80 | opcode), payload, len, m);
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
