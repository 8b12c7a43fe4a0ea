#include "hub/webhook.h"
#include "hub/util/buf.h"
#include "hub/net/http_client.h"
#include "hub/util/log.h"
#include "hub/model/token.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define RT_WEBHOOK_QUEUE_MAX 10000
#define RT_WEBHOOK_BATCH_MAX 100
#define RT_WEBHOOK_ATTEMPTS 8
#define RT_WEBHOOK_TIMEOUT_MS 10000

typedef struct rt__event {
	struct rt__event *next;
	rt_webhook_kind kind;
	uint32_t due;            /* hub->net.now when it may go out */
	size_t channel_len, user_len;
	char *channel;
	char *user;              /* NULL for channel events */
} rt__event;

typedef struct rt__batch {
	char *body;
	size_t len;
	int attempts;
	uint32_t retry_at;
	struct rt__batch *next;
} rt__batch;

struct rt_webhooks {
	rt_hub *hub;
	rt__event *held;         /* waiting for their due time */
	rt__event *ready, **ready_tail;
	size_t queued;
	rt__batch *retries;
	rt_http_call *inflight;
	rt__batch *inflight_batch;
};

static const char *const rt__kind_names[] = {
	"channel_occupied", "channel_vacated", "member_added", "member_removed",
};

static void rt__event_free(rt__event *e)
{
	free(e->channel);
	free(e->user);
	free(e);
}

static void rt__batch_free(rt__batch *b)
{
	free(b->body);
	free(b);
}

int rt_webhooks_new(rt_hub *hub, struct rt_webhooks **out)
{
	struct rt_webhooks *w;

	*out = NULL;
	if (hub->cfg.webhook_url[0] == '\0') {
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		return -ENOMEM;
	}
	w->hub = hub;
	w->ready_tail = &w->ready;
	if (!rt_config_app_secret(&hub->cfg)[0]) {
		rt_log(RT_LOG_WARNING, "webhooks to %s are unsigned: realtime.secret is not set",
				hub->cfg.webhook_url);
	}
	*out = w;
	return 0;
}

void rt_webhooks_free(struct rt_webhooks *w)
{
	if (w == NULL) {
		return;
	}
	if (w->inflight) {
		rt_http_call_cancel(w->inflight);
		rt__batch_free(w->inflight_batch);
	}
	while (w->held) {
		rt__event *e = w->held;
		w->held = e->next;
		rt__event_free(e);
	}
	while (w->ready) {
		rt__event *e = w->ready;
		w->ready = e->next;
		rt__event_free(e);
	}
	while (w->retries) {
		rt__batch *b = w->retries;
		w->retries = b->next;
		rt__batch_free(b);
	}
	free(w);
}

static int rt__same(const rt__event *e, const char *channel, size_t clen, const char *user,
		size_t ulen)
{
	if (e->channel_len != clen || memcmp(e->channel, channel, clen) != 0) {
		return 0;
	}
	if (user == NULL || e->user == NULL) {
		return user == NULL && e->user == NULL;
	}
	return e->user_len == ulen && memcmp(e->user, user, ulen) == 0;
}

/* A join cancels a held leave of the same user or channel: nothing changed. */
static int rt__cancel_held_leave(struct rt_webhooks *w, rt_webhook_kind leave,
		const char *channel, size_t clen, const char *user, size_t ulen)
{
	for (rt__event **p = &w->held; *p != NULL; p = &(*p)->next) {
		rt__event *e = *p;
		if (e->kind == leave && rt__same(e, channel, clen, user, ulen)) {
			*p = e->next;
			rt__event_free(e);
			w->queued--;
			return 1;
		}
	}
	return 0;
}

static void rt__append_ready(struct rt_webhooks *w, rt__event *e)
{
	e->next = NULL;
	*w->ready_tail = e;
	w->ready_tail = &e->next;
}

static void rt__send_next(struct rt_webhooks *w);

void rt_webhooks_event(struct rt_webhooks *w, rt_webhook_kind kind, const char *channel,
		size_t clen, const char *user, size_t ulen)
{
	rt__event *e;

	if (w == NULL) {
		return;
	}
	if (kind == RT_WEBHOOK_CHANNEL_OCCUPIED
			&& rt__cancel_held_leave(w, RT_WEBHOOK_CHANNEL_VACATED, channel, clen, NULL, 0)) {
		return;
	}
	if (kind == RT_WEBHOOK_MEMBER_ADDED
			&& rt__cancel_held_leave(w, RT_WEBHOOK_MEMBER_REMOVED, channel, clen, user, ulen)) {
		return;
	}
	if (w->queued >= RT_WEBHOOK_QUEUE_MAX) {
		static rt_log_limit full_log;
		atomic_fetch_add_explicit(&w->hub->stat_queue_full, 1, memory_order_relaxed);
		rt_log_limited(&full_log, RT_LOG_WARNING, "webhook queue full (%d events): dropping %s for %.*s",
				RT_WEBHOOK_QUEUE_MAX, rt__kind_names[kind], (int) clen, channel);
		return;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->channel = strndup(channel, clen)) == NULL
			|| (user != NULL && (e->user = strndup(user, ulen)) == NULL)) {
		if (e) {
			rt__event_free(e);
		}
		return;
	}
	e->kind = kind;
	e->channel_len = clen;
	e->user_len = ulen;
	w->queued++;
	if (kind == RT_WEBHOOK_CHANNEL_VACATED || kind == RT_WEBHOOK_MEMBER_REMOVED) {
		rt__event **tail = &w->held;
		while (*tail != NULL) {
			tail = &(*tail)->next;
		}
		/* +1: hub->net.now counts whole ticks, so the hold is never shorter. */
		e->due = w->hub->net.now + w->hub->cfg.webhook_delay + 1;
		e->next = NULL;
		*tail = e;
		if (w->hub->cfg.webhook_delay == 0) {
			rt_webhooks_tick(w);
		}
		return;
	}
	rt__append_ready(w, e);
	rt__send_next(w);
}

