/* One client connection: its HTTP handshake, its WebSocket framing (wslay)
 * and its outbound queue of shared frames. Transport only: what the client
 * is lives in its session (hub/core/session.h), which reaches it through
 * rt_conn_transport; what it does above that, through rt_conn_handlers. */
#ifndef RT_HUB_CONN_H
#define RT_HUB_CONN_H

#include <stdint.h>
#include <uv.h>
#include <wslay/wslay.h>

#include "hub/util/buf.h"
#include "hub/wire/frame.h"
#include "hub/wire/http.h"
#include "hub/net/net.h"
#include "hub/net/transport.h"

enum {
	RT_CONN_HTTP,     /* reading the request head */
	RT_CONN_AUTH,     /* waiting for the app's auth endpoint */
	RT_CONN_BODY,     /* reading an HTTP API request's body */
	RT_CONN_OPEN,     /* WebSocket session running */
	RT_CONN_CLOSING,  /* close frame sent or being sent */
	RT_CONN_DEAD,     /* TCP handle closing; waits for libuv to let go */
};

enum {
	RT_CONN_F_DIRTY = 1,        /* on the hub's dirty list */
	RT_CONN_F_WRITING = 2,      /* a uv_write is in flight */
	RT_CONN_F_AWAIT_PONG = 4,
	RT_CONN_F_CLOSE_AFTER_FLUSH = 8,
	RT_CONN_F_COUNTED = 16,     /* counted in stat_connections */
	RT_CONN_F_HANDSHAKE = 32,   /* counted in hub->handshakes (not yet upgraded) */
	RT_CONN_F_KEPT = 64,        /* an HTTP request was answered and the connection kept */
	RT_CONN_F_OVER_BUDGET = 128, /* its control frames would pass realtime.max_outbound */
	RT_CONN_F_ABORTED = 256,    /* our own close frame is queued: wslay's frames are dropped */
	RT_CONN_F_CARRY_LOST = 512, /* a message under way outgrew its carry: it cannot move */
	RT_CONN_F_STREAM = 1024,    /* an event stream (hub/net/stream.h), not a WebSocket */
};

typedef struct rt_conn {
	uv_tcp_t tcp;
	rt_net *net;
	struct rt_hub *hub;           /* net->owner: opaque here, for the layers above */
	struct rt_session *session;   /* the client it carries, once upgraded */
	struct rt_conn *prev, *next;  /* net->conns */
	struct rt_conn *dirty_next;
	rt_http_req *http;            /* only during the handshake */
	wslay_event_context_ptr ws;   /* NULL between messages of an idle client */
	rt_frame_scan scan;
	const uint8_t *rbuf;          /* bytes wslay is reading from */
	size_t rlen;
	/* The raw bytes of an inbound message not yet complete (from the last
	 * point the scan was idle), so a handoff can move them intact. */
	uint8_t *carry;
	uint32_t carry_len, carry_cap;

	rt_buf **outq;                /* ring of frames to write */
	uint32_t out_head, out_count, out_cap;
	uint32_t out_off;             /* bytes of the head frame already written */
	uint32_t inflight;            /* frames owned by the uv_write in flight */
	size_t out_bytes;
	uv_write_t *wreq;             /* only while the socket is full */

	struct rt_auth_call *auth_call; /* owned by hub/auth.c */
	struct rt_ip_slot *ip;        /* realtime.max_connections_per_ip; NULL: not counted */

	uint32_t deadline;            /* net->now when the sweep looks again; 0 = never */
	uint16_t flags;
	uint8_t state;
	uint8_t proto;                /* RT_HTTP_WS_*: the path its upgrade asked for */
	uint8_t id_len;
	char id[32];                  /* its session's id, for log lines */
} rt_conn;

struct rt_identity;

/* What the layers above do with a connection: set once per hub
 * (hub->conn_handlers); a connection calls these and nothing above it. */
typedef struct rt_conn_handlers {
	/* A whole HTTP request for route (RT_ROUTE_API, its body read in full,
	 * or RT_ROUTE_HEALTH): fills ans, which the connection writes. */
	void (*request)(rt_conn *conn, int route, const char *body, size_t len,
			rt_http_answer *ans);
	/* An upgrade request passed its checks (it is in conn->http): decides
	 * who the client is, ending in rt_conn_auth_finished now or later. */
	void (*upgrade)(rt_conn *conn);
	/* The deadline passed while upgrade was still deciding. */
	void (*upgrade_expired)(rt_conn *conn);
	/* Before the 101 is queued: makes conn->session for identity (taken
	 * over; NULL: anonymous) and sets conn->id. 0, or a negative errno to
	 * answer 503. */
	int (*admit)(rt_conn *conn, struct rt_identity *identity);
	/* Instead of admit and open, for a call authenticated like an upgrade
	 * (RT_HTTP_SSE_CONTROL): returns 0 with ans filled, which the
	 * connection writes and closes after, or 1 when it answers later with
	 * rt_conn_http_answer (a long poll: deadline 0 meanwhile); takes
	 * identity (NULL: anonymous). */
	int (*control)(rt_conn *conn, struct rt_identity *identity, rt_http_answer *ans);
	/* After the 101 is queued: the session starts. */
	void (*open)(rt_conn *conn);
	/* One whole text message, valid UTF-8. */
	void (*message)(rt_conn *conn, const char *text, size_t len);
	/* Optional: the close code this connection's protocol uses for a hub
	 * close code (rt_conn_close_ws). */
	uint16_t (*close_code)(const rt_conn *conn, uint16_t code);
	/* The connection ends: undoes what upgrade, admit and open did. */
	void (*close)(rt_conn *conn);
	/* The last connection went while net->stopping. */
	void (*drained)(struct rt_hub *owner);
} rt_conn_handlers;

