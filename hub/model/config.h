/* The hub's configuration: plain values copied out of PHP's INI before the
 * hub thread starts, so the thread never reads Zend state. */
#ifndef RT_HUB_CONFIG_H
#define RT_HUB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "hub/model/history_rules.h"

#define RT_CHANNEL_MAX 200
#define RT_ORIGINS_MAX 32
#define RT_BEARER_KEY_MIN 16  /* bytes of publish_key and metrics_key */

typedef struct rt_config {
	char host[64];              /* numeric address to bind */
	int port;
	char path[128];             /* WebSocket path, starts with '/' */
	char broker[16];            /* "memory" or "redis" */
	/* Offsets into origins_buf, so a copied config stays valid. */
	uint16_t origin_off[RT_ORIGINS_MAX];
	int origin_count;
	char origins_buf[2048];
	uint32_t max_message_size;  /* largest inbound message, bytes */
	uint32_t max_connections;
	uint32_t max_subscriptions; /* per connection */
	uint32_t ping_interval;     /* seconds, 0 = never ping */
	uint32_t sse_heartbeat;     /* seconds between an event stream's comments, 0 = none */
	uint32_t longpoll_timeout;  /* seconds a poll waits for events */
	uint32_t longpoll_session_ttl; /* seconds a long-polling session lives unpolled */
	uint32_t longpoll_max_queue;   /* events a long-polling session holds for its client */
	uint32_t max_outbound;      /* bytes queued for one client before it is dropped */
	uint32_t handshake_timeout; /* seconds */
	/* Bounds on what clients may cost (docs/protocol.md, "Limits"). */
	uint32_t max_handshakes;    /* connections not yet upgraded, per hub */
	uint32_t max_connections_per_ip; /* per IPv4 address or IPv6 /64; 0 = no limit */
	uint32_t max_auth_calls;    /* auth endpoint calls in flight, per hub */
	uint32_t subscribe_rate;    /* subscribe + unsubscribe per connection per second */
	uint32_t max_channels;      /* channels with a local subscriber, per hub */
	uint32_t max_presence_members; /* users on one presence channel, per hub */
	uint32_t shutdown_timeout;  /* milliseconds the PHP side waits for the hub to stop */
	int handoff;                /* an orderly stop hands connections to another hub */
	uint32_t handoff_timeout;   /* milliseconds a handoff may take */
	/* Not a setting: the server starts workers while one ends (Apache's
	 * parent), so a handoff with no taker yet waits for one in its time. */
	int handoff_await_taker;
	char log_path[512];         /* empty: stderr */
	int log_format;             /* RT_LOG_TEXT or RT_LOG_JSON (realtime.log_format) */
	int log_level;              /* lines above it are left out (realtime.log_level) */

	/* Who may connect (docs/protocol.md, "Authentication"). */
	char secret[256];           /* signs tokens, webhooks and /publish requests */
	char auth_endpoint[512];    /* the app's URL that names the user of a request */
	uint32_t auth_timeout;      /* milliseconds */
	int allow_anonymous;
	uint32_t max_user_info;     /* bytes of JSON */

	char webhook_url[512];
	uint32_t webhook_delay;     /* seconds leave events are held back */

	int client_events;          /* clients may message their channel peers */
	uint32_t client_event_rate; /* per connection per second */
	uint32_t pusher_subscription_count; /* seconds between subscription_count events; 0: none */

	char app_id[64];
	char app_key[128];
	char app_secret[256];       /* Pusher signatures; realtime.secret when empty */
	uint32_t query_timeout;     /* milliseconds PHP waits for the hub to answer */
	uint32_t max_request_size;  /* bytes of an HTTP API request body */
	uint32_t pool_memory;       /* bytes of the ring shared by a server's processes */
	uint32_t batch_window;      /* ms a busy process's broadcasts may wait for one wake-up */
	char shm_user[33];          /* owner of the pool's named segment; empty: the creator */
	rt_history_rules history;   /* channels that keep a history (realtime.history) */
	uint32_t history_memory;    /* bytes of the named segment given to history */

	/* The redis broker (docs/redis.md). */
	char redis_address[256];    /* host:port, or the path of a unix socket */
	char redis_password[256];
	uint32_t redis_database;
	char redis_prefix[64];
	uint32_t redis_timeout;     /* milliseconds, connecting and per command */
	uint32_t redis_publish_queue; /* PHP publishes handed to the hub, not yet answered by Redis */
	uint32_t history_hold;      /* live messages held per subscribe waiting for its history */
	uint32_t max_event_size;    /* bytes of one Pusher HTTP API event's data */

	char publish_key[256];      /* bearer key of POST /publish; empty: signed requests only */
	char metrics_key[256];      /* bearer key of /health's detail; empty: never shown */

	/* Mercure (docs/mercure.md). */
	char mercure_publisher_key[256];  /* HS256 key of publishers' JWTs; empty: no publishing */
	char mercure_subscriber_key[256]; /* HS256 key of subscribers' JWTs; empty: public updates only */
	uint32_t mercure_max_topics;      /* topics of one publish or one subscription */
	uint32_t mercure_max_selectors;   /* template and "*" selectors of all subscribers, per hub */
	int mercure_function;             /* define mercure_publish() when nothing else has */
} rt_config;

/* Every setting the hub reads, in INI spelling, with its default. */
typedef struct rt_setting {
	const char *name;
	const char *default_value;
} rt_setting;

extern const rt_setting rt_settings[];

void rt_config_defaults(rt_config *cfg);

/* The secret of Pusher signatures and webhooks: realtime.app_secret, or
 * realtime.secret when that is empty. */
const char *rt_config_app_secret(const rt_config *cfg);

/* The Pusher endpoint and HTTP API are on only when the app named a key
 * (realtime.app_key, empty by default) and a secret to sign with. */
int rt_config_pusher_enabled(const rt_config *cfg);

/* Parses one INI setting (name without the "realtime." prefix) into cfg.
 * Returns 0, or -EINVAL with a message naming the setting and value. */
int rt_config_set(rt_config *cfg, const char *name, const char *value,
		char *err, size_t errlen);

/* True when a browser Origin may open a connection. An empty allowlist
 * means same-origin only: the Origin's host:port must equal the Host. */
int rt_config_origin_allowed(const rt_config *cfg, const char *origin,
		size_t origin_len, const char *host, size_t host_len);

#endif
