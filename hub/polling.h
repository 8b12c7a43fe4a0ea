/* Long-polling (docs/protocol.md, "Long-polling"): sessions that outlive
 * their requests. GET {realtime.path}/poll?channels=a,b opens a session on
 * the hub that takes it (its home: the connection id names its node) and
 * answers its first events; GET .../poll?connection_id=X&ack=N waits up
 * to realtime.longpoll_timeout for the events after N. A poll may reach
 * any hub of the app: it asks the home hub through the broker (a message
 * to the connection) and the batch comes back the same way, so polls need
 * no sticky routing. A session nobody polls for realtime.longpoll_session_ttl
 * seconds ends (its channels and presence left). */
#ifndef RT_HUB_POLLING_H
#define RT_HUB_POLLING_H

#include "hub/core/server.h"
#include "hub/model/identity.h"
#include "hub/model/msg.h"
#include "hub/net/conn.h"

typedef struct rt_polling rt_polling;

/* The event names of the messages between hubs (no PHP event starts with \x01). */
#define RT_POLLING_ASK "\x01realtime:poll"
#define RT_POLLING_BATCH "\x01realtime:poll-batch"

/* A poll that passed auth (identity taken). Returns 0 with ans filled, or
 * 1: conn is held and answered later. */
int rt_polling_request(rt_hub *hub, rt_conn *conn, rt_identity *identity, rt_http_answer *ans);
/* A message to a connection: 1 when it was one of polling's (consumed). */
int rt_polling_message(rt_hub *hub, const rt_msg *msg);
/* Every loop turn: batches for the polls whose sessions got events. */
void rt_polling_flush(rt_hub *hub);
/* Every second: expired waits, idle sessions. */
void rt_polling_tick(rt_hub *hub);
/* A connection ends: if it was a held poll, it is forgotten. */
void rt_polling_conn_closed(rt_hub *hub, rt_conn *conn);
/* The hub stops: every session ends. */
void rt_polling_stop(rt_hub *hub);
void rt_polling_free(rt_hub *hub);

#endif
