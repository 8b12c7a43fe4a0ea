/* The client side of RFC 6455 framing, just what the load generator needs:
 * the upgrade request, parsing server frames, building masked frames. */
#ifndef BENCH_WSFRAME_H
#define BENCH_WSFRAME_H

#include <stddef.h>
#include <stdint.h>

#include "wscodec.h"

enum { WS_CONT = 0, WS_TEXT = 1, WS_BINARY = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

typedef struct ws_frame {
	uint8_t opcode;
	uint8_t fin;
	const uint8_t *payload;
	uint64_t len;        /* payload bytes */
	size_t frame_len;    /* header + payload */
} ws_frame;

/* 1: a whole frame is at data (f filled); 0: more bytes needed (f->frame_len
 * holds the total needed when the header is complete, else 0); -1: a masked
 * or otherwise invalid server frame. */
int ws_parse(const uint8_t *data, size_t len, ws_frame *f);

/* Writes a masked client frame into out (room for len + 14) and returns its size. */
size_t ws_build(uint8_t *out, uint8_t opcode, const void *payload, size_t len, uint32_t mask);

/* The upgrade request for path on host:port. */
size_t ws_upgrade_request(char *out, size_t cap, const char *host, int port, const char *path);

/* Looks for the end of the response head: returns its length when complete
 * (and stores the status code), 0 when more bytes are needed. */
size_t ws_response_head(const char *data, size_t len, int *status);

#endif
