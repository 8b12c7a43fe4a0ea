#include "hub/handoff.h"
#include "hub/core/session.h"
#include "hub/model/handoff_record.h"
#include "hub/net/conn.h"
#include "hub/net/fdpass.h"
#include "hub/proto/proto.h"
#include "hub/util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#define RT__MAX_TAKERS 32       /* peers one stopping hub hands to */
#define RT__TICK_MS 20          /* how often deadlines are looked at */
#define RT__DONE_SEQ UINT32_MAX /* the ACK of a DONE */

typedef struct rt__dgram {
	struct rt__dgram *next;
	int fd;                     /* passed with it (-1: none); rt__moved.fd owns it */
	size_t len;
	uint8_t data[];
} rt__dgram;

/* What a taker's clients got while a fence was open, numbered: a publish
 * (msg), or a presence member change on a channel (member). */
typedef struct rt__replay {
	struct rt__replay *next;
	uint64_t seq;
	rt_msg *msg;
	rt_member *member;
	int added;
	size_t channel_len;
	char channel[];
} rt__replay;

/* A whole record a taker holds until the sender's fence reaches it. */
typedef struct rt__pending {
	struct rt__pending *next;
	uint32_t seq;
	int fd;
	rt_sb bytes;
} rt__pending;

typedef struct rt__peer rt__peer;

/* Sender side: a connection sent and not yet acknowledged. */
typedef struct rt__moved {
	rt__peer *to;
	int fd;                     /* our copy of the socket, for the fallback close */
	rt_sb out;                  /* its unwritten bytes, for the same */
	uint16_t code;              /* the close code of that close */
	uint8_t state;              /* 0 waiting, 1 taken, 2 closed */
} rt__moved;

struct rt__peer {
	rt__peer *next;
	rt_handoff_state *h;
	int fd;                     /* -1: a fence seen before its sender connected */
	uv_poll_t poll;
	int polling, events;
	int poll_closing;           /* uv_close issued, its callback not run yet */
	int unlinked;               /* reaped meanwhile: that callback frees it */
	int taker;                  /* 1: we send to it; 0: it sends to us */
	pid_t pid;
	uint32_t node;
	uint32_t load;              /* sender: its load, raised as we assign */
	uint32_t sent;              /* sender: records sent to it */
	int done_acked;             /* sender: it answered our DONE */
	rt__dgram *outq, **out_tail;
	/* Taker side. */
	int hello;
	uint32_t fence;
	int fence_seen, done;
	uint64_t replay_from;       /* the first replay entry after its fence */
	uint64_t deadline;          /* uv_now() after which nothing more is taken */
	int in_record;
	uint32_t rec_seq, rec_total;
	int rec_fd;
	rt_sb rec;
	rt__pending *pending, **pending_tail;
	uint32_t pending_count, taken, refused;
};

struct rt_handoff_state {
	rt_hub *hub;
	int lfd;
	uv_poll_t lpoll;
	int listening;
	uv_timer_t timer;
	int has_timer;
	rt__peer *peers;
	/* Sender. */
	int phase;                  /* 0 idle, 1 fence sent, 2 records sent, 3 over,
	                             * 4 waiting for what other hubs hand to this one,
	                             * 5 waiting for clients' auth calls,
	                             * 6 waiting for a taker to start */
	int stopping, finishing, snapshotting;
	int cut;                    /* rt_handoff_cut: no hub of this server stays */
	uint64_t cut_at;            /* uv_now() at which the cut falls (0: none) */
	int done_due;               /* done runs on the timer's next turn */
	uint32_t fence;
	uint64_t started, deadline;
	void (*done)(rt_hub *hub);
	rt__moved *moved;
	uint32_t moved_count, moved_cap, waiting;
	uint32_t n_taken, n_refused, n_timeout, n_failed, n_takers, rounds;
	int no_taker;               /* the last round found no hub to take over */
	int told_waiting;           /* the wait for a taker is logged once */
	/* Taker: messages held while a fence is open. */
	rt_msg *held, **held_tail;
	size_t held_bytes;
	/* Taker: publishes delivered here while a fence is open, kept for the
	 * sessions still on their way (each gets them as it is restored). */
	struct rt__replay *replay, **replay_tail;
	size_t replay_bytes;
	uint64_t replay_seq;        /* of the next one */
	rt_msg *releasing;
	int report_due;
	uint8_t buf[RT_FDPASS_DGRAM];
};

/* Process totals, for Realtime\status() after the hub is gone. */
static _Atomic uint64_t rt__total_handed, rt__total_taken, rt__total_closed;

void rt_hub_handoff_totals(uint64_t *handed_off, uint64_t *taken_over, uint64_t *closed)
{
	*handed_off = atomic_load(&rt__total_handed);
	*taken_over = atomic_load(&rt__total_taken);
	*closed = atomic_load(&rt__total_closed);
}

static void rt__count(_Atomic uint64_t *hub_stat, _Atomic uint64_t *total, uint64_t n)
{
	atomic_fetch_add_explicit(hub_stat, n, memory_order_relaxed);
	atomic_fetch_add_explicit(total, n, memory_order_relaxed);
}

static void rt__peer_close(rt__peer *p);
static void rt__maybe_release(rt_handoff_state *h);
static void rt__maybe_finish(rt_handoff_state *h);
static void rt__on_peer(uv_poll_t *poll, int status, int events);
static int rt__movable_count(rt_hub *hub);
static int rt__round(rt_handoff_state *h);
static int rt__cut_due(const rt_handoff_state *h);
static int rt__expired(const rt__peer *p);
static void rt__timer_on(rt_handoff_state *h);
static void rt__start_rounds(rt_handoff_state *h);
static void rt__on_accept(uv_poll_t *poll, int status, int events);
static void rt__read(rt__peer *p);
static void rt__done(rt_handoff_state *h);
static int rt__incoming_active(rt_handoff_state *h);
static int rt__auth_count(rt_hub *hub);
static int rt__cut_due(const rt_handoff_state *h);

/* ---- datagrams out ---- */

static void rt__poll_update(rt__peer *p)
{
	int want = UV_READABLE | (p->outq != NULL ? UV_WRITABLE : 0);

	if (p->fd < 0 || !p->polling || want == p->events) {
		return;
	}
	p->events = want;
	uv_poll_start(&p->poll, want, rt__on_peer);
}

static int rt__queue(rt__peer *p, const uint8_t *head, size_t hlen, const void *body,
		size_t blen, int fd)
{
	rt__dgram *d = malloc(sizeof(*d) + hlen + blen);

	if (d == NULL) {
		return -ENOMEM;
	}
	d->next = NULL;
	d->fd = fd;
	d->len = hlen + blen;
	memcpy(d->data, head, hlen);
	if (blen > 0) {
		memcpy(d->data + hlen, body, blen);
	}
	*p->out_tail = d;
	p->out_tail = &d->next;
	return 0;
}

static int rt__queue_small(rt__peer *p, uint8_t type, uint64_t a, uint32_t b)
{
	uint8_t head[16];
	size_t n = rt_handoff_dgram_head(head, type, a, b);

	return rt__queue(p, head, n, NULL, 0, -1);
}

static void rt__write(rt__peer *p)
{
	while (p->outq != NULL) {
		rt__dgram *d = p->outq;
		int r = rt_fdpass_send(p->fd, d->data, d->len, d->fd);
		if (r == -EAGAIN) {
			break;
		}
		if (r != 0) {
			rt_log(RT_LOG_WARNING, "handoff: sending to hub %u failed: %s", p->node, strerror(-r));
			rt__peer_close(p);
			return;
		}
		p->outq = d->next;
		if (p->outq == NULL) {
			p->out_tail = &p->outq;
		}
		free(d); /* its socket stays open in rt__moved.fd until the answer */
	}
	rt__poll_update(p);
}

