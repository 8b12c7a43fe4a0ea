#include "hub/api/metrics.h"
#include "hub/core/server.h"
#include "hub/model/token.h"
#include "hub/model/view.h"
#include "hub/util/text.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Every figure a hub publishes, in the order of its slot's counters: the
 * series name (with fixed labels), its type and help, and which of the
 * hub's atomic counters feeds it. Adding a metric is adding a row (at most
 * RT_METRICS_MAX). Rows of one family are adjacent: HELP and TYPE are
 * written once for them. per_hub: also one series per hub, labelled. */
typedef struct rt__metric {
	const char *series;
	const char *type;
	const char *help;
	size_t offset;
	int per_hub;
	const char *family;   /* NULL: the series up to its labels (a histogram's differs) */
	int micro;            /* the counter is in microseconds, printed in seconds */
} rt__metric;

#define RT__AT(field) offsetof(rt_hub, field)
#define RT__REFUSED(kind, reason) { "realtime_refusals_total{reason=\"" reason "\"}", "counter", \
	"Connections and requests refused by a limit, by the setting that refused them.", \
	RT__AT(net.stat_refused[kind]), 0, NULL, 0 }

#define RT__SESSIONS(kind, proto, transport) { "realtime_sessions{protocol=\"" proto \
	"\",transport=\"" transport "\"}", "gauge", \
	"Open client sessions, by protocol and transport (a long-polling session has no socket).", \
	RT__AT(stat_sessions[kind]), 0, NULL, 0 }
#define RT__SOURCE(src, name) { "realtime_messages_published_total{source=\"" name "\"}", \
	"counter", "Messages published, by where they entered: php (broadcast() and the like in " \
	"a process with a hub), publish_api (POST /publish), pusher_api, client_event, " \
	"mercure_api (POST /.well-known/mercure), mercure_function (mercure_publish()).", \
	RT__AT(stat_source[src]), 0, NULL, 0 }
#define RT__AUTH(kind, name) { "realtime_auth_total{outcome=\"" name "\"}", "counter", \
	"Connection authentications, by outcome (a refusal's HTTP status: 401 unauthenticated, " \
	"403 forbidden, 5xx unavailable).", RT__AT(stat_auth[kind]), 0, NULL, 0 }
#define RT__MERCURE(kind, name) { "realtime_mercure_refusals_total{reason=\"" name "\"}", \
	"counter", "Mercure publishers and subscribers refused, by reason (docs/mercure.md).", \
	RT__AT(stat_mercure_refused[kind]), 0, NULL, 0 }
#define RT__LATENCY_FAMILY "realtime_delivery_latency_seconds"
#define RT__LATENCY_HELP "Publish-to-write latency: from the publish call to a hub's queueing of " \
	"the message's frames to its own clients, once per message and hub."
#define RT__LATENCY(i, le) { RT__LATENCY_FAMILY "_bucket{le=\"" le "\"}", "histogram", \
	RT__LATENCY_HELP, RT__AT(stat_latency[i]), 0, RT__LATENCY_FAMILY, 0 }

/* status.json reads rows 0, 2 and 3 (connections, dispatched, deliveries):
 * keep them there. */
