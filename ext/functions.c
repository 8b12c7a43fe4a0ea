/* The PHP functions of the Realtime namespace (stubs/realtime.stub.php). */
#include "php.h"
#include "hub/util/hot.h"
#include "ext/json/php_json.h"
#include "zend_exceptions.h"
#include "zend_smart_str.h"

#include "php_realtime.h"
#include "ext/lifecycle.h"
#include "ext/hubs.h"
#include "hub/model/registry.h"
#include "hub/util/utf8.h"
#include "hub/model/identity.h"
#include "hub/proto/proto.h"
#include "hub/model/query.h"
#include "hub/model/token.h"
#include "hub/model/history_rules.h"
#include "hub/model/mercure_update.h"

#include <stdatomic.h>

#include "broker/redis.h"

#define RT_EVENT_MAX 200
#define RT_BROADCAST_CHANNELS_MAX 100

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
RT_HOT static zend_result rt__encode_message(smart_str *out, zval *message)
{
	int options = PHP_JSON_UNESCAPED_SLASHES | PHP_JSON_UNESCAPED_UNICODE
			| PHP_JSON_PRESERVE_ZERO_FRACTION;

	JSON_G(error_code) = PHP_JSON_ERROR_NONE;
	if (php_json_encode_ex(out, message, options, PHP_JSON_PARSER_DEFAULT_DEPTH) == FAILURE
			|| JSON_G(error_code) != PHP_JSON_ERROR_NONE) {
		/* An exception from jsonSerialize() is the caller's to see, as with json_encode(). */
		if (EG(exception) == NULL) {
			zend_throw_exception_ex(realtime_ce_exception, 0,
					"%s(): the message cannot be sent: %s", get_active_function_name(),
					rt__json_error(JSON_G(error_code)));
		}
		JSON_G(error_code) = PHP_JSON_ERROR_NONE;
		return FAILURE;
	}
	smart_str_0(out);
	return SUCCESS;
}

RT_HOT static zend_result rt__check_channel(const zend_string *channel, uint32_t arg)
{
	if (!rt_channel_name_valid(ZSTR_VAL(channel), ZSTR_LEN(channel))) {
		zend_argument_value_error(arg,
				"must be a channel name of 1 to %d characters from "
				"A-Z a-z 0-9 _ - = @ , . ; : # / ? & %% + ! $ ' ( ) [ ] ~",
				RT_CHANNEL_MAX);
		return FAILURE;
	}
	return SUCCESS;
}

RT_HOT static zend_result rt__check_event(const zend_string *event, uint32_t arg)
{
	if (event != NULL && (ZSTR_LEN(event) == 0 || ZSTR_LEN(event) > RT_EVENT_MAX
			|| !rt_utf8_valid((const uint8_t *) ZSTR_VAL(event), ZSTR_LEN(event)))) {
		zend_argument_value_error(arg, "must be null or 1 to %d bytes of valid UTF-8",
				RT_EVENT_MAX);
		return FAILURE;
	}
	return SUCCESS;
}

/* Messages of this process's PHP code that the broker refused: part of
 * dropped_broker_refused in status(). Not logged: the caller gets the
 * reason as an exception, which is the app's to log or handle. */
static _Atomic uint64_t rt__refused;

/* Hands a message to the broker; throws Realtime\Exception on failure.
 * The message is a view of the caller's bytes: a broker copies only what
 * it keeps, so a broadcast() into the shared ring allocates nothing. */
RT_HOT static zend_result rt__publish_at(const char *function, rt_msg_type type,
		const rt_msg_fields *f, rt_pos *positions);

RT_HOT static zend_result rt__publish(const char *function, rt_msg_type type, const rt_msg_fields *f)
{
	return rt__publish_at(function, type, f, NULL);
}

/* Counts as a mercure_publish() rather than a broadcast() in /metrics;
 * per thread, as PHP threads of a ZTS build publish at once. */
static _Thread_local bool rt__mercure_source;