/* ---- sender ---- */

/* The close a connection gets when it cannot move after all: its unwritten
 * bytes, then the stop's close frame, as far as the socket takes them at once. */
static void rt__fallback_close(rt__moved *m)
{
	/* The same words a stop without handoff gives (hub.c rt__begin_stop),
	 * so logs and clients read the two alike. */
	const char *why = m->code == 1001 ? "server shutting down" : "server restarting: reconnect now";
	size_t why_len = strlen(why);
	uint8_t bye[4 + 64];

	bye[0] = 0x88;
	bye[1] = (uint8_t) (2 + why_len);
	bye[2] = (uint8_t) (m->code >> 8);
	bye[3] = (uint8_t) (m->code & 0xff);
	memcpy(bye + 4, why, why_len);
	if (m->fd >= 0) {
		if (m->out.len == 0 || send(m->fd, m->out.data, m->out.len, MSG_DONTWAIT | MSG_NOSIGNAL)
				== (ssize_t) m->out.len) {
			(void) send(m->fd, bye, 4 + why_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		}
		close(m->fd);
		m->fd = -1;
	}
	rt_sb_free(&m->out);
	m->state = 2;
}

static void rt__resolve(rt_handoff_state *h, rt__moved *m, int taken, uint32_t *why)
{
	if (m->state != 0) {
		return;
	}
	if (taken) {
		close(m->fd);
		m->fd = -1;
		rt_sb_free(&m->out);
		m->state = 1;
		h->n_taken++;
		rt__count(&h->hub->stat_handed_off, &rt__total_handed, 1);
	} else {
		rt__fallback_close(m);
		(*why)++;
		rt__count(&h->hub->stat_handoff_closed, &rt__total_closed, 1);
	}
	h->waiting--;
}

static rt__peer *rt__least_loaded(rt_handoff_state *h)
{
	rt__peer *best = NULL;

	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (p->taker && p->fd >= 0 && (best == NULL || p->load < best->load)) {
			best = p;
		}
	}
	return best;
}

static rt__moved *rt__moved_add(rt_handoff_state *h)
{
	if (h->moved_count == h->moved_cap) {
		uint32_t cap = h->moved_cap ? h->moved_cap * 2 : 64;
		rt__moved *m = realloc(h->moved, cap * sizeof(*m));
		if (m == NULL) {
			return NULL;
		}
		h->moved = m;
		h->moved_cap = cap;
	}
	memset(&h->moved[h->moved_count], 0, sizeof(h->moved[0]));
	h->moved[h->moved_count].fd = -1;
	return &h->moved[h->moved_count++];
}

/* Sends one record in datagrams: the first carries the socket. */
static int rt__send_record(rt__peer *p, uint32_t seq, const rt_sb *rec, int fd)
{
	uint8_t head[16];
	size_t off = 0, n;

	n = rec->len < RT_FDPASS_DGRAM - RT_HANDOFF_RECORD_HEAD ? rec->len
			: RT_FDPASS_DGRAM - RT_HANDOFF_RECORD_HEAD;
	rt_handoff_dgram_head(head, RT_HANDOFF_RECORD, seq, (uint32_t) rec->len);
	if (rt__queue(p, head, RT_HANDOFF_RECORD_HEAD, rec->data, n, fd) != 0) {
		return -ENOMEM;
	}
	off = n;
	while (off < rec->len) {
		n = rec->len - off < RT_FDPASS_DGRAM - 1 ? rec->len - off : RT_FDPASS_DGRAM - 1;
		head[0] = RT_HANDOFF_MORE;
		if (rt__queue(p, head, 1, rec->data + off, n, -1) != 0) {
			return -EPIPE; /* a record cut short: the link cannot go on */
		}
		off += n;
	}
	return 0;
}

/* Moves conn to a taker. 0, or a negative errno with conn left as it was. */
static int rt__move(rt_handoff_state *h, rt_conn *conn)
{
	rt__peer *to = rt__least_loaded(h);
	rt_conn_snapshot ex;
	rt_sb img, rec;
	rt__moved *m;
	uint32_t seq;
	int fd, r;

	if (to == NULL) {
		return -ENOENT;
	}
	if (rt_conn_export(conn, &ex) != 0) {
		return -ENOMEM;
	}
	rt_sb_init(&img);
	rt_sb_init(&rec);
	r = rt_session_serialize(conn->session, &img);
	if (r == 0) {
		r = rt_handoff_record_encode(&rec, ex.await_pong ? RT_HANDOFF_F_AWAIT_PONG : 0,
				ex.ping_in, img.data, img.len, ex.out, ex.out_lens, ex.out_count, ex.carry,
				ex.carry_len);
	}
	m = r == 0 ? rt__moved_add(h) : NULL;
	if (m == NULL) {
		rt_sb_free(&img);
		rt_sb_free(&rec);
		rt_conn_snapshot_free(&ex);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ex.out_count; i++) {
		rt_sb_append(&m->out, ex.out[i], ex.out_lens[i]);
	}
	rt_conn_snapshot_free(&ex);
	rt_sb_free(&img);
	/* What the stop would have sent it (hub.c rt__begin_stop): a worker
	 * that ends while the server goes on says "reconnect at once". */
	m->code = !atomic_load(&h->hub->restart) ? 1001
			: conn->proto == RT_PROTO_PUSHER ? 4200 : RT_CLOSE_SERVICE_RESTART;
	/* From here the connection is the taker's: nothing more goes to it. */
	rt_session_drop(conn->session);
	conn->session = NULL;
	fd = rt_conn_release(conn);
	seq = h->moved_count - 1;
	m->to = to;
	h->waiting++;
	/* One descriptor per connection, however many move at once: the
	 * datagram that passes it borrows it from m, which closes it on the
	 * taker's answer (or closes the connection with it on none). */
	m->fd = fd;
	if (fd < 0) {
		rt_sb_free(&rec);
		rt__resolve(h, m, 0, &h->n_failed);
		return 0;
	}
	r = rt__send_record(to, seq, &rec, fd);
	rt_sb_free(&rec);
	if (r == -ENOMEM) {
		rt__resolve(h, m, 0, &h->n_failed);
	} else if (r != 0) {
		rt__peer_close(to); /* the socket went with its first datagram */
	} else {
		to->load++;
		to->sent++;
	}
	return 0;
}

/* Our own fence came back: everything before it was delivered here, so
 * the takers deliver from it on. */
static void rt__snapshot(rt_handoff_state *h)
{
	rt_hub *hub = h->hub;

	h->phase = 2;
	h->snapshotting = 1; /* a link failing meanwhile must not end the round */
	for (rt_conn *conn = hub->net.conns; conn != NULL; conn = conn->next) {
		if (rt_conn_movable(conn)) {
			(void) rt__move(h, conn);
		}
	}
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (p->taker && p->fd >= 0) {
			if (rt__queue_small(p, RT_HANDOFF_DONE, p->sent, 0) != 0) {
				rt__peer_close(p);
				continue;
			}
			rt__write(p);
		}
	}
	h->snapshotting = 0;
	rt__maybe_finish(h);
}

