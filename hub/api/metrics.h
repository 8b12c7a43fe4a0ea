/* GET /metrics (Prometheus text format, the whole pool through the shared
 * segment), /health/live and /health/ready; each hub publishes its counters
 * from its tick. Handlers do no I/O: they fill an answer. */
#ifndef RT_HUB_API_METRICS_H
#define RT_HUB_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "hub/core/hub.h"
#include "hub/core/server.h"
#include "hub/wire/http.h"

/* Counters a hub can publish: the pool's slot holds as many (RT_POOL_METRICS). */
#define RT_METRICS_MAX 96

/* The upper bounds of the publish-to-write latency buckets
 * (rt_hub.stat_latency), in microseconds. */
extern const uint32_t rt_metrics_latency_bounds[RT_LATENCY_BUCKETS];

/* The HTML of GET /status (hub/api/status_page.c). */
extern const char rt_metrics_status_page[];

/* Whether path is one this module answers. */
int rt_metrics_owns(const char *path, size_t len);
/* Answers GET /metrics, /health/live or /health/ready. */
void rt_metrics_request(rt_hub *hub, const rt_http_req *req, int peer_loopback,
		rt_http_answer *ans);
/* Stores this hub's counters where the other hubs read them (once a second). */
void rt_metrics_publish(rt_hub *hub);
/* Fills values (count entries) with this hub's counters, in table order;
 * returns how many there are. */
int rt_metrics_collect(rt_hub *hub, uint64_t *values, int count);
/* Whether the key check lets req in: a bearer equal to key, or key empty
 * and the peer on loopback (peer_loopback). Constant time in the key. */
int rt_metrics_authorized(const char *key, const rt_http_req *req, int peer_loopback);

#endif
