/* hub/model/config.c: defaults, parsing of every setting, origin checks. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "hub/model/config.h"

static char err_[512];

/* cfg starts from the defaults for every test that uses it. */
static rt_config *fresh(void)
{
	static rt_config cfg;

	rt_config_defaults(&cfg);
	return &cfg;
}

static int set(rt_config *cfg, const char *name, const char *value)
{
	memset(err_, 0, sizeof(err_));
	return rt_config_set(cfg, name, value, err_, sizeof(err_));
}

/* value is accepted for name. */
static void expect_ok(const char *name, const char *value)
{
	rt_config *cfg = fresh();
	int r = set(cfg, name, value);

	if (r != 0) {
		RT_FAIL_("realtime.%s = '%s' rejected: %s", name, value, err_);
		return;
	}
}

/* value is rejected for name with -EINVAL and a message that names the
 * setting (with its realtime. prefix) and quotes the value. */
static void expect_invalid(const char *name, const char *value)
{
	rt_config *cfg = fresh();
	char want_name[128], want_value[1024];
	int r = set(cfg, name, value);

	if (r != -EINVAL) {
		RT_FAIL_("realtime.%s = '%s': expected -EINVAL, got %d", name, value, r);
		return;
	}
	snprintf(want_name, sizeof(want_name), "realtime.%s", name);
	/* Short values are quoted whole, long ones by their start. */
	if (strlen(value) <= 64) {
		snprintf(want_value, sizeof(want_value), "'%s'", value);
	} else {
		snprintf(want_value, sizeof(want_value), "'%.32s", value);
	}
	if (strstr(err_, want_name) == NULL) {
		RT_FAIL_("message for realtime.%s = '%s' does not name the setting: %s",
				name, value, err_);
		return;
	}
	if (strstr(err_, want_value) == NULL) {
		RT_FAIL_("message for realtime.%s = '%s' does not quote the value: %s",
				name, value, err_);
		return;
	}
}

static void expect_uint(const char *name, const char *value, uint32_t want,
		const uint32_t *field)
{
	int r = set(fresh(), name, value);

	if (r != 0) {
		RT_FAIL_("realtime.%s = '%s' rejected: %s", name, value, err_);
		return;
	}
	if (*field != want) {
		RT_FAIL_("realtime.%s = '%s' stored %u, expected %u", name, value, *field, want);
		return;
	}
}

/* ---- defaults ---- */

RT_TEST(defaults)
{
	rt_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	rt_config_defaults(&cfg);
	RT_ASSERT_EQ_STR(cfg.host, "127.0.0.1");
	RT_ASSERT_EQ_INT(cfg.port, 6001);
	RT_ASSERT_EQ_STR(cfg.path, "/ws");
	RT_ASSERT_EQ_STR(cfg.broker, "memory");
	RT_ASSERT_EQ_INT(cfg.origin_count, 0);
	RT_ASSERT_EQ_INT(cfg.max_message_size, 65536);
	RT_ASSERT_EQ_INT(cfg.max_connections, 10000);
	RT_ASSERT_EQ_INT(cfg.max_subscriptions, 100);
	RT_ASSERT_EQ_INT(cfg.ping_interval, 25);
	RT_ASSERT_EQ_INT(cfg.sse_heartbeat, 20);
	RT_ASSERT_EQ_INT(cfg.longpoll_timeout, 25);
	RT_ASSERT_EQ_INT(cfg.longpoll_session_ttl, 60);
	RT_ASSERT_EQ_INT(cfg.longpoll_max_queue, 1000);
	RT_ASSERT_EQ_INT(cfg.max_outbound, 1048576);
	RT_ASSERT_EQ_INT(cfg.handshake_timeout, 10);
	RT_ASSERT_EQ_INT(cfg.shutdown_timeout, 2000);
	RT_ASSERT_EQ_STR(cfg.log_path, "");
	RT_ASSERT_EQ_INT(cfg.max_handshakes, 1000);
	RT_ASSERT_EQ_INT(cfg.max_connections_per_ip, 0);
	RT_ASSERT_EQ_INT(cfg.max_auth_calls, 64);
	RT_ASSERT_EQ_INT(cfg.subscribe_rate, 10);
	RT_ASSERT_EQ_INT(cfg.max_channels, 100000);
	RT_ASSERT_EQ_INT(cfg.max_presence_members, 1000);
}

/* Every default in the table parses: a typo there would be silently
 * ignored by rt_config_defaults. */
RT_TEST(every_default_is_accepted)
{
	const rt_setting *s;
	int n = 0;

	for (s = rt_settings; s->name != NULL; s++, n++) {
		rt_config cfg;
		rt_config_defaults(&cfg);
		if (set(&cfg, s->name, s->default_value) != 0) {
			RT_FAIL_("default of realtime.%s ('%s') rejected: %s", s->name,
					s->default_value, err_);
			return;
		}
	}
	RT_ASSERT(n >= 13);
}

RT_TEST(settings_table_has_unique_names)
{
	for (const rt_setting *a = rt_settings; a->name != NULL; a++) {
		RT_ASSERT(a->default_value != NULL);
		for (const rt_setting *b = a + 1; b->name != NULL; b++) {
			if (strcmp(a->name, b->name) == 0) {
				RT_FAIL_("realtime.%s listed twice", a->name);
				return;
			}
		}
	}
}