static const rt__metric rt__metrics[] = {
	{ "realtime_connections", "gauge", "Open client connections.",
		RT__AT(net.stat_connections), 1, NULL, 0 },
	{ "realtime_channels", "gauge", "Channels with subscribers on the hub (summed over hubs).",
		RT__AT(stat_channels), 0, NULL, 0 },
	{ "realtime_messages_dispatched_total", "counter",
		"Messages a hub took from the broker and fanned out to its clients (each hub of the "
		"pool takes every message: the sum counts one message once per hub).",
		RT__AT(stat_published), 1, NULL, 0 },
	{ "realtime_deliveries_total", "counter", "Frames delivered to clients.",
		RT__AT(net.stat_delivered), 1, NULL, 0 },
	{ "realtime_slow_consumer_closes_total", "counter",
		"Clients closed because they read too slowly (realtime.max_buffer).",
		RT__AT(net.stat_slow), 0, NULL, 0 },
	{ "realtime_unauthorized_total", "counter", "Requests refused for their credentials.",
		RT__AT(net.stat_unauthorized), 0, NULL, 0 },
	RT__REFUSED(RT_REFUSE_CONNECTIONS, "max_connections"),
	RT__REFUSED(RT_REFUSE_HANDSHAKES, "max_handshakes"),
	RT__REFUSED(RT_REFUSE_PER_IP, "max_connections_per_ip"),
	RT__REFUSED(RT_REFUSE_HANDSHAKE_TIMEOUT, "handshake_timeout"),
	RT__REFUSED(RT_REFUSE_AUTH_CALLS, "max_auth_calls"),
	RT__REFUSED(RT_REFUSE_SUBSCRIBE_RATE, "subscribe_rate"),
	RT__REFUSED(RT_REFUSE_SUBSCRIPTIONS, "max_subscriptions"),
	RT__REFUSED(RT_REFUSE_CHANNELS, "max_channels"),
	RT__REFUSED(RT_REFUSE_PRESENCE_MEMBERS, "max_presence_members"),
	{ "realtime_drops_total{reason=\"broker_refused\"}", "counter",
		"Messages dropped, by reason.", RT__AT(stat_broker_refused), 0, NULL, 0 },
	{ "realtime_drops_total{reason=\"queue_full\"}", "counter",
		"Messages dropped, by reason.", RT__AT(stat_queue_full), 0, NULL, 0 },
	{ "realtime_broker_lost_bytes_total", "counter",
		"Bytes of messages the broker could not hand over (ring overruns, corrupt entries).",
		RT__AT(stat_broker_lost), 0, NULL, 0 },
	{ "realtime_handoffs_total{direction=\"out\"}", "counter",
		"Live connections handed between hubs: out = given to another hub, in = received.",
		RT__AT(stat_handed_off), 0, NULL, 0 },
	{ "realtime_handoffs_total{direction=\"in\"}", "counter",
		"Live connections handed between hubs: out = given to another hub, in = received.",
		RT__AT(stat_taken_over), 0, NULL, 0 },
	{ "realtime_handoff_failures_total", "counter",
		"Clients closed with 1001 for lack of a hub to take them.",
		RT__AT(stat_handoff_closed), 0, NULL, 0 },
	{ "realtime_restart_closes_total", "counter",
		"Clients closed with 1012 (Pusher 4200) because their process restarted.",
		RT__AT(stat_closed_restart), 0, NULL, 0 },
	RT__SESSIONS(RT_STAT_NATIVE_WS, "native", "websocket"),
	RT__SESSIONS(RT_STAT_PUSHER_WS, "pusher", "websocket"),
	RT__SESSIONS(RT_STAT_NATIVE_SSE, "native", "sse"),
	RT__SESSIONS(RT_STAT_NATIVE_LONGPOLL, "native", "longpoll"),
	RT__SESSIONS(RT_STAT_MERCURE_SSE, "mercure", "sse"),
	{ "realtime_subscriptions", "gauge", "Channel subscriptions of the hubs' clients.",
		RT__AT(stat_subscriptions), 1, NULL, 0 },
	RT__SOURCE(RT_STAT_SRC_PHP, "php"),
	RT__SOURCE(RT_STAT_SRC_PUBLISH_API, "publish_api"),
	RT__SOURCE(RT_STAT_SRC_PUSHER_API, "pusher_api"),
	RT__SOURCE(RT_STAT_SRC_CLIENT_EVENT, "client_event"),
	RT__SOURCE(RT_STAT_SRC_MERCURE_API, "mercure_api"),
	RT__SOURCE(RT_STAT_SRC_MERCURE_FUNCTION, "mercure_function"),
	RT__MERCURE(RT_STAT_MERCURE_OFF, "off"),
	RT__MERCURE(RT_STAT_MERCURE_NO_TOKEN, "no_token"),
	RT__MERCURE(RT_STAT_MERCURE_BAD_TOKEN, "bad_token"),
	RT__MERCURE(RT_STAT_MERCURE_EXPIRED, "expired"),
	RT__MERCURE(RT_STAT_MERCURE_FORBIDDEN, "forbidden"),
	RT__MERCURE(RT_STAT_MERCURE_BAD_REQUEST, "bad_request"),
	RT__MERCURE(RT_STAT_MERCURE_TOO_MANY_TOPICS, "mercure_max_topics"),
	RT__MERCURE(RT_STAT_MERCURE_SELECTORS_FULL, "mercure_max_selectors"),
	{ "realtime_mercure_replayed_total", "counter",
		"Mercure updates sent from the history to subscribers reconnecting with Last-Event-ID.",
		RT__AT(stat_mercure_replayed), 0, NULL, 0 },
	{ "realtime_bytes_sent_total", "counter", "Bytes written to client sockets.",
		RT__AT(net.stat_bytes_sent), 1, NULL, 0 },
	RT__AUTH(RT_STAT_AUTH_OK, "ok"),
	RT__AUTH(RT_STAT_AUTH_UNAUTHENTICATED, "unauthenticated"),
	RT__AUTH(RT_STAT_AUTH_FORBIDDEN, "forbidden"),
	RT__AUTH(RT_STAT_AUTH_UNAVAILABLE, "unavailable"),
	RT__AUTH(RT_STAT_AUTH_OTHER, "other"),
	{ "realtime_webhooks_total{outcome=\"delivered\"}", "counter",
		"Webhook requests: delivered (2xx), failed (given up after the retries).",
		RT__AT(stat_webhooks_sent), 0, NULL, 0 },
	{ "realtime_webhooks_total{outcome=\"failed\"}", "counter",
		"Webhook requests: delivered (2xx), failed (given up after the retries).",
		RT__AT(stat_webhooks_failed), 0, NULL, 0 },
	{ "realtime_recoveries_total{outcome=\"recovered\"}", "counter",
		"Subscribes that asked to recover from a history position, by outcome.",
		RT__AT(stat_recovered[1]), 0, NULL, 0 },
	{ "realtime_recoveries_total{outcome=\"not_recovered\"}", "counter",
		"Subscribes that asked to recover from a history position, by outcome.",
		RT__AT(stat_recovered[0]), 0, NULL, 0 },
	{ "realtime_history_held_dropped_total", "counter",
		"Live messages dropped while a subscribe waited for its history (past realtime.history_hold).",
		RT__AT(stat_history_held_dropped), 0, NULL, 0 },
	{ "realtime_history_gaps_total{outcome=\"filled\"}", "counter",
		"Messages a subscription missed live (the broker lost them), by whether the history filled the gap.",
		RT__AT(stat_history_gaps[1]), 0, NULL, 0 },
	{ "realtime_history_gaps_total{outcome=\"not_filled\"}", "counter",
		"Messages a subscription missed live (the broker lost them), by whether the history filled the gap.",
		RT__AT(stat_history_gaps[0]), 0, NULL, 0 },
	{ "realtime_ring_lag_bytes", "gauge",
		"Bytes of the shared ring a hub has yet to read (memory broker), as of its last tick.",
		RT__AT(stat_broker[RT_STAT_BROKER_RING_LAG]), 1, NULL, 0 },
	{ "realtime_ring_overruns_total", "counter",
		"Messages a hub lost because the ring's writer lapped it (memory broker).",
		RT__AT(stat_broker[RT_STAT_BROKER_RING_OVERRUNS]), 0, NULL, 0 },
	{ "realtime_redis_reconnects_total", "counter",
		"Connections to Redis made again after a loss.",
		RT__AT(stat_broker[RT_STAT_BROKER_RECONNECTS]), 0, NULL, 0 },
	{ "realtime_redis_publish_failures_total", "counter",
		"Messages Redis did not take (failed, dropped, or delivered only locally while down).",
		RT__AT(stat_broker[RT_STAT_BROKER_PUBLISH_FAILED]), 0, NULL, 0 },
	RT__LATENCY(0, "0.0001"), RT__LATENCY(1, "0.00025"), RT__LATENCY(2, "0.0005"),
	RT__LATENCY(3, "0.001"), RT__LATENCY(4, "0.0025"), RT__LATENCY(5, "0.005"),
	RT__LATENCY(6, "0.01"), RT__LATENCY(7, "0.025"), RT__LATENCY(8, "0.05"),
	RT__LATENCY(9, "0.1"), RT__LATENCY(10, "0.25"), RT__LATENCY(11, "1"),
	RT__LATENCY(RT_LATENCY_BUCKETS, "+Inf"),
	{ "realtime_delivery_latency_seconds_sum", "histogram", RT__LATENCY_HELP,
		RT__AT(stat_latency[RT_LATENCY_BUCKETS + 1]), 0, RT__LATENCY_FAMILY, 1 },
	{ "realtime_delivery_latency_seconds_count", "histogram", RT__LATENCY_HELP,
		RT__AT(stat_latency[RT_LATENCY_BUCKETS]), 0, RT__LATENCY_FAMILY, 0 },
};

