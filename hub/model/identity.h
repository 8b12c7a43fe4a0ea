/* Who a connection is: a user id, optional user info, and the private and
 * presence channels it may join. Set once at the upgrade, from a signed
 * token or the app's auth endpoint; NULL for an anonymous connection. */
#ifndef RT_HUB_IDENTITY_H
#define RT_HUB_IDENTITY_H

#include <stddef.h>

#define RT_USER_ID_MAX 128
#define RT_PATTERNS_MAX 64

typedef struct rt_identity {
	char *user_id;
	size_t user_id_len;
	char *user_info;        /* JSON text, or NULL */
	size_t user_info_len;
	char **patterns;        /* channel names; '*' matches any run of characters */
	size_t pattern_count;
} rt_identity;

/* Builds an identity from parsed JSON fields (user id and info given as JSON
 * text). Returns NULL with err set when a field is invalid. */
struct json_t;
rt_identity *rt_identity_from_json(const struct json_t *user_id, const struct json_t *info,
		const struct json_t *channels, size_t max_info, char *err, size_t errlen);
void rt_identity_free(rt_identity *id);
/* A copy of id's user id and info (not its patterns); NULL when out of memory. */
rt_identity *rt_identity_dup_user(const rt_identity *id);

/* 1 when id may join channel: public channels are open to everyone with an
 * identity; private- and presence- channels need a matching pattern. */
int rt_identity_may_join(const rt_identity *id, const char *channel, size_t len);

/* 1 for user ids of 1..128 bytes of valid UTF-8 without control characters. */
int rt_user_id_valid(const char *id, size_t len);

/* Glob match where '*' stands for any run of characters. */
int rt_pattern_match(const char *pattern, const char *s, size_t len);

int rt_channel_is_private(const char *name, size_t len);   /* private-* and presence-* */
int rt_channel_is_presence(const char *name, size_t len);

#endif
