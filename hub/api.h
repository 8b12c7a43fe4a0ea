/* HTTP endpoints on the hub port besides the WebSocket paths: the Pusher
 * HTTP API under /apps/{id}/ and the local publish endpoint /publish. */
#ifndef RT_HUB_API_H
#define RT_HUB_API_H

#include <stddef.h>

#include "hub/http.h"

struct rt_conn;

/* Answers one request whose body has been read in full. */
void rt_api_handle(struct rt_conn *conn, const rt_http_req *req, const char *body, size_t len);

/* The Pusher HTTP API (hub/pusher_api.c). */
void rt_pusher_api_handle(struct rt_conn *conn, const rt_http_req *req, const char *body,
		size_t len);
/* POST /publish (hub/publish_api.c). */
void rt_publish_api_handle(struct rt_conn *conn, const rt_http_req *req, const char *body,
		size_t len);
/* The signature of a /publish request: hex(HMAC-SHA256(secret, ts "." body))
 * into out. Returns 0, or -ENOMEM. */
int rt_publish_sign(const char *secret, const char *ts, size_t ts_len, const char *body,
		size_t len, char out[65]);

#endif