static void rt__finish(rt_handoff_state *h)
{
	rt_hub *hub = h->hub;
	uint32_t left = 0, ms;

	if (h->phase == 3 || h->finishing) {
		return;
	}
	h->finishing = 1; /* closing the links below calls back here */
	for (uint32_t i = 0; i < h->moved_count; i++) {
		rt__resolve(h, &h->moved[i], 0, &h->n_timeout);
	}
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (p->taker) {
			rt__peer_close(p);
		}
	}
	h->finishing = 0;
	/* Clients that finished their handshake meanwhile: another round, in
	 * the time left. */
	if (h->phase == 2 && uv_now(&hub->loop) < h->deadline && h->rounds < 4
			&& rt__movable_count(hub) > 0) {
		h->phase = 0;
		if (rt__round(h)) {
			return;
		}
	}
	if (h->phase != 5 && uv_now(&hub->loop) < h->deadline && rt__auth_count(hub) > 0) {
		h->phase = 5; /* the timer starts a round when they are in */
		rt__timer_on(h);
		return;
	}
	/* Clients still here (no taker, not movable, or upgraded meanwhile)
	 * are closed by the stop that follows (1001, or 1012 / Pusher 4200). */
	for (rt_conn *conn = hub->net.conns; conn != NULL; conn = conn->next) {
		if (conn->state != RT_CONN_DEAD && (conn->session != NULL || conn->state == RT_CONN_AUTH)) {
			left++;
		}
	}
	rt__count(&hub->stat_handoff_closed, &rt__total_closed, left);
	h->phase = 3;
	ms = (uint32_t) (uv_now(&hub->loop) - h->started);
	if (h->n_refused + h->n_timeout + h->n_failed + left > 0) {
		rt_log(RT_LOG_WARNING, "handoff: moved %u connection(s) to %u hub(s) in %u ms; closed "
				"%u (%u refused by the taker, %u past realtime.handoff_timeout, "
				"%u failed, %u not movable: closing, in a handshake or no taker)",
				h->n_taken, h->n_takers, ms, h->n_refused + h->n_timeout + h->n_failed + left,
				h->n_refused, h->n_timeout, h->n_failed, left);
	} else if (h->n_taken > 0) {
		rt_log(RT_LOG_INFO, "handoff: moved %u connection(s) to %u hub(s) in %u ms",
				h->n_taken, h->n_takers, ms);
	}
	rt__done(h);
}

static void rt__maybe_finish(rt_handoff_state *h)
{
	if (h->phase != 2 || h->waiting > 0 || h->snapshotting) {
		return;
	}
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (p->taker && p->fd >= 0 && !p->done_acked) {
			return; /* its DONE is not answered yet */
		}
	}
	rt__finish(h);
}

static int rt__movable_count(rt_hub *hub)
{
	int n = 0;

	for (rt_conn *conn = hub->net.conns; conn != NULL; conn = conn->next) {
		n += rt_conn_movable(conn);
	}
	return n;
}

/* Clients waiting for the app's auth endpoint: they can move once it
 * answers, if that is in time. */
static int rt__auth_count(rt_hub *hub)
{
	int n = 0;

	for (rt_conn *conn = hub->net.conns; conn != NULL; conn = conn->next) {
		n += conn->state == RT_CONN_AUTH;
	}
	return n;
}

static void rt__on_timer(uv_timer_t *t);

static void rt__timer_on(rt_handoff_state *h)
{
	if (h->has_timer && !uv_is_active((uv_handle_t *) &h->timer)) {
		uv_timer_start(&h->timer, rt__on_timer, RT__TICK_MS, RT__TICK_MS);
	}
}

/* Whether a hub is handing connections to this one right now. */
static int rt__incoming_active(rt_handoff_state *h)
{
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (!p->taker && p->fd >= 0 && (!p->done || p->pending != NULL) && !rt__expired(p)) {
			return 1;
		}
	}
	return 0;
}

/* One round: connects to the peers, publishes a fence. 1 when it started,
 * 0 when there is nothing (more) to hand off or nobody to take it. */
static int rt__round(rt_handoff_state *h)
{
	rt_hub *hub = h->hub;
	rt_hub_peer peers[RT__MAX_TAKERS * 4];
	char list[RT__MAX_TAKERS * 12 + 1];
	size_t list_len = 0;
	rt_msg_fields f = {0};
	rt_msg *fence;
	int n, movable = rt__movable_count(hub), takers = 0;

	if (movable == 0 || !hub->has_link || hub->link.peers == NULL) {
		return 0;
	}
	n = hub->link.peers(hub->link.ctx, peers, (int) (sizeof(peers) / sizeof(peers[0])));
	if (n > (int) (sizeof(peers) / sizeof(peers[0]))) {
		n = (int) (sizeof(peers) / sizeof(peers[0]));
	}
	h->fence++;
	for (int i = 0; i < n && takers < RT__MAX_TAKERS; i++) {
		rt__peer *p;
		pid_t pid;
		uid_t uid;
		int fd;
		if (peers[i].node == hub->node_id || peers[i].pid <= 0) {
			continue;
		}
		fd = rt_fdpass_connect(peers[i].pid, peers[i].node);
		if (fd < 0) {
			continue; /* stopping too, or not listening: not a taker */
		}
		if (rt_fdpass_peer(fd, &pid, &uid) != 0 || pid != peers[i].pid
				|| (uid != geteuid() && uid != 0) || (p = calloc(1, sizeof(*p))) == NULL) {
			rt_log(RT_LOG_WARNING, "handoff: the socket of hub %u is not held by its process "
					"(pid %d): not used", peers[i].node, peers[i].pid);
			close(fd);
			continue;
		}
		p->h = h;
		p->fd = fd;
		p->taker = 1;
		p->pid = pid;
		p->node = peers[i].node;
		p->load = peers[i].load;
		p->out_tail = &p->outq;
		p->rec_fd = -1;
		p->pending_tail = &p->pending;
		uv_poll_init(&hub->loop, &p->poll, fd);
		p->poll.data = p;
		p->polling = 1;
		p->next = h->peers;
		h->peers = p;
		if (rt__queue_small(p, RT_HANDOFF_HELLO, h->fence, hub->node_id) != 0) {
			rt__peer_close(p);
			continue;
		}
		rt__write(p);
		if (p->fd < 0) {
			continue;
		}
		takers++;
		list_len += (size_t) snprintf(list + list_len, sizeof(list) - list_len, "%s%" PRIu32,
				list_len ? "," : "", p->node);
	}
	h->no_taker = takers == 0;
	if (takers == 0) {
		if (!hub->cfg.handoff_await_taker) { /* else rt__await_taker tells */
			rt_log(RT_LOG_WARNING, "handoff: no other hub of this app can take over %d "
					"connection(s)", movable);
		}
		return 0;
	}
	f.origin = hub->node_id;
	f.count = h->fence;
	f.data.ptr = list;
	f.data.len = list_len;
	fence = rt_msg_new(RT_MSG_HANDOFF, &f);
	if (fence == NULL || hub->hooks->publish(hub, fence) != 0) {
		rt_log(RT_LOG_ERROR, "handoff: the broker did not take its fence");
		for (rt__peer *p = h->peers; p != NULL; p = p->next) {
			if (p->taker) {
				rt__peer_close(p);
			}
		}
		return 0;
	}
	h->n_takers += (uint32_t) takers;
	h->rounds++;
	h->phase = 1;
	rt__timer_on(h);
	return 1;
}

