/* wsclient.h - a minimal blocking WebSocket/HTTP client for the unit tests
 * that talk to a real hub over loopback. Plain POSIX sockets; every read
 * waits with poll() up to a deadline, so a test never hangs and never
 * sleeps to "let things happen".
 *
 * Functions return 0 (or a length / fd / status) on success and a negative
 * value on failure, after printing a "#   ws: ..." diagnostic line, so test
 * bodies can just RT_ASSERT on the result. Frames are built and their
 * headers read by bench/wscodec.h, the codec the load generator uses. */
#ifndef RT_WSCLIENT_H
#define RT_WSCLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/wscodec.h"
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Generous, for valgrind; a passing test never waits this long. */
#define WS_TIMEOUT_MS 10000

/* The RFC 6455 example key and its accept value. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

enum {
	WS_ERR = -1,     /* I/O error, protocol error, or an unexpected answer */
	WS_TIMEOUT = -2, /* nothing arrived before the deadline */
	WS_EOF = -3,     /* the server closed the connection */
};

#define WS_DIAG(...)                                                       \
	do {                                                                   \
		printf("#   ws: ");                                                \
		printf(__VA_ARGS__);                                               \
		printf("\n");                                                      \
		fflush(stdout);                                                    \
	} while (0)

static inline int64_t ws_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t ws_deadline(int timeout_ms)
{
	return ws_now_ms() + timeout_ms;
}

/* A loopback TCP port nobody is listening on right now. */
static inline int ws_free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	if (fd < 0) {
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) == 0
			&& getsockname(fd, (struct sockaddr *) &a, &alen) == 0) {
		port = ntohs(a.sin_port);
	}
	close(fd);
	return port;
}

/* A listening socket on a loopback port, bound without SO_REUSEPORT. */
static inline int ws_listen_plain(int *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(fd, 1) != 0
			|| getsockname(fd, (struct sockaddr *) &a, &alen) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static inline int ws_connect(int port)
{
	struct sockaddr_in a;
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		WS_DIAG("socket: %s", strerror(errno));
		return WS_ERR;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t) port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0) {
		WS_DIAG("connect to port %d: %s", port, strerror(errno));
		close(fd);
		return WS_ERR;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static inline int ws_send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			WS_DIAG("send: %s", strerror(errno));
			return WS_ERR;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* Waits for fd to become readable; 0, WS_TIMEOUT or WS_ERR. */
static inline int ws_wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int64_t left = deadline - ws_now_ms();
		int r;

		if (left < 0) {
			left = 0;
		}
		r = poll(&p, 1, (int) left);
		if (r > 0) {
			return 0;
		}
		if (r == 0) {
			return WS_TIMEOUT;
		}
		if (errno != EINTR) {
			return WS_ERR;
		}
	}
}

/* Reads some bytes: > 0, or WS_EOF, WS_TIMEOUT, WS_ERR. A reset counts as
 * EOF: the server may close with unread data in its receive buffer. */
static inline ssize_t ws_recv_some(int fd, void *buf, size_t len, int64_t deadline)
{
	for (;;) {
		int w = ws_wait_readable(fd, deadline);
		ssize_t n;

		if (w != 0) {
			return w;
		}
		n = recv(fd, buf, len, 0);
		if (n > 0) {
			return n;
		}
		if (n == 0 || errno == ECONNRESET) {
			return WS_EOF;
		}
		if (errno != EINTR && errno != EAGAIN) {
			return WS_ERR;
		}
	}
}

static inline int ws_recv_exact(int fd, void *buf, size_t len, int64_t deadline)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = ws_recv_some(fd, p, len, deadline);
		if (n < 0) {
			return (int) n;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

static inline const char *ws_strerr(int r)
{
	switch (r) {
	case WS_TIMEOUT: return "timed out";
	case WS_EOF: return "connection closed";
	default: return "error";
	}
}

/* Reads an HTTP response head byte by byte, so nothing after it is
 * consumed. Returns its length, NUL-terminated in buf. */
static inline int ws_read_head(int fd, char *buf, size_t cap, int64_t deadline)
{
	size_t n = 0;

	while (n + 1 < cap) {
		int r = ws_recv_exact(fd, buf + n, 1, deadline);
		if (r != 0) {
			buf[n] = '\0';
			WS_DIAG("reading the response head: %s after %zu bytes", ws_strerr(r), n);
			return r;
		}
		n++;
		if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0) {
			buf[n] = '\0';
			return (int) n;
		}
	}
	buf[n] = '\0';
	WS_DIAG("response head too long");
	return WS_ERR;
}