static char *rt__build_body(struct rt_webhooks *w, size_t *len)
{
	struct timeval tv;
	char num[32];
	rt_sb sb;
	int n = 0;

	gettimeofday(&tv, NULL);
	snprintf(num, sizeof(num), "%" PRIu64,
			(uint64_t) tv.tv_sec * 1000 + (uint64_t) tv.tv_usec / 1000);
	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"time_ms\":");
	rt_sb_puts(&sb, num);
	rt_sb_puts(&sb, ",\"events\":[");
	while (w->ready != NULL && n < RT_WEBHOOK_BATCH_MAX) {
		rt__event *e = w->ready;
		w->ready = e->next;
		if (w->ready == NULL) {
			w->ready_tail = &w->ready;
		}
		w->queued--;
		if (n++ > 0) {
			rt_sb_puts(&sb, ",");
		}
		rt_sb_puts(&sb, "{\"name\":\"");
		rt_sb_puts(&sb, rt__kind_names[e->kind]);
		rt_sb_puts(&sb, "\",\"channel\":");
		rt_sb_json_string(&sb, e->channel, e->channel_len);
		if (e->user != NULL) {
			rt_sb_puts(&sb, ",\"user_id\":");
			rt_sb_json_string(&sb, e->user, e->user_len);
		}
		rt_sb_puts(&sb, "}");
		rt__event_free(e);
	}
	rt_sb_puts(&sb, "]}");
	if (sb.failed) {
		rt_sb_free(&sb);
		return NULL;
	}
	*len = sb.len;
	return sb.data;
}

static void rt__on_sent(void *ctx, long status, const char *body, size_t len, const char *error)
{
	struct rt_webhooks *w = ctx;
	rt__batch *b = w->inflight_batch;
	(void) body;
	(void) len;

	w->inflight = NULL;
	w->inflight_batch = NULL;
	if (status >= 200 && status < 300) {
		rt_stat_add(&w->hub->stat_webhooks_sent, 1);
		if (b->attempts > 1) {
			rt_log(RT_LOG_INFO, "webhook delivered after %d attempts", b->attempts);
		}
		rt__batch_free(b);
	} else if (b->attempts >= RT_WEBHOOK_ATTEMPTS) {
		rt_stat_add(&w->hub->stat_webhooks_failed, 1);
		rt_log(RT_LOG_ERROR, "webhook to %s dropped after %d attempts: %s",
				w->hub->cfg.webhook_url, b->attempts, error ? error : "error status");
		rt__batch_free(b);
	} else {
		uint32_t backoff = 1u << (b->attempts - 1); /* 1, 2, 4 ... 64 s */
		rt_log(RT_LOG_WARNING, "webhook to %s failed (%s%ld); retry in %u s",
				w->hub->cfg.webhook_url, error ? error : "status ", error ? 0L : status, backoff);
		b->retry_at = w->hub->net.now + backoff + 1;
		b->next = w->retries;
		w->retries = b;
	}
	rt__send_next(w);
}

static void rt__post(struct rt_webhooks *w, rt__batch *b)
{
	const rt_config *cfg = &w->hub->cfg;
	char key[160], sig[96], hex[65];
	/* Without an app key (the default) the header is left out, not sent empty. */
	const char *headers[] = {"Content-Type: application/json", sig,
		cfg->app_key[0] ? key : NULL, NULL};
	rt_http_request req = {"POST", cfg->webhook_url, headers, b->body, b->len,
		RT_WEBHOOK_TIMEOUT_MS};

	snprintf(key, sizeof(key), "X-Pusher-Key: %s", cfg->app_key);
	rt_hmac_sha256_hex(rt_config_app_secret(cfg), strlen(rt_config_app_secret(cfg)), b->body,
			b->len, hex);
	snprintf(sig, sizeof(sig), "X-Pusher-Signature: %s", hex);
	b->attempts++;
	w->inflight_batch = b;
	w->inflight = rt_http_client_start(w->hub->http, &req, rt__on_sent, w);
	if (w->inflight == NULL) {
		w->inflight_batch = NULL;
		b->retry_at = w->hub->net.now + 1;
		b->next = w->retries;
		w->retries = b;
	}
}

/* One request at a time keeps the events in order. */
static void rt__send_next(struct rt_webhooks *w)
{
	rt__batch *b;

	if (w->inflight != NULL) {
		return;
	}
	/* A batch waiting for its retry goes before anything newer: the app
	 * sees events in the order they happened. */
	if (w->retries != NULL) {
		if (w->retries->retry_at <= w->hub->net.now) {
			b = w->retries;
			w->retries = b->next;
			rt__post(w, b);
		}
		return;
	}
	if (w->ready == NULL) {
		return;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->body = rt__build_body(w, &b->len)) == NULL) {
		free(b);
		return;
	}
	rt__post(w, b);
}

static void rt__release_held(struct rt_webhooks *w, int all)
{
	rt__event **p = &w->held;

	while (*p != NULL) {
		rt__event *e = *p;
		if (all || e->due <= w->hub->net.now) {
			*p = e->next;
			rt__append_ready(w, e);
		} else {
			p = &e->next;
		}
	}
}

void rt_webhooks_tick(struct rt_webhooks *w)
{
	if (w == NULL) {
		return;
	}
	rt__release_held(w, 0);
	rt__send_next(w);
}

void rt_webhooks_flush(struct rt_webhooks *w)
{
	if (w == NULL) {
		return;
	}
	rt__release_held(w, 1);
	rt__send_next(w);
}