const uint32_t rt_metrics_latency_bounds[RT_LATENCY_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};

#define RT__COUNT ((int) (sizeof(rt__metrics) / sizeof(rt__metrics[0])))
#define RT__HUBS 256
_Static_assert(sizeof(rt__metrics) / sizeof(rt__metrics[0]) <= RT_METRICS_MAX,
		"more metrics than a pool slot holds");

int rt_metrics_owns(const char *path, size_t len)
{
	return (len == 8 && memcmp(path, "/metrics", 8) == 0)
			|| (len == 12 && memcmp(path, "/health/live", 12) == 0)
			|| (len == 13 && memcmp(path, "/health/ready", 13) == 0)
			|| (len == 7 && memcmp(path, "/status", 7) == 0)
			|| (len == 12 && memcmp(path, "/status.json", 12) == 0);
}

int rt_metrics_collect(rt_hub *hub, uint64_t *values, int count)
{
	for (int i = 0; i < RT__COUNT && i < count; i++) {
		_Atomic uint64_t *at = (_Atomic uint64_t *) ((char *) hub + rt__metrics[i].offset);
		values[i] = atomic_load_explicit(at, memory_order_relaxed);
	}
	return RT__COUNT;
}

void rt_metrics_publish(rt_hub *hub)
{
	uint64_t v[RT__COUNT];

	if (hub->has_link && hub->link.stats != NULL) {
		uint64_t b[RT_STAT_BROKER] = {0};
		hub->link.stats(hub->link.ctx, b);
		for (int i = 0; i < RT_STAT_BROKER; i++) {
			atomic_store_explicit(&hub->stat_broker[i], b[i], memory_order_relaxed);
		}
	}
	if (hub->has_link && hub->link.set_metrics != NULL) {
		rt_metrics_collect(hub, v, RT__COUNT);
		hub->link.set_metrics(hub->link.ctx, v, RT__COUNT);
	}
}