/* The status code of a response head, or -1. */
static inline int ws_status(const char *head)
{
	int major, minor, status;

	if (sscanf(head, "HTTP/%d.%d %d", &major, &minor, &status) != 3) {
		return -1;
	}
	return status;
}

/* Copies the value of header name (case-insensitive) from a response
 * head; NULL when absent. */
static inline const char *ws_header(const char *head, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *line = strstr(head, "\r\n");

	while (line != NULL && line[2] != '\r') {
		const char *p = line + 2;
		const char *end = strstr(p, "\r\n");
		if (end == NULL) {
			return NULL;
		}
		if ((size_t) (end - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			size_t len;
			while (*v == ' ' || *v == '\t') {
				v++;
			}
			len = (size_t) (end - v);
			if (len >= cap) {
				len = cap - 1;
			}
			memcpy(out, v, len);
			out[len] = '\0';
			return out;
		}
		line = end;
	}
	return NULL;
}

/* Whether resp (n bytes, NUL-terminated) holds a whole HTTP answer: its
 * head and as many body bytes as Content-Length says. */
static inline int ws_http_whole(const char *resp, size_t n)
{
	const char *end = strstr(resp, "\r\n\r\n");
	const char *cl = strstr(resp, "\r\nContent-Length:");

	if (end == NULL || cl == NULL || cl > end) {
		return 0;
	}
	return (size_t) (resp + n - (end + 4)) >= strtoul(cl + 17, NULL, 10);
}

/* Reads one answer from fd into resp: until the server closes or, on a
 * kept-alive connection, until the answer is whole. Returns its status
 * code, or a WS_* error. */
static inline int ws_http_read(int fd, char *resp, size_t cap, int64_t deadline)
{
	size_t n = 0;

	resp[0] = '\0';
	for (;;) {
		ssize_t r = ws_recv_some(fd, resp + n, cap - 1 - n, deadline);
		if (r == WS_EOF) {
			break;
		}
		if (r < 0) {
			WS_DIAG("reading an HTTP answer: %s", ws_strerr((int) r));
			return (int) r;
		}
		n += (size_t) r;
		if (n + 1 >= cap) {
			WS_DIAG("HTTP answer too long");
			return WS_ERR;
		}
		resp[n] = '\0';
		if (ws_http_whole(resp, n) && strstr(resp, "\r\nConnection: keep-alive\r\n")) {
			break;
		}
	}
	return n > 0 ? ws_status(resp) : WS_EOF;
}

/* Sends request on a new connection and reads its answer (ws_http_read). */
static inline int ws_http(int port, const char *request, size_t request_len,
		char *resp, size_t cap, int timeout_ms)
{
	int fd = ws_connect(port);
	int status;

	if (fd < 0) {
		return WS_ERR;
	}
	if (ws_send_all(fd, request, request_len) != 0) {
		close(fd);
		return WS_ERR;
	}
	status = ws_http_read(fd, resp, cap, ws_deadline(timeout_ms));
	close(fd);
	return status;
}

/* The body of a complete HTTP response, or NULL. */
static inline const char *ws_body(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");
	return p ? p + 4 : NULL;
}

/* Writes the upgrade request (extra: more header lines, each ending in
 * \r\n, or NULL) and, when tail is not NULL, tail_len bytes right behind
 * it in the same write. */
static inline int ws_send_upgrade(int fd, const char *path, const char *extra,
		const void *tail, size_t tail_len)
{
	char req[2048];
	int n = snprintf(req, sizeof(req),
			"GET %s HTTP/1.1\r\n"
			"Host: 127.0.0.1\r\n"
			"Upgrade: websocket\r\n"
			"Connection: Upgrade\r\n"
			"Sec-WebSocket-Key: " WS_KEY "\r\n"
			"Sec-WebSocket-Version: 13\r\n"
			"%s\r\n", path, extra ? extra : "");

	if (n < 0 || (size_t) n + tail_len > sizeof(req)) {
		return WS_ERR;
	}
	if (tail_len) {
		memcpy(req + n, tail, tail_len);
	}
	return ws_send_all(fd, req, (size_t) n + tail_len);
}

/* Reads the answer to an upgrade: 0 for a correct 101, else WS_ERR. */
static inline int ws_expect_101(int fd, int timeout_ms)
{
	char head[2048], v[128];
	int r = ws_read_head(fd, head, sizeof(head), ws_deadline(timeout_ms));

	if (r < 0) {
		return r;
	}
	if (ws_status(head) != 101) {
		WS_DIAG("expected 101, got: %.*s", (int) strcspn(head, "\r\n"), head);
		return WS_ERR;
	}
	if (ws_header(head, "Sec-WebSocket-Accept", v, sizeof(v)) == NULL) {
		WS_DIAG("101 without Sec-WebSocket-Accept");
		return WS_ERR;
	}
	if (strcmp(v, WS_ACCEPT) != 0) {
		WS_DIAG("wrong Sec-WebSocket-Accept: %s", v);
		return WS_ERR;
	}
	if (ws_header(head, "Upgrade", v, sizeof(v)) == NULL || strcasecmp(v, "websocket") != 0) {
		WS_DIAG("101 without Upgrade: websocket");
		return WS_ERR;
	}
	return 0;
}

/* Connects and completes the handshake; returns the fd. */
static inline int ws_open(int port, const char *path)
{
	int fd = ws_connect(port);

	if (fd < 0) {
		return fd;
	}
	if (ws_send_upgrade(fd, path, NULL, NULL, 0) != 0 || ws_expect_101(fd, WS_TIMEOUT_MS) != 0) {
		close(fd);
		return WS_ERR;
	}
	return fd;
}

/* ---- frames ---- */

/* Builds a frame into out (cap bytes); returns its length. b0 is the
 * whole first byte (FIN, RSV and opcode), so malformed frames are easy. */
static inline size_t ws_build_frame(uint8_t *out, size_t cap, uint8_t b0,
		const void *payload, size_t len, int masked)
{
	static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};

	if (cap < len + 14) {
		return 0;
	}
	return ws_frame_build(out, b0, payload, len, masked ? key : NULL);
}

