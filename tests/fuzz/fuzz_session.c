/* A WebSocket session fed arbitrary bytes after the handshake (hub/net/conn.c,
 * hub/wire/frame.c, wslay, then the protocol): frames of any shape, masked or
 * not, fragmented, control frames, bad UTF-8, closes. Input: a byte
 * choosing the protocol (native with a token, native anonymous, Pusher),
 * then the raw bytes the client sends. */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "live.h"

static char target[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *token;
	(void) argc;
	(void) argv;
	rt_fuzz_live_start();
	token = rt_fuzz_live_token("fuzzer");
	snprintf(target, sizeof(target), "/ws?token=%s", token);
	free(token);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const anon = "/ws", *const pusher = "/app/" RT_FUZZ_APP_KEY;
	int fd;

	if (size < 1 || size > 65536) {
		return 0;
	}
	fd = rt_fuzz_live_ws(data[0] % 3 == 0 ? target : data[0] % 3 == 1 ? anon : pusher);
	if (fd < 0) {
		abort(); /* the hub refused a valid upgrade */
	}
	if (size > 1) {
		send(fd, data + 1, size - 1, MSG_NOSIGNAL);
	}
	rt_fuzz_live_finish(fd);
	return 0;
}