int rt_metrics_authorized(const char *key, const rt_http_req *req, int peer_loopback)
{
	size_t len, n = strlen(key);
	const char *v = req ? rt_http_req_bearer(req, &len) : NULL;

	if (n == 0) {
		return peer_loopback;
	}
	return v != NULL && len == n && rt_secure_equals(v, key, n);
}

static void rt__text(rt_http_answer *ans, int status, const char *type, const char *body)
{
	rt_http_answer_set(ans, status, type, body, strlen(body));
}

/* The family name of a series: up to its labels. */
static size_t rt__family(const char *series)
{
	const char *brace = strchr(series, '{');
	return brace ? (size_t) (brace - series) : strlen(series);
}

static const char *rt__family_name(const rt__metric *m, size_t *len)
{
	*len = m->family ? strlen(m->family) : rt__family(m->series);
	return m->family ? m->family : m->series;
}

/* Every live hub's counters (peers, vals: RT__HUBS and RT__HUBS x RT__COUNT);
 * returns how many hubs, at least this one. */
static int rt__gather(rt_hub *hub, rt_hub_peer *peers, uint64_t *vals)
{
	int n = 0;

	/* This hub's own figures are fresh; the others' are as of their last tick. */
	rt_metrics_publish(hub);
	if (hub->has_link && hub->link.peer_metrics != NULL) {
		n = hub->link.peer_metrics(hub->link.ctx, peers, vals, RT__COUNT, RT__HUBS);
		if (n < 0 || n > RT__HUBS) {
			n = 0;
		}
	}
	if (n == 0) {
		peers[0].node = hub->node_id;
		peers[0].pid = (int) getpid();
		rt_metrics_collect(hub, vals, RT__COUNT);
		n = 1;
	}
	return n;
}

