#include "hub/wire/mercure_req.h"
#include "hub/wire/form.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The decoded bytes of a value go here: never more than the text, plus a
 * NUL per pair. */
typedef struct rt__arena {
	char *p, *end;
} rt__arena;

static int rt__take(rt__arena *a, const char *v, size_t vlen, rt_str *out)
{
	long n = rt_form_decode(v, vlen, a->p, (size_t) (a->end - a->p));

	if (n < 0) {
		return -ENOMEM; /* cannot happen: the arena holds the whole text */
	}
	out->ptr = a->p;
	out->len = (size_t) n;
	a->p += n + 1;
	return 0;
}

uint32_t rt_mercure_topic_count(const char *text, size_t len)
{
	rt_form_iter it;
	const char *k, *v;
	size_t klen, vlen;
	uint32_t n = 0;

	rt_form_begin(&it, text, len);
	while (rt_form_next(&it, &k, &klen, &v, &vlen)) {
		n += rt_form_key_is(k, klen, "topic") && n < UINT32_MAX;
	}
	return n;
}

int rt_mercure_form_parse(const char *text, size_t len, uint32_t max_topics,
		rt_mercure_form *out, char *err, size_t errlen)
{
	rt_form_iter it;
	const char *k, *v;
	size_t klen, vlen, pairs = 0;
	uint32_t topics = rt_mercure_topic_count(text, len);
	rt__arena a;
	int seen_retry = 0;

	memset(out, 0, sizeof(*out));
	out->retry = -1;
	if (topics > max_topics) {
		snprintf(err, errlen, "more than %u topics", max_topics);
		return -E2BIG;
	}
	rt_form_begin(&it, text, len);
	while (rt_form_next(&it, &k, &klen, &v, &vlen)) {
		pairs++;
	}
	out->arena = malloc(len + pairs + 1);
	out->topics = topics > 0 ? calloc(topics, sizeof(*out->topics)) : NULL;
	if (out->arena == NULL || (topics > 0 && out->topics == NULL)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a.p = out->arena;
	a.end = out->arena + len + pairs + 1;
	rt_form_begin(&it, text, len);
	while (rt_form_next(&it, &k, &klen, &v, &vlen)) {
		rt_str s;
		if (rt_form_key_is(k, klen, "topic")) {
			if (out->topic_count < topics && rt__take(&a, v, vlen, &out->topics[out->topic_count]) == 0) {
				out->topic_count++;
			}
		} else if (rt_form_key_is(k, klen, "data")) {
			if (out->data.ptr == NULL && rt__take(&a, v, vlen, &out->data) != 0) {
				goto nomem;
			}
		} else if (rt_form_key_is(k, klen, "private")) {
			out->is_private = 1;
		} else if (rt_form_key_is(k, klen, "id") || rt_form_key_is(k, klen, "type")) {
			rt_str *dst = rt_form_key_is(k, klen, "id") ? &out->id : &out->type;
			if (dst->ptr == NULL && rt__take(&a, v, vlen, &s) == 0 && s.len > 0) {
				*dst = s;
			}
		} else if (rt_form_key_is(k, klen, "retry")) {
			if (seen_retry++ || rt__take(&a, v, vlen, &s) != 0 || s.len == 0) {
				continue;
			}
			if (s.len > 10) {
				goto bad_retry;
			}
			out->retry = 0;
			for (size_t i = 0; i < s.len; i++) {
				if (s.ptr[i] < '0' || s.ptr[i] > '9') {
					goto bad_retry;
				}
				out->retry = out->retry * 10 + (s.ptr[i] - '0');
			}
			if (out->retry > 2147483647LL) {
				goto bad_retry;
			}
		} else if (rt_form_key_is(k, klen, "lastEventID") || rt_form_key_is(k, klen, "Last-Event-ID")) {
			if (out->last_event_id.ptr == NULL && rt__take(&a, v, vlen, &out->last_event_id) != 0) {
				goto nomem;
			}
		} else if (rt_form_key_is(k, klen, "authorization")) {
			if (out->authorization.ptr == NULL && rt__take(&a, v, vlen, &out->authorization) != 0) {
				goto nomem;
			}
		}
	}
	return 0;
bad_retry:
	out->retry = -1;
	snprintf(err, errlen, "retry must be milliseconds: 0 to 2147483647");
	return -EINVAL;
nomem:
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void rt_mercure_form_free(rt_mercure_form *f)
{
	free(f->topics);
	free(f->arena);
	memset(f, 0, sizeof(*f));
}

const char *rt_mercure_cookie(const char *header, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name), i = 0;

	while (i < len) {
		size_t start, eq, stop;
		while (i < len && (header[i] == ' ' || header[i] == '\t' || header[i] == ';')) {
			i++;
		}
		start = i;
		while (i < len && header[i] != ';') {
			i++;
		}
		stop = i;
		for (eq = start; eq < stop && header[eq] != '='; eq++) {
		}
		if (eq < stop && eq - start == n && memcmp(header + start, name, n) == 0) {
			const char *v = header + eq + 1;
			size_t l = stop - eq - 1;
			/* A quoted value (RFC 6265 allows it) is the text inside. */
			if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
				v++;
				l -= 2;
			}
			while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t')) {
				l--;
			}
			*vlen = l;
			return v;
		}
	}
	*vlen = 0;
	return NULL;
}

int rt_mercure_token(const rt_http_req *req, char *buf, size_t cap, const char **token,
		size_t *len)
{
	size_t hlen, qlen;
	const char *v = rt_http_req_bearer(req, len);
	long n;

	if (v != NULL && *len > 0) {
		*token = v;
		return RT_MERCURE_TOKEN_BEARER;
	}
	v = rt_http_req_header(req, RT_HDR_COOKIE, &hlen);
	if (v != NULL && (v = rt_mercure_cookie(v, hlen, "mercureAuthorization", len)) != NULL
			&& *len > 0) {
		*token = v;
		return RT_MERCURE_TOKEN_COOKIE;
	}
	v = rt_http_req_query(req, "authorization", &qlen);
	if (v == NULL || qlen == 0) {
		return RT_MERCURE_TOKEN_NONE;
	}
	n = rt_form_decode(v, qlen, buf, cap);
	if (n < 0) {
		return -1;
	}
	*token = buf;
	*len = (size_t) n;
	return RT_MERCURE_TOKEN_QUERY;
}
