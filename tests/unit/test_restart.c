/* A hub stopping because its worker ends while the server goes on (1012,
 * counted), its stop from inside a signal handler (no lock, bounded, then
 * joined by rt_hub_stop), and the check of a listening socket kept across a
 * server restart; against real hubs on loopback ports. */
#include "rt_test.h"
#include "wsclient.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub/core/hub.h"
#include "hub/model/config.h"

static int cfg_on_port(rt_config *cfg, int port)
{
	char err[256], listen[64];

	rt_config_defaults(cfg);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	if (rt_config_set(cfg, "listen", listen, err, sizeof(err)) != 0
			|| rt_config_set(cfg, "ping_interval", "0", err, sizeof(err)) != 0
			|| rt_config_set(cfg, "allow_anonymous", "1", err, sizeof(err)) != 0) {
		RT_FAIL_("config: %s", err);
		return -1;
	}
	return 0;
}

static rt_hub *start_hub(int *port)
{
	rt_config cfg;
	rt_hub *hub = NULL;
	char err[256] = "";
	int r;

	*port = ws_free_port();
	if (*port <= 0 || cfg_on_port(&cfg, *port) != 0) {
		return NULL;
	}
	r = rt_hub_start(&hub, &cfg, NULL, -1, 1, err, sizeof(err));
	if (r != 0) {
		RT_FAIL_("rt_hub_start: %d %s", r, err);
		return NULL;
	}
	return hub;
}

/* A client that has read its "connected" message. */
static int client(int port)
{
	int fd = ws_open(port, "/ws");
	char *text;

	if (fd < 0) {
		RT_FAIL_("cannot open a WebSocket on port %d", port);
		return -1;
	}
	text = ws_recv_text(fd, WS_TIMEOUT_MS);
	if (text == NULL || strstr(text, "\"connected\"") == NULL) {
		RT_FAIL_("no connected message: %s", text ? text : "(none)");
		free(text);
		close(fd);
		return -1;
	}
	free(text);
	return fd;
}

static void expect_closed(int fd, int code)
{
	RT_ASSERT_EQ_INT(ws_recv_close(fd, WS_TIMEOUT_MS), code);
	RT_ASSERT_EQ_INT(ws_wait_eof(fd, WS_TIMEOUT_MS), 0);
}

RT_TEST(marked_restart_closes_with_1012)
{
	int port, a, b;
	rt_hub *hub = start_hub(&port);

	if (hub == NULL) {
		return;
	}
	a = client(port);
	b = client(port);
	rt_hub_mark_restart(hub);
	RT_ASSERT_EQ_INT(rt_hub_stop(hub), 0);
	if (a >= 0 && b >= 0) {
		expect_closed(a, 1012);
		expect_closed(b, 1012);
	}
	if (a >= 0) {
		close(a);
	}
	if (b >= 0) {
		close(b);
	}
}

static rt_hub *handler_hub;
static volatile sig_atomic_t handler_result = 1;

static void on_usr1(int sig)
{
	(void) sig;
	handler_result = rt_hub_stop_in_handler(handler_hub, 2000);
}

RT_TEST(stop_in_a_signal_handler)
{
	struct sigaction sa, old;
	rt_hub_stats st;
	int port, a;
	rt_hub *hub = start_hub(&port);

	if (hub == NULL) {
		return;
	}
	a = client(port);
	rt_hub_mark_restart(hub);
	handler_hub = hub;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old);
	raise(SIGUSR1);
	sigaction(SIGUSR1, &old, NULL);
	RT_ASSERT_EQ_INT(handler_result, 0);
	if (a >= 0) {
		expect_closed(a, 1012);
		close(a);
	}
	/* The hub's memory is still there after a stop from a handler. */
	rt_hub_stats_get(hub, &st);
	RT_ASSERT_EQ_INT((int) st.closed_for_restart, 1);
	/* A second call finds the thread ended and waits for nothing. */
	RT_ASSERT_EQ_INT(rt_hub_stop_in_handler(hub, 1), 0);
	/* rt_hub_stop then joins and frees (LeakSanitizer checks). */
	RT_ASSERT_EQ_INT(rt_hub_stop(hub), 0);
}

RT_TEST(check_prebound_socket)
{
	rt_config cfg, other;
	char err[256] = "";
	int port = ws_free_port(), fd, plain, pipefd[2];

	if (port <= 0 || cfg_on_port(&cfg, port) != 0 || cfg_on_port(&other, ws_free_port()) != 0) {
		return;
	}
	fd = rt_hub_prebind(&cfg, err, sizeof(err));
	if (fd < 0) {
		RT_FAIL_("rt_hub_prebind: %d %s", fd, err);
		return;
	}
	RT_ASSERT_EQ_INT(rt_hub_check_prebound(&cfg, fd, err, sizeof(err)), 0);
	RT_ASSERT_EQ_INT(rt_hub_check_prebound(&other, fd, err, sizeof(err)), -EADDRNOTAVAIL);
	plain = socket(AF_INET, SOCK_STREAM, 0);
	RT_ASSERT_EQ_INT(rt_hub_check_prebound(&cfg, plain, err, sizeof(err)), -ENOTSOCK);
	RT_ASSERT_EQ_INT(pipe(pipefd), 0);
	RT_ASSERT_EQ_INT(rt_hub_check_prebound(&cfg, pipefd[0], err, sizeof(err)), -ENOTSOCK);
	RT_ASSERT_EQ_INT(rt_hub_check_prebound(&cfg, 100000, err, sizeof(err)), -ENOTSOCK);
	close(pipefd[0]);
	close(pipefd[1]);
	close(plain);
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RT_RUN(marked_restart_closes_with_1012);
	RT_RUN(stop_in_a_signal_handler);
	RT_RUN(check_prebound_socket);
	return rt_test_summary();
}
