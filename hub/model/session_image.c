#include "hub/model/session_image.h"
#include "hub/model/registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Format, big-endian: "RTS1", u8 proto, u8 id_len + id, u32 bucket_age,
 * u16 bucket_tokens, u32 sub_age, u32 sub_tokens, identity, u32 sub_count,
 * then per subscription: u16 name_len + name, u8 has_member, member.
 * identity (and member): u8 present; if 1: u16 user_id_len + user_id,
 * u32 user_info_len + user_info (0: none), u16 pattern_count, then per
 * pattern u16 len + bytes. A member carries no patterns (count 0). */
#define RT__MAGIC "RTS1"

static void rt__u8(rt_sb *sb, uint8_t v)
{
	rt_sb_append(sb, &v, 1);
}

static void rt__u16(rt_sb *sb, uint16_t v)
{
	uint8_t b[2] = {(uint8_t) (v >> 8), (uint8_t) v};
	rt_sb_append(sb, b, 2);
}

static void rt__u32(rt_sb *sb, uint32_t v)
{
	uint8_t b[4] = {(uint8_t) (v >> 24), (uint8_t) (v >> 16), (uint8_t) (v >> 8), (uint8_t) v};
	rt_sb_append(sb, b, 4);
}

static void rt__identity(rt_sb *sb, const rt_identity *id)
{
	if (id == NULL) {
		rt__u8(sb, 0);
		return;
	}
	rt__u8(sb, 1);
	rt__u16(sb, (uint16_t) id->user_id_len);
	rt_sb_append(sb, id->user_id, id->user_id_len);
	rt__u32(sb, id->user_info ? (uint32_t) id->user_info_len : 0);
	if (id->user_info != NULL) {
		rt_sb_append(sb, id->user_info, id->user_info_len);
	}
	rt__u16(sb, (uint16_t) id->pattern_count);
	for (size_t i = 0; i < id->pattern_count; i++) {
		size_t n = strlen(id->patterns[i]);
		rt__u16(sb, (uint16_t) n);
		rt_sb_append(sb, id->patterns[i], n);
	}
}

int rt_session_image_encode(const rt_session_image *img, rt_sb *out)
{
	rt_sb_append(out, RT__MAGIC, 4);
	rt__u8(out, img->proto);
	rt__u8(out, img->id_len);
	rt_sb_append(out, img->id, img->id_len);
	rt__u32(out, img->bucket_age);
	rt__u16(out, img->bucket_tokens);
	rt__u32(out, img->sub_age);
	rt__u32(out, img->sub_tokens);
	rt__identity(out, img->identity);
	rt__u32(out, img->sub_count);
	for (uint32_t i = 0; i < img->sub_count; i++) {
		rt__u16(out, (uint16_t) img->subs[i].name_len);
		rt_sb_append(out, img->subs[i].name, img->subs[i].name_len);
		rt__identity(out, img->subs[i].member);
	}
	return out->failed ? -ENOMEM : 0;
}

/* ---- decoding: every read is checked against the bytes left ---- */

typedef struct rt__reader {
	const uint8_t *p, *end;
	const char *why;   /* first failure */
	int nomem;
} rt__reader;

static int rt__fail(rt__reader *r, const char *why)
{
	if (r->why == NULL) {
		r->why = why;
	}
	return -1;
}

static int rt__take(rt__reader *r, size_t n, const uint8_t **out)
{
	if ((size_t) (r->end - r->p) < n) {
		return rt__fail(r, "truncated");
	}
	*out = r->p;
	r->p += n;
	return 0;
}

static int rt__get_u8(rt__reader *r, uint8_t *v)
{
	const uint8_t *b;

	if (rt__take(r, 1, &b) != 0) {
		return -1;
	}
	*v = b[0];
	return 0;
}

static int rt__get_u16(rt__reader *r, uint16_t *v)
{
	const uint8_t *b;

	if (rt__take(r, 2, &b) != 0) {
		return -1;
	}
	*v = (uint16_t) ((b[0] << 8) | b[1]);
	return 0;
}