/* The handoff is over: the stop goes on. */
static void rt__done(rt_handoff_state *h)
{
	h->phase = 3;
	if (h->done == NULL) {
		return;
	}
	/* Not from here: this may run inside the broker's delivery of the
	 * fence, and the stop that follows ends the broker's link under it. */
	if (h->has_timer) {
		h->done_due = 1;
		uv_timer_start(&h->timer, rt__on_timer, 0, RT__TICK_MS);
		return;
	}
	void (*done)(rt_hub *) = h->done;
	h->done = NULL;
	done(h->hub);
}

/* No hub can take over right now. Where the server starts a worker while
 * this one ends (Apache's parent replaces children on its own schedule,
 * up to a second later), one that starts within the budget takes the
 * clients: the timer looks again each tick. 1 when waiting. */
static int rt__await_taker(rt_handoff_state *h)
{
	rt_hub *hub = h->hub;

	if (!hub->cfg.handoff_await_taker || !h->no_taker || h->cut || rt__cut_due(h)
			|| uv_now(&hub->loop) >= h->deadline || rt__movable_count(hub) == 0) {
		return 0;
	}
	if (!h->told_waiting) {
		h->told_waiting = 1;
		rt_log(RT_LOG_INFO, "handoff: no other hub of this app runs: waiting up to %u ms "
				"(realtime.handoff_timeout) for one to start and take %d connection(s)",
				(unsigned) (h->deadline - uv_now(&hub->loop)), rt__movable_count(hub));
	}
	h->phase = 6;
	rt__timer_on(h);
	return 1;
}

/* A deferred start: once no hub hands anything to this one any more. */
static void rt__start_rounds(rt_handoff_state *h)
{
	rt_hub *hub = h->hub;

	h->started = uv_now(&hub->loop);
	h->deadline = h->started + hub->cfg.handoff_timeout;
	if (h->cut_at != 0 && h->deadline > h->cut_at) {
		h->deadline = h->cut_at;
	}
	/* New clients go to the hubs that stay. */
	if (!uv_is_closing((uv_handle_t *) &hub->listener)) {
		uv_close((uv_handle_t *) &hub->listener, NULL);
	}
	if (hub->has_shared_listener && !uv_is_closing((uv_handle_t *) &hub->shared_listener)) {
		uv_close((uv_handle_t *) &hub->shared_listener, NULL);
	}
	if (!rt__round(h) && !rt__await_taker(h)) {
		rt__finish(h);
	}
}

int rt_handoff_leaving(const rt_hub *hub)
{
	return hub->handoff != NULL && hub->handoff->stopping;
}

int rt_handoff_begin(rt_hub *hub, void (*done)(rt_hub *hub))
{
	rt_handoff_state *h = hub->handoff;

	if (h == NULL || h->phase != 0 || h->stopping) {
		return 0;
	}
	h->stopping = 1;
	/* A stopping hub takes nothing more over; but a hub that connected
	 * before now may have sent records already, and closing the listener
	 * would reset its queued link and lose them: take those links in first
	 * (they finish before this hub hands its own clients on). */
	if (h->listening) {
		/* A hub that connects from here on is refused (it finds another
		 * taker); one that connected just before is in the backlog. */
		rt_fdpass_refuse_new(h->lfd);
		rt__on_accept(&h->lpoll, 0, UV_READABLE);
		uv_poll_stop(&h->lpoll);
		uv_close((uv_handle_t *) &h->lpoll, NULL);
		h->listening = 0;
		close(h->lfd);
		h->lfd = -1;
	}
	if (!hub->cfg.handoff || rt__cut_due(h) || !hub->has_link || hub->link.peers == NULL) {
		return 0;
	}
	if (rt__movable_count(hub) == 0 && rt__auth_count(hub) == 0 && !rt__incoming_active(h)) {
		return 0;
	}
	h->done = done;
	if (rt__incoming_active(h)) {
		/* Clients on their way here move on with ours, not closed. */
		h->phase = 4;
		rt__timer_on(h);
		return 1;
	}
	rt__start_rounds(h);
	return 1; /* done has been called if it is over already */
}

/* The cut itself: what is on its way here is refused (its sender closes
 * it), what this hub sent and has no answer for is closed by this hub, and
 * the stop goes on. */
static void rt__cut_now(rt_handoff_state *h)
{
	h->cut = 1;
	/* Their senders see the link close and close what they sent. */
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (!p->taker) {
			rt__peer_close(p);
			p->done = 1;
		}
	}
	rt__maybe_release(h);
	if (!h->stopping || h->phase == 0 || h->phase == 3) {
		return; /* rt_handoff_begin now hands nothing off */
	}
	rt_log(RT_LOG_WARNING, "handoff: cut short after %u connection(s) moved: the server "
			"stops this worker before the handoff could end, the rest are closed here",
			h->n_taken);
	h->deadline = 0;
	if (h->phase == 4) {
		h->phase = 0;
		h->started = uv_now(&h->hub->loop);
	}
	rt__finish(h);
}

static int rt__cut_due(const rt_handoff_state *h)
{
	return h->cut || (h->cut_at != 0 && uv_now(&h->hub->loop) >= h->cut_at);
}

/* php-fpm's SIGTERM (a reload or a stop: every worker at once, with the
 * SIGKILL a second later): peers that stay take what they can in the time
 * given, but hubs that are leaving too would pass clients on to each other
 * until the kill dropped them without a close frame. */
void rt_handoff_cut(rt_hub *hub, unsigned within_ms)
{
	rt_handoff_state *h = hub->handoff;
	uint64_t at = uv_now(&hub->loop) + within_ms;

	if (h == NULL || h->cut) {
		return;
	}
	if (within_ms == 0) {
		rt__cut_now(h);
		return;
	}
	if (h->cut_at == 0 || at < h->cut_at) {
		h->cut_at = at;
	}
	if (h->stopping && h->phase != 0 && h->phase != 3) {
		if (h->deadline > h->cut_at) {
			h->deadline = h->cut_at;
		}
	}
	rt__timer_on(h);
}

/* ---- taker ---- */

static uint64_t rt__record_max(const rt_hub *hub)
{
	/* An image, the outbound bytes and a carry, each bounded by settings. */
	return (uint64_t) 64 * 1024 + (uint64_t) hub->cfg.max_subscriptions
			* (65536 + 2 * (uint64_t) hub->cfg.max_user_info + 4096)
			+ hub->cfg.max_outbound + rt_conn_carry_max(&hub->cfg) + 64;
}

