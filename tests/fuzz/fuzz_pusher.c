/* Pusher protocol messages (hub/proto/pusher.c): each line of the input is one
 * text message of a connection to /app/<key>. A message whose data has
 * "auth":"@" gets the signature a real app server would give it (for
 * pusher:subscribe, of socket_id:channel[:channel_data]; for
 * pusher:signin, of socket_id::user::user_data), so that private and
 * presence channels and signed-in users are explored too. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	rt_fuzz_live_start();
	return 0;
}

/* The socket id in pusher:connection_established, or "". */
static void socket_id_of(const char *hello, char *out, size_t cap)
{
	json_t *root = json_loads(hello, 0, NULL), *inner = NULL, *id;

	out[0] = '\0';
	if (json_is_string(json_object_get(root, "data"))) {
		inner = json_loads(json_string_value(json_object_get(root, "data")), 0, NULL);
	}
	id = json_object_get(inner, "socket_id");
	if (json_is_string(id)) {
		snprintf(out, cap, "%s", json_string_value(id));
	}
	json_decref(inner);
	json_decref(root);
}

/* The message with its "@" auth replaced by a valid one; NULL to send it as is. */
static char *signed_message(const char *line, size_t len, const char *socket_id)
{
	json_t *root = json_loadb(line, len, 0, NULL), *data, *event, *v;
	char *subject = NULL, *out = NULL, hex[65], auth[200];
	size_t n;

	data = json_object_get(root, "data");
	event = json_object_get(root, "event");
	if (!json_is_object(data) || !json_is_string(event)
			|| !json_is_string(v = json_object_get(data, "auth"))
			|| strcmp(json_string_value(v), "@") != 0) {
		json_decref(root);
		return NULL;
	}
	if (strcmp(json_string_value(event), "pusher:signin") == 0) {
		v = json_object_get(data, "user_data");
		n = strlen(socket_id) + 8 + (json_is_string(v) ? json_string_length(v) : 0);
		subject = malloc(n + 1);
		n = (size_t) snprintf(subject, n + 1, "%s::user::%s", socket_id,
				json_is_string(v) ? json_string_value(v) : "");
	} else {
		json_t *ch = json_object_get(data, "channel"), *cd = json_object_get(data, "channel_data");
		const char *c = json_is_string(ch) ? json_string_value(ch) : "";
		n = strlen(socket_id) + strlen(c) + 2 + (json_is_string(cd) ? json_string_length(cd) : 0);
		subject = malloc(n + 1);
		n = (size_t) snprintf(subject, n + 1, "%s:%s%s%s", socket_id, c, json_is_string(cd) ? ":" : "",
				json_is_string(cd) ? json_string_value(cd) : "");
	}
	rt_fuzz_hmac_hex(RT_FUZZ_APP_SECRET, subject, n, hex);
	snprintf(auth, sizeof(auth), "%s:%s", RT_FUZZ_APP_KEY, hex);
	json_object_set_new(data, "auth", json_string(auth));
	out = json_dumps(root, JSON_COMPACT);
	free(subject);
	json_decref(root);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *) data, *end = p + size;
	char hello[4096], socket_id[64];
	int fd;

	if (size > 65536) {
		return 0;
	}
	fd = rt_fuzz_live_ws("/app/" RT_FUZZ_APP_KEY "?protocol=7&client=js&version=8.4.0");
	if (fd < 0 || rt_fuzz_live_text(fd, hello, sizeof(hello)) < 0) {
		abort(); /* the hub refused a valid upgrade, or sent no welcome */
	}
	socket_id_of(hello, socket_id, sizeof(socket_id));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
		char *msg = memchr(p, '@', n) ? signed_message(p, n, socket_id) : NULL;
		int r = msg ? rt_fuzz_live_frame(fd, 0x81, msg, strlen(msg))
				: rt_fuzz_live_frame(fd, 0x81, p, n);
		free(msg);
		if (r != 0) {
			break;
		}
		p += n + 1;
	}
	rt_fuzz_live_finish(fd);
	return 0;
}
