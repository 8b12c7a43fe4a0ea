/* Realtime\pusherAuth() and Realtime\pusherUserAuth(): the answers of a
 * Pusher authorization endpoint, signed as the hub checks them
 * (hub/proto/pusher.c), so an app (the Laravel driver among them) needs
 * no HMAC code or copy of the secret of its own. */
#include "php.h"
#include "zend_exceptions.h"

#include "php_realtime.h"
#include "ext/lifecycle.h"
#include "hub/model/config.h"
#include "hub/model/identity.h"
#include "hub/model/registry.h"
#include "hub/model/token.h"
#include "hub/proto/pusher.h"
#include "hub/util/utf8.h"

/* The hub refuses larger ones anyway (realtime.max_message_size bounds
 * the whole subscribe); this keeps the signed subject small. */
#define RT_PUSHER_DATA_MAX (64 * 1024)

/* The app key and secret in use; throws when either is missing. */
static zend_result rt__app_credentials(const char *function, rt_config *cfg)
{
	char err[256];

	if (rt_lifecycle_hub_config(cfg) != 0 && rt_lifecycle_read_config(cfg, err, sizeof(err)) != 0) {
		zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): %s", function, err);
		return FAILURE;
	}
	if (!rt_config_pusher_enabled(cfg)) {
		zend_throw_exception_ex(realtime_ce_exception, 0,
				"%s(): set realtime.app_key and realtime.app_secret (or realtime.secret): "
				"there is nothing to sign with", function);
		return FAILURE;
	}
	return SUCCESS;
}

static zend_result rt__check_socket_id(const zend_string *id)
{
	if (!rt_pusher_socket_id_valid(ZSTR_VAL(id), ZSTR_LEN(id))) {
		zend_argument_value_error(1, "must be a socket id (digits \".\" digits)");
		return FAILURE;
	}
	return SUCCESS;
}

static zend_result rt__check_data(const zend_string *data, uint32_t arg)
{
	if (ZSTR_LEN(data) == 0 || ZSTR_LEN(data) > RT_PUSHER_DATA_MAX
			|| !rt_utf8_valid((const uint8_t *) ZSTR_VAL(data), ZSTR_LEN(data))) {
		zend_argument_value_error(arg, "must be 1 to %d bytes of UTF-8 (a JSON object)",
				RT_PUSHER_DATA_MAX);
		return FAILURE;
	}
	return SUCCESS;
}

/* return_value["auth"] = "<key>:<hex HMAC-SHA256(secret, a sep b [":" c])>" */
static void rt__sign(zval *return_value, const rt_config *cfg, const zend_string *a,
		const char *sep, const zend_string *b, const zend_string *c)
{
	const char *secret = rt_config_app_secret(cfg);
	size_t key_len = strlen(cfg->app_key), sep_len = strlen(sep);
	size_t len = ZSTR_LEN(a) + sep_len + ZSTR_LEN(b) + (c ? 1 + ZSTR_LEN(c) : 0);
	char *subject = emalloc(len + 1), *p = subject;
	char hex[65];
	zend_string *auth;

	memcpy(p, ZSTR_VAL(a), ZSTR_LEN(a));
	p += ZSTR_LEN(a);
	memcpy(p, sep, sep_len);
	p += sep_len;
	memcpy(p, ZSTR_VAL(b), ZSTR_LEN(b));
	p += ZSTR_LEN(b);
	if (c != NULL) {
		*p++ = ':';
		memcpy(p, ZSTR_VAL(c), ZSTR_LEN(c));
		p += ZSTR_LEN(c);
	}
	rt_hmac_sha256_hex(secret, strlen(secret), subject, (size_t) (p - subject), hex);
	efree(subject);

	auth = zend_string_alloc(key_len + 1 + 64, 0);
	memcpy(ZSTR_VAL(auth), cfg->app_key, key_len);
	ZSTR_VAL(auth)[key_len] = ':';
	memcpy(ZSTR_VAL(auth) + key_len + 1, hex, 64);
	ZSTR_VAL(auth)[key_len + 1 + 64] = '\0';
	array_init_size(return_value, 2);
	add_assoc_str(return_value, "auth", auth);
}

ZEND_FUNCTION(Realtime_pusherAuth)
{
	zend_string *socket_id, *channel, *channel_data = NULL;
	rt_config cfg;
	int presence;

	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_STR(socket_id)
		Z_PARAM_STR(channel)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(channel_data)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__check_socket_id(socket_id) == FAILURE) {
		RETURN_THROWS();
	}
	/* Only what the hub asks a signature for: a signature over anything
	 * else would never be checked, and a mistake should show here. */
	if (!rt_channel_name_valid(ZSTR_VAL(channel), ZSTR_LEN(channel))
			|| !rt_channel_is_private(ZSTR_VAL(channel), ZSTR_LEN(channel))) {
		zend_argument_value_error(2, "must be the name of a private- or presence- channel");
		RETURN_THROWS();
	}
	presence = rt_channel_is_presence(ZSTR_VAL(channel), ZSTR_LEN(channel));
	if (presence && channel_data == NULL) {
		zend_argument_value_error(3, "must be the member's JSON ({\"user_id\": ..., \"user_info\": ...}) for a presence channel");
		RETURN_THROWS();
	}
	if (!presence && channel_data != NULL) {
		zend_argument_value_error(3, "must be null for a channel that is not presence-");
		RETURN_THROWS();
	}
	if (channel_data != NULL && rt__check_data(channel_data, 3) == FAILURE) {
		RETURN_THROWS();
	}
	if (rt__app_credentials("Realtime\\pusherAuth", &cfg) == FAILURE) {
		RETURN_THROWS();
	}
	rt__sign(return_value, &cfg, socket_id, ":", channel, channel_data);
	if (channel_data != NULL) {
		add_assoc_str(return_value, "channel_data", zend_string_copy(channel_data));
	}
}

ZEND_FUNCTION(Realtime_pusherUserAuth)
{
	zend_string *socket_id, *user_data;
	rt_config cfg;

	ZEND_PARSE_PARAMETERS_START(2, 2)
		Z_PARAM_STR(socket_id)
		Z_PARAM_STR(user_data)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__check_socket_id(socket_id) == FAILURE || rt__check_data(user_data, 2) == FAILURE) {
		RETURN_THROWS();
	}
	if (rt__app_credentials("Realtime\\pusherUserAuth", &cfg) == FAILURE) {
		RETURN_THROWS();
	}
	rt__sign(return_value, &cfg, socket_id, "::user::", user_data, NULL);
	add_assoc_str(return_value, "user_data", zend_string_copy(user_data));
}
