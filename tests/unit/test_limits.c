/* The limits on what clients may cost a hub (hub/net/limits.c and the checks
 * in conn.c, auth.c, session.c), against a real hub on a loopback port
 * under the sanitizers, driven by blocking sockets (wsclient.h). */
#include "rt_test.h"
#include "wsclient.h"

#include <stdarg.h>

#include "hub/model/config.h"
#include "hub/core/hub.h"


typedef struct fx {
	rt_config cfg;
	rt_hub *hub;
	int port;
	ws_fdset clients;
} fx;

/* A hub on a free port, pings off, anonymous clients allowed; then
 * name/value settings, NULL-terminated. */
static int fx_begin(fx *f, ...)
{
	char err[256] = "", listen[64];
	const char *name;
	va_list ap;

	memset(f, 0, sizeof(*f));
	rt_config_defaults(&f->cfg);
	f->port = ws_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", f->port);
	rt_config_set(&f->cfg, "listen", listen, err, sizeof(err));
	rt_config_set(&f->cfg, "ping_interval", "0", err, sizeof(err));
	rt_config_set(&f->cfg, "allow_anonymous", "1", err, sizeof(err));
	va_start(ap, f);
	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);
		if (rt_config_set(&f->cfg, name, value, err, sizeof(err)) != 0) {
			RT_FAIL_("%s", err);
			va_end(ap);
			return -1;
		}
	}
	va_end(ap);
	if (rt_hub_start(&f->hub, &f->cfg, NULL, -1, 0, err, sizeof(err)) != 0) {
		RT_FAIL_("rt_hub_start: %s", err);
		return -1;
	}
	return 0;
}

static void fx_end(fx *f)
{
	if (f->hub != NULL && rt_hub_stop(f->hub) != 0) {
		RT_FAIL_("rt_hub_stop failed");
	}
	ws_fdset_close_all(&f->clients);
}

static int fx_track(fx *f, int fd)
{
	return ws_fdset_add(&f->clients, fd);
}

static void fx_close(fx *f, int fd)
{
	ws_fdset_close(&f->clients, fd);
}

#define LIMIT_TEST(name, ...)                                              \
	static void body_##name(fx *f);                                        \
	RT_TEST(name)                                                          \
	{                                                                      \
		fx f;                                                              \
		if (fx_begin(&f, __VA_ARGS__) == 0) {                              \
			body_##name(&f);                                               \
		}                                                                  \
		fx_end(&f);                                                        \
	}                                                                      \
	static void body_##name(fx *f)

/* Waits until a refusal counter reaches want; returns its last value. */
static uint64_t wait_refused(fx *f, int kind, uint64_t want)
{
	int64_t deadline = ws_deadline(3000);
	rt_hub_stats s;

	for (;;) {
		rt_hub_stats_get(f->hub, &s);
		if (s.refused[kind] >= want || ws_now_ms() >= deadline) {
			return s.refused[kind];
		}
		usleep(10 * 1000);
	}
}

/* Opens a session and reads its "connected". */
static int open_session(fx *f)
{
	int fd = fx_track(f, ws_open(f->port, "/ws"));
	char *hello;

	if (fd < 0) {
		return -1;
	}
	hello = ws_recv_text(fd, WS_TIMEOUT_MS);
	if (hello == NULL || strstr(hello, "\"connected\"") == NULL) {
		free(hello);
		return -1;
	}
	free(hello);
	return fd;
}

/* Sends a request and checks that the reply contains want. */
static void request(int fd, const char *json, const char *want)
{
	char *got;

	RT_ASSERT(ws_send_text(fd, json) == 0);
	got = ws_recv_text(fd, WS_TIMEOUT_MS);
	RT_ASSERT(got != NULL);
	if (strstr(got, want) == NULL) {
		RT_FAIL_("%s answered %s, expected %s", json, got, want);
	}
	free(got);
}

/* Opens sessions until one is refused (the retries wait for a close to
 * be handled by the hub); 1 when a session opened before the deadline. */
static int session_opens(fx *f, int timeout_ms)
{
	int64_t deadline = ws_deadline(timeout_ms);

	while (ws_now_ms() < deadline) {
		int fd = ws_open(f->port, "/ws");
		if (fd >= 0) {
			fx_track(f, fd);
			return 1;
		}
		usleep(20 * 1000);
	}
	return 0;
}

LIMIT_TEST(handshake_cap_closes_new_connections, "max_handshakes", "3",
		"handshake_timeout", "30", NULL)
{
	int idle[3];

	/* One listener: the hub takes connections in the order they came. */
	for (int i = 0; i < 3; i++) {
		idle[i] = fx_track(f, ws_connect(f->port));
		RT_ASSERT(idle[i] >= 0);
	}
	int extra = fx_track(f, ws_connect(f->port));
	RT_ASSERT(extra >= 0);
	RT_ASSERT(ws_wait_eof(extra, 3000) == 0);
	RT_ASSERT_EQ_INT(wait_refused(f, RT_REFUSE_HANDSHAKES, 1), 1);
	/* The half-open three are not touched. */
	RT_ASSERT(ws_wait_readable(idle[0], ws_deadline(100)) == WS_TIMEOUT);
	for (int i = 0; i < 3; i++) {
		fx_close(f, idle[i]);
	}
	/* Their slots are free again, and an open session does not hold one. */
	RT_ASSERT(session_opens(f, 3000));
	for (int i = 0; i < 3; i++) {
		RT_ASSERT(open_session(f) >= 0);
	}
}

