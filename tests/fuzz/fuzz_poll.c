/* Long-polling (hub/polling.c, hub/net/longpoll.c) through a real hub. The
 * first byte picks: a poll that opens a session with a fuzzed channel list
 * or Last-Event-ID (answered at once), a poll of a session of this hub by
 * a fuzzed connection id and ack, or a relay message between hubs (the
 * events RT_POLLING_ASK / RT_POLLING_BATCH with a fuzzed target and data),
 * as the broker would carry it, sent through POST /publish. */
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

/* Query bytes: no space, no control byte, no '#' (the request line stays one). */
static size_t rt__query(const uint8_t *in, size_t len, char *out, size_t cap, int no_amp)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		char c = (char) in[i];
		if ((uint8_t) c <= 0x20 || (uint8_t) c >= 0x7f || c == '#' || (no_amp && c == '&')) {
			c = '_';
		}
		out[n++] = c;
	}
	out[n] = '\0';
	return n;
}

static void rt__get(const char *target)
{
	char req[9000];
	int fd, n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			"Connection: close\r\n\r\n", target);

	fd = rt_fuzz_live_connect();
	if (n > 0 && (size_t) n < sizeof(req)) {
		send(fd, req, (size_t) n, MSG_NOSIGNAL);
	}
	rt_fuzz_live_finish(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char q[4096], target[8192], head[256];
	int fd, n;

	if (size < 1 || size > 4000) {
		return 0;
	}
	switch (data[0] % 4) {
	case 0:
		rt__query(data + 1, size - 1, q, sizeof(q), 1);
		snprintf(target, sizeof(target), "/ws/poll?channels=%s", q);
		rt__get(target);
		break;
	case 1:
		rt__query(data + 1, size - 1, q, sizeof(q), 1);
		snprintf(target, sizeof(target), "/ws/poll?channels=a,b&lastEventId=%s", q);
		rt__get(target);
		break;
	case 2:
		/* A session id of no hub's node would be held till its timeout:
		 * node 0 is none, and "connection_id=0." ends at once only when it
		 * is this hub's; so the id is this fuzzing hub's, the rest fuzzed. */
		rt__query(data + 1, size - 1, q, sizeof(q), 0);
		snprintf(target, sizeof(target), "/ws/poll?ack=%s", q);
		rt__get(target);
		break;
	default: {
		/* {"type":"connection","target":<fuzz>,"event":"\u0001realtime:poll[-batch]","data":<fuzz>} */
		char body[9000];
		size_t split = size > 2 ? 1 + data[1] % (size - 1) : 1;
		const char *ev = (data[0] & 4) ? "\\u0001realtime:poll-batch" : "\\u0001realtime:poll";
		int bn;
		rt__query(data + 1, split - 1, q, 64, 1);
		for (char *p = q; *p; p++) {
			if (*p == '"' || *p == '\\') {
				*p = '_';
			}
		}
		bn = snprintf(body, sizeof(body), "{\"type\":\"connection\",\"target\":\"%s\",\"event\":\"%s\","
				"\"data\":%.*s}", q, ev, (int) (size - split), (const char *) data + split);
		if (bn <= 0 || (size_t) bn >= sizeof(body)) {
			return 0;
		}
		n = snprintf(head, sizeof(head),
				"POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				"Authorization: Bearer " RT_FUZZ_PUBLISH_KEY "\r\nContent-Type: application/json\r\n"
				"Content-Length: %d\r\nConnection: close\r\n\r\n", bn);
		fd = rt_fuzz_live_connect();
		if (send(fd, head, (size_t) n, MSG_NOSIGNAL) == n) {
			send(fd, body, (size_t) bn, MSG_NOSIGNAL);
		}
		rt_fuzz_live_finish(fd);
	}
	}
	return 0;
}