static inline int ws_send_frame(int fd, uint8_t b0, const void *payload, size_t len, int masked)
{
	size_t cap = len + 14;
	uint8_t *buf = malloc(cap);
	size_t n;
	int r;

	if (buf == NULL) {
		return WS_ERR;
	}
	n = ws_build_frame(buf, cap, b0, payload, len, masked);
	r = ws_send_all(fd, buf, n);
	free(buf);
	return r;
}

static inline int ws_send_text(int fd, const char *text)
{
	return ws_send_frame(fd, 0x81, text, strlen(text), 1);
}

static inline int ws_send_close(int fd, uint16_t code)
{
	uint8_t p[2] = {(uint8_t) (code >> 8), (uint8_t) code};
	return ws_send_frame(fd, 0x88, p, 2, 1);
}

typedef struct ws_frame {
	uint8_t b0;
	uint8_t opcode;
	int fin;
	int masked;
	size_t len;
	char *payload; /* malloc'd, NUL-terminated */
} ws_frame;

static inline void ws_frame_free(ws_frame *f)
{
	free(f->payload);
	f->payload = NULL;
}

/* Reads one frame. 0, or WS_TIMEOUT, WS_EOF, WS_ERR. */
static inline int ws_recv_frame(int fd, ws_frame *f, int timeout_ms)
{
	int64_t deadline = ws_deadline(timeout_ms);
	uint8_t h[14];
	ws_head head;
	int r;

	memset(f, 0, sizeof(*f));
	r = ws_recv_exact(fd, h, 2, deadline);
	if (r != 0) {
		return r;
	}
	if (!ws_head_parse(h, 2, &head)
			&& (r = ws_recv_exact(fd, h + 2, head.size - 2, deadline)) != 0) {
		return r;
	}
	ws_head_parse(h, head.size, &head);
	f->b0 = head.b0;
	f->opcode = head.opcode;
	f->fin = head.fin;
	f->masked = head.masked;
	if (head.len > (64u << 20)) {
		WS_DIAG("frame of %llu bytes: too large for the test client", (unsigned long long) head.len);
		return WS_ERR;
	}
	f->len = (size_t) head.len;
	f->payload = malloc(f->len + 1);
	if (f->payload == NULL) {
		return WS_ERR;
	}
	if ((r = ws_recv_exact(fd, f->payload, f->len, deadline)) != 0) {
		ws_frame_free(f);
		return r;
	}
	for (size_t i = 0; f->masked && i < f->len; i++) {
		f->payload[i] ^= (char) head.mask[i & 3];
	}
	f->payload[f->len] = '\0';
	return 0;
}

