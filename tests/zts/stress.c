/* Thread stress harness: PHP scripts in many threads of one process, as
 * FrankenPHP runs them, on PHP's embed SAPI of a ZTS build. Built with
 * ThreadSanitizer (tests/zts/Makefile); run by scripts/test.sh zts.
 *
 *   stress EXTENSION.so PORT [redis=HOST:PORT [redis-away]] [sapi=frankenphp]
 *
 * 1. delivery: Realtime\start(); a WebSocket client (below) subscribes;
 *    RT_BROADCASTERS threads broadcast() RT_MESSAGES each while
 *    RT_QUERIERS threads ask getChannelUsers(), getSubscriberCount(),
 *    getConnectionCount() and status(). Every message must reach the
 *    client exactly once.
 * 2. churn: threads broadcast() and query while two others stop() and
 *    start() the hub over and over; calls may throw (no hub for a moment)
 *    but must not crash or race.
 * 3. delivery again, on the hub the churn left running.
 * redis=HOST:PORT: the redis broker. sapi=frankenphp: the process passes
 * for a FrankenPHP server, whose MINIT maps the pool's ring. redis-away
 * (with redis= naming a port nobody listens on): Redis unreachable, the
 * hub keeps its clients' state changes for later; clients connect before
 * and after the churn (no broadcast: without Redis it throws).
 * Prints TAP-like lines and "N passed, N failed"; exits 1 on a failure. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sapi/embed/php_embed.h>
#include <zend_exceptions.h>
#include <zend_interfaces.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

ZEND_TSRMLS_CACHE_DEFINE()

#define RT_BROADCASTERS 6
#define RT_QUERIERS 2
#define RT_MESSAGES 300
#define RT_CHURN_ROUNDS 15
#define RT_DEADLINE_MS 20000

/* PHP opens extensions with RTLD_DEEPBIND, which ThreadSanitizer's runtime
 * refuses (the library would bind to libc's functions, not its
 * interceptors). This executable's dlopen comes first in symbol lookup:
 * libphp's call lands here and goes on, without the flag, to the next
 * one (TSan's interceptor). */
void *dlopen(const char *file, int mode)
{
	static void *(*next)(const char *, int);

	if (next == NULL) {
		next = (void *(*)(const char *, int)) dlsym(RTLD_NEXT, "dlopen");
	}
	return next(file, mode & ~RTLD_DEEPBIND);
}

static int rt__port;
static int rt__passed, rt__failed;

static void rt__check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", rt__passed + rt__failed + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok) {
		rt__passed++;
	} else {
		rt__failed++;
	}
}

static long long rt__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- PHP in a thread ---- */

/* Runs code as one request of the calling thread (its own TSRM context
 * unless it is the main thread, whose request php_embed_init opened).
 * The script's return value, a string, goes to out. */
static void rt__eval_in_request(const char *code, char *out, size_t outlen)
{
	/* zend_eval_stringl() with a return value evaluates an expression:
	 * the statements run as a closure's body. */
	size_t len = strlen(code) + 32;
	char *expr = malloc(len);
	zval rv;

	ZVAL_UNDEF(&rv);
	snprintf(out, outlen, "no result");
	if (expr == NULL) {
		return;
	}
	snprintf(expr, len, "(function () { %s })()", code);
	zend_try {
		if (zend_eval_stringl(expr, strlen(expr), &rv, "stress") == FAILURE) {
			snprintf(out, outlen, "eval failed");
		} else if (EG(exception) != NULL) {
			zval msg;
			zend_call_method_with_0_params(EG(exception), EG(exception)->ce, NULL, "getmessage",
					&msg);
			snprintf(out, outlen, "uncaught exception: %s",
					Z_TYPE(msg) == IS_STRING ? Z_STRVAL(msg) : "?");
			zval_ptr_dtor(&msg);
			zend_clear_exception();
		} else if (Z_TYPE(rv) == IS_STRING) {
			snprintf(out, outlen, "%s", Z_STRVAL(rv));
		}
	} zend_catch {
		snprintf(out, outlen, "bailout (fatal error)");
	} zend_end_try();
	zval_ptr_dtor(&rv);
	free(expr);
}

typedef struct rt__job {
	pthread_t thread;
	char code[2048];
	char result[512];
} rt__job;

