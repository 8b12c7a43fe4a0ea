#include "hub/auth.h"
#include "hub/net/conn.h"
#include "hub/net/http_client.h"
#include "hub/model/identity.h"
#include "hub/net/limits.h"
#include "hub/core/server.h"
#include "hub/util/log.h"
#include "hub/proto/proto.h"
#include "hub/proto/mercure.h"
#include "hub/model/token.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int rt__can_anyone_connect(const rt_config *cfg)
{
	return cfg->secret[0] || cfg->auth_endpoint[0] || cfg->allow_anonymous;
}

void rt_auth_check_config(const rt_config *cfg)
{
	if (!rt__can_anyone_connect(cfg)) {
		rt_log(RT_LOG_WARNING, "no client can connect: set realtime.auth_endpoint, "
				"realtime.secret (signed tokens) or realtime.allow_anonymous=1");
	}
}

/* The token a client presented: ?token=... or "Authorization: Bearer ...". */
static const char *rt__find_token(const rt_http_req *req, size_t *len, int *from_header)
{
	const char *v = rt_http_req_query(req, "token", len);

	*from_header = 0;
	if (v != NULL) {
		return v;
	}
	v = rt_http_req_bearer(req, len);
	if (v != NULL && *len > 0 && memchr(v, '.', *len) != NULL) {
		*from_header = 1;
		return v;
	}
	return NULL;
}

static void rt__anonymous_or_refuse(rt_conn *conn, rt_auth_done done, int status,
		const char *reason)
{
	if (conn->hub->cfg.allow_anonymous) {
		done(conn, 0, NULL, NULL);
	} else {
		done(conn, status, NULL, reason);
	}
}

rt_identity *rt_auth_parse_reply(const char *body, size_t len, size_t max_info, char *err,
		size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	rt_identity *id;

	if (!json_is_object(root)) {
		snprintf(err, errlen, "answered with no JSON object");
		json_decref(root);
		return NULL;
	}
	id = rt_identity_from_json(json_object_get(root, "user_id"),
			json_object_get(root, "user_info"), json_object_get(root, "channels"),
			max_info, err, errlen);
	json_decref(root);
	return id;
}

/* A question to the endpoint in flight. */
struct rt_auth_call {
	rt_http_call *http;
	rt_conn *conn;
	rt_auth_done done;
};

static void rt__on_endpoint_answer(void *ctx, long status, const char *body, size_t len,
		const char *error)
{
	struct rt_auth_call *call = ctx;
	rt_conn *conn = call->conn;
	rt_auth_done done = call->done;
	const rt_config *cfg = &conn->hub->cfg;
	rt_identity *id;
	char err[200];

	free(call);
	conn->auth_call = NULL;
	conn->hub->auth_calls--;
	if (status == 0) {
		rt_log(RT_LOG_WARNING, "auth endpoint %s unreachable: %s", cfg->auth_endpoint,
				error ? error : "no response");
		done(conn, 503, NULL, "authentication service unavailable");
		return;
	}
	if (status == 401 || status == 403) {
		rt__anonymous_or_refuse(conn, done, (int) status,
				status == 401 ? "not authenticated" : "forbidden");
		return;
	}
	if (status >= 400 && status < 500) {
		rt__anonymous_or_refuse(conn, done, 403, "forbidden");
		return;
	}
	if (status < 200 || status >= 300) {
		rt_log(RT_LOG_WARNING, "auth endpoint %s answered %ld", cfg->auth_endpoint, status);
		done(conn, 503, NULL, "authentication service unavailable");
		return;
	}
	id = rt_auth_parse_reply(body, len, cfg->max_user_info, err, sizeof(err));
	if (id == NULL) {
		rt_log(RT_LOG_WARNING, "auth endpoint %s: %s", cfg->auth_endpoint, err);
		done(conn, 503, NULL, "authentication service answered badly");
		return;
	}
	done(conn, 0, id, NULL);
}

/* "Name: value" for a header of the client's request, or NULL. */
static char *rt__forward(const rt_http_req *req, int hdr, const char *name)
{
	size_t len, n = strlen(name);
	const char *v = rt_http_req_header(req, hdr, &len);
	char *line;

	if (v == NULL || (line = malloc(n + 2 + len + 1)) == NULL) {
		return NULL;
	}
	memcpy(line, name, n);
	memcpy(line + n, ": ", 2);
	memcpy(line + n + 2, v, len);
	line[n + 2 + len] = '\0';
	return line;
}