RT_TEST(unknown_setting)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "no_such_thing", "1"), -ENOENT);
	RT_ASSERT(strstr(err_, "realtime.no_such_thing") != NULL);
	RT_ASSERT_EQ_INT(set(cfg, "", "1"), -ENOENT);
	/* Names are exact: no prefix, no case folding. */
	RT_ASSERT_EQ_INT(set(cfg, "realtime.path", "/ws"), -ENOENT);
	RT_ASSERT_EQ_INT(set(cfg, "PATH", "/ws"), -ENOENT);
}

RT_TEST(error_message_truncated_to_errlen)
{
	rt_config *cfg = fresh();
	char small[16];

	memset(small, 'x', sizeof(small));
	RT_ASSERT_EQ_INT(rt_config_set(cfg, "max_connections", "0", small, sizeof(small)),
			-EINVAL);
	RT_ASSERT(memchr(small, '\0', sizeof(small)) != NULL);
	RT_ASSERT_EQ_INT(strlen(small), sizeof(small) - 1);
}

/* ---- enabled ---- */

RT_TEST(enabled)
{
	static const char *const good[] = {"0", "1", "on", "off", "ON", "Off", "true",
		"FALSE", "yes", "No"};
	static const char *const bad[] = {"2", "-1", "01x", "maybe", "enable", " 1"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_ok("enabled", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_invalid("enabled", bad[i]);
	}
}

RT_TEST(defaults_auth_and_apis)
{
	rt_config cfg;

	rt_config_defaults(&cfg);
	RT_ASSERT_EQ_STR(cfg.secret, "");
	RT_ASSERT_EQ_STR(cfg.auth_endpoint, "");
	RT_ASSERT_EQ_INT(cfg.auth_timeout, 5000);
	RT_ASSERT_EQ_INT(cfg.allow_anonymous, 0);
	RT_ASSERT_EQ_INT(cfg.max_user_info, 2048);
	RT_ASSERT_EQ_STR(cfg.webhook_url, "");
	RT_ASSERT_EQ_INT(cfg.webhook_delay, 3);
	RT_ASSERT_EQ_INT(cfg.client_events, 0);
	RT_ASSERT_EQ_INT(cfg.client_event_rate, 10);
	RT_ASSERT_EQ_STR(cfg.app_id, "1");
	RT_ASSERT_EQ_STR(cfg.app_key, "");
	RT_ASSERT_EQ_STR(cfg.app_secret, "");
	RT_ASSERT_EQ_INT(cfg.query_timeout, 1000);
	RT_ASSERT_EQ_INT(cfg.max_request_size, 1048576);
	RT_ASSERT_EQ_INT(cfg.pool_memory, 8388608);
	RT_ASSERT_EQ_INT(cfg.batch_window, 2);
	RT_ASSERT_EQ_INT(cfg.max_event_size, 10240);
	RT_ASSERT_EQ_STR(cfg.redis_address, "127.0.0.1:6379");
	RT_ASSERT_EQ_STR(cfg.redis_password, "");
	RT_ASSERT_EQ_INT(cfg.redis_database, 0);
	RT_ASSERT_EQ_STR(cfg.redis_prefix, "realtime:");
	RT_ASSERT_EQ_INT(cfg.redis_timeout, 1000);
	RT_ASSERT_EQ_INT(cfg.redis_publish_queue, 10000);
}

RT_TEST(shm_user)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_STR(cfg->shm_user, "");
	RT_ASSERT_EQ_INT(set(cfg, "shm_user", "www-data"), 0);
	RT_ASSERT_EQ_STR(cfg->shm_user, "www-data");
	RT_ASSERT_EQ_INT(set(cfg, "shm_user", ""), 0);
	RT_ASSERT_EQ_STR(cfg->shm_user, "");
	expect_invalid("shm_user", "www data");
	expect_invalid("shm_user", "-rf");
	expect_invalid("shm_user", "../root");
	expect_invalid("shm_user", "abcdefghijklmnopqrstuvwxyz0123456");
}