static void *rt__php_thread(void *arg)
{
	rt__job *job = arg;

	(void) ts_resource(0);
	ZEND_TSRMLS_CACHE_UPDATE();
	if (php_request_startup() == FAILURE) {
		snprintf(job->result, sizeof(job->result), "request startup failed");
	} else {
		SG(headers_sent) = 1;
		SG(request_info).no_headers = 1;
		rt__eval_in_request(job->code, job->result, sizeof(job->result));
		php_request_shutdown(NULL);
	}
	ts_free_thread();
	return NULL;
}

static void rt__run_jobs(rt__job *jobs, int n)
{
	for (int i = 0; i < n; i++) {
		if (pthread_create(&jobs[i].thread, NULL, rt__php_thread, &jobs[i]) != 0) {
			fprintf(stderr, "stress: pthread_create failed\n");
			exit(2);
		}
	}
	for (int i = 0; i < n; i++) {
		pthread_join(jobs[i].thread, NULL);
	}
}

/* ---- a WebSocket client: enough of RFC 6455 for this test ---- */

typedef struct rt__client {
	int fd;
	char buf[1 << 16];
	size_t len;
	/* seen[t][i]: message i of broadcaster t arrived that many times */
	unsigned char seen[RT_BROADCASTERS][RT_MESSAGES];
	int received, stray;
} rt__client;

static int rt__wait_readable(int fd, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	long long left = deadline - rt__now_ms();

	if (left <= 0) {
		return 0;
	}
	return poll(&p, 1, (int) left) > 0;
}

static int rt__fill(rt__client *c, long long deadline)
{
	ssize_t n;

	if (c->len == sizeof(c->buf) || !rt__wait_readable(c->fd, deadline)) {
		return -1;
	}
	n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (n <= 0) {
		return -1;
	}
	c->len += (size_t) n;
	return 0;
}

/* One text frame's payload (NUL-terminated into out), skipping control
 * frames. 0, or -1 at the deadline or a close. */
static int rt__next_text(rt__client *c, char *out, size_t outlen, long long deadline)
{
	for (;;) {
		size_t need = 2, plen;
		unsigned op;
		while (c->len < need) {
			if (rt__fill(c, deadline) != 0) {
				return -1;
			}
		}
		op = (unsigned char) c->buf[0] & 0x0f;
		plen = (unsigned char) c->buf[1] & 0x7f;
		if (plen == 126) {
			need = 4;
		} else if (plen == 127) {
			need = 10;
		}
		while (c->len < need) {
			if (rt__fill(c, deadline) != 0) {
				return -1;
			}
		}
		if (plen == 126) {
			plen = (size_t) ((unsigned char) c->buf[2] << 8 | (unsigned char) c->buf[3]);
		} else if (plen == 127) {
			plen = 0;
			for (int i = 2; i < 10; i++) {
				plen = plen << 8 | (unsigned char) c->buf[i];
			}
		}
		if (plen > sizeof(c->buf) - need) {
			return -1;
		}
		while (c->len < need + plen) {
			if (rt__fill(c, deadline) != 0) {
				return -1;
			}
		}
		if (op == 8) {
			return -1;
		}
		if (op == 1) {
			size_t k = plen < outlen - 1 ? plen : outlen - 1;
			memcpy(out, c->buf + need, k);
			out[k] = '\0';
		}
		memmove(c->buf, c->buf + need + plen, c->len - need - plen);
		c->len -= need + plen;
		if (op == 1) {
			return 0;
		}
	}
}

static int rt__send_text(rt__client *c, const char *text)
{
	unsigned char frame[512];
	size_t len = strlen(text);
	const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};

	if (len > 125) {
		return -1;
	}
	frame[0] = 0x81;
	frame[1] = (unsigned char) (0x80 | len);
	memcpy(frame + 2, mask, 4);
	for (size_t i = 0; i < len; i++) {
		frame[6 + i] = (unsigned char) text[i] ^ mask[i % 4];
	}
	return write(c->fd, frame, 6 + len) == (ssize_t) (6 + len) ? 0 : -1;
}

/* Connects, upgrades, reads "connected", subscribes to stress and waits
 * for "subscribed". 0, or -1 with a line on stderr. */
