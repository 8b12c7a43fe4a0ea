/* Webhooks to realtime.webhook_url in Pusher's format: a POST of
 * {"time_ms":..,"events":[..]} signed with X-Pusher-Key and
 * X-Pusher-Signature = hex(HMAC-SHA256(realtime.secret, body)).
 * Leave events (member_removed, channel_vacated) are held back
 * realtime.webhook_delay seconds and dropped with their counterpart when the
 * user or channel comes back meanwhile, so a page reload does not flap.
 * Failed deliveries are retried with exponential backoff. */
#ifndef RT_HUB_WEBHOOK_H
#define RT_HUB_WEBHOOK_H

#include <stddef.h>

#include "hub/core/server.h"

typedef enum rt_webhook_kind {
	RT_WEBHOOK_CHANNEL_OCCUPIED,
	RT_WEBHOOK_CHANNEL_VACATED,
	RT_WEBHOOK_MEMBER_ADDED,
	RT_WEBHOOK_MEMBER_REMOVED,
} rt_webhook_kind;

struct rt_webhooks;

/* *out is NULL when no webhook URL is configured (then every call below is
 * a no-op). Returns 0, or -ENOMEM with *out NULL. */
int rt_webhooks_new(rt_hub *hub, struct rt_webhooks **out);
void rt_webhooks_free(struct rt_webhooks *w);

void rt_webhooks_event(struct rt_webhooks *w, rt_webhook_kind kind, const char *channel,
		size_t channel_len, const char *user_id, size_t user_id_len);
/* Once a second: releases held events whose time has come, runs retries. */
void rt_webhooks_tick(struct rt_webhooks *w);
/* Sends what is queued now, ignoring holds (at shutdown). */
void rt_webhooks_flush(struct rt_webhooks *w);

#endif