RT_TEST(redis_settings)
{
	rt_config *cfg = fresh();
	char prefix_max[64], prefix_over[65];

	RT_ASSERT_EQ_INT(set(cfg, "redis_address", "10.0.0.5:6380"), 0);
	RT_ASSERT_EQ_STR(cfg->redis_address, "10.0.0.5:6380");
	RT_ASSERT_EQ_INT(set(cfg, "redis_address", "redis.internal:6379"), 0); /* hostnames are fine here */
	RT_ASSERT_EQ_INT(set(cfg, "redis_address", "[::1]:6379"), 0);
	RT_ASSERT_EQ_INT(set(cfg, "redis_address", "/run/redis/redis.sock"), 0);
	RT_ASSERT_EQ_STR(cfg->redis_address, "/run/redis/redis.sock");
	expect_invalid("redis_address", "");
	expect_invalid("redis_address", "localhost");
	expect_invalid("redis_address", ":6379");
	expect_invalid("redis_address", "localhost:");
	expect_invalid("redis_address", "localhost:0");
	expect_invalid("redis_address", "localhost:65536");
	expect_invalid("redis_address", "run/redis.sock");

	RT_ASSERT_EQ_INT(set(cfg, "redis_prefix", ""), 0);
	RT_ASSERT_EQ_INT(set(cfg, "redis_prefix", "app1:rt:"), 0);
	RT_ASSERT_EQ_STR(cfg->redis_prefix, "app1:rt:");
	memset(prefix_max, 'p', sizeof(prefix_max));
	prefix_max[63] = '\0';
	memset(prefix_over, 'p', sizeof(prefix_over));
	prefix_over[64] = '\0';
	RT_ASSERT_EQ_INT(set(cfg, "redis_prefix", prefix_max), 0);
	expect_invalid("redis_prefix", prefix_over);
	expect_invalid("redis_prefix", "a b");
	expect_invalid("redis_prefix", "a\tb");

	/* The password is hidden like the secrets. */
	{
		char pw[300];
		memset(pw, 'P', sizeof(pw));
		memcpy(pw, "HUNTER2", 7);
		pw[sizeof(pw) - 1] = '\0';
		RT_ASSERT_EQ_INT(set(cfg, "redis_password", "hunter2"), 0);
		RT_ASSERT_EQ_STR(cfg->redis_password, "hunter2");
		RT_ASSERT_EQ_INT(set(cfg, "redis_password", pw), -EINVAL);
		RT_ASSERT(strstr(err_, "realtime.redis_password") != NULL);
		RT_ASSERT(strstr(err_, "HUNTER2") == NULL);
	}
}

/* allow_anonymous and client_events are stored; enabled is only checked. */
RT_TEST(booleans)
{
	static const char *const yes[] = {"1", "on", "ON", "yes", "True"};
	static const char *const no[] = {"0", "off", "No", "FALSE", ""};
	static const char *const names[] = {"allow_anonymous", "client_events"};

	for (int n = 0; n < 2; n++) {
		rt_config *cfg = fresh();
		int *field = n == 0 ? &cfg->allow_anonymous : &cfg->client_events;
		for (size_t i = 0; i < 5; i++) {
			RT_ASSERT_EQ_INT(set(cfg, names[n], yes[i]), 0);
			RT_ASSERT_EQ_INT(*field, 1);
			RT_ASSERT_EQ_INT(set(cfg, names[n], no[i]), 0);
			RT_ASSERT_EQ_INT(*field, 0);
		}
		expect_invalid(names[n], "2");
		expect_invalid(names[n], "yess");
		expect_invalid(names[n], " 1");
	}
}

/* A rejected secret is never echoed: messages end up in logs. */
RT_TEST(secrets_are_not_echoed)
{
	static const char *const names[] = {"secret", "app_secret"};
	char value[300];

	memset(value, 'S', sizeof(value));
	memcpy(value, "TOPSECRET", 9);
	value[sizeof(value) - 1] = '\0';
	for (int n = 0; n < 2; n++) {
		rt_config *cfg = fresh();
		char want[64];
		RT_ASSERT_EQ_INT(set(cfg, names[n], "s3cr3t"), 0);
		RT_ASSERT_EQ_INT(set(cfg, names[n], value), -EINVAL);
		snprintf(want, sizeof(want), "realtime.%s", names[n]);
		RT_ASSERT(strstr(err_, want) != NULL);
		RT_ASSERT(strstr(err_, "TOPSECRET") == NULL);
		/* 255 bytes fit. */
		value[255] = '\0';
		RT_ASSERT_EQ_INT(set(cfg, names[n], value), 0);
		RT_ASSERT_EQ_INT(strlen(n == 0 ? cfg->secret : cfg->app_secret), 255);
		value[255] = 'S';
	}
}

RT_TEST(app_secret_falls_back_to_secret)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_STR(rt_config_app_secret(cfg), "");
	RT_ASSERT_EQ_INT(set(cfg, "secret", "main"), 0);
	RT_ASSERT_EQ_STR(rt_config_app_secret(cfg), "main");
	RT_ASSERT_EQ_INT(set(cfg, "app_secret", "pusher"), 0);
	RT_ASSERT_EQ_STR(rt_config_app_secret(cfg), "pusher");
	RT_ASSERT_EQ_INT(set(cfg, "app_secret", ""), 0);
	RT_ASSERT_EQ_STR(rt_config_app_secret(cfg), "main");
}

RT_TEST(urls)
{
	static const char *const names[] = {"auth_endpoint", "webhook_url"};
	char longest[512], too_long[513];

	memset(longest, 'u', sizeof(longest));
	memcpy(longest, "https://", 8);
	longest[511] = '\0';
	memset(too_long, 'u', sizeof(too_long));
	memcpy(too_long, "https://", 8);
	too_long[512] = '\0';
	for (int n = 0; n < 2; n++) {
		rt_config *cfg = fresh();
		const char *field = n == 0 ? cfg->auth_endpoint : cfg->webhook_url;
		RT_ASSERT_EQ_INT(set(cfg, names[n], "http://127.0.0.1:8000/auth"), 0);
		RT_ASSERT_EQ_STR(field, "http://127.0.0.1:8000/auth");
		RT_ASSERT_EQ_INT(set(cfg, names[n], "https://app.example/hooks?x=1"), 0);
		RT_ASSERT_EQ_STR(field, "https://app.example/hooks?x=1");
		RT_ASSERT_EQ_INT(set(cfg, names[n], longest), 0);
		RT_ASSERT_EQ_INT(set(cfg, names[n], ""), 0); /* off */
		RT_ASSERT_EQ_STR(field, "");
		expect_invalid(names[n], "ftp://app.example/");
		expect_invalid(names[n], "app.example/auth");
		expect_invalid(names[n], "HTTP:/app.example");
		expect_invalid(names[n], "/auth");
		expect_invalid(names[n], too_long);
	}
}

