/* Handoff: a hub that stops in an orderly way passes each open WebSocket
 * connection (socket, session, unparsed and unwritten bytes) to a live hub
 * of the same app in another process, so its clients notice nothing.
 *
 * The path: the stopping hub (sender) connects to its peers' handoff
 * sockets (hub/net/fdpass.h) and publishes a fence (RT_MSG_HANDOFF) through
 * the broker. Where the fence comes back to it in the message stream it
 * snapshots every movable connection, lets go of it silently and sends it
 * to the least loaded taker (hub/model/handoff_record.h). Each taker holds
 * the messages that follow the fence until the sender's records are in,
 * rebuilds the sessions (same connection ids, channels re-joined silently,
 * announced before the sender's departure), queues the unwritten bytes,
 * feeds the unparsed ones, then releases the held messages: every message
 * reaches a moved client once, in order. Acks let the sender finish its
 * stop; what could not move is closed with 1001 and counted. */
#ifndef RT_HUB_HANDOFF_H
#define RT_HUB_HANDOFF_H

#include <stdint.h>

#include "hub/core/server.h"

typedef struct rt_handoff_state rt_handoff_state;

/* On the hub thread once its loop runs: listens for peers' handoffs.
 * Returns 0 or a negative errno (the hub then takes over nothing). */
int rt_handoff_start(rt_hub *hub);
/* The hub is stopping: if realtime.handoff is on and it has peers and
 * movable connections, starts handing them off and returns 1; done is
 * called (once) when that has finished, within realtime.handoff_timeout.
 * Returns 0 when there is nothing to hand off. */
int rt_handoff_begin(rt_hub *hub, void (*done)(rt_hub *hub));
/* 1 from the moment the hub began handing its connections off: its own
 * state is then in flux (sessions let go of before their takers announce
 * them), so it sends no whole-state report; its departure follows. */
int rt_handoff_leaving(const rt_hub *hub);
/* The process is killed soon (php-fpm's SIGTERM): a handoff in progress
 * ends within within_ms (0: now), and none starts after that; what has no
 * taker's answer by then is closed by this hub. */
void rt_handoff_cut(rt_hub *hub, unsigned within_ms);
/* 1 while sessions are on their way here and the messages that concern
 * them are delivered at once: what presence member changes the hub's
 * clients are told of must then be noted (rt_handoff_note_member) for the
 * sessions still to come, each told as it is restored. */
int rt_handoff_replaying(const rt_hub *hub);
struct rt_member;
void rt_handoff_note_member(rt_hub *hub, const char *channel, size_t len,
		const struct rt_member *m, int added);
/* Called for every message the hub dispatches: returns 1 when the message
 * is held (taken over) until a handoff to this hub is complete. */
int rt_handoff_hold(rt_hub *hub, rt_msg *msg);
/* A fence (RT_MSG_HANDOFF) in the message stream. */
void rt_handoff_fence(rt_hub *hub, const rt_msg *msg);
/* Closes the handoff's handles (the loop is ending) ... */
void rt_handoff_close(rt_hub *hub);
/* ... and frees the rest once they are closed. */
void rt_handoff_free(rt_hub *hub);

#endif