static int rt__get_u32(rt__reader *r, uint32_t *v)
{
	const uint8_t *b;

	if (rt__take(r, 4, &b) != 0) {
		return -1;
	}
	*v = ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
	return 0;
}

/* A NUL-terminated copy of n bytes. */
static char *rt__get_str(rt__reader *r, size_t n)
{
	const uint8_t *b;
	char *s;

	if (rt__take(r, n, &b) != 0) {
		return NULL;
	}
	s = malloc(n + 1);
	if (s == NULL) {
		r->nomem = 1;
		rt__fail(r, "out of memory");
		return NULL;
	}
	memcpy(s, b, n);
	s[n] = '\0';
	return s;
}

static int rt__get_identity(rt__reader *r, const rt_session_limits *lim, int patterns,
		rt_identity **out)
{
	uint8_t present;
	uint16_t id_len, count;
	uint32_t info_len;
	rt_identity *id;

	*out = NULL;
	if (rt__get_u8(r, &present) != 0) {
		return -1;
	}
	if (present == 0) {
		return 0;
	}
	if (present != 1) {
		return rt__fail(r, "bad identity marker");
	}
	if (rt__get_u16(r, &id_len) != 0) {
		return -1;
	}
	if (id_len == 0 || id_len > RT_USER_ID_MAX) {
		return rt__fail(r, "bad user id length");
	}
	id = calloc(1, sizeof(*id));
	if (id == NULL) {
		r->nomem = 1;
		return rt__fail(r, "out of memory");
	}
	*out = id;
	if ((id->user_id = rt__get_str(r, id_len)) == NULL) {
		return -1;
	}
	id->user_id_len = id_len;
	if (!rt_user_id_valid(id->user_id, id_len)) {
		return rt__fail(r, "invalid user id");
	}
	if (rt__get_u32(r, &info_len) != 0) {
		return -1;
	}
	if (info_len > lim->max_user_info) {
		return rt__fail(r, "user info over realtime.max_user_info");
	}
	if (info_len > 0) {
		if ((id->user_info = rt__get_str(r, info_len)) == NULL) {
			return -1;
		}
		id->user_info_len = info_len;
		/* It goes verbatim into other clients' frames: it must be JSON. */
		json_error_t jerr;
		json_t *v = json_loadb(id->user_info, info_len, JSON_DECODE_ANY, &jerr);
		if (v == NULL) {
			return rt__fail(r, "user info is not JSON");
		}
		json_decref(v);
	}
	if (rt__get_u16(r, &count) != 0) {
		return -1;
	}
	if (count > (patterns ? RT_PATTERNS_MAX : 0)) {
		return rt__fail(r, "too many channel patterns");
	}
	if (count > 0 && (id->patterns = calloc(count, sizeof(*id->patterns))) == NULL) {
		r->nomem = 1;
		return rt__fail(r, "out of memory");
	}
	for (uint16_t i = 0; i < count; i++) {
		uint16_t n;
		if (rt__get_u16(r, &n) != 0) {
			return -1;
		}
		if (n == 0 || n > RT_CHANNEL_MAX) {
			return rt__fail(r, "bad channel pattern length");
		}
		if ((id->patterns[i] = rt__get_str(r, n)) == NULL) {
			return -1;
		}
		id->pattern_count++;
		if (memchr(id->patterns[i], '\0', n) != NULL) {
			return rt__fail(r, "bad channel pattern");
		}
	}
	return 0;
}

static int rt__get_id(rt__reader *r, rt_session_image *img)
{
	const uint8_t *b;

	if (rt__get_u8(r, &img->id_len) != 0) {
		return -1;
	}
	if (img->id_len == 0 || img->id_len > RT_SESSION_ID_MAX) {
		return rt__fail(r, "bad connection id length");
	}
	if (rt__take(r, img->id_len, &b) != 0) {
		return -1;
	}
	memcpy(img->id, b, img->id_len);
	img->id[img->id_len] = '\0';
	for (uint8_t i = 0; i < img->id_len; i++) {
		if ((img->id[i] < '0' || img->id[i] > '9') && img->id[i] != '.') {
			return rt__fail(r, "bad connection id");
		}
	}
	return 0;
}

