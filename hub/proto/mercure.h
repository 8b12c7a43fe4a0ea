/* Mercure 0.x subscribers (GET /.well-known/mercure): a session on an
 * event stream whose exact topics are channel subscriptions, whose template
 * and "*" selectors are matched on each publish, which private updates reach
 * only through its JWT's mercure.subscribe claim, and which recovers from
 * Last-Event-ID through the channels' history (docs/mercure.md). */
#ifndef RT_HUB_PROTO_MERCURE_H
#define RT_HUB_PROTO_MERCURE_H

#include <stddef.h>
#include <time.h>

#include "hub/proto/proto.h"

struct rt_hub;
struct rt_session;
typedef struct rt_mercure_hub rt_mercure_hub;

/* 1 when subscribers of this hub have template or "*" selectors: the hub
 * needs every channel's publishes from its broker. */
int rt_mercure_needs_all(struct rt_hub *hub);

/* The hub is done with its Mercure state (the selector list). */
void rt_mercure_hub_free(struct rt_hub *hub);

/* Sends msg, a publish being fanned out, to the subscribers whose template
 * or "*" selectors match one of its topics (and who were not sent it
 * through a channel already). Cost: one match per selector and topic. */
void rt_mercure_fanout_selectors(struct rt_hub *hub, const rt_msg *msg);

/* Checks a subscriber's request before its stream opens: 0, or an HTTP
 * status (400, 401) with reason, the refusal counted and logged. */
int rt_mercure_subscriber_check(struct rt_hub *hub, const rt_http_req *req, const char **reason);

/* The SSE "id" a subscriber is given for msg on channel: the update's id,
 * or, for a message of the native API with a history position,
 * "<channel hash>-<offset>-<epoch>". Writes it with a NUL to out
 * (RT_MERCURE_ID_MAX + 1 bytes); 0 when msg has none. */
size_t rt_mercure_event_id(const rt_msg *msg, rt_str channel, char *out);

#endif