static int rt__client_open(rt__client *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) rt__port)};
	long long deadline = rt__now_ms() + RT_DEADLINE_MS;
	char req[512], text[4096], *end;

	memset(c, 0, sizeof(*c));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
		fprintf(stderr, "stress: connect to 127.0.0.1:%d: %s\n", rt__port, strerror(errno));
		return -1;
	}
	snprintf(req, sizeof(req), "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
			"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			"Sec-WebSocket-Version: 13\r\n\r\n", rt__port);
	if (write(c->fd, req, strlen(req)) != (ssize_t) strlen(req)) {
		return -1;
	}
	while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
		if (rt__fill(c, deadline) != 0) {
			fprintf(stderr, "stress: no handshake answer\n");
			return -1;
		}
	}
	if (c->len < 12 || memcmp(c->buf, "HTTP/1.1 101", 12) != 0) {
		fprintf(stderr, "stress: handshake refused: %.60s\n", c->buf);
		return -1;
	}
	end += 4;
	c->len -= (size_t) (end - c->buf);
	memmove(c->buf, end, c->len);
	if (rt__next_text(c, text, sizeof(text), deadline) != 0 || !strstr(text, "\"connected\"")) {
		fprintf(stderr, "stress: no connected message\n");
		return -1;
	}
	rt__send_text(c, "{\"action\":\"subscribe\",\"channel\":\"stress\"}");
	if (rt__next_text(c, text, sizeof(text), deadline) != 0 || !strstr(text, "\"subscribed\"")) {
		fprintf(stderr, "stress: not subscribed: %s\n", text);
		return -1;
	}
	return 0;
}

/* Reads messages {"m":"T-I"} until every broadcaster's RT_MESSAGES are
 * in or the deadline passes. */
static void rt__client_collect(rt__client *c)
{
	long long deadline = rt__now_ms() + RT_DEADLINE_MS;
	char text[4096];

	while (c->received < RT_BROADCASTERS * RT_MESSAGES
			&& rt__next_text(c, text, sizeof(text), deadline) == 0) {
		const char *m = strstr(text, "\"m\":\"");
		int t, i;
		if (m == NULL || sscanf(m + 5, "%d-%d", &t, &i) != 2 || t < 0 || t >= RT_BROADCASTERS
				|| i < 0 || i >= RT_MESSAGES) {
			c->stray++;
			continue;
		}
		if (c->seen[t][i] < 255) {
			c->seen[t][i]++;
		}
		c->received++;
	}
}

/* The client reads while the threads broadcast, as a browser would: left
 * unread, the frames would pile up in the hub's queue for this client. */
static void *rt__client_thread(void *arg)
{
	rt__client_collect(arg);
	return NULL;
}

static void rt__client_close(rt__client *c)
{
	close(c->fd);
}

/* ---- the phases ---- */

static void rt__main_eval(const char *code, char *out, size_t outlen)
{
	rt__eval_in_request(code, out, outlen);
}