#define RT__TOP 10

/* The app-wide view (every hub keeps one): the busiest channels by
 * subscribers (at most RT__TOP, busiest first), with presence members, and
 * the totals of channels and presence members. */
typedef struct rt__top {
	const rt_vchannel *ch[RT__TOP];
	int n;
	uint64_t channels, members;
} rt__top;

static void rt__busiest(rt_hub *hub, rt__top *top)
{
	size_t it = 0;
	void *v;

	memset(top, 0, sizeof(*top));
	while (rt_map_next(&hub->view.channels, &it, &v)) {
		const rt_vchannel *ch = v;
		int at;
		if (ch->name_len == 0) {
			continue; /* the app-wide entry of every connection, not a channel */
		}
		top->members += ch->members.count;
		if (ch->subs.total == 0) {
			continue; /* members only, as queries leave it out */
		}
		top->channels++;
		for (at = top->n; at > 0 && top->ch[at - 1]->subs.total < ch->subs.total; at--) {
		}
		if (at >= RT__TOP) {
			continue;
		}
		if (top->n < RT__TOP) {
			top->n++;
		}
		memmove(&top->ch[at + 1], &top->ch[at], sizeof(top->ch[0]) * (size_t) (top->n - 1 - at));
		top->ch[at] = ch;
	}
}

/* The history store every hub shares: read once, by the answering hub. */
static void rt__history(rt_hub *hub, rt_sb *sb)
{
	uint64_t h[RT_STAT_HISTORY] = {0};
	char line[1024];

	if (!hub->has_link || hub->link.history_stats == NULL
			|| hub->link.history_stats(hub->link.ctx, h) != 0) {
		return;
	}
	snprintf(line, sizeof(line),
			"# HELP realtime_history_bytes Size of the history store the server's hubs share "
			"(realtime.history_memory).\n# TYPE realtime_history_bytes gauge\n"
			"realtime_history_bytes %" PRIu64 "\n"
			"# HELP realtime_history_evictions_total History lost before its limits said so: "
			"messages overwritten while the store was full, channel records given to another "
			"channel.\n# TYPE realtime_history_evictions_total counter\n"
			"realtime_history_evictions_total{what=\"messages\"} %" PRIu64 "\n"
			"realtime_history_evictions_total{what=\"channels\"} %" PRIu64 "\n"
			"# HELP realtime_history_resets_total Times the history store or a channel was found "
			"corrupt and started again.\n# TYPE realtime_history_resets_total counter\n"
			"realtime_history_resets_total %" PRIu64 "\n",
			h[RT_STAT_HISTORY_BYTES], h[RT_STAT_HISTORY_EVICTED_MESSAGES],
			h[RT_STAT_HISTORY_EVICTED_CHANNELS], h[RT_STAT_HISTORY_RESETS]);
	rt_sb_puts(sb, line);
}

