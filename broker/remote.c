/* Publishing from a process without a hub: an HTTP request to the local
 * server's /publish endpoint, signed with realtime.secret (the secret itself
 * never goes on the wire; see hub/api/publish_api.c). */
#include "broker/broker.h"
#include "hub/model/token.h"
#include "hub/util/buf.h"
#include "hub/net/http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RT_REMOTE_TIMEOUT_MS 3000

static void rt__opt(rt_sb *sb, const char *key, rt_str v)
{
	if (v.ptr != NULL) {
		rt_sb_puts(sb, ",\"");
		rt_sb_puts(sb, key);
		rt_sb_puts(sb, "\":");
		rt_sb_json_string(sb, v.ptr, v.len);
	}
}

char *rt_remote_body(const rt_msg *msg, size_t *len)
{
	const char *type = rt_msg_api_name(msg->type);
	rt_sb sb;

	if (type == NULL) {
		return NULL;
	}
	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"type\":\"");
	rt_sb_puts(&sb, type);
	rt_sb_puts(&sb, "\"");
	if (msg->channel_count > 0) {
		rt_sb_puts(&sb, ",\"channels\":[");
		for (uint32_t i = 0; i < msg->channel_count; i++) {
			if (i > 0) {
				rt_sb_puts(&sb, ",");
			}
			rt_sb_json_string(&sb, msg->channels[i].ptr, msg->channels[i].len);
		}
		rt_sb_puts(&sb, "]");
	}
	rt__opt(&sb, "event", msg->event);
	rt__opt(&sb, "except", msg->exclude);
	rt__opt(&sb, "target", msg->target);
	if (msg->data.ptr != NULL) {
		rt_sb_puts(&sb, ",\"data\":");
		rt_sb_append(&sb, msg->data.ptr, msg->data.len);
	}
	rt_sb_puts(&sb, "}");
	if (sb.failed) {
		rt_sb_free(&sb);
		return NULL;
	}
	*len = sb.len;
	return sb.data;
}

static size_t rt__sink(char *p, size_t size, size_t n, void *ud)
{
	rt_sb *sb = ud;
	if (sb->len < 512) {
		rt_sb_append(sb, p, size * n);
	}
	return size * n;
}

struct rt_remote {
	CURL *curl;
	int cloexec_done;   /* curl's wake-up socketpair, made on the first call, is marked */
};

void rt_remote_close(rt_remote *conn)
{
	if (conn != NULL) {
		curl_easy_cleanup(conn->curl);
		free(conn);
	}
}

/* The caller's handle, made on first use. A forked child never sees its
 * parent's: the PHP layer opens a new broker after a fork. */
static CURL *rt__handle(rt_remote **conn)
{
	rt_remote *r = *conn;

	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		if (r == NULL || (r->curl = curl_easy_init()) == NULL) {
			free(r);
			return NULL;
		}
		*conn = r;
	}
	return r->curl;
}

int rt_remote_publish(rt_remote **conn, const rt_config *cfg, const rt_msg *msg,
		char *err, size_t errlen)
{
	char url[160], stamp[64], sig[96], hex[65], ts[24];
	struct curl_slist *headers = NULL;
	size_t len;
	char *body;
	long status = 0;
	rt_sb reply;
	CURLcode rc;
	CURL *c;
	int r = 0;

	if (cfg->secret[0] == '\0') {
		snprintf(err, errlen, "no hub runs in this process, and publishing to the server "
				"needs realtime.secret (the same value the server has)");
		return -EPERM;
	}
	body = rt_remote_body(msg, &len);
	if (body == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c = rt__handle(conn);
	if (c == NULL) {
		free(body);
		snprintf(err, errlen, "cannot start an HTTP request");
		return -ENOMEM;
	}
	rt_sb_init(&reply);
	snprintf(url, sizeof(url), strchr(cfg->host, ':') ? "http://[%s]:%d/publish"
			: "http://%s:%d/publish", cfg->host, cfg->port);
	snprintf(ts, sizeof(ts), "%lld", (long long) time(NULL));
	if (rt_publish_sign(cfg->secret, ts, strlen(ts), body, len, hex) != 0) {
		rt_sb_free(&reply);
		free(body);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(stamp, sizeof(stamp), "X-Realtime-Timestamp: %s", ts);
	snprintf(sig, sizeof(sig), "X-Realtime-Signature: %s", hex);
	headers = curl_slist_append(headers, stamp);
	headers = curl_slist_append(headers, sig);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long) RT_REMOTE_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long) RT_REMOTE_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rt__sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, rt_http_open_socket);
	{
		rt_remote *self = *conn;
		rt_fdset before;
		int mark = !self->cloexec_done && rt_fdset_take(&before) == 0;
		rc = curl_easy_perform(c);
		if (mark) {
			rt_fdset_cloexec_new(&before);
			self->cloexec_done = 1;
		}
	}
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	}
	if (rc == CURLE_COULDNT_CONNECT) {
		snprintf(err, errlen, "no realtime server is listening on %s:%d (realtime.listen): "
				"start the server, or check the address", cfg->host, cfg->port);
		r = -ECONNREFUSED;
	} else if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot reach the realtime server on %s:%d: %s", cfg->host,
				cfg->port, curl_easy_strerror(rc));
		r = -EIO;
	} else if (status < 200 || status >= 300) {
		snprintf(err, errlen, "the realtime server on %s:%d refused the message (HTTP %ld): %.*s",
				cfg->host, cfg->port, status, (int) (reply.len > 200 ? 200 : reply.len),
				reply.data ? reply.data : "");
		r = status == 401 || status == 403 ? -EACCES : -EIO;
	}
	/* The handle keeps pointers to these until the next call sets new ones. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
	rt_sb_free(&reply);
	curl_slist_free_all(headers);
	free(body);
	return r;
}
