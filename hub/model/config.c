#include "hub/model/config.h"
#include "hub/util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

const rt_setting rt_settings[] = {
	{"enabled", "1"},
	{"listen", "127.0.0.1:6001"},
	{"path", "/ws"},
	{"broker", "memory"},
	{"allowed_origins", ""},
	{"max_message_size", "65536"},
	{"max_connections", "10000"},
	{"max_subscriptions", "100"},
	{"ping_interval", "25"},
	{"max_outbound", "1048576"},
	{"handshake_timeout", "10"},
	{"max_handshakes", "1000"},
	{"max_connections_per_ip", "0"},
	{"max_auth_calls", "64"},
	{"subscribe_rate", "10"},
	{"max_channels", "100000"},
	{"max_presence_members", "1000"},
	{"shutdown_timeout", "2000"},
	{"handoff", "1"},
	{"handoff_timeout", "500"},
	{"log", ""},
	{"log_format", "text"},
	{"log_level", "info"},
	{"secret", ""},
	{"auth_endpoint", ""},
	{"auth_timeout", "5000"},
	{"allow_anonymous", "0"},
	{"max_user_info", "2048"},
	{"webhook_url", ""},
	{"webhook_delay", "3"},
	{"client_events", "0"},
	{"client_event_rate", "10"},
	{"pusher_subscription_count", "0"},
	{"app_id", "1"},
	{"app_key", ""},
	{"app_secret", ""},
	{"query_timeout", "1000"},
	{"max_request_size", "1048576"},
	{"pool_memory", "8388608"},
	{"batch_window", "2"},
	{"shm_user", ""},
	{"history", ""},
	{"history_memory", "16777216"},
	{"history_hold", "1000"},
	{"redis_address", "127.0.0.1:6379"},
	{"redis_password", ""},
	{"redis_database", "0"},
	{"redis_prefix", "realtime:"},
	{"redis_timeout", "1000"},
	{"redis_publish_queue", "10000"},
	{"max_event_size", "10240"},
	{"publish_key", ""},
	{"metrics_key", ""},
	{"sse_heartbeat", "20"},
	{"longpoll_timeout", "25"},
	{"longpoll_session_ttl", "60"},
	{"longpoll_max_queue", "1000"},
	{"mercure_publisher_key", ""},
	{"mercure_subscriber_key", ""},
	{"mercure_max_topics", "100"},
	{"mercure_max_selectors", "1000"},
	{"mercure_function", "0"},
	{NULL, NULL},
};

static int rt__fail(char *err, size_t errlen, const char *name,
		const char *value, const char *expected)
{
	/* A long value is shortened so that the setting's name always fits. */
	size_t n = strlen(value);
	snprintf(err, errlen, "invalid value '%.*s%s' for realtime.%s: %s",
			(int) (n > 64 ? 64 : n), value, n > 64 ? "..." : "", name, expected);
	return -EINVAL;
}

static int rt__parse_uint(const char *value, uint32_t min, uint32_t max,
		uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*value < '0' || *value > '9') {
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end != '\0' || v < min || v > max) {
		return -EINVAL;
	}
	*out = (uint32_t) v;
	return 0;
}

static int rt__parse_listen(rt_config *cfg, const char *value)
{
	const char *colon = strrchr(value, ':');
	const char *host = value;
	size_t host_len;
	uint32_t port;
	unsigned char addr[16];

	if (colon == NULL) {
		return -EINVAL;
	}
	host_len = (size_t) (colon - value);
	if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
		host++;
		host_len -= 2;
	}
	if (host_len == 0 || host_len >= sizeof(cfg->host)) {
		return -EINVAL;
	}
	if (rt__parse_uint(colon + 1, 1, 65535, &port) != 0) {
		return -EINVAL;
	}
	memcpy(cfg->host, host, host_len);
	cfg->host[host_len] = '\0';
	if (inet_pton(AF_INET, cfg->host, addr) != 1
			&& inet_pton(AF_INET6, cfg->host, addr) != 1) {
		return -EINVAL;
	}
	cfg->port = (int) port;
	return 0;
}

