/* Who is asking to connect: a signed token (checked here, no PHP), the app's
 * auth endpoint (asked over HTTP with the client's cookies), or nobody
 * (allowed only with realtime.allow_anonymous). docs/protocol.md explains. */
#ifndef RT_HUB_AUTH_H
#define RT_HUB_AUTH_H

#include <stddef.h>

struct rt_conn;
struct rt_config;
struct rt_identity;

/* Starts deciding for a connection whose upgrade request is in conn->http.
 * Ends in rt_conn_auth_finished(), called now or when the endpoint answers. */
void rt_auth_begin(struct rt_conn *conn);

/* Ends the endpoint call a connection is waiting for, if any (it closes). */
void rt_auth_cancel(struct rt_conn *conn);
/* The identity in a 2xx answer of the auth endpoint, a JSON object with
 * user_id, user_info and channels; NULL with a reason in err. */
struct rt_identity *rt_auth_parse_reply(const char *body, size_t len, size_t max_info,
		char *err, size_t errlen);

/* Logs, once at hub start, a refusal to accept anyone when nothing is configured. */
void rt_auth_check_config(const struct rt_config *cfg);

#endif