static void rt__render(rt_hub *hub, rt_sb *sb)
{
	rt_hub_peer *peers = malloc(sizeof(*peers) * RT__HUBS);
	uint64_t *vals = malloc(sizeof(*vals) * RT__HUBS * RT__COUNT);
	int n;
	char line[512];
	int up = !hub->has_link || hub->link.up == NULL || hub->link.up(hub->link.ctx);

	if (peers == NULL || vals == NULL) {
		free(peers);
		free(vals);
		return;
	}
	n = rt__gather(hub, peers, vals);
	for (int i = 0; i < RT__COUNT; i++) {
		const rt__metric *m = &rt__metrics[i];
		size_t fam, prev_fam = 0;
		const char *name = rt__family_name(m, &fam);
		const char *prev = i > 0 ? rt__family_name(&rt__metrics[i - 1], &prev_fam) : NULL;
		uint64_t sum = 0;

		if (prev == NULL || fam != prev_fam || strncmp(name, prev, fam) != 0) {
			snprintf(line, sizeof(line), "# HELP %.*s %s\n# TYPE %.*s %s\n", (int) fam, name,
					m->help, (int) fam, name, m->type);
			rt_sb_puts(sb, line);
		}
		for (int h = 0; h < n; h++) {
			sum += vals[(size_t) h * RT__COUNT + (size_t) i];
		}
		if (m->micro) {
			snprintf(line, sizeof(line), "%s %" PRIu64 ".%06" PRIu64 "\n", m->series,
					sum / 1000000u, sum % 1000000u);
		} else {
			snprintf(line, sizeof(line), "%s %" PRIu64 "\n", m->series, sum);
		}
		rt_sb_puts(sb, line);
	}
	/* Per-hub series: realtime_hub_<family without realtime_>{hub,pid}. */
	for (int i = 0; i < RT__COUNT; i++) {
		const rt__metric *m = &rt__metrics[i];
		size_t fam = rt__family(m->series);
		const char *base = m->series + 9; /* after "realtime_" */

		if (!m->per_hub) {
			continue;
		}
		snprintf(line, sizeof(line), "# HELP realtime_hub_%.*s %s (per hub)\n"
				"# TYPE realtime_hub_%.*s %s\n", (int) (fam - 9), base, m->help,
				(int) (fam - 9), base, m->type);
		rt_sb_puts(sb, line);
		for (int h = 0; h < n; h++) {
			snprintf(line, sizeof(line), "realtime_hub_%.*s{hub=\"%" PRIu32 "\",pid=\"%d\"} %"
					PRIu64 "\n", (int) (fam - 9), base, peers[h].node, peers[h].pid,
					vals[(size_t) h * RT__COUNT + (size_t) i]);
			rt_sb_puts(sb, line);
		}
	}
	rt__top top;
	rt__busiest(hub, &top);
	snprintf(line, sizeof(line), "# HELP realtime_app_channels Channels with subscribers on any hub "
			"of the app (each counted once).\n# TYPE realtime_app_channels gauge\n"
			"realtime_app_channels %" PRIu64 "\n# HELP realtime_presence_members Members of presence "
			"channels, over all channels of the app.\n# TYPE realtime_presence_members gauge\n"
			"realtime_presence_members %" PRIu64 "\n", top.channels, top.members);
	rt_sb_puts(sb, line);
	rt__history(hub, sb);
	snprintf(line, sizeof(line), "# HELP realtime_hubs Live hubs of the pool.\n"
			"# TYPE realtime_hubs gauge\nrealtime_hubs %d\n"
			"# HELP realtime_broker_up Whether the answering hub's broker reaches every hub.\n"
			"# TYPE realtime_broker_up gauge\nrealtime_broker_up %d\n", n, up ? 1 : 0);
	rt_sb_puts(sb, line);
	free(peers);
	free(vals);
}

