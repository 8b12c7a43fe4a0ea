/* Pusher Channels: what the WebSocket protocol (hub/proto/pusher.c) and the HTTP
 * API (hub/api/pusher_api.c) share. See docs/pusher.md. */
#ifndef RT_HUB_PUSHER_H
#define RT_HUB_PUSHER_H

#include <stddef.h>

/* The channel a signed-in Pusher client subscribes to for the messages
 * sent to its user: "#server-to-user-<user id>". The hub delivers those
 * through the user's connections, not through a channel. */
#define RT_PUSHER_USER_PREFIX "#server-to-user-"
#define RT_PUSHER_USER_PREFIX_LEN (sizeof(RT_PUSHER_USER_PREFIX) - 1)

/* 1 when name is a user channel; *user and *user_len are the user id. */
int rt_pusher_user_channel(const char *name, size_t len, const char **user, size_t *user_len);

/* 1 when auth, a client's "<app key>:<hex HMAC-SHA256(secret, subject)>",
 * signs subject (Pusher's private, presence and sign-in authorization);
 * otherwise 0 with err saying why. auth may be NULL (none given). */
int rt_pusher_auth_valid(const char *app_key, const char *secret, const char *auth,
		size_t len, const char *subject, size_t subject_len, char *err, size_t errlen);

/* 1 for a socket id as the SDKs check it: digits "." digits. */
int rt_pusher_socket_id_valid(const char *id, size_t len);

#endif
