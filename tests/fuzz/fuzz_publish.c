/* POST /publish bodies (hub/api/publish_api.c), authorized, through a real
 * connection to the hub. The input is the body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "live.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	rt_fuzz_live_start();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char head[256];
	int fd, n;

	if (size > 60000) {
		return 0;
	}
	n = snprintf(head, sizeof(head),
			"POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Authorization: Bearer " RT_FUZZ_PUBLISH_KEY "\r\nContent-Type: application/json\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n", size);
	fd = rt_fuzz_live_connect();
	if (send(fd, head, (size_t) n, MSG_NOSIGNAL) == n && size > 0) {
		send(fd, data, size, MSG_NOSIGNAL);
	}
	rt_fuzz_live_finish(fd);
	return 0;
}
