/* The PHP functions of the Realtime namespace (stubs/realtime.stub.php). */
#include "php.h"
#include "ext/json/php_json.h"
#include "zend_exceptions.h"
#include "zend_smart_str.h"

#include "php_realtime.h"
#include "ext/lifecycle.h"
#include "hub/channel.h"
#include "hub/frame.h"

#define RT_EVENT_MAX 200

static const char *rt__json_error(php_json_error_code code)
{
	switch (code) {
	case PHP_JSON_ERROR_DEPTH: return "maximum depth exceeded";
	case PHP_JSON_ERROR_UTF8: return "malformed UTF-8 (a string must be valid UTF-8)";
	case PHP_JSON_ERROR_RECURSION: return "recursive references";
	case PHP_JSON_ERROR_INF_OR_NAN: return "INF and NAN cannot be encoded";
	case PHP_JSON_ERROR_UNSUPPORTED_TYPE: return "a resource or other unsupported type";
	case PHP_JSON_ERROR_INVALID_PROPERTY_NAME: return "a property name starting with \\0";
	case PHP_JSON_ERROR_NON_BACKED_ENUM: return "a non-backed enum";
	default: return "it cannot be encoded as JSON";
	}
}

/* JSON text of a message: a string stays the same string, everything
 * else is JSON-encoded. */
static zend_result rt__encode_message(smart_str *out, zval *message)
{
	int options = PHP_JSON_UNESCAPED_SLASHES | PHP_JSON_UNESCAPED_UNICODE
			| PHP_JSON_PRESERVE_ZERO_FRACTION;

	JSON_G(error_code) = PHP_JSON_ERROR_NONE;
	if (php_json_encode_ex(out, message, options, PHP_JSON_PARSER_DEFAULT_DEPTH) == FAILURE
			|| JSON_G(error_code) != PHP_JSON_ERROR_NONE) {
		zend_throw_exception_ex(realtime_ce_exception, 0,
				"Realtime\\broadcast(): the message cannot be sent: %s",
				rt__json_error(JSON_G(error_code)));
		JSON_G(error_code) = PHP_JSON_ERROR_NONE;
		return FAILURE;
	}
	smart_str_0(out);
	return SUCCESS;
}

static zend_result rt__check_channel(const zend_string *channel, uint32_t arg)
{
	if (!rt_channel_name_valid(ZSTR_VAL(channel), ZSTR_LEN(channel))) {
		zend_argument_value_error(arg,
				"must be a channel name of 1 to %d characters from A-Z a-z 0-9 _ - = @ , . ; : #",
				RT_CHANNEL_MAX);
		return FAILURE;
	}
	return SUCCESS;
}

static zend_result rt__check_event(const zend_string *event, uint32_t arg)
{
	if (event != NULL && (ZSTR_LEN(event) == 0 || ZSTR_LEN(event) > RT_EVENT_MAX
			|| !rt_utf8_valid((const uint8_t *) ZSTR_VAL(event), ZSTR_LEN(event)))) {
		zend_argument_value_error(arg, "must be null or 1 to %d bytes of valid UTF-8",
				RT_EVENT_MAX);
		return FAILURE;
	}
	return SUCCESS;
}

/* Hands a message to the broker; throws Realtime\Exception on failure. */
static zend_result rt__publish(const char *function, rt_msg *msg)
{
	const rt_broker_ops *ops;
	char err[256];
	rt_broker *broker = rt_lifecycle_broker(&ops, err, sizeof(err));

	if (broker == NULL) {
		rt_msg_free(msg);
	} else if (ops->publish(broker, msg, err, sizeof(err)) == 0) {
		return SUCCESS;
	}
	zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): %s", function, err);
	return FAILURE;
}

ZEND_FUNCTION(Realtime_broadcast)
{
	zend_string *channel, *event = NULL;
	zval *message;
	smart_str data = {0};
	rt_str ch, ev = {NULL, 0}, none = {NULL, 0}, payload;
	rt_msg *msg;

	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_STR(channel)
		Z_PARAM_ZVAL(message)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(event)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__check_channel(channel, 1) == FAILURE || rt__check_event(event, 3) == FAILURE) {
		RETURN_THROWS();
	}
	if (rt__encode_message(&data, message) == FAILURE) {
		smart_str_free(&data);
		RETURN_THROWS();
	}
	ch.ptr = ZSTR_VAL(channel);
	ch.len = ZSTR_LEN(channel);
	if (event != NULL) {
		ev.ptr = ZSTR_VAL(event);
		ev.len = ZSTR_LEN(event);
	}
	payload.ptr = ZSTR_VAL(data.s);
	payload.len = ZSTR_LEN(data.s);
	msg = rt_msg_new(RT_MSG_PUBLISH, &ch, 1, ev, payload, none);
	smart_str_free(&data);
	if (msg == NULL) {
		zend_throw_exception(realtime_ce_exception, "Realtime\\broadcast(): out of memory", 0);
		RETURN_THROWS();
	}
	if (rt__publish("Realtime\\broadcast", msg) == FAILURE) {
		RETURN_THROWS();
	}
}

ZEND_FUNCTION(Realtime_start)
{
	char err[256];

	ZEND_PARSE_PARAMETERS_NONE();

	if (rt_lifecycle_start(err, sizeof(err)) != 0) {
		zend_throw_exception_ex(realtime_ce_exception, 0, "Realtime\\start(): %s", err);
		RETURN_THROWS();
	}
	RETURN_TRUE;
}

ZEND_FUNCTION(Realtime_stop)
{
	ZEND_PARSE_PARAMETERS_NONE();

	RETURN_BOOL(rt_lifecycle_stop());
}

ZEND_FUNCTION(Realtime_status)
{
	rt_hub *hub;
	rt_hub_stats stats = {0};
	rt_config cfg;
	char err[256], listen[128];
	const char *last_error;

	ZEND_PARSE_PARAMETERS_NONE();

	hub = rt_lifecycle_hub();
	if (hub != NULL) {
		rt_hub_stats_get(hub, &stats);
		cfg = *rt_hub_config(hub);
	} else if (rt_lifecycle_read_config(&cfg, err, sizeof(err)) != 0) {
		rt_config_defaults(&cfg);
	}
	snprintf(listen, sizeof(listen), strchr(cfg.host, ':') ? "[%s]:%d" : "%s:%d",
			cfg.host, cfg.port);
	array_init(return_value);
	add_assoc_bool(return_value, "running", hub != NULL);
	add_assoc_long(return_value, "pid", (zend_long) getpid());
	add_assoc_string(return_value, "listen", listen);
	add_assoc_string(return_value, "path", cfg.path);
	add_assoc_string(return_value, "broker", cfg.broker);
	add_assoc_long(return_value, "node_id", (zend_long) stats.node_id);
	add_assoc_long(return_value, "connections", (zend_long) stats.connections);
	add_assoc_long(return_value, "channels", (zend_long) stats.channels);
	add_assoc_long(return_value, "messages_published", (zend_long) stats.messages_published);
	add_assoc_long(return_value, "frames_delivered", (zend_long) stats.frames_delivered);
	add_assoc_long(return_value, "slow_consumers", (zend_long) stats.slow_consumers);
	last_error = rt_lifecycle_last_error();
	if (hub == NULL && last_error != NULL) {
		add_assoc_string(return_value, "error", last_error);
	} else {
		add_assoc_null(return_value, "error");
	}
}
