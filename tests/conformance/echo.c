/* The conformance testee: the hub's own listener, HTTP upgrade, connection,
 * WebSocket (wslay + hub/wire/frame.c) and session code, with one protocol
 * swapped in: every text message is echoed back as it came. Linked with
 * every hub/ and broker/ object except hub/proto/proto.c, whose rt_proto() this
 * file replaces, so no production code knows about it.
 *
 *   echo [NAME=VALUE]...   realtime.NAME settings (listen=127.0.0.1:PORT)
 *
 * Prints "ready <listen>" once the port accepts, runs until SIGTERM or
 * SIGINT, then stops the hub (clients get 1001) and exits 0. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hub/model/config.h"
#include "hub/net/conn.h"
#include "hub/core/session.h"
#include "hub/core/hub.h"
#include "hub/proto/proto.h"

static void rt__echo_open(rt_session *s, const rt_http_req *upgrade)
{
	(void) s;
	(void) upgrade;
}

static void rt__echo_message(rt_session *s, const char *text, size_t len)
{
	rt_session_send_text(s, text, len);
}

/* The testee never publishes: nothing is fanned out, nothing framed. */
static rt_buf *rt__echo_frame_message(const rt_msg *msg, rt_str channel)
{
	(void) msg;
	(void) channel;
	return NULL;
}

static rt_buf *rt__echo_frame_member_added(const rt_channel *ch, const rt_member *m)
{
	(void) ch;
	(void) m;
	return NULL;
}

static rt_buf *rt__echo_frame_member_removed(const rt_channel *ch, const char *user_id, size_t len)
{
	(void) ch;
	(void) user_id;
	(void) len;
	return NULL;
}

static rt_buf *rt__echo_frame_whisper(const rt_whisper *w)
{
	(void) w;
	return NULL;
}

static const rt_proto_ops rt__echo = {
	.name = "echo",
	.on_open = rt__echo_open,
	.on_message = rt__echo_message,
	.frame_message = rt__echo_frame_message,
	.frame_member_added = rt__echo_frame_member_added,
	.frame_member_removed = rt__echo_frame_member_removed,
	.frame_whisper = rt__echo_frame_whisper,
	.close_code = NULL,
};

/* Both endpoints (the native path and Pusher's /app/<key>) speak echo. */
const rt_proto_ops *rt_proto(int proto)
{
	(void) proto;
	return &rt__echo;
}

int main(int argc, char **argv)
{
	rt_config cfg;
	rt_hub *hub = NULL;
	char err[512];
	sigset_t stop;
	int sig = 0;

	rt_config_defaults(&cfg);
	/* The testee's defaults: anyone may connect, and messages up to the
	 * largest the hub allows (Autobahn's case 9 sends up to 16 MiB). */
	static const char *defaults[][2] = {
		{"allow_anonymous", "1"},
		{"ping_interval", "0"},
		{"max_message_size", "67108864"},
		{"max_outbound", "268435456"},
	};
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (rt_config_set(&cfg, defaults[i][0], defaults[i][1], err, sizeof(err)) != 0) {
			fprintf(stderr, "echo: %s\n", err);
			return 2;
		}
	}
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (eq == NULL) {
			fprintf(stderr, "usage: %s [NAME=VALUE]...\n", argv[0]);
			return 2;
		}
		*eq = '\0';
		if (rt_config_set(&cfg, argv[i], eq + 1, err, sizeof(err)) != 0) {
			fprintf(stderr, "echo: %s\n", err);
			return 2;
		}
		*eq = '=';
	}

	/* Blocked before the hub's thread starts, so only sigwait sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	int r = rt_hub_start(&hub, &cfg, NULL, -1, 0, err, sizeof(err));
	if (r != 0) {
		fprintf(stderr, "echo: cannot start the hub: %s (%s)\n", err, strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	while (sigwait(&stop, &sig) != 0) {
	}
	r = rt_hub_stop(hub);
	if (r != 0) {
		fprintf(stderr, "echo: the hub did not stop: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}