/* positions: NULL, or f->channel_count of them (offset 0: none known). */
RT_HOT static zend_result rt__publish_at(const char *function, rt_msg_type type,
		const rt_msg_fields *f, rt_pos *positions)
{
	const rt_broker_ops *ops;
	char err[256];
	rt_broker *broker;
	rt_msg msg;
	int r = -ENOENT;
	rt_hub *hub;
	zend_long max_outbound;

	rt_msg_view(&msg, type, f);
	msg.born = rt_msg_now_us(); /* for realtime_delivery_latency_seconds */
	/* A message whose frame no client queue could hold is refused here:
	 * sent, it would close every subscriber as a slow consumer. The
	 * broker refuses what it cannot carry (realtime.pool_memory). */
	rt_lifecycle_enter();
	hub = rt_lifecycle_hub();
	max_outbound = hub != NULL ? (zend_long) rt_hub_config(hub)->max_outbound
			: zend_ini_long("realtime.max_outbound", sizeof("realtime.max_outbound") - 1, 0);
	if (max_outbound > 0 && max_outbound <= UINT32_MAX
			&& rt_proto_check_outbound(&msg, (uint32_t) max_outbound, err, sizeof(err)) != 0) {
		rt_lifecycle_leave();
		atomic_fetch_add_explicit(&rt__refused, 1, memory_order_relaxed);
		zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): %s", function, err);
		return FAILURE;
	}
	broker = rt_lifecycle_broker(&ops, err, sizeof(err));
	if (broker != NULL) {
		if (positions != NULL && ops->publish_at != NULL) {
			r = ops->publish_at(broker, &msg, positions, err, sizeof(err));
		} else {
			r = ops->publish(broker, &msg, err, sizeof(err));
		}
		if (r == 0) {
			if (hub != NULL && rt__mercure_source) {
				rt_hub_count_mercure_publish(hub);
			} else if (hub != NULL) {
				rt_hub_count_php_publish(hub);
			}
			rt_lifecycle_leave();
			return SUCCESS;
		}
	}
	rt_lifecycle_leave();
	if (r != -ENOBUFS) { /* a full hub queue counts in dropped_queue_full */
		atomic_fetch_add_explicit(&rt__refused, 1, memory_order_relaxed);
	}
	zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): %s", function, err);
	return FAILURE;
}

/* A user id as the hub keeps it: integers in decimal. */
static zend_result rt__user_id(zend_string *str, zend_long num, char *buf, size_t buflen,
		rt_str *out, uint32_t arg)
{
	if (str == NULL) {
		out->len = (size_t) snprintf(buf, buflen, ZEND_LONG_FMT, num);
		out->ptr = buf;
		return SUCCESS;
	}
	if (!rt_user_id_valid(ZSTR_VAL(str), ZSTR_LEN(str))) {
		zend_argument_value_error(arg,
				"must be 1 to %d bytes of UTF-8 without control characters", RT_USER_ID_MAX);
		return FAILURE;
	}
	out->ptr = ZSTR_VAL(str);
	out->len = ZSTR_LEN(str);
	return SUCCESS;
}

RT_HOT static rt_str rt__opt_str(const zend_string *s)
{
	rt_str r = {NULL, 0};

	if (s != NULL) {
		r.ptr = ZSTR_VAL(s);
		r.len = ZSTR_LEN(s);
	}
	return r;
}

/* Sends message with event to target (a user or a connection). */
static zend_result rt__send_direct(rt_msg_type type, const char *function, rt_str target,
		zval *message, zend_string *event)
{
	rt_msg_fields f = {0};
	smart_str data = {0};
	zend_result r;

	if (rt__check_event(event, 3) == FAILURE) {
		return FAILURE;
	}
	if (rt__encode_message(&data, message) == FAILURE) {
		smart_str_free(&data);
		return FAILURE;
	}
	f.target = target;
	f.event = rt__opt_str(event);
	f.data.ptr = ZSTR_VAL(data.s);
	f.data.len = ZSTR_LEN(data.s);
	r = rt__publish(function, type, &f);
	smart_str_free(&data);
	return r;
}

/* ["offset" => int, "epoch" => "<16 hex digits>"] */
static void rt__position_zval(zval *out, const rt_pos *pos)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long) pos->epoch);
	array_init_size(out, 2);
	add_assoc_long(out, "offset", (zend_long) pos->offset);
	add_assoc_string(out, "epoch", hex);
}

