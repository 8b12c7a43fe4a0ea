/* A session as bytes: what a client is (protocol, connection id, identity,
 * subscriptions with presence membership, rate buckets), apart from its
 * socket, so that another process can rebuild it. The decoder takes
 * hostile input: every length is checked against the bytes left and the
 * limits given, and anything malformed is refused whole. */
#ifndef RT_HUB_SESSION_IMAGE_H
#define RT_HUB_SESSION_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"
#include "hub/model/identity.h"

#define RT_SESSION_ID_MAX 31   /* bytes of a connection id ("<node>.<digits>") */

typedef struct rt_session_image_sub {
	char *name;
	size_t name_len;
	rt_identity *member;     /* who it counts as on a presence channel, or NULL */
} rt_session_image_sub;

typedef struct rt_session_image {
	uint8_t proto;           /* RT_PROTO_* */
	uint8_t id_len;
	char id[RT_SESSION_ID_MAX + 1];
	rt_identity *identity;   /* NULL: anonymous */
	/* The rate buckets: tokens, and seconds since their last refill (each
	 * hub keeps its own clock, so an age travels, not a time). */
	uint32_t bucket_age;     /* client events */
	uint16_t bucket_tokens;
	uint32_t sub_age;        /* subscribes and unsubscribes */
	uint32_t sub_tokens;
	rt_session_image_sub *subs;
	uint32_t sub_count;
} rt_session_image;

/* What a decoded image may hold (from the receiving hub's settings). */
typedef struct rt_session_limits {
	uint8_t protocols;          /* proto < protocols */
	uint32_t max_subscriptions; /* realtime.max_subscriptions */
	size_t max_user_info;       /* realtime.max_user_info */
	uint32_t event_burst;       /* the most client-event tokens a bucket holds */
	uint32_t subscribe_burst;   /* the most subscribe tokens a bucket holds */
} rt_session_limits;

/* Appends img's bytes to out. Returns 0, or -ENOMEM (out->failed). */
int rt_session_image_encode(const rt_session_image *img, rt_sb *out);
/* Rebuilds an image from exactly len bytes. Returns 0, or -EINVAL (err
 * says why) or -ENOMEM; on failure img holds nothing to free. */
int rt_session_image_decode(rt_session_image *img, const void *data, size_t len,
		const rt_session_limits *lim, char *err, size_t errlen);
/* Frees what a decoded image owns. */
void rt_session_image_free(rt_session_image *img);

#endif