RT_TEST(app_names)
{
	rt_config *cfg = fresh();
	char id_max[64], id_over[65], key_max[128], key_over[129];

	RT_ASSERT_EQ_INT(set(cfg, "app_id", "my-app_1.2"), 0);
	RT_ASSERT_EQ_STR(cfg->app_id, "my-app_1.2");
	RT_ASSERT_EQ_INT(set(cfg, "app_key", "k3y"), 0);
	RT_ASSERT_EQ_STR(cfg->app_key, "k3y");
	memset(id_max, 'i', sizeof(id_max));
	id_max[63] = '\0';
	memset(id_over, 'i', sizeof(id_over));
	id_over[64] = '\0';
	memset(key_max, 'k', sizeof(key_max));
	key_max[127] = '\0';
	memset(key_over, 'k', sizeof(key_over));
	key_over[128] = '\0';
	RT_ASSERT_EQ_INT(set(cfg, "app_id", id_max), 0);
	RT_ASSERT_EQ_INT(set(cfg, "app_key", key_max), 0);
	expect_invalid("app_id", id_over);
	expect_invalid("app_key", key_over);
	{
		static const char *const bad[] = {"", "a b", "a/b", "a?b", "a#b", "a%20b", "a\tb", "a\nb"};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			expect_invalid("app_id", bad[i]);
			if (bad[i][0] != '\0') {
				expect_invalid("app_key", bad[i]);
			}
		}
	}
	/* An empty key turns the Pusher side off again. */
	RT_ASSERT_EQ_INT(set(cfg, "app_key", ""), 0);
	RT_ASSERT_EQ_STR(cfg->app_key, "");
}

/* Pusher needs both a key and a secret (app_secret, or secret). */
RT_TEST(pusher_needs_key_and_secret)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(rt_config_pusher_enabled(cfg), 0);
	RT_ASSERT_EQ_INT(set(cfg, "app_key", "k3y"), 0);
	RT_ASSERT_EQ_INT(rt_config_pusher_enabled(cfg), 0);
	RT_ASSERT_EQ_INT(set(cfg, "secret", "main"), 0);
	RT_ASSERT_EQ_INT(rt_config_pusher_enabled(cfg), 1);
	RT_ASSERT_EQ_INT(set(cfg, "secret", ""), 0);
	RT_ASSERT_EQ_INT(set(cfg, "app_secret", "pusher"), 0);
	RT_ASSERT_EQ_INT(rt_config_pusher_enabled(cfg), 1);
	RT_ASSERT_EQ_INT(set(cfg, "app_key", ""), 0);
	RT_ASSERT_EQ_INT(rt_config_pusher_enabled(cfg), 0);
}

/* Bearer keys: off when empty, else 16 to 255 bytes, never echoed. */
RT_TEST(bearer_keys)
{
	static const char *const names[] = {"publish_key", "metrics_key"};
	char value[300];

	memset(value, 'K', sizeof(value));
	memcpy(value, "TOPSECRET", 9);
	value[sizeof(value) - 1] = '\0';
	for (int n = 0; n < 2; n++) {
		rt_config *cfg = fresh();
		char *field = n == 0 ? cfg->publish_key : cfg->metrics_key;
		RT_ASSERT_EQ_INT(set(cfg, names[n], "0123456789abcdef"), 0);
		RT_ASSERT_EQ_STR(field, "0123456789abcdef");
		RT_ASSERT_EQ_INT(set(cfg, names[n], "TOPSECRET-short"), -EINVAL);
		RT_ASSERT(strstr(err_, names[n]) != NULL);
		RT_ASSERT(strstr(err_, "TOPSECRET") == NULL);
		RT_ASSERT_EQ_INT(set(cfg, names[n], value), -EINVAL);
		RT_ASSERT(strstr(err_, "TOPSECRET") == NULL);
		value[255] = '\0';
		RT_ASSERT_EQ_INT(set(cfg, names[n], value), 0);
		RT_ASSERT_EQ_INT(strlen(field), 255);
		value[255] = 'K';
		RT_ASSERT_EQ_INT(set(cfg, names[n], ""), 0);
		RT_ASSERT_EQ_STR(field, "");
	}
}

/* ---- listen ---- */

RT_TEST(listen_ipv4)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "listen", "0.0.0.0:8080"), 0);
	RT_ASSERT_EQ_STR(cfg->host, "0.0.0.0");
	RT_ASSERT_EQ_INT(cfg->port, 8080);
	RT_ASSERT_EQ_INT(set(cfg, "listen", "10.1.2.3:1"), 0);
	RT_ASSERT_EQ_STR(cfg->host, "10.1.2.3");
	RT_ASSERT_EQ_INT(cfg->port, 1);
	RT_ASSERT_EQ_INT(set(cfg, "listen", "127.0.0.1:65535"), 0);
	RT_ASSERT_EQ_INT(cfg->port, 65535);
}