RT_HOT ZEND_FUNCTION(Realtime_broadcast)
{
	zend_string *channel = NULL, *event = NULL, *except = NULL;
	HashTable *channels = NULL;
	zval *message, *entry;
	smart_str data = {0};
	rt_msg_fields f = {0};
	rt_str one, *list = &one;
	rt_pos one_pos, *positions;
	uint32_t count = 0;
	zend_result r;

	ZEND_PARSE_PARAMETERS_START(2, 4)
		Z_PARAM_ARRAY_HT_OR_STR(channels, channel)
		Z_PARAM_ZVAL(message)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(event)
		Z_PARAM_STR_OR_NULL(except)
	ZEND_PARSE_PARAMETERS_END();

	if (channel != NULL) {
		if (rt__check_channel(channel, 1) == FAILURE) {
			RETURN_THROWS();
		}
		one.ptr = ZSTR_VAL(channel);
		one.len = ZSTR_LEN(channel);
		count = 1;
	} else {
		uint32_t n = zend_hash_num_elements(channels);
		if (n == 0 || n > RT_BROADCAST_CHANNELS_MAX) {
			zend_argument_value_error(1, "must name 1 to %d channels", RT_BROADCAST_CHANNELS_MAX);
			RETURN_THROWS();
		}
		list = emalloc(n * sizeof(*list));
		ZEND_HASH_FOREACH_VAL(channels, entry) {
			ZVAL_DEREF(entry);
			if (Z_TYPE_P(entry) != IS_STRING || rt__check_channel(Z_STR_P(entry), 1) == FAILURE) {
				if (!EG(exception)) {
					zend_argument_type_error(1, "must be a string or an array of strings");
				}
				efree(list);
				RETURN_THROWS();
			}
			/* A channel named twice is still one delivery per subscriber. */
			bool seen = false;
			for (uint32_t k = 0; k < count && !seen; k++) {
				seen = list[k].len == Z_STRLEN_P(entry)
						&& memcmp(list[k].ptr, Z_STRVAL_P(entry), list[k].len) == 0;
			}
			if (!seen) {
				list[count].ptr = Z_STRVAL_P(entry);
				list[count].len = Z_STRLEN_P(entry);
				count++;
			}
		} ZEND_HASH_FOREACH_END();
	}
	if (rt__check_event(event, 3) == FAILURE || rt__encode_message(&data, message) == FAILURE) {
		smart_str_free(&data);
		if (list != &one) {
			efree(list);
		}
		RETURN_THROWS();
	}
	f.channels = list;
	f.channel_count = count;
	f.event = rt__opt_str(event);
	f.exclude = rt__opt_str(except);
	f.data.ptr = ZSTR_VAL(data.s);
	f.data.len = ZSTR_LEN(data.s);
	positions = count <= 1 ? &one_pos : emalloc(count * sizeof(*positions));
	for (uint32_t i = 0; i < count; i++) {
		positions[i].offset = 0;
	}
	r = rt__publish_at("Realtime\\broadcast", RT_MSG_PUBLISH, &f, positions);
	smart_str_free(&data);
	if (r == SUCCESS) {
		/* One channel: its position or null; several: channel => position
		 * or null (docs/php-api.md). */
		if (channel != NULL) {
			if (positions[0].offset > 0) {
				rt__position_zval(return_value, &positions[0]);
			}
		} else {
			array_init_size(return_value, count);
			for (uint32_t i = 0; i < count; i++) {
				zval pos;
				if (positions[i].offset > 0) {
					rt__position_zval(&pos, &positions[i]);
				} else {
					ZVAL_NULL(&pos);
				}
				zend_hash_str_update(Z_ARRVAL_P(return_value), list[i].ptr, list[i].len, &pos);
			}
		}
	}
	if (positions != &one_pos) {
		efree(positions);
	}
	if (list != &one) {
		efree(list);
	}
	if (r == FAILURE) {
		RETURN_THROWS();
	}
}

/* Realtime\history(): the entries are copied out under the segment's lock
 * and turned into PHP values after it. */
typedef struct rt__history_out {
	zend_long limit;
	zend_long count;
	struct rt__history_item {
		rt_pos pos;
		char *bytes;
		size_t len;
	} *items;
} rt__history_out;

static void rt__history_take(void *ctx, const rt_pos *pos, const unsigned char *bytes, size_t len)
{
	rt__history_out *out = ctx;
	struct rt__history_item *it;

	if (out->count >= out->limit) {
		return;
	}
	/* malloc, not emalloc: this runs under the segment's lock, and must not
	 * bail out of it on a memory limit. */
	it = &out->items[out->count];
	it->bytes = malloc(len > 0 ? len : 1);
	if (it->bytes == NULL) {
		return;
	}
	memcpy(it->bytes, bytes, len);
	it->len = len;
	it->pos = *pos;
	out->count++;
}

static zend_result rt__parse_position(HashTable *ht, rt_pos *out, uint32_t arg)
{
	zval *offset = zend_hash_str_find_deref(ht, "offset", sizeof("offset") - 1);
	zval *epoch = zend_hash_str_find_deref(ht, "epoch", sizeof("epoch") - 1);

	if (offset == NULL || Z_TYPE_P(offset) != IS_LONG || Z_LVAL_P(offset) < 0
			|| epoch == NULL || Z_TYPE_P(epoch) != IS_STRING || Z_STRLEN_P(epoch) != 16) {
		zend_argument_value_error(arg, "must be null or [\"offset\" => int >= 0, \"epoch\" => "
				"string of 16 hex digits]");
		return FAILURE;
	}
	out->epoch = 0;
	for (int i = 0; i < 16; i++) {
		char c = Z_STRVAL_P(epoch)[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0) {
			zend_argument_value_error(arg, "must have an \"epoch\" of 16 hex digits");
			return FAILURE;
		}
		out->epoch = out->epoch << 4 | (uint64_t) d;
	}
	out->offset = (uint64_t) Z_LVAL_P(offset);
	return SUCCESS;
}