/* The figures the status page draws: totals by series, and each hub. */
static void rt__status_json(rt_hub *hub, rt_sb *sb)
{
	rt_hub_peer *peers = malloc(sizeof(*peers) * RT__HUBS);
	uint64_t *vals = malloc(sizeof(*vals) * RT__HUBS * RT__COUNT);
	struct timespec ts;
	char line[256];
	int n;

	if (peers == NULL || vals == NULL) {
		free(peers);
		free(vals);
		return;
	}
	n = rt__gather(hub, peers, vals);
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(line, sizeof(line), "{\"time\":%" PRIu64 ",\"totals\":{",
			(uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u);
	rt_sb_puts(sb, line);
	for (int i = 0; i < RT__COUNT; i++) {
		uint64_t sum = 0;
		for (int h = 0; h < n; h++) {
			sum += vals[(size_t) h * RT__COUNT + (size_t) i];
		}
		rt_sb_json_string(sb, rt__metrics[i].series, strlen(rt__metrics[i].series));
		snprintf(line, sizeof(line), ":%" PRIu64 ",", sum);
		rt_sb_puts(sb, line);
	}
	snprintf(line, sizeof(line), "\"realtime_hubs\":%d},\"hubs\":[", n);
	rt_sb_puts(sb, line);
	for (int h = 0; h < n; h++) {
		const uint64_t *v = &vals[(size_t) h * RT__COUNT];
		/* Rows 0, 2 and 3 of the table: connections, dispatched, deliveries. */
		snprintf(line, sizeof(line), "%s{\"hub\":%" PRIu32 ",\"pid\":%d,\"connections\":%" PRIu64
				",\"dispatched\":%" PRIu64 ",\"delivered\":%" PRIu64 "}", h ? "," : "",
				peers[h].node, peers[h].pid, v[0], v[2], v[3]);
		rt_sb_puts(sb, line);
	}
	rt__top top;
	rt__busiest(hub, &top);
	snprintf(line, sizeof(line), "],\"app_channels\":%" PRIu64 ",\"presence_members\":%" PRIu64
			",\"busiest\":[", top.channels, top.members);
	rt_sb_puts(sb, line);
	for (int i = 0; i < top.n; i++) {
		rt_sb_puts(sb, i ? ",{\"channel\":" : "{\"channel\":");
		rt_sb_json_string(sb, top.ch[i]->name, top.ch[i]->name_len);
		snprintf(line, sizeof(line), ",\"subscribers\":%" PRIu64 ",\"members\":%zu}",
				top.ch[i]->subs.total, top.ch[i]->members.count);
		rt_sb_puts(sb, line);
	}
	rt_sb_puts(sb, "]}\n");
	free(peers);
	free(vals);
}

void rt_metrics_request(rt_hub *hub, const rt_http_req *req, int peer_loopback,
		rt_http_answer *ans)
{
	size_t path_len;
	const char *path = rt_http_req_path(req, &path_len);

	if (path_len == 12 && memcmp(path, "/health/live", 12) == 0) {
		/* Answered on the hub's loop thread: an answer proves the loop turns. */
		rt__text(ans, 200, "application/json", "{\"status\":\"live\"}\n");
		return;
	}
	if (path_len == 13 && memcmp(path, "/health/ready", 13) == 0) {
		if (hub->net.stopping) {
			rt__text(ans, 503, "application/json", "{\"status\":\"unready\",\"reason\":\"stopping\"}\n");
		} else if (hub->has_link && hub->link.up != NULL && !hub->link.up(hub->link.ctx)) {
			rt__text(ans, 503, "application/json",
					"{\"status\":\"unready\",\"reason\":\"broker down\"}\n");
		} else {
			rt__text(ans, 200, "application/json", "{\"status\":\"ready\"}\n");
		}
		return;
	}
	if (!rt_metrics_authorized(hub->cfg.metrics_key, req, peer_loopback)) {
		if (hub->cfg.metrics_key[0] != '\0') {
			rt__text(ans, 401, "text/plain", "a bearer token (realtime.metrics_key) is required\n");
			rt_http_answer_header(ans, "WWW-Authenticate: Bearer");
		} else {
			rt__text(ans, 403, "text/plain", "set realtime.metrics_key to scrape from "
					"another host\n");
		}
		return;
	}
	if (path_len == 7) {
		rt__text(ans, 200, "text/html; charset=utf-8", rt_metrics_status_page);
		return;
	}
	rt_sb sb;
	int json = path_len == 12;
	rt_sb_init(&sb);
	if (json) {
		rt__status_json(hub, &sb);
	} else {
		rt__render(hub, &sb);
	}
	if (sb.failed || sb.len == 0) {
		rt__text(ans, 503, "text/plain", "out of memory\n");
	} else {
		rt_http_answer_set(ans, 200, json ? "application/json"
				: "text/plain; version=0.0.4; charset=utf-8", sb.data, sb.len);
	}
	rt_sb_free(&sb);
}
