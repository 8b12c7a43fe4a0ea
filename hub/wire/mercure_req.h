/* What a Mercure client sends (protocol 0.x): the fields of a publish
 * (a POST's urlencoded body) or of a subscription (the GET's query), and
 * where its JWT is: "Authorization: Bearer", the mercureAuthorization
 * cookie, or the authorization query parameter. Decodes into one owned
 * arena; no I/O. */
#ifndef RT_HUB_WIRE_MERCURE_REQ_H
#define RT_HUB_WIRE_MERCURE_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "hub/model/msg.h"
#include "hub/wire/http.h"

typedef struct rt_mercure_form {
	rt_str *topics;          /* every topic value, decoded, in order */
	uint32_t topic_count;
	rt_str data;             /* ptr NULL: absent */
	int is_private;          /* a private field was there, whatever its value */
	rt_str id;               /* ptr NULL: absent or empty */
	rt_str type;             /* ptr NULL: absent or empty */
	int64_t retry;           /* -1: absent or empty */
	rt_str last_event_id;    /* lastEventID (or Last-Event-ID) of a query; ptr NULL: absent */
	rt_str authorization;    /* the authorization query parameter; ptr NULL: absent */
	char *arena;             /* owns the decoded bytes */
} rt_mercure_form;

/* Parses urlencoded text (a body, or a query without '?'). More than
 * max_topics topic values: -E2BIG. A retry that is not digits (at most
 * 2^31 - 1): -EINVAL with err set. -ENOMEM. Free with rt_mercure_form_free
 * whatever it returns. The first of a repeated non-topic field counts. */
int rt_mercure_form_parse(const char *text, size_t len, uint32_t max_topics,
		rt_mercure_form *out, char *err, size_t errlen);
void rt_mercure_form_free(rt_mercure_form *f);

/* How many topic values urlencoded text holds (the router's bound, read
 * before anything is decoded). */
uint32_t rt_mercure_topic_count(const char *text, size_t len);

/* The value of cookie name in a Cookie header's value, or NULL. */
const char *rt_mercure_cookie(const char *header, size_t len, const char *name, size_t *vlen);

/* Where a request's JWT came from. A browser sends a cookie with requests
 * that other sites make it send: a publish it authorizes needs an Origin
 * check (cross-site request forgery), the others do not. */
enum {
	RT_MERCURE_TOKEN_NONE = 0,
	RT_MERCURE_TOKEN_BEARER = 1,
	RT_MERCURE_TOKEN_COOKIE = 2,
	RT_MERCURE_TOKEN_QUERY = 3,
};

/* Where a request's JWT is, in Mercure's order: the Authorization header
 * (Bearer), then the mercureAuthorization cookie, then the authorization
 * query parameter (URL-decoded into buf). Returns its source
 * (RT_MERCURE_TOKEN_*) with *token and *len, RT_MERCURE_TOKEN_NONE when
 * there is none, -1 when one is there but longer than cap - 1. */
int rt_mercure_token(const rt_http_req *req, char *buf, size_t cap, const char **token,
		size_t *len);

#endif
