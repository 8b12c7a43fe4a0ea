/* The hub: one libuv loop thread per PHP process serving WebSocket clients.
 * These functions are called from PHP threads; everything else in hub/ runs
 * on the loop thread. */
#ifndef RT_HUB_HUB_H
#define RT_HUB_HUB_H

#include <stdint.h>
#include <stddef.h>

#include "hub/config.h"
#include "hub/msg.h"

typedef struct rt_hub rt_hub;

typedef struct rt_hub_stats {
	uint64_t connections;
	uint64_t channels;
	uint64_t messages_published;   /* messages taken from the queue */
	uint64_t frames_delivered;     /* frames queued to clients */
	uint64_t slow_consumers;       /* clients closed with 4008 */
	uint32_t node_id;
	int pid;
} rt_hub_stats;

/* Binds the listener on the calling thread, so that a port in use is
 * reported here, then starts the loop thread with every signal blocked.
 * Returns 0, or a negative errno with a message in err. */
int rt_hub_start(rt_hub **out, const rt_config *cfg, char *err, size_t errlen);

/* Hands msg to the hub thread, which frees it. Never blocks on clients.
 * Returns 0, or -ESHUTDOWN when the hub is stopping (msg is freed). */
int rt_hub_post(rt_hub *hub, rt_msg *msg);

/* Closes every client with 1001 and joins the thread, waiting at most
 * cfg.shutdown_timeout ms. Frees the hub unless the thread failed to stop
 * in time (then it is left running, detached, and -ETIMEDOUT returned). */
int rt_hub_stop(rt_hub *hub);

void rt_hub_stats_get(const rt_hub *hub, rt_hub_stats *out);
const rt_config *rt_hub_config(const rt_hub *hub);

#endif