/* Reads the next frame, which must be a complete, unmasked text frame;
 * returns a malloc'd copy of its text (free it) or NULL. */
static inline char *ws_recv_text(int fd, int timeout_ms)
{
	ws_frame f;
	int r = ws_recv_frame(fd, &f, timeout_ms);

	if (r != 0) {
		WS_DIAG("waiting for a text frame: %s", ws_strerr(r));
		return NULL;
	}
	if (f.opcode != 0x1 || !f.fin || f.masked) {
		WS_DIAG("expected an unmasked text frame, got first byte 0x%02x%s (%zu bytes: %.*s%s)",
				f.b0, f.masked ? ", masked" : "", f.len,
				f.len > 2 ? (int) (f.len - 2 > 80 ? 80 : f.len - 2) : 0,
				f.len > 2 ? f.payload + 2 : "", f.opcode == 0x8 ? ", a close frame" : "");
		ws_frame_free(&f);
		return NULL;
	}
	return f.payload;
}

/* Reads the next frame, which must be a close frame; returns its code
 * (1005 when it has none), or a negative WS_* value. */
/* Waits for a close frame: its code (1005 without one), its reason copied
 * into reason (cap bytes, NUL-terminated) when reason is not NULL. */
static inline int ws_recv_close_reason(int fd, int timeout_ms, char *reason, size_t cap)
{
	ws_frame f;
	int r = ws_recv_frame(fd, &f, timeout_ms);
	int code;

	if (r != 0) {
		WS_DIAG("waiting for a close frame: %s", ws_strerr(r));
		return r;
	}
	if (f.opcode != 0x8 || f.masked) {
		WS_DIAG("expected a close frame, got first byte 0x%02x (%zu bytes: %.80s)", f.b0,
				f.len, f.payload);
		ws_frame_free(&f);
		return WS_ERR;
	}
	code = f.len >= 2 ? (((uint8_t) f.payload[0] << 8) | (uint8_t) f.payload[1]) : 1005;
	if (reason != NULL && cap > 0) {
		size_t n = f.len > 2 ? f.len - 2 : 0;
		if (n >= cap) {
			n = cap - 1;
		}
		memcpy(reason, f.payload + 2, n);
		reason[n] = '\0';
	}
	ws_frame_free(&f);
	return code;
}

static inline int ws_recv_close(int fd, int timeout_ms)
{
	return ws_recv_close_reason(fd, timeout_ms, NULL, 0);
}

/* Waits until the server closes the TCP connection, discarding anything
 * else it sends. 0, or WS_TIMEOUT / WS_ERR. */
static inline int ws_wait_eof(int fd, int timeout_ms)
{
	int64_t deadline = ws_deadline(timeout_ms);
	char buf[4096];

	for (;;) {
		ssize_t n = ws_recv_some(fd, buf, sizeof(buf), deadline);
		if (n == WS_EOF) {
			return 0;
		}
		if (n < 0) {
			WS_DIAG("waiting for the server to close: %s", ws_strerr((int) n));
			return (int) n;
		}
	}
}

/* The client sockets a test opened: closed at its end even when an
 * assertion returned early, and closable one by one before that. */
#define WS_FDSET_MAX 64

typedef struct ws_fdset {
	int fd[WS_FDSET_MAX];
	int n;
} ws_fdset;

/* Tracks fd (when valid and there is room) and returns it. */
static inline int ws_fdset_add(ws_fdset *set, int fd)
{
	if (fd >= 0 && set->n < WS_FDSET_MAX) {
		set->fd[set->n++] = fd;
	}
	return fd;
}

/* Closes one tracked socket early. */
static inline void ws_fdset_close(ws_fdset *set, int fd)
{
	for (int i = 0; i < set->n; i++) {
		if (set->fd[i] == fd) {
			set->fd[i] = -1;
		}
	}
	close(fd);
}

static inline void ws_fdset_close_all(ws_fdset *set)
{
	for (int i = 0; i < set->n; i++) {
		if (set->fd[i] >= 0) {
			close(set->fd[i]);
		}
	}
	set->n = 0;
}

#endif /* RT_WSCLIENT_H */