static void rt__delivery(const char *phase)
{
	rt__job jobs[RT_BROADCASTERS + RT_QUERIERS];
	rt__client *c = calloc(1, sizeof(*c));
	pthread_t reader;
	int ok_jobs = 0, dup = 0, missing = 0;

	if (c == NULL || rt__client_open(c) != 0) {
		rt__check(0, "%s: a WebSocket client connects and subscribes", phase);
		free(c);
		return;
	}
	rt__check(1, "%s: a WebSocket client connects and subscribes", phase);
	for (int t = 0; t < RT_BROADCASTERS; t++) {
		snprintf(jobs[t].code, sizeof(jobs[t].code),
				"$n = 0; for ($i = 0; $i < %d; $i++) { Realtime\\broadcast('stress', ['m' => '%d-' . $i]); $n++; }"
				" return \"sent $n\";", RT_MESSAGES, t);
	}
	for (int q = 0; q < RT_QUERIERS; q++) {
		/* The client is subscribed throughout: every answer sees it. */
		snprintf(jobs[RT_BROADCASTERS + q].code, sizeof(jobs[0].code),
				"$bad = 0; for ($i = 0; $i < 100; $i++) {"
				" if (Realtime\\getChannelUsers('stress') !== []) $bad++;"
				" if (Realtime\\getSubscriberCount('stress') !== 1) $bad++;"
				" if (Realtime\\getConnectionCount() < 1) $bad++;"
				" if (Realtime\\status()['running'] !== true) $bad++; }"
				" return \"bad $bad\";");
	}
	if (pthread_create(&reader, NULL, rt__client_thread, c) != 0) {
		fprintf(stderr, "stress: pthread_create failed\n");
		exit(2);
	}
	rt__run_jobs(jobs, RT_BROADCASTERS + RT_QUERIERS);
	pthread_join(reader, NULL);
	for (int t = 0; t < RT_BROADCASTERS; t++) {
		char want[32];
		snprintf(want, sizeof(want), "sent %d", RT_MESSAGES);
		ok_jobs += strcmp(jobs[t].result, want) == 0;
		if (strcmp(jobs[t].result, want) != 0) {
			fprintf(stderr, "stress: broadcaster %d: %s\n", t, jobs[t].result);
		}
	}
	rt__check(ok_jobs == RT_BROADCASTERS, "%s: %d threads each broadcast() %d messages without "
			"an error (%d did)", phase, RT_BROADCASTERS, RT_MESSAGES, ok_jobs);
	for (int q = 0; q < RT_QUERIERS; q++) {
		rt__check(strcmp(jobs[RT_BROADCASTERS + q].result, "bad 0") == 0,
				"%s: querying thread %d: getChannelUsers(), getSubscriberCount(), "
				"getConnectionCount(), status() answer right meanwhile (%s)", phase, q,
				jobs[RT_BROADCASTERS + q].result);
	}
	for (int t = 0; t < RT_BROADCASTERS; t++) {
		for (int i = 0; i < RT_MESSAGES; i++) {
			missing += c->seen[t][i] == 0;
			dup += c->seen[t][i] > 1;
		}
	}
	rt__check(missing == 0 && dup == 0 && c->stray == 0,
			"%s: the client got every one of the %d messages exactly once (received %d, "
			"missing %d, duplicated %d, unexpected %d)", phase, RT_BROADCASTERS * RT_MESSAGES,
			c->received, missing, dup, c->stray);
	rt__client_close(c);
	free(c);
}

/* A client connects and subscribes (its state change waits in the hub for
 * Redis), then leaves. */
static void rt__away_client(const char *phase)
{
	rt__client *c = calloc(1, sizeof(*c));

	rt__check(c != NULL && rt__client_open(c) == 0, "%s: a WebSocket client connects and "
			"subscribes", phase);
	if (c != NULL && c->fd > 0) {
		rt__client_close(c);
	}
	free(c);
}

static void rt__churn(void)
{
	enum { BROADCASTERS = 3, QUERIERS = 2, CHURNERS = 2 };
	rt__job jobs[BROADCASTERS + QUERIERS + CHURNERS];
	int n = 0, ok = 0;

	for (int t = 0; t < BROADCASTERS; t++, n++) {
		/* A broadcast() with no hub for a moment throws: counted, not fatal. */
		snprintf(jobs[n].code, sizeof(jobs[n].code),
				"$ok = 0; $thrown = 0; for ($i = 0; $i < 200; $i++) {"
				" try { Realtime\\broadcast('stress', ['m' => 'churn']); $ok++; }"
				" catch (Realtime\\Exception $e) { $thrown++; } }"
				" return ($ok + $thrown === 200) ? 'done' : 'lost';");
	}
	for (int q = 0; q < QUERIERS; q++, n++) {
		snprintf(jobs[n].code, sizeof(jobs[n].code),
				"$k = 0; for ($i = 0; $i < 150; $i++) {"
				" try { Realtime\\getChannelUsers('stress'); Realtime\\getChannels(); $k++; }"
				" catch (Realtime\\Exception $e) { $k++; }"
				" $s = Realtime\\status(); if (!is_bool($s['running'])) return 'bad status'; }"
				" return $k === 150 ? 'done' : 'lost';");
	}
	for (int s = 0; s < CHURNERS; s++, n++) {
		snprintf(jobs[n].code, sizeof(jobs[n].code),
				"for ($i = 0; $i < %d; $i++) {"
				" Realtime\\stop(); usleep(1000);"
				" try { Realtime\\start(); } catch (Realtime\\Exception $e) { return 'start: ' . $e->getMessage(); } }"
				" return 'done';", RT_CHURN_ROUNDS);
	}
	rt__run_jobs(jobs, n);
	for (int i = 0; i < n; i++) {
		ok += strcmp(jobs[i].result, "done") == 0;
		if (strcmp(jobs[i].result, "done") != 0) {
			fprintf(stderr, "stress: churn thread %d: %s\n", i, jobs[i].result);
		}
	}
	rt__check(ok == n, "churn: %d threads broadcast() and query while 2 stop() and start() the "
			"hub %d times each; every call returned or threw Realtime\\Exception (%d of %d)",
			n, RT_CHURN_ROUNDS, ok, n);
}