/* Accepts a pending connection on one of the hub's listeners. */
void rt_conn_accept(rt_net *net, uv_stream_t *listener);
/* Serves a connection the caller accepted itself (non-blocking, close-on-exec). */
void rt_conn_accept_fd(rt_net *net, int fd);

/* Queues a shared frame (takes a reference). Closes the connection as a
 * slow consumer when its queue would exceed realtime.max_outbound. */
void rt_conn_send(rt_conn *conn, rt_buf *frame);
/* Frames and queues one text message. */
void rt_conn_send_text(rt_conn *conn, const char *text, size_t len);

/* Starts the closing handshake with code; the TCP connection ends when the
 * client answers or after a short grace period. */
void rt_conn_close_ws(rt_conn *conn, uint16_t code, const char *reason);
/* A stream ends once what is queued is written (an event stream has no
 * closing handshake); a WebSocket closes with rt_conn_close_ws. */
void rt_conn_stream_end(rt_conn *conn);
/* Ends the TCP connection now. */
void rt_conn_close(rt_conn *conn);

/* Writes what is queued; called once per loop turn for dirty connections. */
void rt_conn_flush(rt_conn *conn);
/* Deadlines: handshake timeout, pings, closing grace period. */
void rt_conn_sweep(rt_conn *conn);

/* The auth endpoint answered for a connection in RT_CONN_AUTH: status 0
 * opens the session with identity (NULL: anonymous), else answers status. */
void rt_conn_auth_finished(rt_conn *conn, int status, struct rt_identity *identity,
		const char *reason);

/* Sends an HTTP answer (API, health, errors): the one writer of them all.
 * Keeps the connection for its next request when the client asked and the
 * answer is a success; otherwise closes it after the write. */
void rt_conn_http_answer(rt_conn *conn, const rt_http_answer *ans);

/* ---- handoff to another process (hub/handoff.c) ---- */

/* Whether conn can move now: an open WebSocket session, not closing. */
int rt_conn_movable(const rt_conn *conn);
/* The most inbound bytes a connection keeps as its carry. */
size_t rt_conn_carry_max(const rt_config *cfg);

/* What must move with conn's socket: its unwritten outbound bytes, in
 * pieces pointing into its queue (valid until it is released and the loop
 * turns), its inbound carry and its ping state. */
#define RT_CONN_EXPORT_PIECES 64
typedef struct rt_conn_snapshot {
	const uint8_t **out;     /* out_count pieces (malloc'd array) */
	size_t *out_lens;
	size_t out_count;
	size_t out_bytes;
	const uint8_t *carry;
	size_t carry_len;
	int await_pong;
	uint32_t ping_in;        /* seconds until the next ping (0: never) */
} rt_conn_snapshot;
/* Fills ex; libuv writes nothing more on conn from here on (its reads
 * stop; rt_conn_release follows in the same loop turn). 0 or -ENOMEM. */
int rt_conn_export(rt_conn *conn, rt_conn_snapshot *ex);
void rt_conn_snapshot_free(rt_conn_snapshot *ex);
/* Ends conn silently (no close handler, no close frame, not counted as a
 * close) and returns a duplicate of its socket for another process, or a
 * negative errno (conn is ended all the same). conn->session must be
 * NULL (the caller let it go). */
int rt_conn_release(rt_conn *conn);
/* A connection for a socket another hub handed over, open at once:
 * counted like an upgraded one. The caller sets conn->session and id,
 * then calls rt_conn_resume. Takes fd (closed on failure). */
int rt_conn_adopt(rt_net *net, int fd, rt_conn **out);
/* Queues out (written before anything else), sets the ping state, feeds
 * the carry to a fresh parser and starts reading. */
void rt_conn_resume(rt_conn *conn, const uint8_t *out, size_t out_len, const uint8_t *carry,
		size_t carry_len, int await_pong, uint32_t ping_in);
/* Ends an adopted connection that could not resume, silently. */
void rt_conn_discard(rt_conn *conn);

/* How a session reaches a connection (transport: the rt_conn). */
extern const rt_transport_ops rt_conn_transport;

#endif