RT_TEST(listen_ipv6)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "listen", "[::1]:6001"), 0);
	RT_ASSERT_EQ_STR(cfg->host, "::1");
	RT_ASSERT_EQ_INT(cfg->port, 6001);
	RT_ASSERT_EQ_INT(set(cfg, "listen", "[::]:443"), 0);
	RT_ASSERT_EQ_STR(cfg->host, "::");
	RT_ASSERT_EQ_INT(cfg->port, 443);
	RT_ASSERT_EQ_INT(set(cfg, "listen", "[fe80::1:2:3:4]:9"), 0);
	RT_ASSERT_EQ_STR(cfg->host, "fe80::1:2:3:4");
	RT_ASSERT_EQ_INT(cfg->port, 9);
}

RT_TEST(listen_invalid)
{
	static const char *const bad[] = {
		"",                  /* nothing */
		"127.0.0.1",         /* missing port */
		"127.0.0.1:",        /* empty port */
		":6001",             /* missing host */
		"[]:6001",           /* empty brackets */
		"127.0.0.1:0",       /* port 0 */
		"127.0.0.1:65536",   /* port too large */
		"127.0.0.1:99999999999999999999999",
		"127.0.0.1:-1",
		"127.0.0.1:+80",
		"127.0.0.1: 80",
		"127.0.0.1:80x",
		"127.0.0.1:0x50",
		"localhost:6001",    /* hostnames are not resolved */
		"example.com:80",
		"256.0.0.1:80",
		"[::1:6001",         /* unbalanced bracket */
		"[127.0.0.1:80",
		"[nope]:80",
		"1111111111111111111111111111111111111111111111111111111111111111111:80",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_invalid("listen", bad[i]);
	}
}

/* ---- path ---- */

RT_TEST(path)
{
	rt_config *cfg = fresh();
	char longest[128], too_long[129];

	RT_ASSERT_EQ_INT(set(cfg, "path", "/realtime/socket"), 0);
	RT_ASSERT_EQ_STR(cfg->path, "/realtime/socket");
	RT_ASSERT_EQ_INT(set(cfg, "path", "/"), 0);
	RT_ASSERT_EQ_STR(cfg->path, "/");

	memset(longest, 'a', sizeof(longest));
	longest[0] = '/';
	longest[127] = '\0';
	RT_ASSERT_EQ_INT(set(cfg, "path", longest), 0);
	RT_ASSERT_EQ_STR(cfg->path, longest);

	memset(too_long, 'a', sizeof(too_long));
	too_long[0] = '/';
	too_long[128] = '\0';
	expect_invalid("path", too_long);
	expect_invalid("path", "");
	expect_invalid("path", "ws");
	expect_invalid("path", "/w s");
	expect_invalid("path", "/ws?x=1");
	expect_invalid("path", "/ws#top");
	expect_invalid("path", "/ws\t");
	expect_invalid("path", "/ws\r\nX-Injected: 1");
	expect_invalid("path", "http://host/ws");
}

RT_TEST(null_value_is_empty)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "path", NULL), -EINVAL);
	RT_ASSERT(strstr(err_, "realtime.path") != NULL);
	RT_ASSERT(strstr(err_, "''") != NULL);
	RT_ASSERT_EQ_INT(set(cfg, "log", NULL), 0);
	RT_ASSERT_EQ_STR(cfg->log_path, "");
}

/* ---- broker ---- */

RT_TEST(broker)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "broker", "redis"), 0);
	RT_ASSERT_EQ_STR(cfg->broker, "redis");
	RT_ASSERT_EQ_INT(set(cfg, "broker", "memory"), 0);
	RT_ASSERT_EQ_STR(cfg->broker, "memory");
	expect_invalid("broker", "");
	expect_invalid("broker", "Redis");
	expect_invalid("broker", "MEMORY");
	expect_invalid("broker", "memory ");
	expect_invalid("broker", "nats");
	expect_invalid("broker", "a-very-long-broker-name-that-overflows");
}

/* ---- numeric settings ---- */

typedef struct num_case {
	const char *name;
	uint32_t min, max;
	size_t offset;
} num_case;