/* Rebuilds one connection. 0 (taken) or -1 (refused; fd closed). */
static int rt__adopt(rt__peer *p, int fd, const rt_sb *bytes)
{
	static rt_log_limit refuse_log;
	rt_handoff_state *h = p->h;
	rt_hub *hub = h->hub;
	rt_handoff_record rec;
	rt_handoff_limits lim;
	char err[200];
	rt_conn *conn;

	/* Only WebSocket sessions move (rt_conn_movable): an image of an event
	 * stream's protocol is refused. */
	rt_session_limits_get(hub, RT_PROTO_NATIVE_SSE, &lim.session);
	lim.max_out = hub->cfg.max_outbound;
	lim.max_carry = rt_conn_carry_max(&hub->cfg);
	lim.max_ping_in = hub->cfg.ping_interval;
	if (rt_handoff_record_decode(&rec, bytes->data, bytes->len, &lim, err, sizeof(err)) != 0) {
		rt_log_limited(&refuse_log, RT_LOG_WARNING, "handoff: refused a connection from hub "
				"%u: %s", p->node, err);
		close(fd);
		return -1;
	}
	if (atomic_load_explicit(&hub->net.stat_connections, memory_order_relaxed)
			>= hub->cfg.max_connections) {
		rt_log_limited(&refuse_log, RT_LOG_WARNING, "handoff: refused connection %s from hub "
				"%u: realtime.max_connections=%u reached", rec.image.id, p->node,
				hub->cfg.max_connections);
		rt_handoff_record_free(&rec);
		close(fd);
		return -1;
	}
	if (rt_conn_adopt(&hub->net, fd, &conn) != 0) {
		rt_handoff_record_free(&rec);
		return -1;
	}
	if (rt_session_restore(hub, &rt_conn_transport, conn, rt_proto(rec.image.proto),
			&rec.image, &conn->session) != 0) {
		rt_log_limited(&refuse_log, RT_LOG_WARNING, "handoff: refused connection %s from hub "
				"%u: its session cannot be rebuilt here (id taken, a limit, or memory)",
				rec.image.id, p->node);
		rt_conn_discard(conn);
		rt_handoff_record_free(&rec);
		return -1;
	}
	conn->proto = rec.image.proto;
	memcpy(conn->id, conn->session->id, sizeof(conn->id));
	conn->id_len = conn->session->id_len;
	h->report_due = 1;
	rt_conn_resume(conn, rec.out, rec.out_len, rec.carry, rec.carry_len,
			(rec.flags & RT_HANDOFF_F_AWAIT_PONG) != 0, rec.ping_in);
	/* After what its old hub had queued for it: what came here since (none
	 * if it closed meanwhile, on a close frame in its carry or no memory). */
	for (rt__replay *r = h->replay; r != NULL && conn->state == RT_CONN_OPEN
			&& conn->session != NULL; r = r->next) {
		if (r->seq < p->replay_from) {
			continue;
		}
		if (r->msg != NULL) {
			rt_hub_publish_to(hub, r->msg, conn->session);
		} else {
			rt_hub_member_to(hub, r->channel, r->channel_len, r->member, r->added, conn->session);
		}
	}
	rt_handoff_record_free(&rec);
	rt__count(&hub->stat_taken_over, &rt__total_taken, 1);
	return 0;
}

static void rt__answer(rt__peer *p, uint32_t seq, int ok)
{
	if (ok) {
		p->taken++;
	} else {
		p->refused++;
	}
	if (rt__queue_small(p, ok ? RT_HANDOFF_ACK : RT_HANDOFF_NACK, seq, 0) != 0) {
		rt__peer_close(p);
	}
}

static void rt__flush_reports(rt_handoff_state *h)
{
	if (h->report_due) {
		h->report_due = 0;
		rt_session_report_connections(h->hub);
	}
}

static void rt__adopt_pending(rt__peer *p)
{
	while (p->pending != NULL && p->fd >= 0) {
		rt__pending *q = p->pending;
		p->pending = q->next;
		p->pending_count--;
		rt__answer(p, q->seq, rt__adopt(p, q->fd, &q->bytes) == 0);
		rt_sb_free(&q->bytes);
		free(q);
	}
	if (p->pending == NULL) {
		p->pending_tail = &p->pending;
	}
}

static int rt__expired(const rt__peer *p)
{
	return p->deadline != 0 && uv_now(&p->h->hub->loop) >= p->deadline;
}

static void rt__record_complete(rt__peer *p)
{
	rt_handoff_state *h = p->h;
	int fd = p->rec_fd;
	uint32_t seq = p->rec_seq;

	p->in_record = 0;
	p->rec_fd = -1;
	if ((h->stopping && h->phase != 4) || p->done || rt__expired(p)) {
		close(fd);
		rt_sb_free(&p->rec);
		rt__answer(p, seq, 0);
		return;
	}
	if (p->fence_seen) {
		rt__answer(p, seq, rt__adopt(p, fd, &p->rec) == 0);
		rt_sb_free(&p->rec);
		return;
	}
	/* Before the fence: held until it comes, bounded like connections. */
	{
		rt__pending *q = calloc(1, sizeof(*q));
		if (q == NULL || p->pending_count >= h->hub->cfg.max_connections) {
			free(q);
			close(fd);
			rt_sb_free(&p->rec);
			rt__answer(p, seq, 0);
			return;
		}
		q->seq = seq;
		q->fd = fd;
		q->bytes = p->rec;
		rt_sb_init(&p->rec);
		*p->pending_tail = q;
		p->pending_tail = &q->next;
		p->pending_count++;
	}
}

static void rt__log_taken(const rt__peer *p)
{
	if (p->taken + p->refused > 0) {
		rt_log(RT_LOG_INFO, "handoff: took over %u connection(s) from hub %u%s", p->taken,
				p->node, p->refused ? " (some refused, logged above)" : "");
	}
}

/* A placeholder left by a fence that came before its sender's hello. */
static rt__peer *rt__find_fence(rt_handoff_state *h, uint32_t node, uint32_t fence, int placeholder)
{
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (!p->taker && p->node == node && p->fence == fence && p->hello
				&& (p->fd < 0) == placeholder && !(placeholder && p->done)) {
			return p;
		}
	}
	return NULL;
}

static int rt__is_peer(rt_hub *hub, uint32_t node, pid_t pid)
{
	rt_hub_peer peers[256];
	int n;

	if (!hub->has_link || hub->link.peers == NULL) {
		return 0;
	}
	n = hub->link.peers(hub->link.ctx, peers, 256);
	for (int i = 0; i < n && i < 256; i++) {
		if (peers[i].pid == pid && (node == 0 || peers[i].node == node)) {
			return 1;
		}
	}
	return 0;
}

/* One datagram from a sender. Returns -1 when the link must close. */
static int rt__on_dgram(rt__peer *p, const uint8_t *data, size_t len, int fd)
{
	rt_handoff_state *h = p->h;
	rt_handoff_dgram d;

	if (rt_handoff_dgram_parse(&d, data, len) != 0 || (fd >= 0 && d.type != RT_HANDOFF_RECORD)
			|| (!p->hello && d.type != RT_HANDOFF_HELLO)) {
		if (fd >= 0) {
			close(fd); /* a descriptor where none belongs */
		}
		return -1;
	}
	switch (d.type) {
	case RT_HANDOFF_HELLO: {
		rt__peer *early;
		if (p->hello || !rt__is_peer(h->hub, d.node, p->pid)) {
			return -1;
		}
		p->hello = 1;
		p->node = d.node;
		p->fence = (uint32_t) d.fence;
		p->deadline = uv_now(&h->hub->loop) + h->hub->cfg.handoff_timeout;
		early = rt__find_fence(h, p->node, p->fence, 1);
		if (early != NULL) {
			p->fence_seen = 1;
			p->replay_from = early->replay_from;
			early->done = 1; /* its hold passes to this link */
		}
		rt__timer_on(h);
		return 0;
	}
	case RT_HANDOFF_RECORD:
		if (p->in_record || fd < 0 || d.total == 0 || d.total > rt__record_max(h->hub)) {
			if (fd >= 0) {
				close(fd);
			}
			return -1;
		}
		p->in_record = 1;
		p->rec_seq = d.seq;
		p->rec_total = d.total;
		p->rec_fd = fd;
		rt_sb_init(&p->rec);
		break;
	case RT_HANDOFF_MORE:
		if (!p->in_record || p->rec.len + d.len > p->rec_total) {
			return -1;
		}
		break;
	case RT_HANDOFF_DONE:
		if (p->in_record) {
			return -1;
		}
		/* Records still waiting for the fence are placed when it comes
		 * (or refused at the deadline). The sender stays a live hub of
		 * the pool until this answer: its links are never taken for a
		 * stranger's. */
		p->done = 1;
		if (rt__queue_small(p, RT_HANDOFF_ACK, RT__DONE_SEQ, 0) != 0) {
			return -1;
		}
		if (p->fence_seen) {
			rt__log_taken(p);
		}
		return 0;
	default:
		return -1;
	}
	rt_sb_append(&p->rec, d.bytes, d.len);
	if (p->rec.failed) {
		return -1;
	}
	if (p->rec.len == p->rec_total) {
		rt__record_complete(p);
	}
	return 0;
}