int main(int argc, char **argv)
{
	char ini[] = "/tmp/rt-stress-XXXXXX";
	char result[512];
	FILE *f;
	int fd, away = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s EXTENSION.so PORT [redis=HOST:PORT [redis-away]] "
				"[sapi=frankenphp]\n", argv[0]);
		return 2;
	}
	rt__port = atoi(argv[2]);
	fd = mkstemp(ini);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		perror("stress: mkstemp");
		return 2;
	}
	fprintf(f, "extension=%s\nrealtime.listen=127.0.0.1:%d\nrealtime.allow_anonymous=1\n"
			"realtime.log=/dev/null\n", argv[1], rt__port);
	for (int i = 3; i < argc; i++) {
		if (strncmp(argv[i], "redis=", 6) == 0) {
			fprintf(f, "realtime.broker=redis\nrealtime.redis_address=%s\n", argv[i] + 6);
		}
	}
	fclose(f);
	/* sapi=frankenphp: the extension then takes this process for a
	 * FrankenPHP server (MINIT maps the pool's shared ring and binds the
	 * port), and broadcast() goes through the ring, as there. */
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "sapi=frankenphp") == 0) {
			php_embed_module.name = "frankenphp";
		}
		away |= strcmp(argv[i], "redis-away") == 0;
	}
	php_embed_module.php_ini_path_override = ini;
	if (php_embed_init(argc, argv) == FAILURE) {
		fprintf(stderr, "stress: php_embed_init failed\n");
		unlink(ini);
		return 2;
	}
	unlink(ini);
	ZEND_TSRMLS_CACHE_UPDATE();

	rt__main_eval("return PHP_ZTS && extension_loaded('realtime') ? 'yes' : 'no';", result,
			sizeof(result));
	rt__check(strcmp(result, "yes") == 0, "a ZTS PHP with the extension loaded (%s)", result);
	rt__main_eval("return Realtime\\start() ? 'started' : 'not';", result, sizeof(result));
	rt__check(strcmp(result, "started") == 0, "Realtime\\start() in the main thread (%s)", result);
	if (away) {
		rt__away_client("redis away: before the churn");
		rt__churn();
		rt__main_eval("try { Realtime\\start(); } catch (Realtime\\Exception $e) { return $e->getMessage(); }"
				" return Realtime\\status()['running'] ? 'running' : 'not running';", result,
				sizeof(result));
		rt__check(strcmp(result, "running") == 0, "redis away: one hub runs after the churn (%s)",
				result);
		rt__away_client("redis away: after the churn");
		rt__main_eval("return Realtime\\stop() ? 'stopped' : 'none';", result, sizeof(result));
		rt__check(strcmp(result, "stopped") == 0, "Realtime\\stop() at the end (%s)", result);
		php_embed_shutdown();
		printf("%d passed, %d failed\n", rt__passed, rt__failed);
		return rt__failed == 0 ? 0 : 1;
	}
	rt__delivery("delivery");
	rt__churn();
	rt__main_eval("try { Realtime\\start(); } catch (Realtime\\Exception $e) { return $e->getMessage(); }"
			" return Realtime\\status()['running'] ? 'running' : 'not running';", result, sizeof(result));
	rt__check(strcmp(result, "running") == 0, "after the churn a start() leaves one hub running (%s)",
			result);
	rt__delivery("delivery after churn");
	rt__main_eval("return Realtime\\stop() ? 'stopped' : 'none';", result, sizeof(result));
	rt__check(strcmp(result, "stopped") == 0, "Realtime\\stop() at the end (%s)", result);
	php_embed_shutdown();
	printf("%d passed, %d failed\n", rt__passed, rt__failed);
	return rt__failed == 0 ? 0 : 1;
}