static const num_case num_cases[] = {
	{"max_message_size", 16, 67108864, offsetof(rt_config, max_message_size)},
	{"max_connections", 1, 10000000, offsetof(rt_config, max_connections)},
	{"max_subscriptions", 1, 100000, offsetof(rt_config, max_subscriptions)},
	{"ping_interval", 0, 86400, offsetof(rt_config, ping_interval)},
	{"sse_heartbeat", 0, 3600, offsetof(rt_config, sse_heartbeat)},
	{"longpoll_timeout", 1, 300, offsetof(rt_config, longpoll_timeout)},
	{"longpoll_session_ttl", 5, 3600, offsetof(rt_config, longpoll_session_ttl)},
	{"longpoll_max_queue", 1, 100000, offsetof(rt_config, longpoll_max_queue)},
	{"max_outbound", 1024, 1073741824, offsetof(rt_config, max_outbound)},
	{"handshake_timeout", 1, 3600, offsetof(rt_config, handshake_timeout)},
	{"shutdown_timeout", 0, 60000, offsetof(rt_config, shutdown_timeout)},
	{"auth_timeout", 1, 60000, offsetof(rt_config, auth_timeout)},
	{"query_timeout", 1, 60000, offsetof(rt_config, query_timeout)},
	{"max_user_info", 16, 65536, offsetof(rt_config, max_user_info)},
	{"max_request_size", 1024, 67108864, offsetof(rt_config, max_request_size)},
	{"max_event_size", 1, 67108864, offsetof(rt_config, max_event_size)},
	{"pool_memory", 65536, 1073741824, offsetof(rt_config, pool_memory)},
	{"batch_window", 0, 1000, offsetof(rt_config, batch_window)},
	{"webhook_delay", 0, 60, offsetof(rt_config, webhook_delay)},
	{"client_event_rate", 1, 1000, offsetof(rt_config, client_event_rate)},
	{"max_handshakes", 1, 10000000, offsetof(rt_config, max_handshakes)},
	{"max_connections_per_ip", 0, 10000000, offsetof(rt_config, max_connections_per_ip)},
	{"max_auth_calls", 1, 100000, offsetof(rt_config, max_auth_calls)},
	{"subscribe_rate", 1, 100000, offsetof(rt_config, subscribe_rate)},
	{"max_channels", 1, 100000000, offsetof(rt_config, max_channels)},
	{"max_presence_members", 1, 10000000, offsetof(rt_config, max_presence_members)},
	{"redis_database", 0, 65535, offsetof(rt_config, redis_database)},
	{"redis_timeout", 10, 60000, offsetof(rt_config, redis_timeout)},
	{"redis_publish_queue", 1, 10000000, offsetof(rt_config, redis_publish_queue)},
	{"history_hold", 1, 1000000, offsetof(rt_config, history_hold)},
};

static void check_number(const num_case *c)
{
	static const char *const junk[] = {"", "abc", "-1", "+5", " 5", "5 ", "5x", "0x10",
		"1e3", "1.5", "18446744073709551617", "99999999999999999999999999"};
	rt_config *cfg = fresh();
	const uint32_t *field = (const uint32_t *) ((const char *) cfg + c->offset);
	char v[32];

	snprintf(v, sizeof(v), "%u", c->min);
	expect_uint(c->name, v, c->min, field);
	snprintf(v, sizeof(v), "%u", c->max);
	expect_uint(c->name, v, c->max, field);
	snprintf(v, sizeof(v), "%u", c->min + (c->max - c->min) / 2);
	expect_uint(c->name, v, c->min + (c->max - c->min) / 2, field);
	/* Leading zeros are still decimal. */
	snprintf(v, sizeof(v), "00%u", c->max);
	expect_uint(c->name, v, c->max, field);
	if (c->min > 0) {
		snprintf(v, sizeof(v), "%u", c->min - 1);
		expect_invalid(c->name, v);
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long) c->max + 1);
	expect_invalid(c->name, v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long) c->max + 4294967296ULL);
	expect_invalid(c->name, v);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		expect_invalid(c->name, junk[i]);
	}
}

RT_TEST(numbers)
{
	for (size_t i = 0; i < sizeof(num_cases) / sizeof(num_cases[0]); i++) {
		int before = rt_test_cur_failed_;
		rt_test_cur_failed_ = 0;
		check_number(&num_cases[i]);
		if (rt_test_cur_failed_) {
			printf("#     (while checking realtime.%s)\n", num_cases[i].name);
		}
		rt_test_cur_failed_ |= before;
	}
}

/* A rejected number leaves the previous value in place. */
RT_TEST(number_rejected_keeps_value)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "max_connections", "42"), 0);
	RT_ASSERT_EQ_INT(set(cfg, "max_connections", "0"), -EINVAL);
	RT_ASSERT_EQ_INT(cfg->max_connections, 42);
	RT_ASSERT_EQ_INT(set(cfg, "max_connections", "42abc"), -EINVAL);
	RT_ASSERT_EQ_INT(cfg->max_connections, 42);
}

/* ---- log ---- */

RT_TEST(log_path)
{
	rt_config *cfg = fresh();
	char longest[512], too_long[513];

	RT_ASSERT_EQ_INT(set(cfg, "log", "/var/log/realtime.log"), 0);
	RT_ASSERT_EQ_STR(cfg->log_path, "/var/log/realtime.log");
	RT_ASSERT_EQ_INT(set(cfg, "log", ""), 0);
	RT_ASSERT_EQ_STR(cfg->log_path, "");
	memset(longest, 'l', sizeof(longest));
	longest[511] = '\0';
	RT_ASSERT_EQ_INT(set(cfg, "log", longest), 0);
	RT_ASSERT_EQ_INT(strlen(cfg->log_path), 511);
	memset(too_long, 'l', sizeof(too_long));
	too_long[512] = '\0';
	expect_invalid("log", too_long);
}

/* ---- allowed_origins ---- */

static int allowed(const rt_config *cfg, const char *origin, const char *host)
{
	return rt_config_origin_allowed(cfg, origin, strlen(origin), host, strlen(host));
}

