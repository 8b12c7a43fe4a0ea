/* HTTP endpoints on the hub port besides the WebSocket paths: the Pusher
 * HTTP API under /apps/{id}/, the local publish endpoint /publish and
 * /health. Handlers do no I/O: they fill an answer (hub/wire/http.h) that the
 * connection writes. */
#ifndef RT_HUB_API_H
#define RT_HUB_API_H

#include <stddef.h>

#include "hub/core/hub.h"
#include "hub/wire/http.h"

/* Answers one API request whose body has been read in full. */
void rt_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans);
/* GET /health. */
void rt_api_health(rt_hub *hub, const rt_http_req *req, rt_http_answer *ans);

/* The Pusher HTTP API (hub/api/pusher_api.c). */
void rt_pusher_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans);
/* POST /.well-known/mercure: a Mercure publisher (hub/api/mercure_api.c). */
void rt_mercure_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans);
/* POST /publish (hub/api/publish_api.c). */
void rt_publish_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans);

#endif
