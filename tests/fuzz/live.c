#include "live.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hub/model/config.h"
#include "hub/core/hub.h"
#include "hub/util/log.h"
#include "hub/model/token.h"

/* How long the hub may take over one input before it counts as hung. */
#define RT_FUZZ_WAIT_MS 15000

static rt_hub *rt__hub;
static rt_config rt__cfg;
static int rt__port;

static void rt__set(const char *name, const char *value)
{
	char err[256];

	if (rt_config_set(&rt__cfg, name, value, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
}

static int rt__free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0
			|| getsockname(fd, (struct sockaddr *) &a, &alen) != 0) {
		abort();
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

void rt_fuzz_live_start(void)
{
	char listen[64], err[256];

	if (rt__hub != NULL) {
		return;
	}
	/* The hub logs every refused client; RT_FUZZ_LOG=1 keeps that. */
	if (getenv("RT_FUZZ_LOG") == NULL) {
		rt_log_open("/dev/null");
	}
	rt_config_defaults(&rt__cfg);
	for (int attempt = 0; attempt < 20; attempt++) {
		rt__port = rt__free_port();
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", rt__port);
		rt__set("listen", listen);
		rt__set("ping_interval", "0");
		rt__set("allow_anonymous", "1");
		rt__set("secret", RT_FUZZ_SECRET);
		rt__set("publish_key", RT_FUZZ_PUBLISH_KEY);
		rt__set("subscribe_rate", "1000");
		rt__set("app_id", RT_FUZZ_APP_ID);
		rt__set("app_key", RT_FUZZ_APP_KEY);
		rt__set("app_secret", RT_FUZZ_APP_SECRET);
		rt__set("client_events", "1");
		rt__set("client_event_rate", "1000");
		rt__set("max_request_size", "65536");
		rt__set("mercure_publisher_key", RT_FUZZ_MERCURE_KEY);
		rt__set("mercure_subscriber_key", RT_FUZZ_MERCURE_KEY);
		rt__set("mercure_max_selectors", "64");
		if (rt_hub_start(&rt__hub, &rt__cfg, NULL, -1, 0, err, sizeof(err)) == 0) {
			return;
		}
		rt__hub = NULL;
	}
	fprintf(stderr, "fuzz: the hub did not start: %s\n", err);
	abort();
}

int rt_fuzz_live_port(void)
{
	return rt__port;
}

int rt_fuzz_live_connect(void)
{
	struct sockaddr_in a;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t) rt__port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0) {
		abort();
	}
	if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
		/* libFuzzer's timers interrupt system calls; the connect goes on. */
		struct pollfd p = {fd, POLLOUT, 0};
		int err = errno, r;
		socklen_t elen = sizeof(err);
		while (err == EINTR || err == EINPROGRESS) {
			do {
				r = poll(&p, 1, RT_FUZZ_WAIT_MS);
			} while (r < 0 && errno == EINTR);
			if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
				err = ETIMEDOUT;
			}
		}
		if (err != 0) {
			fprintf(stderr, "fuzz: cannot connect to the hub: %s\n", strerror(err));
			abort();
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int rt__send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Up to cap bytes, waiting at most RT_FUZZ_WAIT_MS; 0 at EOF, -1 on error. */
static ssize_t rt__recv(int fd, void *buf, size_t cap)
{
	struct pollfd p = {fd, POLLIN, 0};
	int r;

	do {
		r = poll(&p, 1, RT_FUZZ_WAIT_MS);
	} while (r < 0 && errno == EINTR);
	if (r == 0) {
		fprintf(stderr, "fuzz: the hub did not answer within %d ms\n", RT_FUZZ_WAIT_MS);
		abort();
	}
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);
		if (n >= 0 || errno != EINTR) {
			return n < 0 ? -1 : n;
		}
	}
}

static int rt__recv_exact(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = rt__recv(fd, p, len);
		if (n <= 0) {
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

int rt_fuzz_live_ws(const char *target)
{
	char req[4096], head[4096];
	size_t got = 0;
	int fd = rt_fuzz_live_connect();
	int n = snprintf(req, sizeof(req),
			"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n", target);

	if (n < 0 || (size_t) n >= sizeof(req) || rt__send_all(fd, req, (size_t) n) != 0) {
		abort();
	}
	/* Byte by byte up to the blank line, so nothing after the head is eaten. */
	while (got < sizeof(head) - 1) {
		if (rt__recv(fd, head + got, 1) != 1) {
			break;
		}
		got++;
		if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0) {
			break;
		}
	}
	head[got] = '\0';
	if (strncmp(head, "HTTP/1.1 101 ", 13) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int rt_fuzz_live_frame(int fd, uint8_t b0, const void *payload, size_t len)
{
	static const uint8_t key[4] = {0x5a, 0x13, 0xc7, 0x80};
	const uint8_t *p = payload;
	uint8_t *buf = malloc(len + 14);
	size_t h = 0;
	int r;

	buf[h++] = b0;
	if (len < 126) {
		buf[h++] = (uint8_t) (0x80 | len);
	} else if (len <= 0xffff) {
		buf[h++] = 0x80 | 126;
		buf[h++] = (uint8_t) (len >> 8);
		buf[h++] = (uint8_t) len;
	} else {
		buf[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--) {
			buf[h++] = (uint8_t) ((uint64_t) len >> (8 * i));
		}
	}
	memcpy(buf + h, key, 4);
	h += 4;
	for (size_t i = 0; i < len; i++) {
		buf[h + i] = p[i] ^ key[i & 3];
	}
	r = rt__send_all(fd, buf, h + len);
	free(buf);
	return r;
}

long rt_fuzz_live_text(int fd, char *out, size_t cap)
{
	for (;;) {
		uint8_t hdr[2], ext[8];
		uint64_t len;
		if (rt__recv_exact(fd, hdr, 2) != 0) {
			return -1;
		}
		len = hdr[1] & 0x7f;
		if (len == 126 || len == 127) {
			size_t n = len == 126 ? 2 : 8;
			if (rt__recv_exact(fd, ext, n) != 0) {
				return -1;
			}
			len = 0;
			for (size_t i = 0; i < n; i++) {
				len = (len << 8) | ext[i];
			}
		}
		if (len >= cap) {
			return -1;
		}
		if (rt__recv_exact(fd, out, (size_t) len) != 0) {
			return -1;
		}
		out[len] = '\0';
		if ((hdr[0] & 0x0f) == 0x1) {
			return (long) len;
		}
		if ((hdr[0] & 0x0f) == 0x8) {
			return -1;
		}
	}
}

void rt_fuzz_live_finish(int fd)
{
	char buf[16384];

	struct linger now = {1, 0};

	shutdown(fd, SHUT_WR);
	while (rt__recv(fd, buf, sizeof(buf)) > 0) {
	}
	/* A reset rather than TIME_WAIT: millions of inputs would use up the
	 * loopback's ports. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
	close(fd);
}

char *rt_fuzz_live_token(const char *uid)
{
	char payload[256];
	int n = snprintf(payload, sizeof(payload),
			"{\"uid\":\"%s\",\"exp\":4102444800,\"info\":{\"name\":\"%s\"},\"channels\":[\"*\"]}",
			uid, uid);

	return rt_token_sign(RT_FUZZ_SECRET, sizeof(RT_FUZZ_SECRET) - 1, payload, (size_t) n);
}

void rt_fuzz_hmac_hex(const char *key, const void *data, size_t len, char out[65])
{
	rt_hmac_sha256_hex(key, strlen(key), data, len, out);
}