ZEND_FUNCTION(Realtime_history)
{
	zend_string *channel;
	zend_long limit = 100;
	HashTable *since_ht = NULL;
	rt_pos since, top;
	rt__history_out out = {0};
	const rt_broker_ops *ops;
	rt_broker *broker;
	char err[300];
	int r = -ENOTSUP;

	ZEND_PARSE_PARAMETERS_START(1, 3)
		Z_PARAM_STR(channel)
		Z_PARAM_OPTIONAL
		Z_PARAM_LONG(limit)
		Z_PARAM_ARRAY_HT_OR_NULL(since_ht)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__check_channel(channel, 1) == FAILURE) {
		RETURN_THROWS();
	}
	if (limit < 1 || limit > RT_HISTORY_MAX_MESSAGES) {
		zend_argument_value_error(2, "must be from 1 to %u", RT_HISTORY_MAX_MESSAGES);
		RETURN_THROWS();
	}
	if (since_ht != NULL && rt__parse_position(since_ht, &since, 3) == FAILURE) {
		RETURN_THROWS();
	}
	out.limit = limit;
	out.items = ecalloc((size_t) limit, sizeof(*out.items));
	rt_lifecycle_enter();
	broker = rt_lifecycle_broker(&ops, err, sizeof(err));
	if (broker != NULL && ops->history == NULL) {
		snprintf(err, sizeof(err), "the %s broker keeps no history yet", ops->name);
	}
	if (broker != NULL && ops->history != NULL) {
		/* With since, everything after it must still be there: ask for as
		 * many as the channel keeps and hand over the first `limit`. */
		r = ops->history(broker, ZSTR_VAL(channel), ZSTR_LEN(channel),
				since_ht != NULL ? &since : NULL,
				since_ht != NULL ? RT_HISTORY_MAX_MESSAGES : (uint32_t) limit,
				rt__history_take, &out, &top, err, sizeof(err));
	}
	rt_lifecycle_leave();
	if (r == 0) {
		snprintf(err, sizeof(err), "the history of %s no longer holds everything after offset "
				"%llu of epoch %016llx (trimmed, or lost: now at offset %llu of epoch %016llx); "
				"refetch the state", ZSTR_VAL(channel), (unsigned long long) since.offset,
				(unsigned long long) since.epoch, (unsigned long long) top.offset,
				(unsigned long long) top.epoch);
	}
	if (r == 1) {
		array_init_size(return_value, (uint32_t) out.count);
	}
	for (zend_long i = 0; i < out.count; i++) {
		rt_msg *msg = rt_msg_decode(out.items[i].bytes, out.items[i].len);
		zval item, data;
		if (r == 1 && msg != NULL && msg->channel_count == 1) {
			array_init_size(&item, 4);
			add_assoc_long(&item, "offset", (zend_long) out.items[i].pos.offset);
			{
				char hex[17];
				snprintf(hex, sizeof(hex), "%016llx", (unsigned long long) out.items[i].pos.epoch);
				add_assoc_string(&item, "epoch", hex);
			}
			if (msg->event.ptr != NULL) {
				add_assoc_stringl(&item, "event", msg->event.ptr, msg->event.len);
			} else {
				add_assoc_null(&item, "event");
			}
			if (php_json_decode_ex(&data, msg->data.ptr, msg->data.len,
					PHP_JSON_OBJECT_AS_ARRAY, PHP_JSON_PARSER_DEFAULT_DEPTH) == FAILURE) {
				ZVAL_STRINGL(&data, msg->data.ptr, msg->data.len);
			}
			add_assoc_zval(&item, "data", &data);
			add_next_index_zval(return_value, &item);
		}
		rt_msg_free(msg);
		free(out.items[i].bytes);
	}
	efree(out.items);
	if (r != 1) {
		zend_throw_exception_ex(realtime_ce_exception, 0, "Realtime\\history(): %s", err);
		RETURN_THROWS();
	}
}

ZEND_FUNCTION(Realtime_broadcastToUser)
{
	zend_string *user_str = NULL, *event = NULL;
	zend_long user_num = 0;
	zval *message;
	char buf[32];
	rt_str user;

	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_STR_OR_LONG(user_str, user_num)
		Z_PARAM_ZVAL(message)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(event)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__user_id(user_str, user_num, buf, sizeof(buf), &user, 1) == FAILURE) {
		RETURN_THROWS();
	}
	if (rt__send_direct(RT_MSG_TO_USER, "Realtime\\broadcastToUser", user, message,
			event) == FAILURE) {
		RETURN_THROWS();
	}
}

ZEND_FUNCTION(Realtime_send)
{
	zend_string *connection, *event = NULL;
	zval *message;

	ZEND_PARSE_PARAMETERS_START(2, 3)
		Z_PARAM_STR(connection)
		Z_PARAM_ZVAL(message)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR_OR_NULL(event)
	ZEND_PARSE_PARAMETERS_END();

	if (ZSTR_LEN(connection) == 0 || ZSTR_LEN(connection) > 64) {
		zend_argument_value_error(1, "must be a connection id");
		RETURN_THROWS();
	}
	if (rt__send_direct(RT_MSG_TO_CONNECTION, "Realtime\\send", rt__opt_str(connection),
			message, event) == FAILURE) {
		RETURN_THROWS();
	}
}

ZEND_FUNCTION(Realtime_disconnectUser)
{
	zend_string *user_str = NULL;
	zend_long user_num = 0;
	rt_msg_fields f = {0};
	char buf[32];

	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR_OR_LONG(user_str, user_num)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__user_id(user_str, user_num, buf, sizeof(buf), &f.target, 1) == FAILURE) {
		RETURN_THROWS();
	}
	if (rt__publish("Realtime\\disconnectUser", RT_MSG_DISCONNECT_USER, &f) == FAILURE) {
		RETURN_THROWS();
	}
}