RT_TEST(origins_empty_is_same_origin)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(cfg->origin_count, 0);
	RT_ASSERT(allowed(cfg, "http://example.com:6001", "example.com:6001"));
	RT_ASSERT(allowed(cfg, "https://example.com", "example.com"));
	RT_ASSERT(allowed(cfg, "HTTP://Example.COM:6001", "example.com:6001"));
	RT_ASSERT(allowed(cfg, "http://[::1]:6001", "[::1]:6001"));
	RT_ASSERT(!allowed(cfg, "http://evil.com:6001", "example.com:6001"));
	RT_ASSERT(!allowed(cfg, "http://example.com", "example.com:6001"));
	RT_ASSERT(!allowed(cfg, "http://example.com:6001", "example.com"));
	RT_ASSERT(!allowed(cfg, "http://example.com:6001/", "example.com:6001"));
	RT_ASSERT(!allowed(cfg, "http://example.com.evil.com", "example.com"));
	RT_ASSERT(!allowed(cfg, "http://example.co", "example.com"));
	RT_ASSERT(!allowed(cfg, "example.com", "example.com"));
	RT_ASSERT(!allowed(cfg, "null", "example.com"));
	RT_ASSERT(!allowed(cfg, "", "example.com"));
	RT_ASSERT(!allowed(cfg, "http:/example.com", "example.com"));
	RT_ASSERT(!allowed(cfg, "http:", ""));
	/* No Host: nothing is same-origin. */
	RT_ASSERT(!allowed(cfg, "http://", ""));
	RT_ASSERT(!allowed(cfg, "http://example.com", ""));
}

/* Lengths are honoured: the origin and host need not be NUL-terminated. */
RT_TEST(origins_use_lengths)
{
	rt_config *cfg = fresh();
	const char *origin = "http://example.com:6001XXXX";
	const char *host = "example.com:6001YYYY";

	RT_ASSERT(rt_config_origin_allowed(cfg, origin, 23, host, 16));
	RT_ASSERT(!rt_config_origin_allowed(cfg, origin, 24, host, 16));
	RT_ASSERT(!rt_config_origin_allowed(cfg, origin, 23, host, 17));

	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", "https://a.example"), 0);
	RT_ASSERT(rt_config_origin_allowed(cfg, "https://a.examplezzz", 17, "", 0));
	RT_ASSERT(!rt_config_origin_allowed(cfg, "https://a.examplezzz", 18, "", 0));
	RT_ASSERT(!rt_config_origin_allowed(cfg, "https://a.examplezzz", 16, "", 0));
}

RT_TEST(origins_list)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", "https://app.example.com http://localhost:3000"), 0);
	RT_ASSERT_EQ_INT(cfg->origin_count, 2);
	RT_ASSERT(allowed(cfg, "https://app.example.com", "ws.example.com"));
	RT_ASSERT(allowed(cfg, "HTTPS://APP.EXAMPLE.COM", "ws.example.com"));
	RT_ASSERT(allowed(cfg, "http://localhost:3000", "ws.example.com"));
	RT_ASSERT(!allowed(cfg, "http://app.example.com", "ws.example.com"));
	RT_ASSERT(!allowed(cfg, "https://app.example.com:443", "ws.example.com"));
	RT_ASSERT(!allowed(cfg, "https://app.example.co", "ws.example.com"));
	RT_ASSERT(!allowed(cfg, "https://app.example.com.evil", "ws.example.com"));
	RT_ASSERT(!allowed(cfg, "http://localhost:30001", "ws.example.com"));
	RT_ASSERT(!allowed(cfg, "http://localhost", "ws.example.com"));
	RT_ASSERT(!allowed(cfg, "", "ws.example.com"));
	/* A list replaces same-origin: the Host no longer counts. */
	RT_ASSERT(!allowed(cfg, "http://ws.example.com", "ws.example.com"));
}

RT_TEST(origins_separators)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins",
			"  https://a.example,https://b.example\thttps://c.example , ,https://d.example  "), 0);
	RT_ASSERT_EQ_INT(cfg->origin_count, 4);
	RT_ASSERT(allowed(cfg, "https://a.example", "x"));
	RT_ASSERT(allowed(cfg, "https://b.example", "x"));
	RT_ASSERT(allowed(cfg, "https://c.example", "x"));
	RT_ASSERT(allowed(cfg, "https://d.example", "x"));
	RT_ASSERT(!allowed(cfg, "https://e.example", "x"));

	/* Only separators: an empty list, back to same-origin. */
	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", " , \t"), 0);
	RT_ASSERT_EQ_INT(cfg->origin_count, 0);
	RT_ASSERT(allowed(cfg, "http://x:1", "x:1"));
	RT_ASSERT(!allowed(cfg, "https://a.example", "x"));
}

RT_TEST(origins_star)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", "*"), 0);
	RT_ASSERT_EQ_INT(cfg->origin_count, 1);
	RT_ASSERT(allowed(cfg, "https://anything.example", "other"));
	RT_ASSERT(allowed(cfg, "null", "other"));
	RT_ASSERT(allowed(cfg, "http://x:1", ""));

	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", "https://a.example *"), 0);
	RT_ASSERT(allowed(cfg, "https://b.example", "other"));
}