static void rt__read(rt__peer *p)
{
	rt_handoff_state *h = p->h;

	for (int i = 0; i < 256 && p->fd >= 0; i++) {
		int fd;
		ssize_t n = rt_fdpass_recv(p->fd, h->buf, sizeof(h->buf), &fd);
		if (n == -EAGAIN) {
			break;
		}
		if (n <= 0 || rt__on_dgram(p, h->buf, (size_t) n, fd) != 0) {
			static rt_log_limit bad_log;
			if (n != 0) {
				rt_log_limited(&bad_log, RT_LOG_WARNING, "handoff: a malformed datagram from "
						"process %d (hub %u): link closed, what it was handing over refused",
						(int) p->pid, p->node);
			}
			rt__peer_close(p);
			break;
		}
	}
	rt__flush_reports(h);
	if (p->fd >= 0) {
		rt__write(p);
	}
	if (h->phase == 4 && !rt__incoming_active(h)) {
		rt__start_rounds(h);
	}
}

/* What a sender hears back. */
static void rt__read_answers(rt__peer *p)
{
	rt_handoff_state *h = p->h;

	for (int i = 0; i < 1024 && p->fd >= 0; i++) {
		rt_handoff_dgram d;
		int fd;
		ssize_t n = rt_fdpass_recv(p->fd, h->buf, sizeof(h->buf), &fd);
		if (n == -EAGAIN) {
			break;
		}
		if (fd >= 0) {
			close(fd);
		}
		if (n > 0 && rt_handoff_dgram_parse(&d, h->buf, (size_t) n) == 0
				&& d.type == RT_HANDOFF_ACK && d.seq == RT__DONE_SEQ && !p->done_acked) {
			p->done_acked = 1;
			continue;
		}
		if (n <= 0 || rt_handoff_dgram_parse(&d, h->buf, (size_t) n) != 0
				|| (d.type != RT_HANDOFF_ACK && d.type != RT_HANDOFF_NACK)
				|| d.seq >= h->moved_count || h->moved[d.seq].to != p) {
			rt__peer_close(p);
			break;
		}
		rt__resolve(h, &h->moved[d.seq], d.type == RT_HANDOFF_ACK,
				&h->n_refused);
	}
	rt__maybe_finish(h);
}

static void rt__on_peer(uv_poll_t *poll, int status, int events)
{
	rt__peer *p = poll->data;

	if (status < 0) {
		rt__peer_close(p);
		return;
	}
	if (events & UV_WRITABLE) {
		rt__write(p);
	}
	if (p->fd >= 0 && (events & (UV_READABLE | UV_DISCONNECT))) {
		if (p->taker) {
			rt__read_answers(p);
		} else {
			rt__read(p);
		}
	}
	if (p->fd >= 0) {
		rt__write(p);
	}
}

static void rt__on_poll_closed(uv_handle_t *handle)
{
	rt__peer *p = handle->data;

	p->poll_closing = 0;
	if (p->unlinked) {
		free(p);
	}
}

static void rt__peer_close(rt__peer *p)
{
	rt_handoff_state *h = p->h;

	if (p->fd < 0) {
		return;
	}
	if (p->polling) {
		/* The handle goes before its descriptor: closing a poll handle
		 * takes its descriptor's number out of epoll, and once closed that
		 * number may already belong to another socket (a client, another
		 * link), which would then never be heard from again. */
		p->polling = 0;
		p->poll_closing = 1;
		uv_close((uv_handle_t *) &p->poll, rt__on_poll_closed);
	}
	close(p->fd);
	p->fd = -1;
	p->done = 1;
	while (p->outq != NULL) {
		rt__dgram *d = p->outq;
		p->outq = d->next;
		free(d); /* its socket is rt__moved.fd's */
	}
	p->out_tail = &p->outq;
	if (p->rec_fd >= 0) {
		close(p->rec_fd);
		p->rec_fd = -1;
	}
	rt_sb_free(&p->rec);
	while (p->pending != NULL) {
		rt__pending *q = p->pending;
		p->pending = q->next;
		close(q->fd);
		rt_sb_free(&q->bytes);
		free(q);
	}
	p->pending_tail = &p->pending;
	if (p->taker) {
		for (uint32_t i = 0; i < h->moved_count; i++) {
			if (h->moved[i].to == p) {
				rt__resolve(h, &h->moved[i], 0, &h->n_failed);
			}
		}
		rt__maybe_finish(h);
	} else {
		rt__maybe_release(h);
	}
}

/* A link of a sender whose fence has not come yet, already closed: the
 * sender gave this hub nothing (or gave up) and finished. */
static int rt__closed_before_fence(const rt__peer *p)
{
	return !p->taker && p->fd < 0 && p->hello && !p->fence_seen;
}

/* Frees closed links (not while a callback of theirs may run). A link
 * closed before its fence came is kept until the fence or its deadline:
 * the fence, late through the broker, must find that nothing is on its
 * way, not hold the stream for a link that will never come. */
static void rt__reap(rt_handoff_state *h, int all)
{
	rt__peer **pp = &h->peers;

	while (*pp != NULL) {
		rt__peer *p = *pp;
		if (p->fd < 0 && p->done
				&& (all || !rt__closed_before_fence(p) || rt__expired(p))) {
			*pp = p->next;
			if (p->poll_closing) {
				p->unlinked = 1;
			} else {
				free(p);
			}
			continue;
		}
		pp = &p->next;
	}
}

static void rt__on_accept(uv_poll_t *poll, int status, int events)
{
	rt_handoff_state *h = poll->data;
	(void) events;

	if (status < 0) {
		return;
	}
	for (int i = 0; i < 64; i++) {
		static rt_log_limit cred_log;
		rt__peer *p;
		pid_t pid = -1;
		uid_t uid = (uid_t) -1;
		int fd = rt_fdpass_accept(h->lfd);
		if (fd < 0) {
			break;
		}
		/* Only a live hub of this app, of our user (or root), may hand over. */
		if (rt_fdpass_peer(fd, &pid, &uid) != 0 || (uid != geteuid() && uid != 0)
				|| !rt__is_peer(h->hub, 0, pid) || (p = calloc(1, sizeof(*p))) == NULL) {
			rt_log_limited(&cred_log, RT_LOG_WARNING, "handoff: refused a connection to the "
					"handoff socket from process %d (uid %d): not a live hub of this app",
					(int) pid, (int) uid);
			close(fd);
			continue;
		}
		p->h = h;
		p->fd = fd;
		p->pid = pid;
		p->deadline = uv_now(&h->hub->loop) + h->hub->cfg.handoff_timeout;
		p->out_tail = &p->outq;
		p->rec_fd = -1;
		p->pending_tail = &p->pending;
		uv_poll_init(&h->hub->loop, &p->poll, fd);
		p->poll.data = p;
		p->polling = 1;
		p->events = UV_READABLE;
		uv_poll_start(&p->poll, UV_READABLE, rt__on_peer);
		p->next = h->peers;
		h->peers = p;
	}
}

/* ---- holding the message stream ---- */