static int rt__parse_origins(rt_config *cfg, const char *value)
{
	size_t len = strlen(value);
	char *p, *save = NULL;

	if (len >= sizeof(cfg->origins_buf)) {
		return -EINVAL;
	}
	memcpy(cfg->origins_buf, value, len + 1);
	cfg->origin_count = 0;
	for (p = strtok_r(cfg->origins_buf, " \t,", &save); p != NULL;
			p = strtok_r(NULL, " \t,", &save)) {
		const char *sep = strstr(p, "://");
		if (cfg->origin_count == RT_ORIGINS_MAX) {
			return -EINVAL;
		}
		/* An origin is scheme://host[:port] with no path; "*" allows every origin. */
		if (strcmp(p, "*") != 0 && (sep == NULL || sep == p || sep[3] == '\0'
				|| strchr(sep + 3, '/') != NULL)) {
			return -EINVAL;
		}
		cfg->origin_off[cfg->origin_count++] = (uint16_t) (p - cfg->origins_buf);
	}
	return 0;
}

static int rt__parse_bool(const char *value, int *out)
{
	static const char *const yes[] = {"1", "on", "yes", "true", NULL};
	static const char *const no[] = {"0", "off", "no", "false", "", NULL};

	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
	}
	for (int i = 0; no[i]; i++) {
		if (strcasecmp(value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

static int rt__parse_string(char *dst, size_t size, const char *value)
{
	size_t n = strlen(value);

	if (n >= size) {
		return -EINVAL;
	}
	memcpy(dst, value, n + 1);
	return 0;
}

static int rt__parse_url(char *dst, size_t size, const char *value)
{
	if (*value != '\0' && strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
		return -EINVAL;
	}
	return rt__parse_string(dst, size, value);
}

void rt_config_defaults(rt_config *cfg)
{
	const rt_setting *s;
	char err[256];

	memset(cfg, 0, sizeof(*cfg));
	for (s = rt_settings; s->name != NULL; s++) {
		(void) rt_config_set(cfg, s->name, s->default_value, err, sizeof(err));
	}
}

int rt_config_set(rt_config *cfg, const char *name, const char *value,
		char *err, size_t errlen)
{
	if (value == NULL) {
		value = "";
	}
	if (strcmp(name, "enabled") == 0) {
		int on;
		if (rt__parse_bool(value, &on) != 0) {
			return rt__fail(err, errlen, name, value, "expected 0 or 1");
		}
		return 0;
	}
	if (strcmp(name, "allow_anonymous") == 0 || strcmp(name, "client_events") == 0) {
		int *dst = name[0] == 'a' ? &cfg->allow_anonymous : &cfg->client_events;
		if (rt__parse_bool(value, dst) != 0) {
			return rt__fail(err, errlen, name, value, "expected 0 or 1");
		}
		return 0;
	}
	if (strcmp(name, "secret") == 0 || strcmp(name, "app_secret") == 0) {
		char *dst = name[0] == 's' ? cfg->secret : cfg->app_secret;
		if (rt__parse_string(dst, sizeof(cfg->secret), value) != 0) {
			return rt__fail(err, errlen, name, "(hidden)", "at most 255 bytes");
		}
		return 0;
	}
	if (strcmp(name, "auth_endpoint") == 0 || strcmp(name, "webhook_url") == 0) {
		char *dst = name[0] == 'a' ? cfg->auth_endpoint : cfg->webhook_url;
		if (rt__parse_url(dst, sizeof(cfg->auth_endpoint), value) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected an http:// or https:// URL of at most 511 bytes, or nothing");
		}
		return 0;
	}
	if (strcmp(name, "app_id") == 0 || strcmp(name, "app_key") == 0) {
		char *dst = name[4] == 'i' ? cfg->app_id : cfg->app_key;
		size_t size = name[4] == 'i' ? sizeof(cfg->app_id) : sizeof(cfg->app_key);
		/* An empty app_key (the default) keeps the Pusher side off. */
		if ((*value == '\0' && name[4] == 'i') || strpbrk(value, " /?#%\t\r\n") != NULL
				|| rt__parse_string(dst, size, value) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected a short name without spaces, '/', '?', '#' or '%'");
		}
		return 0;
	}
	if (strcmp(name, "auth_timeout") == 0 || strcmp(name, "query_timeout") == 0) {
		uint32_t *dst = name[0] == 'a' ? &cfg->auth_timeout : &cfg->query_timeout;
		if (rt__parse_uint(value, 1, 60000, dst) != 0) {
			return rt__fail(err, errlen, name, value, "expected milliseconds from 1 to 60000");
		}
		return 0;
	}
	if (strcmp(name, "max_user_info") == 0) {
		if (rt__parse_uint(value, 16, 65536, &cfg->max_user_info) != 0) {
			return rt__fail(err, errlen, name, value, "expected bytes from 16 to 65536");
		}
		return 0;
	}
	if (strcmp(name, "max_request_size") == 0) {
		if (rt__parse_uint(value, 1024, 64u << 20, &cfg->max_request_size) != 0) {
			return rt__fail(err, errlen, name, value, "expected bytes from 1024 to 67108864");
		}
		return 0;
	}
	if (strcmp(name, "max_event_size") == 0) {
		if (rt__parse_uint(value, 1, 64u << 20, &cfg->max_event_size) != 0) {
			return rt__fail(err, errlen, name, value, "expected bytes from 1 to 67108864");
		}
		return 0;
	}
	if (strcmp(name, "pool_memory") == 0) {
		if (rt__parse_uint(value, 65536, 1u << 30, &cfg->pool_memory) != 0) {
			return rt__fail(err, errlen, name, value, "expected bytes from 65536 to 1073741824");
		}
		return 0;
	}
	if (strcmp(name, "history") == 0) {
		char why[200];
		if (rt_history_rules_parse(&cfg->history, value, why, sizeof(why)) != 0) {
			return rt__fail(err, errlen, name, value, why);
		}
		return 0;
	}
	if (strcmp(name, "history_memory") == 0) {
		if (rt__parse_uint(value, 1u << 20, 1u << 30, &cfg->history_memory) != 0) {
			return rt__fail(err, errlen, name, value, "expected bytes from 1048576 to 1073741824");
		}
		return 0;
	}
	if (strcmp(name, "shm_user") == 0) {
		/* A user name as useradd takes it; whether it exists is checked
		 * where the segment is made (broker/segment.c). */
		size_t n = strlen(value);
		if (n >= sizeof(cfg->shm_user) || strspn(value, "abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n || value[0] == '-') {
			return rt__fail(err, errlen, name, value,
					"expected a user name (letters, digits, '.', '_', '-'), or empty for the "
					"user the server starts as");
		}
		snprintf(cfg->shm_user, sizeof(cfg->shm_user), "%s", value);
		return 0;
	}
	if (strcmp(name, "batch_window") == 0) {
		if (rt__parse_uint(value, 0, 1000, &cfg->batch_window) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected milliseconds from 0 (wake at every call) to 1000");
		}
		return 0;
	}
	if (strcmp(name, "redis_address") == 0) {
		const char *colon = strrchr(value, ':');
		uint32_t port;
		if (!(value[0] == '/' || (colon != NULL && colon != value
				&& rt__parse_uint(colon + 1, 1, 65535, &port) == 0))
				|| rt__parse_string(cfg->redis_address, sizeof(cfg->redis_address), value) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected host:port, such as 127.0.0.1:6379, or the path of a unix socket");
		}
		return 0;
	}
	if (strcmp(name, "publish_key") == 0 || strcmp(name, "metrics_key") == 0) {
		char *dst = name[0] == 'p' ? cfg->publish_key : cfg->metrics_key;
		size_t n = strlen(value);
		/* A bearer key is the whole credential: a short one is guessable. */
		if ((n > 0 && n < RT_BEARER_KEY_MIN) || rt__parse_string(dst, sizeof(cfg->publish_key), value) != 0) {
			return rt__fail(err, errlen, name, "(hidden)",
					"expected nothing (off) or a key of 16 to 255 bytes");
		}
		return 0;
	}
	if (strcmp(name, "mercure_publisher_key") == 0 || strcmp(name, "mercure_subscriber_key") == 0) {
		char *dst = name[8] == 'p' ? cfg->mercure_publisher_key : cfg->mercure_subscriber_key;
		size_t n = strlen(value);
		/* An HS256 key shorter than this is guessable offline from one token. */
		if ((n > 0 && n < RT_BEARER_KEY_MIN)
				|| rt__parse_string(dst, sizeof(cfg->mercure_publisher_key), value) != 0) {
			return rt__fail(err, errlen, name, "(hidden)",
					"expected nothing (off) or a key of 16 to 255 bytes");
		}
		return 0;
	}
	if (strcmp(name, "mercure_max_topics") == 0) {
		if (rt__parse_uint(value, 1, 10000, &cfg->mercure_max_topics) != 0) {
			return rt__fail(err, errlen, name, value, "expected 1 to 10000");
		}
		return 0;
	}
	if (strcmp(name, "mercure_max_selectors") == 0) {
		if (rt__parse_uint(value, 0, 1000000, &cfg->mercure_max_selectors) != 0) {
			return rt__fail(err, errlen, name, value, "expected 0 to 1000000");
		}
		return 0;
	}
	if (strcmp(name, "mercure_function") == 0) {
		if (rt__parse_bool(value, &cfg->mercure_function) != 0) {
			return rt__fail(err, errlen, name, value, "expected 0 or 1");
		}
		return 0;
	}
	if (strcmp(name, "redis_password") == 0) {
		if (rt__parse_string(cfg->redis_password, sizeof(cfg->redis_password), value) != 0) {
			return rt__fail(err, errlen, name, "(hidden)", "at most 255 bytes");
		}
		return 0;
	}
	if (strcmp(name, "redis_database") == 0) {
		if (rt__parse_uint(value, 0, 65535, &cfg->redis_database) != 0) {
			return rt__fail(err, errlen, name, value, "expected a database number");
		}
		return 0;
	}
	if (strcmp(name, "redis_prefix") == 0) {
		if (strpbrk(value, " \t\r\n") != NULL
				|| rt__parse_string(cfg->redis_prefix, sizeof(cfg->redis_prefix), value) != 0) {
			return rt__fail(err, errlen, name, value, "expected at most 63 bytes without spaces");
		}
		return 0;
	}
	if (strcmp(name, "redis_timeout") == 0) {
		if (rt__parse_uint(value, 10, 60000, &cfg->redis_timeout) != 0) {
			return rt__fail(err, errlen, name, value, "expected milliseconds from 10 to 60000");
		}
		return 0;
	}
	if (strcmp(name, "history_hold") == 0) {
		if (rt__parse_uint(value, 1, 1000000, &cfg->history_hold) != 0) {
			return rt__fail(err, errlen, name, value, "expected messages from 1 to 1000000");
		}
		return 0;
	}
	if (strcmp(name, "redis_publish_queue") == 0) {
		if (rt__parse_uint(value, 1, 10000000, &cfg->redis_publish_queue) != 0) {
			return rt__fail(err, errlen, name, value, "expected publishes from 1 to 10000000");
		}
		return 0;
	}
	if (strcmp(name, "webhook_delay") == 0) {
		if (rt__parse_uint(value, 0, 60, &cfg->webhook_delay) != 0) {
			return rt__fail(err, errlen, name, value, "expected seconds from 0 to 60");
		}
		return 0;
	}
	if (strcmp(name, "pusher_subscription_count") == 0) {
		if (rt__parse_uint(value, 0, 3600, &cfg->pusher_subscription_count) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected seconds between updates from 0 (off) to 3600");
		}
		return 0;
	}
	if (strcmp(name, "client_event_rate") == 0) {
		if (rt__parse_uint(value, 1, 1000, &cfg->client_event_rate) != 0) {
			return rt__fail(err, errlen, name, value, "expected events per second from 1 to 1000");
		}
		return 0;
	}
	if (strcmp(name, "listen") == 0) {
		if (rt__parse_listen(cfg, value) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected a numeric address and port, such as 127.0.0.1:6001 or [::1]:6001");
		}
		return 0;
	}
	if (strcmp(name, "path") == 0) {
		size_t n = strlen(value);
		if (n == 0 || value[0] != '/' || n >= sizeof(cfg->path)
				|| strpbrk(value, " ?#\t\r\n") != NULL) {
			return rt__fail(err, errlen, name, value,
					"expected an absolute path such as /ws, without a query");
		}
		memcpy(cfg->path, value, n + 1);
		return 0;
	}
	if (strcmp(name, "broker") == 0) {
		if (strcmp(value, "memory") != 0 && strcmp(value, "redis") != 0) {
			return rt__fail(err, errlen, name, value, "expected \"memory\" or \"redis\"");
		}
		snprintf(cfg->broker, sizeof(cfg->broker), "%s", value);
		return 0;
	}
	if (strcmp(name, "allowed_origins") == 0) {
		if (rt__parse_origins(cfg, value) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected space-separated origins such as https://example.com (scheme://host[:port], no path), at most 32");
		}
		return 0;
	}
	if (strcmp(name, "max_message_size") == 0) {
		if (rt__parse_uint(value, 16, 64u << 20, &cfg->max_message_size) != 0) {
			return rt__fail(err, errlen, name, value, "expected bytes from 16 to 67108864");
		}
		return 0;
	}
	if (strcmp(name, "max_connections") == 0) {
		if (rt__parse_uint(value, 1, 10000000, &cfg->max_connections) != 0) {
			return rt__fail(err, errlen, name, value, "expected a number from 1 to 10000000");
		}
		return 0;
	}
	if (strcmp(name, "max_subscriptions") == 0) {
		if (rt__parse_uint(value, 1, 100000, &cfg->max_subscriptions) != 0) {
			return rt__fail(err, errlen, name, value, "expected a number from 1 to 100000");
		}
		return 0;
	}
	if (strcmp(name, "longpoll_timeout") == 0) {
		if (rt__parse_uint(value, 1, 300, &cfg->longpoll_timeout) != 0) {
			return rt__fail(err, errlen, name, value, "expected seconds from 1 to 300");
		}
		return 0;
	}
	if (strcmp(name, "longpoll_session_ttl") == 0) {
		if (rt__parse_uint(value, 5, 3600, &cfg->longpoll_session_ttl) != 0) {
			return rt__fail(err, errlen, name, value, "expected seconds from 5 to 3600");
		}
		return 0;
	}
	if (strcmp(name, "longpoll_max_queue") == 0) {
		if (rt__parse_uint(value, 1, 100000, &cfg->longpoll_max_queue) != 0) {
			return rt__fail(err, errlen, name, value, "expected events from 1 to 100000");
		}
		return 0;
	}
	if (strcmp(name, "sse_heartbeat") == 0) {
		if (rt__parse_uint(value, 0, 3600, &cfg->sse_heartbeat) != 0) {
			return rt__fail(err, errlen, name, value, "expected seconds from 0 (off) to 3600");
		}
		return 0;
	}
	if (strcmp(name, "ping_interval") == 0) {
		if (rt__parse_uint(value, 0, 86400, &cfg->ping_interval) != 0) {
			return rt__fail(err, errlen, name, value, "expected seconds from 0 (off) to 86400");
		}
		return 0;
	}
	if (strcmp(name, "max_outbound") == 0) {
		if (rt__parse_uint(value, 1024, 1u << 30, &cfg->max_outbound) != 0) {
			return rt__fail(err, errlen, name, value, "expected bytes from 1024 to 1073741824");
		}
		return 0;
	}
	if (strcmp(name, "handshake_timeout") == 0) {
		if (rt__parse_uint(value, 1, 3600, &cfg->handshake_timeout) != 0) {
			return rt__fail(err, errlen, name, value, "expected seconds from 1 to 3600");
		}
		return 0;
	}
	if (strcmp(name, "max_handshakes") == 0) {
		if (rt__parse_uint(value, 1, 10000000, &cfg->max_handshakes) != 0) {
			return rt__fail(err, errlen, name, value, "expected a number from 1 to 10000000");
		}
		return 0;
	}
	if (strcmp(name, "max_connections_per_ip") == 0) {
		if (rt__parse_uint(value, 0, 10000000, &cfg->max_connections_per_ip) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected a number from 0 (no limit) to 10000000");
		}
		return 0;
	}
	if (strcmp(name, "max_auth_calls") == 0) {
		if (rt__parse_uint(value, 1, 100000, &cfg->max_auth_calls) != 0) {
			return rt__fail(err, errlen, name, value, "expected a number from 1 to 100000");
		}
		return 0;
	}
	if (strcmp(name, "subscribe_rate") == 0) {
		if (rt__parse_uint(value, 1, 100000, &cfg->subscribe_rate) != 0) {
			return rt__fail(err, errlen, name, value,
					"expected requests per second from 1 to 100000");
		}
		return 0;
	}
	if (strcmp(name, "max_channels") == 0) {
		if (rt__parse_uint(value, 1, 100000000, &cfg->max_channels) != 0) {
			return rt__fail(err, errlen, name, value, "expected a number from 1 to 100000000");
		}
		return 0;
	}
	if (strcmp(name, "max_presence_members") == 0) {
		if (rt__parse_uint(value, 1, 10000000, &cfg->max_presence_members) != 0) {
			return rt__fail(err, errlen, name, value, "expected a number from 1 to 10000000");
		}
		return 0;
	}
	if (strcmp(name, "shutdown_timeout") == 0) {
		if (rt__parse_uint(value, 0, 60000, &cfg->shutdown_timeout) != 0) {
			return rt__fail(err, errlen, name, value, "expected milliseconds from 0 to 60000");
		}
		return 0;
	}
	if (strcmp(name, "handoff") == 0) {
		if (rt__parse_bool(value, &cfg->handoff) != 0) {
			return rt__fail(err, errlen, name, value, "expected 0 or 1");
		}
		return 0;
	}
	if (strcmp(name, "handoff_timeout") == 0) {
		if (rt__parse_uint(value, 10, 10000, &cfg->handoff_timeout) != 0) {
			return rt__fail(err, errlen, name, value, "expected milliseconds from 10 to 10000");
		}
		return 0;
	}
	if (strcmp(name, "log_format") == 0 || strcmp(name, "log_level") == 0) {
		int v = rt_log_parse(name[4] == 'f' ? "format" : "level", value);
		if (v < 0) {
			return rt__fail(err, errlen, name, value, name[4] == 'f'
					? "expected text or json" : "expected error, warning or info");
		}
		*(name[4] == 'f' ? &cfg->log_format : &cfg->log_level) = v;
		return 0;
	}
	if (strcmp(name, "log") == 0) {
		if (strlen(value) >= sizeof(cfg->log_path)) {
			return rt__fail(err, errlen, name, value, "path too long");
		}
		snprintf(cfg->log_path, sizeof(cfg->log_path), "%s", value);
		return 0;
	}
	snprintf(err, errlen, "unknown setting realtime.%s", name);
	return -ENOENT;
}

const char *rt_config_app_secret(const rt_config *cfg)
{
	return cfg->app_secret[0] ? cfg->app_secret : cfg->secret;
}

int rt_config_pusher_enabled(const rt_config *cfg)
{
	return cfg->app_key[0] != '\0' && rt_config_app_secret(cfg)[0] != '\0';
}

/* Compares the authority part (host[:port]) of an origin with a Host header. */
static int rt__authority_equals(const char *origin, size_t origin_len,
		const char *host, size_t host_len)
{
	const char *sep = memchr(origin, ':', origin_len);

	if (sep == NULL || (size_t) (origin + origin_len - sep) < 3
			|| sep[1] != '/' || sep[2] != '/') {
		return 0;
	}
	sep += 3;
	origin_len -= (size_t) (sep - origin);
	return origin_len == host_len && strncasecmp(sep, host, host_len) == 0;
}

int rt_config_origin_allowed(const rt_config *cfg, const char *origin,
		size_t origin_len, const char *host, size_t host_len)
{
	int i;

	if (cfg->origin_count == 0) {
		return host_len > 0 && rt__authority_equals(origin, origin_len, host, host_len);
	}
	for (i = 0; i < cfg->origin_count; i++) {
		const char *o = cfg->origins_buf + cfg->origin_off[i];
		if (strcmp(o, "*") == 0
				|| (strlen(o) == origin_len && strncasecmp(o, origin, origin_len) == 0)) {
			return 1;
		}
	}
	return 0;
}
