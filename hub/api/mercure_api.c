/* POST /.well-known/mercure: a Mercure 0.x publisher (symfony/mercure's
 * Publisher, curl). The body is urlencoded: topic (repeatable, the first
 * canonical), data, private, id, type, retry. The JWT (Authorization:
 * Bearer, the mercureAuthorization cookie, or the authorization query
 * parameter), signed with realtime.mercure_publisher_key, must carry a
 * mercure.publish claim whose selectors match every topic. The update
 * goes through the broker like any publish, and the answer is its id. */
#include "hub/api/api.h"
#include "hub/core/server.h"
#include "hub/model/jwt.h"
#include "hub/model/mercure_update.h"
#include "hub/model/topic_selector.h"
#include "hub/util/log.h"
#include "hub/wire/mercure_req.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void rt__text(rt_http_answer *ans, int status, const char *body)
{
	rt_http_answer_set(ans, status, "text/plain; charset=utf-8", body, strlen(body));
}

/* Counts and logs a refusal, and answers it. */
static void rt__refuse(rt_hub *hub, rt_http_answer *ans, int status, int reason, const char *why)
{
	static rt_log_limit log;
	char body[300];

	rt_stat_add(&hub->stat_mercure_refused[reason], 1);
	if (status == 401 || status == 403) {
		atomic_fetch_add_explicit(&hub->net.stat_unauthorized, 1, memory_order_relaxed);
	}
	rt_log_limited(&log, RT_LOG_INFO, "refused a Mercure publish (%d): %s", status, why);
	snprintf(body, sizeof(body), "%s\n", why);
	rt__text(ans, status, body);
}

/* Whether a selector of the claim matches topic. */
static int rt__may_publish(const rt_jwt_claims *c, const rt_str *topic)
{
	for (size_t i = 0; i < c->publish_count; i++) {
		const char *sel = c->publish[i];
		if (rt_topic_selector_match(sel, strlen(sel), topic->ptr, topic->len) == 1) {
			return 1;
		}
	}
	return 0;
}

/* A cookie comes with whatever request a page makes the browser send, on
 * any site: such a publish counts only from an origin the settings allow
 * (a browser always sends Origin with a POST). */
static int rt__origin_allowed(const rt_http_req *req, const rt_config *cfg)
{
	size_t len, host_len = 0;
	const char *origin = rt_http_req_header(req, RT_HDR_ORIGIN, &len);
	const char *host = rt_http_req_header(req, RT_HDR_HOST, &host_len);

	return origin != NULL && rt_config_origin_allowed(cfg, origin, len, host,
			host != NULL ? host_len : 0);
}

void rt_mercure_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans)
{
	static _Thread_local char tokbuf[RT_JWT_MAX + 1];
	const rt_config *cfg = &hub->cfg;
	char err[200], why[300], id[RT_MERCURE_ID_MAX + 1];
	rt_jwt_claims claims = {0};
	rt_mercure_form form;
	rt_mercure_input in = {0};
	const char *token;
	size_t tlen;
	rt_msg *msg = NULL;
	int r;

	if (cfg->mercure_publisher_key[0] == '\0') {
		rt__refuse(hub, ans, 403, RT_STAT_MERCURE_OFF, "Mercure publishing is off: set "
				"realtime.mercure_publisher_key");
		return;
	}
	r = rt_mercure_token(req, tokbuf, sizeof(tokbuf), &token, &tlen);
	if (r <= 0) {
		rt__refuse(hub, ans, 401, r < 0 ? RT_STAT_MERCURE_BAD_TOKEN : RT_STAT_MERCURE_NO_TOKEN,
				r < 0 ? "JWT too long" : "a publisher JWT is required (Authorization: Bearer, "
				"the mercureAuthorization cookie or the authorization parameter)");
		return;
	}
	if (r == RT_MERCURE_TOKEN_COOKIE && !rt__origin_allowed(req, cfg)) {
		rt__refuse(hub, ans, 403, RT_STAT_MERCURE_FORBIDDEN, "a publish authorized by the "
				"mercureAuthorization cookie needs an Origin header that "
				"realtime.allowed_origins allows (another site could make a browser send "
				"that cookie)");
		return;
	}
	if (rt_jwt_verify(cfg->mercure_publisher_key, strlen(cfg->mercure_publisher_key), token, tlen,
			time(NULL), &claims, err, sizeof(err)) != 0) {
		snprintf(why, sizeof(why), "invalid JWT: %s", err);
		rt__refuse(hub, ans, 401, strstr(err, "expired") != NULL ? RT_STAT_MERCURE_EXPIRED
				: RT_STAT_MERCURE_BAD_TOKEN, why);
		return;
	}
	r = rt_mercure_form_parse(body, len, cfg->mercure_max_topics, &form, err, sizeof(err));
	if (r != 0) {
		snprintf(why, sizeof(why), "%s%s", err, r == -E2BIG
				? " (realtime.mercure_max_topics)" : "");
		rt__refuse(hub, ans, r == -ENOMEM ? 503 : 400, r == -E2BIG
				? RT_STAT_MERCURE_TOO_MANY_TOPICS : RT_STAT_MERCURE_BAD_REQUEST, why);
		goto done;
	}
	if (form.topic_count == 0) {
		rt__refuse(hub, ans, 400, RT_STAT_MERCURE_BAD_REQUEST, "missing topic");
		goto done;
	}
	if (claims.publish == NULL) {
		rt__refuse(hub, ans, 403, RT_STAT_MERCURE_FORBIDDEN, "the JWT has no mercure.publish "
				"claim");
		goto done;
	}
	for (uint32_t i = 0; i < form.topic_count; i++) {
		if (!rt__may_publish(&claims, &form.topics[i])) {
			snprintf(why, sizeof(why), "the JWT's mercure.publish does not match topic %.*s",
					(int) (form.topics[i].len > 200 ? 200 : form.topics[i].len),
					form.topics[i].ptr);
			rt__refuse(hub, ans, 403, RT_STAT_MERCURE_FORBIDDEN, why);
			goto done;
		}
	}
	in.topics = form.topics;
	in.topic_count = form.topic_count;
	in.data = form.data.ptr != NULL ? form.data : (rt_str) {"", 0};
	in.is_private = form.is_private;
	in.id = form.id;
	in.type = form.type;
	in.retry = form.retry;
	r = rt_mercure_update_new(&in, &msg, id, err, sizeof(err));
	if (r != 0) {
		rt__refuse(hub, ans, r == -ENOMEM ? 503 : 400, RT_STAT_MERCURE_BAD_REQUEST, err);
		goto done;
	}
	/* A message no subscriber could be sent is refused here, before it
	 * reaches a client queue it would overflow. */
	if (hub->hooks->check_publish(hub, msg, err, sizeof(err)) != 0) {
		rt__refuse(hub, ans, 413, RT_STAT_MERCURE_BAD_REQUEST, err);
		goto done;
	}
	switch (hub->hooks->publish_api(hub, msg)) {
	case 0:
		rt_stat_add(&hub->stat_source[RT_STAT_SRC_MERCURE_API], 1);
		/* symfony/mercure takes the whole body as the id: nothing else. */
		rt__text(ans, 200, id);
		break;
	case -EMSGSIZE:
		rt__text(ans, 413, "the update is too large for the broker\n");
		break;
	default:
		/* Nobody got it: the publisher may retry without duplicates. */
		rt__text(ans, 503, "the broker did not take the update: try again later\n");
	}
	msg = NULL; /* publish_api took it */
done:
	rt_msg_free(msg);
	rt_jwt_claims_free(&claims);
	rt_mercure_form_free(&form);
}