static int rt__holding(rt_handoff_state *h)
{
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (!p->taker && p->fence_seen && !p->done && !rt__expired(p)) {
			return 1;
		}
	}
	return 0;
}

static void rt__replay_clear(rt_handoff_state *h);

static void rt__maybe_release(rt_handoff_state *h)
{
	if (h->held == NULL && h->replay != NULL && !rt__holding(h)) {
		rt__replay_clear(h); /* every session on its way is in */
	}
	while (h->held != NULL && h->releasing == NULL && !rt__holding(h)) {
		rt_msg *msg = h->held;
		h->held = msg->next;
		if (h->held == NULL) {
			h->held_tail = &h->held;
		}
		h->held_bytes -= rt_msg_encoded_size(msg);
		msg->next = NULL;
		h->releasing = msg;
		rt_hub_deliver(h->hub, msg);
		h->releasing = NULL;
	}
}

static void rt__replay_clear(rt_handoff_state *h)
{
	while (h->replay != NULL) {
		rt__replay *r = h->replay;
		h->replay = r->next;
		rt_msg_free(r->msg);
		free(r->member);
		free(r);
	}
	h->replay_tail = &h->replay;
	h->replay_bytes = 0;
}

static void rt__replay_add(rt_handoff_state *h, rt__replay *r, size_t size)
{
	r->next = NULL;
	r->seq = h->replay_seq++;
	*h->replay_tail = r;
	h->replay_tail = &r->next;
	h->replay_bytes += size;
}

/* Whether msg goes on now while sessions are on their way here: the
 * sessions here get it at once (other clients see no pause), and those on
 * their way get a publish, and the member changes the rest cause
 * (rt_handoff_note_member), as each is restored. What is addressed to a
 * user or a connection, or a whisper, waits for the handoffs, and so does
 * everything after it, so no one sees it out of order. */
static int rt__deliver_now(rt_handoff_state *h, const rt_msg *msg, size_t size)
{
	rt__replay *r;

	if (h->held != NULL) {
		return 0;
	}
	switch (msg->type) {
	case RT_MSG_STATE:
	case RT_MSG_STATE_BEGIN:
	case RT_MSG_STATE_END:
	case RT_MSG_SYNC:
	case RT_MSG_GONE:
	case RT_MSG_HANDOFF:
		return 1;
	case RT_MSG_PUBLISH:
		break;
	default:
		return 0;
	}
	if (h->held_bytes + h->replay_bytes + size > h->hub->cfg.pool_memory
			|| (r = calloc(1, sizeof(*r))) == NULL) {
		return 0;
	}
	if ((r->msg = rt_msg_copy(msg)) == NULL) {
		free(r);
		return 0;
	}
	rt__replay_add(h, r, size);
	return 1;
}

int rt_handoff_replaying(const rt_hub *hub)
{
	return hub->handoff != NULL && hub->handoff->held == NULL && rt__holding(hub->handoff);
}

void rt_handoff_note_member(rt_hub *hub, const char *channel, size_t len, const rt_member *m,
		int added)
{
	rt_handoff_state *h = hub->handoff;
	size_t size = sizeof(rt__replay) + len + m->id_len + m->info_len;
	rt__replay *r;

	if (h->held_bytes + h->replay_bytes + size > hub->cfg.pool_memory
			|| (r = calloc(1, sizeof(*r) + len)) == NULL) {
		goto lost;
	}
	r->member = calloc(1, sizeof(*r->member) + m->id_len + m->info_len + 1);
	if (r->member == NULL) {
		free(r);
		goto lost;
	}
	memcpy(r->member->id, m->id, m->id_len);
	r->member->id_len = m->id_len;
	if (m->info != NULL) {
		r->member->info = r->member->id + m->id_len + 1;
		memcpy(r->member->info, m->info, m->info_len);
		r->member->info_len = m->info_len;
	}
	r->member->conns = m->conns;
	r->added = added;
	memcpy(r->channel, channel, len);
	r->channel_len = len;
	rt__replay_add(h, r, size);
	return;
lost:
	{
		static rt_log_limit lost_log;
		rt_log_limited(&lost_log, RT_LOG_ERROR, "handoff: no room to keep a member change of "
				"%.*s for the clients on their way here (realtime.pool_memory): they miss it",
				(int) (len > 200 ? 200 : len), channel);
	}
}

int rt_handoff_hold(rt_hub *hub, rt_msg *msg)
{
	rt_handoff_state *h = hub->handoff;
	size_t size;

	if (h == NULL || msg == h->releasing || msg->type == RT_MSG_STOP
			|| msg->type == RT_MSG_QUERY) {
		return 0;
	}
	if (h->held == NULL && !rt__holding(h)) {
		if (h->replay != NULL) {
			rt__replay_clear(h);
		}
		return 0;
	}
	/* Anything else, and everything after it, waits for the handoffs: no
	 * one sees it before a publish that came first. */
	size = rt_msg_encoded_size(msg);
	if (rt__deliver_now(h, msg, size)) {
		return 0;
	}
	/* Bounded like the hub's own queue: past it, the handoffs in progress
	 * give up holding (what arrives later is refused) rather than grow. */
	if (h->held_bytes + h->replay_bytes + size > hub->cfg.pool_memory) {
		static rt_log_limit held_log;
		rt_log_limited(&held_log, RT_LOG_ERROR, "handoff: %zu bytes of messages held for "
				"connections on their way here (realtime.pool_memory): no longer holding",
				h->held_bytes);
		for (rt__peer *p = h->peers; p != NULL; p = p->next) {
			if (!p->taker && p->fence_seen && !p->done) {
				p->deadline = uv_now(&hub->loop);
				p->done = 1;
			}
		}
		if (h->held == NULL) {
			return 0;
		}
	}
	msg->next = NULL;
	h->held_bytes += rt_msg_encoded_size(msg);
	*h->held_tail = msg;
	h->held_tail = &msg->next;
	return 1;
}

static int rt__listed(const rt_msg *msg, uint32_t node)
{
	const char *p = msg->data.ptr, *end = p + msg->data.len;

	while (p != NULL && p < end) {
		uint64_t v = 0;
		int digits = 0;
		while (p < end && *p >= '0' && *p <= '9' && digits < 11) {
			v = v * 10 + (uint64_t) (*p++ - '0');
			digits++;
		}
		if (digits > 0 && v == node) {
			return 1;
		}
		if (p < end && *p != ',') {
			return 0;
		}
		p++;
	}
	return 0;
}