/* Asks this process's hub and decodes its JSON answer into return_value. */
static void rt__ask(zval *return_value, const char *function, rt_query_kind kind,
		const zend_string *subject)
{
	rt_hub *hub;
	rt_msg_fields f = {0};
	rt_query *q;
	rt_msg *msg;
	uint32_t timeout;
	int r;

	/* The hub is needed only to post: the answer comes through q, which
	 * counts its own references. */
	rt_lifecycle_enter();
	hub = rt_lifecycle_hub();
	if (hub == NULL) {
		rt_lifecycle_leave();
		zend_throw_exception_ex(realtime_ce_exception, 0,
				"%s(): no hub is running in this process", function);
		return;
	}
	timeout = rt_hub_config(hub)->query_timeout;
	q = rt_query_new(kind, subject ? ZSTR_VAL(subject) : NULL, subject ? ZSTR_LEN(subject) : 0);
	if (q == NULL) {
		rt_lifecycle_leave();
		zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): out of memory", function);
		return;
	}
	rt_query_retain(q); /* one reference travels with the message */
	f.query = q;
	msg = rt_msg_new(RT_MSG_QUERY, &f);
	if (msg == NULL) {
		rt_lifecycle_leave();
		rt_query_release(q);
		rt_query_release(q);
		zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): out of memory", function);
		return;
	}
	r = rt_hub_post(hub, msg);
	rt_lifecycle_leave();
	if (r != 0) {
		rt_query_release(q);
		zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): the hub is shutting down",
				function);
		return;
	}
	r = rt_query_wait(q, timeout);
	if (r != 0 || q->answer == NULL) {
		zend_throw_exception_ex(realtime_ce_exception, 0,
				"%s(): the hub did not answer within %u ms (realtime.query_timeout)", function,
				timeout);
	} else if (php_json_decode_ex(return_value, q->answer, q->answer_len,
			PHP_JSON_OBJECT_AS_ARRAY, PHP_JSON_PARSER_DEFAULT_DEPTH) == FAILURE) {
		zend_throw_exception_ex(realtime_ce_exception, 0, "%s(): unreadable answer", function);
	}
	rt_query_release(q);
}

ZEND_FUNCTION(Realtime_getChannelUsers)
{
	zend_string *channel;

	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(channel)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__check_channel(channel, 1) == FAILURE) {
		RETURN_THROWS();
	}
	rt__ask(return_value, "Realtime\\getChannelUsers", RT_QUERY_CHANNEL_USERS, channel);
}

ZEND_FUNCTION(Realtime_getChannels)
{
	ZEND_PARSE_PARAMETERS_NONE();

	rt__ask(return_value, "Realtime\\getChannels", RT_QUERY_CHANNELS, NULL);
	/* An empty JSON object decodes to an empty array already. */
}

ZEND_FUNCTION(Realtime_getConnectionCount)
{
	ZEND_PARSE_PARAMETERS_NONE();

	rt__ask(return_value, "Realtime\\getConnectionCount", RT_QUERY_CONNECTIONS, NULL);
}

ZEND_FUNCTION(Realtime_getSubscriberCount)
{
	zend_string *channel;

	ZEND_PARSE_PARAMETERS_START(1, 1)
		Z_PARAM_STR(channel)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__check_channel(channel, 1) == FAILURE) {
		RETURN_THROWS();
	}
	rt__ask(return_value, "Realtime\\getSubscriberCount", RT_QUERY_CONNECTIONS, channel);
}