static int rt__get_subs(rt__reader *r, rt_session_image *img, const rt_session_limits *lim)
{
	uint32_t count;

	if (rt__get_u32(r, &count) != 0) {
		return -1;
	}
	if (count > lim->max_subscriptions) {
		return rt__fail(r, "more subscriptions than realtime.max_subscriptions");
	}
	/* Each takes at least 4 bytes: a count the input cannot hold is refused
	 * before anything is allocated for it. */
	if (count > (size_t) (r->end - r->p) / 4) {
		return rt__fail(r, "truncated");
	}
	if (count > 0 && (img->subs = calloc(count, sizeof(*img->subs))) == NULL) {
		r->nomem = 1;
		return rt__fail(r, "out of memory");
	}
	for (uint32_t i = 0; i < count; i++) {
		rt_session_image_sub *s = &img->subs[i];
		uint16_t n;
		if (rt__get_u16(r, &n) != 0) {
			return -1;
		}
		if (n == 0 || n > RT_CHANNEL_MAX) {
			return rt__fail(r, "bad channel name length");
		}
		if ((s->name = rt__get_str(r, n)) == NULL) {
			return -1;
		}
		s->name_len = n;
		img->sub_count++;
		if (!rt_channel_name_valid(s->name, n)) {
			return rt__fail(r, "invalid channel name");
		}
		for (uint32_t j = 0; j < i; j++) {
			if (img->subs[j].name_len == n && memcmp(img->subs[j].name, s->name, n) == 0) {
				return rt__fail(r, "a channel listed twice");
			}
		}
		if (rt__get_identity(r, lim, 0, &s->member) != 0) {
			return -1;
		}
		if (s->member != NULL && !rt_channel_is_presence(s->name, n)) {
			return rt__fail(r, "a member on a channel that is not a presence channel");
		}
	}
	return 0;
}

/* A bucket fuller than this hub's settings allow would lift its limit. */
static int rt__check_tokens(rt__reader *r, const rt_session_image *img,
		const rt_session_limits *lim)
{
	if (img->bucket_tokens > lim->event_burst || img->sub_tokens > lim->subscribe_burst) {
		return rt__fail(r, "a rate bucket over its burst");
	}
	return 0;
}

int rt_session_image_decode(rt_session_image *img, const void *data, size_t len,
		const rt_session_limits *lim, char *err, size_t errlen)
{
	rt__reader r = {data, (const uint8_t *) data + len, NULL, 0};
	const uint8_t *magic;

	memset(img, 0, sizeof(*img));
	if (rt__take(&r, 4, &magic) != 0 || memcmp(magic, RT__MAGIC, 4) != 0) {
		rt__fail(&r, "not a session image");
	} else if (rt__get_u8(&r, &img->proto) == 0 && img->proto >= lim->protocols) {
		rt__fail(&r, "unknown protocol");
	} else if (r.why == NULL && rt__get_id(&r, img) == 0
			&& rt__get_u32(&r, &img->bucket_age) == 0
			&& rt__get_u16(&r, &img->bucket_tokens) == 0
			&& rt__get_u32(&r, &img->sub_age) == 0
			&& rt__get_u32(&r, &img->sub_tokens) == 0
			&& rt__check_tokens(&r, img, lim) == 0
			&& rt__get_identity(&r, lim, 1, &img->identity) == 0
			&& rt__get_subs(&r, img, lim) == 0 && r.p != r.end) {
		rt__fail(&r, "bytes after the end");
	}
	if (r.why == NULL) {
		return 0;
	}
	snprintf(err, errlen, "session image refused: %s", r.why);
	rt_session_image_free(img);
	return r.nomem ? -ENOMEM : -EINVAL;
}

void rt_session_image_free(rt_session_image *img)
{
	for (uint32_t i = 0; i < img->sub_count; i++) {
		free(img->subs[i].name);
		rt_identity_free(img->subs[i].member);
	}
	free(img->subs);
	rt_identity_free(img->identity);
	memset(img, 0, sizeof(*img));
}