void rt_handoff_fence(rt_hub *hub, const rt_msg *msg)
{
	rt_handoff_state *h = hub->handoff;
	rt__peer *p;

	if (h == NULL) {
		return;
	}
	if (msg->origin == hub->node_id) {
		if (h->phase == 1 && msg->count == h->fence) {
			rt__snapshot(h);
		}
		return;
	}
	if (!rt__listed(msg, hub->node_id)) {
		return;
	}
	if (h->stopping && h->phase != 4) {
		/* Its sender linked before this hub began to stop, or it would
		 * have been refused: its link has expired or closed by now. */
		rt_log(RT_LOG_WARNING, "handoff: the fence %u of hub %u came after this hub stopped "
				"waiting for it", msg->count, msg->origin);
		return;
	}
	/* Its hello was sent before the fence was published: take in what is
	 * waiting on the handoff socket before falling back to a placeholder. */
	if (rt__find_fence(h, msg->origin, msg->count, 0) == NULL && h->listening) {
		rt__on_accept(&h->lpoll, 0, UV_READABLE);
		for (rt__peer *q = h->peers; q != NULL; q = q->next) {
			if (!q->taker && q->fd >= 0 && !q->hello) {
				rt__read(q);
			}
		}
	}
	p = rt__find_fence(h, msg->origin, msg->count, 0);
	if (p == NULL) {
		for (rt__peer *q = h->peers; q != NULL; q = q->next) {
			if (rt__closed_before_fence(q) && q->node == msg->origin && q->fence == msg->count) {
				q->fence_seen = 1; /* nothing to hold for: reaped next */
				return;
			}
		}
	}
	if (p != NULL) {
		p->fence_seen = 1;
		p->replay_from = h->replay_seq;
		rt__adopt_pending(p);
		rt__flush_reports(h);
		if (p->done) {
			rt__log_taken(p);
		}
		if (p->fd >= 0) {
			rt__write(p);
		}
		return;
	}
	/* The fence outran its sender's hello: hold from here all the same. */
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		return;
	}
	p->h = h;
	p->fd = -1;
	p->hello = 1;
	p->node = msg->origin;
	p->fence = msg->count;
	p->fence_seen = 1;
	p->replay_from = h->replay_seq;
	p->rec_fd = -1;
	p->out_tail = &p->outq;
	p->pending_tail = &p->pending;
	p->deadline = uv_now(&hub->loop) + hub->cfg.handoff_timeout;
	p->next = h->peers;
	h->peers = p;
	rt__timer_on(h);
}

static void rt__on_timer(uv_timer_t *t)
{
	rt_handoff_state *h = t->data;
	int busy = 0;

	if (h->done_due) {
		void (*done)(rt_hub *) = h->done;
		h->done_due = 0;
		h->done = NULL;
		done(h->hub); /* the timer ticks on for links still open */
		return;
	}
	if (!h->cut && rt__cut_due(h)) {
		rt__cut_now(h);
		if (h->done_due) {
			return; /* the next turn goes on with the stop */
		}
	}

	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		if (!p->taker && (!p->done || p->pending != NULL) && rt__expired(p)) {
			p->done = 1; /* what it sends from now on is refused */
			if (p->fd < 0 && p->fence_seen) {
				/* A placeholder whose sender never came: it held this
				 * hub's stream back all that time, which the log says. */
				rt_log(RT_LOG_WARNING, "handoff: hub %u named this hub in its fence %u but "
						"never linked to it: messages here waited realtime.handoff_timeout "
						"(%u ms) for it", p->node, p->fence, h->hub->cfg.handoff_timeout);
				continue;
			}
			rt_log(RT_LOG_WARNING, "handoff: hub %u did not finish within "
					"realtime.handoff_timeout (%u ms)", p->node, h->hub->cfg.handoff_timeout);
			if (!p->fence_seen) {
				/* Its fence never came: what it sent cannot be placed. */
				while (p->pending != NULL) {
					rt__pending *q = p->pending;
					p->pending = q->next;
					close(q->fd);
					rt_sb_free(&q->bytes);
					rt__answer(p, q->seq, 0);
					free(q);
				}
				p->pending_tail = &p->pending;
				p->pending_count = 0;
				rt__write(p);
			}
		}
		busy |= !p->done || p->pending != NULL;
	}
	/* What the expired links held back goes on first: a fence among it
	 * finds this hub still waiting for its sender (phase 4), not gone on
	 * to hand its own clients off, when a stopping hub ignores fences. */
	rt__maybe_release(h);
	if (h->phase == 4 && !rt__incoming_active(h)) {
		rt__start_rounds(h);
	}
	if (h->phase == 5) {
		if (rt__movable_count(h->hub) > 0 && uv_now(&h->hub->loop) < h->deadline) {
			h->phase = 0;
			if (!rt__round(h)) {
				rt__finish(h);
			}
		} else if (rt__auth_count(h->hub) == 0 || uv_now(&h->hub->loop) >= h->deadline) {
			rt__finish(h);
		}
	}
	if (h->phase == 6) {
		h->phase = 0;
		if (!rt__round(h) && !rt__await_taker(h)) {
			if (h->told_waiting && h->no_taker) {
				rt_log(RT_LOG_WARNING, "handoff: no other hub of this app started within "
						"realtime.handoff_timeout (%u ms)", h->hub->cfg.handoff_timeout);
			}
			rt__finish(h);
		}
	}
	if ((h->phase == 1 || h->phase == 2) && uv_now(&h->hub->loop) >= h->deadline) {
		rt_log(RT_LOG_WARNING, "handoff: realtime.handoff_timeout (%u ms) reached",
				h->hub->cfg.handoff_timeout);
		rt__finish(h);
	}
	rt__maybe_release(h);
	rt__reap(h, 0);
	if (!busy && h->phase != 1 && h->phase != 2 && h->phase != 4 && h->phase != 5
			&& h->phase != 6) {
		uv_timer_stop(&h->timer);
	}
}

/* ---- life ---- */

int rt_handoff_start(rt_hub *hub)
{
	rt_handoff_state *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		return -ENOMEM;
	}
	h->hub = hub;
	h->lfd = -1;
	h->held_tail = &h->held;
	h->replay_tail = &h->replay;
	if (getrandom(&h->fence, sizeof(h->fence), 0) != sizeof(h->fence)) {
		h->fence = (uint32_t) getpid();
	}
	uv_timer_init(&hub->loop, &h->timer);
	h->timer.data = h;
	h->has_timer = 1;
	hub->handoff = h;
	if (!hub->cfg.handoff || !hub->has_link || hub->link.peers == NULL) {
		return 0; /* no taker can be found: nothing to take over either */
	}
	h->lfd = rt_fdpass_listen((int) getpid(), hub->node_id);
	if (h->lfd < 0) {
		int r = h->lfd;
		rt_log(RT_LOG_WARNING, "handoff: cannot listen for other hubs' connections (%s): this "
				"hub takes over none", strerror(-r));
		h->lfd = -1;
		return r;
	}
	uv_poll_init(&hub->loop, &h->lpoll, h->lfd);
	h->lpoll.data = h;
	uv_poll_start(&h->lpoll, UV_READABLE, rt__on_accept);
	h->listening = 1;
	return 0;
}

void rt_handoff_close(rt_hub *hub)
{
	rt_handoff_state *h = hub->handoff;

	if (h == NULL) {
		return;
	}
	h->stopping = 1;
	if (h->phase == 1 || h->phase == 2) {
		rt__finish(h);
	}
	if (h->listening) {
		uv_poll_stop(&h->lpoll);
		uv_close((uv_handle_t *) &h->lpoll, NULL);
		h->listening = 0;
	}
	if (h->lfd >= 0) {
		close(h->lfd);
		h->lfd = -1;
	}
	for (rt__peer *p = h->peers; p != NULL; p = p->next) {
		rt__peer_close(p);
		p->done = 1;
	}
	rt__maybe_release(h);
	rt__reap(h, 1);
	if (h->has_timer) {
		h->has_timer = 0;
		uv_close((uv_handle_t *) &h->timer, NULL);
	}
}

void rt_handoff_free(rt_hub *hub)
{
	rt_handoff_state *h = hub->handoff;

	if (h == NULL) {
		return;
	}
	rt__replay_clear(h);
	while (h->held != NULL) {
		rt_msg *next = h->held->next;
		rt_msg_free(h->held);
		h->held = next;
	}
	for (uint32_t i = 0; i < h->moved_count; i++) {
		if (h->moved[i].fd >= 0) {
			close(h->moved[i].fd);
		}
		rt_sb_free(&h->moved[i].out);
	}
	free(h->moved);
	free(h);
	hub->handoff = NULL;
}