/* Validates the options of Realtime\token() into the payload array. */
static zend_result rt__token_options(HashTable *options, zval *payload, zend_long *ttl)
{
	zend_string *key;
	zval *v;

	ZEND_HASH_FOREACH_STR_KEY_VAL(options, key, v) {
		ZVAL_DEREF(v);
		if (key == NULL) {
			zend_argument_value_error(2, "must have string keys (ttl, info, channels)");
			return FAILURE;
		}
		if (zend_string_equals_literal(key, "ttl")) {
			if (Z_TYPE_P(v) != IS_LONG || Z_LVAL_P(v) < 1 || Z_LVAL_P(v) > 31536000) {
				zend_argument_value_error(2, "option \"ttl\" must be seconds from 1 to 31536000");
				return FAILURE;
			}
			*ttl = Z_LVAL_P(v);
		} else if (zend_string_equals_literal(key, "info")) {
			smart_str info = {0};
			zend_long max = zend_ini_long("realtime.max_user_info",
					sizeof("realtime.max_user_info") - 1, 0);
			if (rt__encode_message(&info, v) == FAILURE) {
				smart_str_free(&info);
				return FAILURE;
			}
			if ((zend_long) ZSTR_LEN(info.s) > max) {
				zend_argument_value_error(2, "option \"info\" is %zu bytes as JSON, more than realtime.max_user_info (" ZEND_LONG_FMT ")",
						ZSTR_LEN(info.s), max);
				smart_str_free(&info);
				return FAILURE;
			}
			smart_str_free(&info);
			Z_TRY_ADDREF_P(v);
			add_assoc_zval(payload, "info", v);
		} else if (zend_string_equals_literal(key, "channels")) {
			zval *c;
			if (Z_TYPE_P(v) != IS_ARRAY || zend_hash_num_elements(Z_ARRVAL_P(v)) > RT_PATTERNS_MAX
					|| !zend_array_is_list(Z_ARRVAL_P(v))) {
				zend_argument_value_error(2, "option \"channels\" must be a list of at most %d channel names or patterns",
						RT_PATTERNS_MAX);
				return FAILURE;
			}
			ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(v), c) {
				ZVAL_DEREF(c);
				if (Z_TYPE_P(c) != IS_STRING || Z_STRLEN_P(c) == 0 || Z_STRLEN_P(c) > RT_CHANNEL_MAX) {
					zend_argument_value_error(2, "option \"channels\" must hold channel names or patterns such as \"private-chat.*\"");
					return FAILURE;
				}
			} ZEND_HASH_FOREACH_END();
			Z_TRY_ADDREF_P(v);
			add_assoc_zval(payload, "channels", v);
		} else {
			zend_argument_value_error(2, "has an unknown option \"%s\" (expected ttl, info, channels)",
					ZSTR_VAL(key));
			return FAILURE;
		}
	} ZEND_HASH_FOREACH_END();
	return SUCCESS;
}