LIMIT_TEST(per_address_cap, "max_connections_per_ip", "2", NULL)
{
	int a = open_session(f);
	int b = open_session(f);
	int c;

	RT_ASSERT(a >= 0 && b >= 0);
	c = fx_track(f, ws_connect(f->port));
	RT_ASSERT(c >= 0);
	RT_ASSERT(ws_wait_eof(c, 3000) == 0);
	RT_ASSERT_EQ_INT(wait_refused(f, RT_REFUSE_PER_IP, 1), 1);
	fx_close(f, a);
	RT_ASSERT(session_opens(f, 3000));
}

LIMIT_TEST(health_keep_alive_does_not_renew_the_deadline, "handshake_timeout", "1", NULL)
{
	static const char health[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	int64_t start = ws_now_ms();
	int fd = fx_track(f, ws_connect(f->port));
	char resp[1024];
	int answered = 0;

	RT_ASSERT(fd >= 0);
	/* A kept-alive /health every 300 ms until the hub closes. */
	while (ws_now_ms() - start < 5000) {
		if (ws_send_all(fd, health, sizeof(health) - 1) != 0) {
			break;
		}
		if (ws_http_read(fd, resp, sizeof(resp), ws_deadline(1000)) != 200) {
			break;
		}
		answered++;
		usleep(300 * 1000);
	}
	RT_ASSERT(answered >= 1);
	/* Due one to two ticks after the accept: well before five seconds. */
	RT_ASSERT(ws_now_ms() - start < 3500);
}

LIMIT_TEST(subscribe_rate_after_a_burst, "subscribe_rate", "1", "max_subscriptions", "4", NULL)
{
	static const char *const names[] = {"a", "b", "c", "d"};
	int fd = open_session(f), limited = 0;
	char req[96];

	RT_ASSERT(fd >= 0);
	/* A burst of four subscribes, then four unsubscribes at once: the burst
	 * is max_subscriptions, and a tick in between adds one token at most. */
	for (int i = 0; i < 8; i++) {
		snprintf(req, sizeof(req), "{\"action\":\"%s\",\"channel\":\"%s\"}",
				i < 4 ? "subscribe" : "unsubscribe", names[i % 4]);
		RT_ASSERT(ws_send_text(fd, req) == 0);
	}
	for (int i = 0; i < 8; i++) {
		char *got = ws_recv_text(fd, WS_TIMEOUT_MS);
		RT_ASSERT(got != NULL);
		if (i < 4 && strstr(got, "\"subscribed\"") == NULL) {
			RT_FAIL_("subscribe %d of the burst answered %s", i, got);
		}
		limited += strstr(got, "\"rate_limited\"") != NULL;
		free(got);
	}
	RT_ASSERT(limited >= 3);
	RT_ASSERT_EQ_INT(wait_refused(f, RT_REFUSE_SUBSCRIBE_RATE, (uint64_t) limited), limited);
	/* Invalid requests do not spend tokens, nor count. */
	request(fd, "{\"action\":\"subscribe\",\"channel\":\"\"}", "\"invalid_channel\"");
	RT_ASSERT_EQ_INT(wait_refused(f, RT_REFUSE_SUBSCRIBE_RATE, 0), limited);
}

LIMIT_TEST(channel_cap, "max_channels", "2", NULL)
{
	int a = open_session(f);
	int b = open_session(f);

	RT_ASSERT(a >= 0 && b >= 0);
	request(a, "{\"action\":\"subscribe\",\"channel\":\"one\"}", "\"subscribed\"");
	request(a, "{\"action\":\"subscribe\",\"channel\":\"two\"}", "\"subscribed\"");
	request(a, "{\"action\":\"subscribe\",\"channel\":\"three\"}", "\"too_many_channels\"");
	request(b, "{\"action\":\"subscribe\",\"channel\":\"two\"}", "\"subscribed\"");
	RT_ASSERT_EQ_INT(wait_refused(f, RT_REFUSE_CHANNELS, 1), 1);
	request(a, "{\"action\":\"unsubscribe\",\"channel\":\"one\"}", "\"unsubscribed\"");
	request(b, "{\"action\":\"subscribe\",\"channel\":\"three\"}", "\"subscribed\"");
}

int main(void)
{
	RT_RUN(handshake_cap_closes_new_connections);
	RT_RUN(per_address_cap);
	RT_RUN(health_keep_alive_does_not_renew_the_deadline);
	RT_RUN(subscribe_rate_after_a_burst);
	RT_RUN(channel_cap);
	return rt_test_summary();
}
