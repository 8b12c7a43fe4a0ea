/* Outbound HTTP from the hub thread (the app's auth endpoint, webhooks):
 * libcurl's multi interface driven by the hub's libuv loop, so a slow
 * endpoint never blocks the loop. */
#ifndef RT_HUB_HTTP_CLIENT_H
#define RT_HUB_HTTP_CLIENT_H

#include <stddef.h>
#include <curl/curl.h>
#include <uv.h>

typedef struct rt_http_client rt_http_client;
typedef struct rt_http_call rt_http_call;

/* status: the HTTP status, or 0 when no response came (error says why). */
typedef void (*rt_http_done_cb)(void *ctx, long status, const char *body, size_t len,
		const char *error);

typedef struct rt_http_request {
	const char *method;         /* "GET" or "POST" */
	const char *url;
	const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
	const char *body;
	size_t body_len;
	long timeout_ms;
} rt_http_request;

int rt_http_client_new(rt_http_client **out, uv_loop_t *loop);
/* Cancels calls still running (their callbacks are not called) and frees. */
void rt_http_client_free(rt_http_client *client);

/* Starts a request; cb runs on the loop thread when it ends. NULL when it
 * could not start (cb is not called then). */
rt_http_call *rt_http_client_start(rt_http_client *client, const rt_http_request *req,
		rt_http_done_cb cb, void *ctx);
/* Abandons a call; its callback is not called. */
void rt_http_call_cancel(rt_http_call *call);

/* CURLOPT_OPENSOCKETFUNCTION for every handle of ours: the socket is made
 * close-on-exec atomically, so a child PHP starts (proc_open, exec) never
 * inherits a connection to the auth endpoint, a webhook or /publish. */
curl_socket_t rt_http_open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr);

/* The descriptors open now. libcurl opens a socketpair (its wake-up) in
 * every multi handle, the one inside curl_easy_perform too, without
 * close-on-exec and without a hook: take a set before, then
 * rt_fdset_cloexec_new() marks what appeared since and frees the set. */
typedef struct rt_fdset {
	int *fds;
	size_t count;
} rt_fdset;
int rt_fdset_take(rt_fdset *set);
void rt_fdset_cloexec_new(rt_fdset *set);

#endif
