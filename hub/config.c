#include "hub/config.h"

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
	{"shutdown_timeout", "2000"},
	{"log", ""},
	{NULL, NULL},
};

static int rt__fail(char *err, size_t errlen, const char *name,
		const char *value, const char *expected)
{
	snprintf(err, errlen, "invalid value '%s' for realtime.%s: %s", value, name,
			expected);
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
	char *p;

	if (len >= sizeof(cfg->origins_buf)) {
		return -EINVAL;
	}
	memcpy(cfg->origins_buf, value, len + 1);
	cfg->origin_count = 0;
	for (p = strtok(cfg->origins_buf, " \t,"); p != NULL; p = strtok(NULL, " \t,")) {
		size_t n = strlen(p);
		if (cfg->origin_count == RT_ORIGINS_MAX) {
			return -EINVAL;
		}
		/* An origin is scheme://host[:port] with no path; "*" allows every origin. */
		if (strcmp(p, "*") != 0 && (strstr(p, "://") == NULL || p[n - 1] == '/')) {
			return -EINVAL;
		}
		cfg->origin_off[cfg->origin_count++] = (uint16_t) (p - cfg->origins_buf);
	}
	return 0;
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
	uint32_t v;

	if (value == NULL) {
		value = "";
	}
	if (strcmp(name, "enabled") == 0) {
		if (rt__parse_uint(value, 0, 1, &v) != 0
				&& strcasecmp(value, "on") != 0 && strcasecmp(value, "off") != 0
				&& strcasecmp(value, "true") != 0 && strcasecmp(value, "false") != 0
				&& strcasecmp(value, "yes") != 0 && strcasecmp(value, "no") != 0) {
			return rt__fail(err, errlen, name, value, "expected 0 or 1");
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
		if (strcmp(value, "memory") != 0) {
			return rt__fail(err, errlen, name, value, "expected \"memory\"");
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
	if (strcmp(name, "shutdown_timeout") == 0) {
		if (rt__parse_uint(value, 0, 60000, &cfg->shutdown_timeout) != 0) {
			return rt__fail(err, errlen, name, value, "expected milliseconds from 0 to 60000");
		}
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