static void rt__ask_endpoint(rt_conn *conn, rt_auth_done done)
{
	const rt_config *cfg = &conn->hub->cfg;
	char *cookie = rt__forward(conn->http, RT_HDR_COOKIE, "Cookie");
	char *authz = rt__forward(conn->http, RT_HDR_AUTHORIZATION, "Authorization");
	const char *headers[4] = {"Accept: application/json", NULL, NULL, NULL};
	rt_http_request req = {"GET", cfg->auth_endpoint, headers, NULL, 0, cfg->auth_timeout};
	struct rt_auth_call *call;
	int n = 1;

	/* An upgrade flood must not become a flood of requests to the app. */
	if (conn->hub->auth_calls >= cfg->max_auth_calls) {
		free(cookie);
		free(authz);
		rt_limits_refuse(&conn->hub->net, RT_REFUSE_AUTH_CALLS, "refused a connection: %u auth "
				"endpoint calls in flight (realtime.max_auth_calls)", conn->hub->auth_calls);
		done(conn, 503, NULL,
				"authentication service busy: realtime.max_auth_calls reached");
		return;
	}
	if (cookie != NULL) {
		headers[n++] = cookie;
	}
	if (authz != NULL) {
		headers[n++] = authz;
	}
	/* libcurl copies the header lines. */
	call = malloc(sizeof(*call));
	if (call != NULL) {
		call->conn = conn;
		call->done = done;
		call->http = rt_http_client_start(conn->hub->http, &req, rt__on_endpoint_answer, call);
		if (call->http == NULL) {
			free(call);
			call = NULL;
		}
	}
	free(cookie);
	free(authz);
	if (call == NULL) {
		done(conn, 503, NULL, "authentication service unavailable");
		return;
	}
	conn->auth_call = call;
	conn->hub->auth_calls++;
	conn->state = RT_CONN_AUTH;
	conn->deadline = conn->hub->net.now + cfg->auth_timeout / 1000 + 2;
}

void rt_auth_cancel(rt_conn *conn)
{
	if (conn->auth_call != NULL) {
		rt_http_call_cancel(conn->auth_call->http);
		free(conn->auth_call);
		conn->auth_call = NULL;
		conn->hub->auth_calls--;
	}
}

void rt_auth_begin(rt_conn *conn, rt_auth_done done)
{
	const rt_config *cfg = &conn->hub->cfg;
	const char *token;
	size_t len;
	int from_header;
	char err[200];

	/* A Mercure subscriber proves itself with its own JWT, or is anonymous
	 * and gets public updates only (docs/mercure.md). */
	if (conn->proto == RT_PROTO_MERCURE) {
		const char *reason = NULL;
		int status = rt_mercure_subscriber_check(conn->hub, conn->http, &reason);
		done(conn, status, NULL, reason);
		return;
	}
	/* Pusher clients go through the same gate as native ones (a token, the
	 * auth endpoint, or allow_anonymous); they may then sign in and join
	 * private channels with signatures. Without an app there is no Pusher
	 * endpoint at all, so no default key opens it. */
	if (conn->proto == RT_PROTO_PUSHER && !rt_config_pusher_enabled(cfg)) {
		rt_log(RT_LOG_INFO, "refused a Pusher connection: no app is configured");
		done(conn, 404, NULL, "the Pusher protocol is off: "
				"set realtime.app_key and realtime.app_secret");
		return;
	}
	token = rt__find_token(conn->http, &len, &from_header);
	if (token != NULL && cfg->secret[0]) {
		char decoded[RT_HTTP_HEAD_MAX + 1];
		rt_identity *id;
		if (!from_header) {
			long n = rt_http_url_decode(token, len, 0, decoded, sizeof(decoded));
			if (n < 0) {
				rt_log(RT_LOG_INFO, "refused a connection: token too long");
				done(conn, 401, NULL, "malformed token");
				return;
			}
			len = (size_t) n;
			token = decoded;
		}
		id = rt_token_verify(cfg->secret, strlen(cfg->secret), token, len,
				time(NULL), cfg->max_user_info, err, sizeof(err));
		if (id != NULL) {
			done(conn, 0, id, NULL);
			return;
		}
		if (!from_header || !cfg->auth_endpoint[0]) {
			rt_log(RT_LOG_INFO, "refused a connection: %s", err);
			done(conn, 401, NULL, err);
			return;
		}
	} else if (token != NULL && !from_header) {
		done(conn, 401, NULL, "tokens are not accepted: realtime.secret is not set");
		return;
	}
	if (cfg->auth_endpoint[0]) {
		rt__ask_endpoint(conn, done);
		return;
	}
	if (cfg->allow_anonymous) {
		done(conn, 0, NULL, NULL);
		return;
	}
	done(conn, 401, NULL, rt__can_anyone_connect(cfg)
			? "authentication required: connect with ?token="
			: "authentication required, and the server has no way to authenticate "
			  "(realtime.auth_endpoint, realtime.secret or realtime.allow_anonymous)");
}
