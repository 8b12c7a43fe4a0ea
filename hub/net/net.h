/* What the transport layer (hub/net/conn.c, hub/net/limits.c) shares across one
 * hub's connections: the loop, the settings, the connection lists, the
 * clock and the counters of what clients cost. The hub embeds one and
 * reads the counters; nothing here knows the hub. */
#ifndef RT_HUB_NET_H
#define RT_HUB_NET_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "hub/model/config.h"
#include "hub/util/log.h"
#include "hub/util/map.h"
#include "hub/util/stat.h"
#include "hub/model/refusal.h"

struct rt_conn;
struct rt_conn_handlers;
struct rt_hub;

typedef struct rt_net {
	uv_loop_t *loop;
	const rt_config *cfg;
	const struct rt_conn_handlers *handlers; /* what connections call above them */
	struct rt_hub *owner;         /* opaque here: handed to the layers above */
	struct rt_conn *conns;        /* every connection, for sweeps and shutdown */
	struct rt_conn *dirty;        /* connections with frames to write this turn */
	uint32_t now;                 /* seconds since the hub started */
	uint32_t handshakes;          /* connections not yet upgraded (RT_CONN_F_HANDSHAKE) */
	int stopping;

	_Atomic uint64_t stat_connections;
	_Atomic uint64_t stat_delivered;
	_Atomic uint64_t stat_slow;
	_Atomic uint64_t stat_unauthorized; /* requests refused for their credentials */
	_Atomic uint64_t stat_bytes_sent;   /* written to client sockets (rt_stat_add) */

	/* Limits on what clients may cost (hub/net/limits.h). */
	_Atomic uint64_t stat_refused[RT_REFUSE_COUNT];
	rt_log_limit refuse_log[RT_REFUSE_COUNT];   /* one log line a kind at a time */
	rt_map per_ip;                /* client address -> rt_ip_slot */
} rt_net;

#endif
