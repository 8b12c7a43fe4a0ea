/* Native protocol messages (hub/proto/native.c, hub/core/session.c, presence, client
 * events): each line of the input is one text message of a connection
 * authenticated with a token that may join every channel. A line that
 * starts with "2>" is sent by a second connection of another user instead,
 * so that what one client does reaches another (presence, whispers). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

static char target[512], target2[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *token;
	(void) argc;
	(void) argv;
	rt_fuzz_live_start();
	token = rt_fuzz_live_token("fuzzer");
	snprintf(target, sizeof(target), "/ws?token=%s", token);
	free(token);
	token = rt_fuzz_live_token("other");
	snprintf(target2, sizeof(target2), "/ws?token=%s", token);
	free(token);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *) data, *end = p + size;
	char hello[4096];
	int fd, fd2, open2 = 1;

	if (size > 65536) {
		return 0;
	}
	fd = rt_fuzz_live_ws(target);
	fd2 = rt_fuzz_live_ws(target2);
	if (fd < 0 || rt_fuzz_live_text(fd, hello, sizeof(hello)) < 0
			|| fd2 < 0 || rt_fuzz_live_text(fd2, hello, sizeof(hello)) < 0) {
		abort(); /* the hub refused a valid upgrade, or sent no welcome */
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
		if (n >= 2 && p[0] == '2' && p[1] == '>') {
			/* The second client may have been closed for what it sent. */
			if (open2 && rt_fuzz_live_frame(fd2, 0x81, p + 2, n - 2) != 0) {
				open2 = 0;
			}
		} else if (rt_fuzz_live_frame(fd, 0x81, p, n) != 0) {
			break;
		}
		p += n + 1;
	}
	rt_fuzz_live_finish(fd2);
	rt_fuzz_live_finish(fd);
	return 0;
}
