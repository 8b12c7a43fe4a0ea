/* Who is asking to connect: a signed token (checked here, no PHP), the app's
 * auth endpoint (asked over HTTP with the client's cookies), or nobody
 * (allowed only with realtime.allow_anonymous). docs/protocol.md explains. */
#ifndef RT_HUB_AUTH_H
#define RT_HUB_AUTH_H

#include <stddef.h>

struct rt_conn;
struct rt_config;
struct rt_identity;

/* How a decision ends: status 0 admits the client as identity (NULL:
 * anonymous; the callee owns it), otherwise refuses it with an HTTP status
 * and a reason. */
typedef void (*rt_auth_done)(struct rt_conn *conn, int status, struct rt_identity *identity,
		const char *reason);

/* Starts deciding for a connection whose upgrade request is in conn->http.
 * Ends in done, called now or when the endpoint answers; never after
 * rt_auth_cancel. */
void rt_auth_begin(struct rt_conn *conn, rt_auth_done done);

/* Ends the endpoint call a connection is waiting for, if any (it closes). */
void rt_auth_cancel(struct rt_conn *conn);
/* The identity in a 2xx answer of the auth endpoint, a JSON object with
 * user_id, user_info and channels; NULL with a reason in err. */
struct rt_identity *rt_auth_parse_reply(const char *body, size_t len, size_t max_info,
		char *err, size_t errlen);

/* Logs, once at hub start, a refusal to accept anyone when nothing is configured. */
void rt_auth_check_config(const struct rt_config *cfg);

#endif