ZEND_FUNCTION(Realtime_token)
{
	zend_string *user_str = NULL;
	zend_long user_num = 0, ttl = 3600;
	HashTable *options = NULL;
	const char *secret;
	char buf[32], *token;
	rt_str user;
	zval payload;
	smart_str json = {0};

	ZEND_PARSE_PARAMETERS_START(1, 2)
		Z_PARAM_STR_OR_LONG(user_str, user_num)
		Z_PARAM_OPTIONAL
		Z_PARAM_ARRAY_HT(options)
	ZEND_PARSE_PARAMETERS_END();

	if (rt__user_id(user_str, user_num, buf, sizeof(buf), &user, 1) == FAILURE) {
		RETURN_THROWS();
	}
	secret = zend_ini_string("realtime.secret", sizeof("realtime.secret") - 1, 0);
	if (secret == NULL || *secret == '\0') {
		zend_throw_exception(realtime_ce_exception,
				"Realtime\\token(): realtime.secret is not set, so tokens cannot be signed", 0);
		RETURN_THROWS();
	}
	array_init(&payload);
	add_assoc_stringl(&payload, "uid", user.ptr, user.len);
	if (options != NULL && rt__token_options(options, &payload, &ttl) == FAILURE) {
		zval_ptr_dtor(&payload);
		RETURN_THROWS();
	}
	add_assoc_long(&payload, "exp", (zend_long) time(NULL) + ttl);
	if (rt__encode_message(&json, &payload) == FAILURE) {
		zval_ptr_dtor(&payload);
		smart_str_free(&json);
		RETURN_THROWS();
	}
	zval_ptr_dtor(&payload);
	token = rt_token_sign(secret, strlen(secret), ZSTR_VAL(json.s), ZSTR_LEN(json.s));
	smart_str_free(&json);
	if (token == NULL) {
		zend_throw_exception(realtime_ce_exception, "Realtime\\token(): out of memory", 0);
		RETURN_THROWS();
	}
	RETVAL_STRING(token);
	free(token);
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
	rt_broker_stats publishes = {0};
	int has_broker_stats = 0;
	const rt_broker_ops *ops = NULL;
	rt_broker *broker;
	rt_config cfg;
	char err[256], listen[128], last_error[256];
	const char *broker_name = NULL;

	ZEND_PARSE_PARAMETERS_NONE();

	rt_lifecycle_enter();
	hub = rt_lifecycle_hub();
	/* Every process has a broker to ask, a CLI script too (publish_path,
	 * publish_wakeups, publish_batched). */
	broker = rt_lifecycle_broker(&ops, err, sizeof(err));
	if (broker != NULL && ops->stats != NULL) {
		ops->stats(broker, &publishes);
		has_broker_stats = hub != NULL;
	}
	if (broker != NULL) {
		broker_name = ops->name;
	}
	if (hub != NULL) {
		rt_hub_stats_get(hub, &stats);
		cfg = *rt_hub_config(hub);
	}
	rt_lifecycle_leave();
	if (hub == NULL && rt_lifecycle_read_config(&cfg, err, sizeof(err)) != 0) {
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
	add_assoc_long(return_value, "sse_connections", (zend_long) stats.sse_connections);
	add_assoc_long(return_value, "sse_bad_last_event_id", (zend_long) stats.sse_bad_last_event_id);
	add_assoc_long(return_value, "longpoll_sessions", (zend_long) stats.longpoll_sessions);
	add_assoc_long(return_value, "longpoll_dropped", (zend_long) stats.longpoll_dropped);
	{
		/* This process's, kept after its hub stopped (hub/handoff.h). */
		uint64_t handed_off, taken_over, handoff_closed;
		rt_hub_handoff_totals(&handed_off, &taken_over, &handoff_closed);
		add_assoc_long(return_value, "handed_off", (zend_long) handed_off);
		add_assoc_long(return_value, "taken_over", (zend_long) taken_over);
		add_assoc_long(return_value, "handoff_closed", (zend_long) handoff_closed);
	}
	for (int k = 0; k < RT_REFUSE_COUNT; k++) {
		add_assoc_long(return_value, rt_refusal_names[k], (zend_long) stats.refused[k]);
	}
	add_assoc_long(return_value, "unauthorized", (zend_long) stats.unauthorized);
	add_assoc_long(return_value, "broker_lost_bytes", (zend_long) stats.broker_lost_bytes);
	add_assoc_long(return_value, "closed_for_restart", (zend_long) stats.closed_for_restart);
	add_assoc_long(return_value, "publish_wakeups", (zend_long) publishes.woke);
	add_assoc_long(return_value, "publish_batched", (zend_long) publishes.batched);
	/* Every way a message can be lost, counted (docs/php-api.md). */
	add_assoc_long(return_value, "dropped_ring_overrun", (zend_long) publishes.dropped_ring_overrun);
	add_assoc_long(return_value, "dropped_queue_full",
			(zend_long) (stats.dropped_queue_full + publishes.dropped_queue_full));
	add_assoc_long(return_value, "dropped_broker_refused", (zend_long) (stats.dropped_broker_refused
			+ atomic_load_explicit(&rt__refused, memory_order_relaxed)));
	add_assoc_long(return_value, "dropped_undecodable", (zend_long) publishes.dropped_undecodable);
	/* What the history lost before its limits (docs/php-api.md, history()). */
	add_assoc_long(return_value, "history_evicted_messages",
			(zend_long) publishes.history_evicted_messages);
	add_assoc_long(return_value, "history_evicted_channels",
			(zend_long) publishes.history_evicted_channels);
	add_assoc_long(return_value, "history_resets", (zend_long) publishes.history_resets);
	add_assoc_long(return_value, "redis_local_only", (zend_long) publishes.redis_local_only);
	add_assoc_long(return_value, "redis_unconfirmed", (zend_long) publishes.redis_unconfirmed);
	add_assoc_long(return_value, "broker_outages", (zend_long) publishes.broker_outages);
	/* The redis broker's hand-off of this process's publishes (docs/redis.md). */
	add_assoc_long(return_value, "redis_publish_handed", (zend_long) publishes.redis_publish_handed);
	add_assoc_long(return_value, "redis_publish_failed", (zend_long) publishes.redis_publish_failed);
	add_assoc_long(return_value, "redis_publish_dropped",
			(zend_long) publishes.redis_publish_dropped);
	add_assoc_long(return_value, "redis_publish_waiting",
			(zend_long) publishes.redis_publish_waiting);
	if (has_broker_stats && publishes.broker_connected >= 0) {
		add_assoc_bool(return_value, "broker_connected", publishes.broker_connected != 0);
	} else {
		add_assoc_null(return_value, "broker_connected");
	}
	/* How this process's broadcast() travels (docs/php-api.md). */
	add_assoc_string(return_value, "publish_path", publishes.publish_path ? publishes.publish_path
			: hub != NULL ? "hub" : broker_name != NULL ? broker_name : "http");
	rt_hubs_add_status(return_value);
	if (hub == NULL && rt_lifecycle_last_error(last_error, sizeof(last_error))) {
		add_assoc_string(return_value, "error", last_error);
	} else {
		add_assoc_null(return_value, "error");
	}
}

/* broadcast() with the redis broker's confirmation on for its publishes:
 * the same arguments, checks and errors. */
ZEND_FUNCTION(Realtime_broadcastConfirmed)
{
	rt_broker_redis_confirm(1);
	ZEND_FN(Realtime_broadcast)(INTERNAL_FUNCTION_PARAM_PASSTHRU);
	rt_broker_redis_confirm(0);
	if (!EG(exception)) {
		/* true unless the broker gave a position (broadcast()'s null, or a
		 * list of nulls, where it knows none). */
		zval *pos;
		if (Z_TYPE_P(return_value) == IS_ARRAY) {
			ZEND_HASH_FOREACH_VAL(Z_ARRVAL_P(return_value), pos) {
				if (Z_TYPE_P(pos) != IS_NULL) {
					return;
				}
			} ZEND_HASH_FOREACH_END();
			zval_ptr_dtor(return_value);
		}
		RETVAL_TRUE;
	}
}

/* FrankenPHP's mercure_publish() (symfony/mercure's FrankenPhpHub calls it):
 * an update published in this process, with no HTTP request and no JWT,
 * through the broker like Realtime\broadcast(). Returns the update's id.
 * Defined by rt_mercure_function_register (realtime.mercure_function). */
static ZEND_FUNCTION(mercure_publish)
{
	zend_string *topic = NULL, *data = NULL, *id = NULL, *type = NULL;
	HashTable *topics = NULL;
	bool is_private = false, retry_null = true;
	zend_long retry = 0;
	rt_str one, *list = &one;
	uint32_t count = 0;
	rt_mercure_input in = {0};
	rt_msg_fields f = {0};
	char err[256], update_id[RT_MERCURE_ID_MAX + 1];
	rt_msg *msg = NULL;
	zval *entry;
	zend_result r;

	ZEND_PARSE_PARAMETERS_START(1, 6)
		Z_PARAM_ARRAY_HT_OR_STR(topics, topic)
		Z_PARAM_OPTIONAL
		Z_PARAM_STR(data)
		Z_PARAM_BOOL(is_private)
		Z_PARAM_STR_OR_NULL(id)
		Z_PARAM_STR_OR_NULL(type)
		Z_PARAM_LONG_OR_NULL(retry, retry_null)
	ZEND_PARSE_PARAMETERS_END();

	if (topic != NULL) {
		one.ptr = ZSTR_VAL(topic);
		one.len = ZSTR_LEN(topic);
		count = 1;
	} else {
		uint32_t n = zend_hash_num_elements(topics);
		if (n == 0 || n > RT_BROADCAST_CHANNELS_MAX) {
			zend_argument_value_error(1, "must name 1 to %d topics", RT_BROADCAST_CHANNELS_MAX);
			RETURN_THROWS();
		}
		list = emalloc(n * sizeof(*list));
		ZEND_HASH_FOREACH_VAL(topics, entry) {
			ZVAL_DEREF(entry);
			if (Z_TYPE_P(entry) != IS_STRING) {
				efree(list);
				zend_argument_type_error(1, "must be a string or an array of strings");
				RETURN_THROWS();
			}
			list[count].ptr = Z_STRVAL_P(entry);
			list[count].len = Z_STRLEN_P(entry);
			count++;
		} ZEND_HASH_FOREACH_END();
	}
	in.topics = list;
	in.topic_count = count;
	in.data.ptr = data != NULL ? ZSTR_VAL(data) : "";
	in.data.len = data != NULL ? ZSTR_LEN(data) : 0;
	in.is_private = is_private;
	in.id.ptr = id != NULL && ZSTR_LEN(id) > 0 ? ZSTR_VAL(id) : NULL;
	in.id.len = id != NULL ? ZSTR_LEN(id) : 0;
	in.type.ptr = type != NULL && ZSTR_LEN(type) > 0 ? ZSTR_VAL(type) : NULL;
	in.type.len = type != NULL ? ZSTR_LEN(type) : 0;
	in.retry = retry_null ? -1 : retry;
	if (!retry_null && (retry < 0 || retry > RT_MERCURE_RETRY_MAX)) {
		zend_argument_value_error(6, "must be null or milliseconds from 0 to 2147483647");
		goto fail;
	}
	switch (rt_mercure_update_new(&in, &msg, update_id, err, sizeof(err))) {
	case 0:
		break;
	case -EINVAL:
		zend_value_error("mercure_publish(): %s", err);
		goto fail;
	default:
		zend_throw_exception_ex(realtime_ce_exception, 0, "mercure_publish(): %s", err);
		goto fail;
	}
	f.channels = msg->channels;
	f.channel_count = msg->channel_count;
	f.event = msg->event;
	f.data = msg->data;
	f.target = msg->target;
	rt__mercure_source = true;
	r = rt__publish_at("mercure_publish", RT_MSG_PUBLISH, &f, NULL);
	rt__mercure_source = false;
	rt_msg_free(msg);
	if (list != &one) {
		efree(list);
	}
	if (r == FAILURE) {
		RETURN_THROWS();
	}
	RETURN_STRING(update_id);
fail:
	if (list != &one) {
		efree(list);
	}
	RETURN_THROWS();
}

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(rt__arginfo_mercure_publish, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_MASK(0, topics, MAY_BE_STRING|MAY_BE_ARRAY, NULL)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, data, IS_STRING, 0, "\'\'")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, private, _IS_BOOL, 0, "false")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, id, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, type, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, retry, IS_LONG, 1, "null")
ZEND_END_ARG_INFO()

static const zend_function_entry rt__mercure_functions[] = {
	ZEND_RAW_FENTRY("mercure_publish", ZEND_FN(mercure_publish), rt__arginfo_mercure_publish, 0)
	ZEND_FE_END
};

zend_result rt_mercure_function_register(void)
{
	if (!zend_ini_long("realtime.mercure_function", sizeof("realtime.mercure_function") - 1, 0)
			|| zend_hash_str_exists(CG(function_table), "mercure_publish",
					sizeof("mercure_publish") - 1)) {
		return SUCCESS; /* off, or FrankenPHP (or another) has one: theirs stays */
	}
	return zend_register_functions(NULL, rt__mercure_functions, NULL, MODULE_PERSISTENT);
}