RT_TEST(origins_invalid)
{
	char many[2048], *p = many;

	expect_invalid("allowed_origins", "example.com");
	expect_invalid("allowed_origins", "https://a.example example.com");
	expect_invalid("allowed_origins", "https://a.example/");
	expect_invalid("allowed_origins", "**");

	/* 32 origins fit, 33 do not. */
	for (int i = 0; i < 32; i++) {
		p += sprintf(p, "https://h%d.example ", i);
	}
	expect_ok("allowed_origins", many);
	{
		rt_config *cfg = fresh();
		RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", many), 0);
		RT_ASSERT_EQ_INT(cfg->origin_count, 32);
		RT_ASSERT(allowed(cfg, "https://h0.example", "x"));
		RT_ASSERT(allowed(cfg, "https://h31.example", "x"));
	}
	sprintf(p, "https://h32.example");
	expect_invalid("allowed_origins", many);

	/* The whole value must fit origins_buf. */
	{
		char *huge = malloc(4096);
		RT_ASSERT(huge != NULL);
		memcpy(huge, "https://", 8);
		memset(huge + 8, 'a', 4000);
		huge[4008] = '\0';
		expect_invalid("allowed_origins", huge);
		free(huge);
	}
}

/* An origin with a path can never match a browser's Origin. */
RT_TEST(origins_with_path_rejected)
{
	expect_invalid("allowed_origins", "https://a.example/app");
	expect_invalid("allowed_origins", "https://a.example:8080/");
	expect_invalid("allowed_origins", "https://a.example https://b.example/x");
	expect_invalid("allowed_origins", "://a.example");
	expect_invalid("allowed_origins", "https://");
}

/* With a long value the setting's name must still fit the caller's buffer
 * (256 bytes in realtime.c): the value is shortened, not the name. */
RT_TEST(long_value_message_names_setting)
{
	char value[600], err[256];

	memset(value, 'l', sizeof(value));
	value[sizeof(value) - 1] = '\0';
	RT_ASSERT_EQ_INT(rt_config_set(fresh(), "log", value, err, sizeof(err)), -EINVAL);
	if (strstr(err, "realtime.log") == NULL) {
		RT_FAIL_("message does not name realtime.log: %.60s...", err);
		return;
	}
}

/* Origins are stored as offsets into origins_buf, so a plain struct copy
 * (the hub copies its config) keeps working after the source is gone. */
RT_TEST(origins_survive_struct_copy)
{
	rt_config *src = malloc(sizeof(*src));
	rt_config copy, *heap;

	RT_ASSERT(src != NULL);
	rt_config_defaults(src);
	RT_ASSERT_EQ_INT(set(src, "allowed_origins", "https://one.example https://two.example"), 0);
	copy = *src;
	heap = malloc(sizeof(*heap));
	RT_ASSERT(heap != NULL);
	memcpy(heap, src, sizeof(*heap));
	/* Change, then destroy, the original. */
	RT_ASSERT_EQ_INT(set(src, "allowed_origins", "https://three.example"), 0);
	memset(src, 0, sizeof(*src));
	free(src);

	RT_ASSERT_EQ_INT(copy.origin_count, 2);
	RT_ASSERT(allowed(&copy, "https://one.example", "x"));
	RT_ASSERT(allowed(&copy, "https://two.example", "x"));
	RT_ASSERT(!allowed(&copy, "https://three.example", "x"));
	RT_ASSERT(allowed(heap, "https://two.example", "x"));
	RT_ASSERT(!allowed(heap, "https://three.example", "x"));
	free(heap);
}

/* Setting the list again replaces it entirely. */
RT_TEST(origins_reset)
{
	rt_config *cfg = fresh();

	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", "https://a.example https://b.example"), 0);
	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", "https://c.example"), 0);
	RT_ASSERT_EQ_INT(cfg->origin_count, 1);
	RT_ASSERT(!allowed(cfg, "https://a.example", "x"));
	RT_ASSERT(!allowed(cfg, "https://b.example", "x"));
	RT_ASSERT(allowed(cfg, "https://c.example", "x"));
	RT_ASSERT_EQ_INT(set(cfg, "allowed_origins", ""), 0);
	RT_ASSERT_EQ_INT(cfg->origin_count, 0);
	RT_ASSERT(!allowed(cfg, "https://c.example", "x"));
}

int main(void)
{
	RT_RUN(defaults);
	RT_RUN(every_default_is_accepted);
	RT_RUN(settings_table_has_unique_names);
	RT_RUN(unknown_setting);
	RT_RUN(error_message_truncated_to_errlen);
	RT_RUN(enabled);
	RT_RUN(defaults_auth_and_apis);
	RT_RUN(shm_user);
	RT_RUN(redis_settings);
	RT_RUN(booleans);
	RT_RUN(secrets_are_not_echoed);
	RT_RUN(app_secret_falls_back_to_secret);
	RT_RUN(pusher_needs_key_and_secret);
	RT_RUN(bearer_keys);
	RT_RUN(urls);
	RT_RUN(app_names);
	RT_RUN(listen_ipv4);
	RT_RUN(listen_ipv6);
	RT_RUN(listen_invalid);
	RT_RUN(path);
	RT_RUN(null_value_is_empty);
	RT_RUN(broker);
	RT_RUN(numbers);
	RT_RUN(number_rejected_keeps_value);
	RT_RUN(log_path);
	RT_RUN(origins_empty_is_same_origin);
	RT_RUN(origins_use_lengths);
	RT_RUN(origins_list);
	RT_RUN(origins_separators);
	RT_RUN(origins_star);
	RT_RUN(origins_invalid);
	RT_RUN(origins_with_path_rejected);
	RT_RUN(long_value_message_names_setting);
	RT_RUN(origins_survive_struct_copy);
	RT_RUN(origins_reset);
	return rt_test_summary();
}
