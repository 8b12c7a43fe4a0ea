#include "hub/model/identity.h"
#include "hub/util/text.h"
#include "hub/util/utf8.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rt_channel_is_presence(const char *name, size_t len)
{
	return rt_has_prefix(name, len, "presence-");
}

int rt_channel_is_private(const char *name, size_t len)
{
	return rt_has_prefix(name, len, "private-") || rt_channel_is_presence(name, len);
}

int rt_user_id_valid(const char *id, size_t len)
{
	if (len == 0 || len > RT_USER_ID_MAX) {
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char) id[i] < 0x20 || id[i] == 0x7f) {
			return 0;
		}
	}
	return rt_utf8_valid((const uint8_t *) id, len);
}

int rt_pattern_match(const char *p, const char *s, size_t len)
{
	const char *star = NULL, *end = s + len, *resume = NULL;

	/* Iterative glob: on a mismatch, let the last '*' swallow one more character. */
	while (s < end) {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p != '\0' && *p == *s) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*p == '*') {
		p++;
	}
	return *p == '\0';
}

int rt_identity_may_join(const rt_identity *id, const char *channel, size_t len)
{
	if (!rt_channel_is_private(channel, len)) {
		return 1;
	}
	if (id == NULL) {
		return 0;
	}
	for (size_t i = 0; i < id->pattern_count; i++) {
		if (rt_pattern_match(id->patterns[i], channel, len)) {
			return 1;
		}
	}
	return 0;
}

void rt_identity_free(rt_identity *id)
{
	if (id == NULL) {
		return;
	}
	for (size_t i = 0; i < id->pattern_count; i++) {
		free(id->patterns[i]);
	}
	free(id->patterns);
	free(id->user_id);
	free(id->user_info);
	free(id);
}

rt_identity *rt_identity_dup_user(const rt_identity *src)
{
	rt_identity *id = calloc(1, sizeof(*id));

	if (id == NULL || (id->user_id = strndup(src->user_id, src->user_id_len)) == NULL) {
		free(id);
		return NULL;
	}
	id->user_id_len = src->user_id_len;
	if (src->user_info != NULL) {
		id->user_info = strndup(src->user_info, src->user_info_len);
		if (id->user_info == NULL) {
			rt_identity_free(id);
			return NULL;
		}
		id->user_info_len = src->user_info_len;
	}
	return id;
}

rt_identity *rt_identity_from_json(const json_t *user_id, const json_t *info,
		const json_t *channels, size_t max_info, char *err, size_t errlen)
{
	rt_identity *id = calloc(1, sizeof(*id));
	char num[32];
	const char *uid;
	size_t uid_len;

	if (id == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (json_is_integer(user_id)) {
		uid_len = (size_t) snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				json_integer_value(user_id));
		uid = num;
	} else if (json_is_string(user_id)) {
		uid = json_string_value(user_id);
		uid_len = json_string_length(user_id);
	} else {
		snprintf(err, errlen, "user id missing (a string or an integer)");
		goto fail;
	}
	if (!rt_user_id_valid(uid, uid_len)) {
		snprintf(err, errlen, "user id must be 1 to %d bytes of UTF-8 without control characters",
				RT_USER_ID_MAX);
		goto fail;
	}
	id->user_id = strndup(uid, uid_len);
	id->user_id_len = uid_len;
	if (info != NULL && !json_is_null(info)) {
		id->user_info = json_dumps(info, JSON_COMPACT | JSON_ENCODE_ANY);
		if (id->user_info == NULL) {
			snprintf(err, errlen, "user info cannot be encoded");
			goto fail;
		}
		id->user_info_len = strlen(id->user_info);
		if (id->user_info_len > max_info) {
			snprintf(err, errlen, "user info is %zu bytes, more than realtime.max_user_info (%zu)",
					id->user_info_len, max_info);
			goto fail;
		}
	}
	if (channels != NULL && !json_is_null(channels)) {
		size_t i;
		json_t *v;
		if (!json_is_array(channels) || json_array_size(channels) > RT_PATTERNS_MAX) {
			snprintf(err, errlen, "channels must be a list of at most %d channel names or patterns",
					RT_PATTERNS_MAX);
			goto fail;
		}
		id->patterns = calloc(json_array_size(channels) + 1, sizeof(char *));
		if (id->patterns == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		json_array_foreach(channels, i, v) {
			if (!json_is_string(v) || json_string_length(v) == 0
					|| json_string_length(v) > 200) {
				snprintf(err, errlen, "channels[%zu] is not a channel name or pattern", i);
				goto fail;
			}
			id->patterns[id->pattern_count++] = strdup(json_string_value(v));
		}
	}
	if ((id->user_id == NULL) || (id->user_info_len && id->user_info == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return id;

fail:
	rt_identity_free(id);
	return NULL;
}
