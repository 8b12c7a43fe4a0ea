/* What Mercure clients send (hub/wire/mercure_req.c) and what travels in a
 * message's target (hub/model/mercure_update.c): the input, copied to an
 * exact-size buffer, parsed as a publish form, a subscription query, a
 * Cookie header and an update's fields. Every decoded slice lies in the
 * parser's arena, at most max topics come back, and a parsed update's
 * fields lie within the target and hold no line break. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/mercure_update.h"
#include "hub/wire/mercure_req.h"

static void check_str(const rt_str *s, const rt_mercure_form *f, size_t arena)
{
	if (s->ptr != NULL && (s->ptr < f->arena || s->ptr + s->len > f->arena + arena)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), err[200];
	rt_mercure_form f;
	rt_mercure_update u;
	rt_msg_fields mf = {0};
	rt_str ch = {"t", 1};
	rt_msg m;
	size_t vlen;
	const char *v;
	uint32_t max = size > 0 ? data[0] % 8 : 0;

	memcpy(text, data, size);
	if (rt_mercure_form_parse(text, size, max, &f, err, sizeof(err)) == 0) {
		if (f.topic_count > max) {
			abort();
		}
		for (uint32_t i = 0; i < f.topic_count; i++) {
			check_str(&f.topics[i], &f, size + size + 1);
		}
		check_str(&f.data, &f, size + size + 1);
		check_str(&f.id, &f, size + size + 1);
		check_str(&f.type, &f, size + size + 1);
		check_str(&f.last_event_id, &f, size + size + 1);
		if (f.retry < -1 || f.retry > 2147483647LL) {
			abort();
		}
	}
	rt_mercure_form_free(&f);
	v = rt_mercure_cookie(text, size, "mercureAuthorization", &vlen);
	if (v != NULL && (v < text || v + vlen > text + size)) {
		abort();
	}
	mf.channels = &ch;
	mf.channel_count = 1;
	mf.target.ptr = text;
	mf.target.len = size;
	rt_msg_view(&m, RT_MSG_PUBLISH, &mf);
	if (rt_mercure_update_parse(&m, &u) == 1) {
		if (u.id.ptr < text || u.id.ptr + u.id.len > text + size || u.id.len == 0
				|| memchr(u.id.ptr, '\n', u.id.len) != NULL
				|| (u.type.ptr != NULL && memchr(u.type.ptr, '\n', u.type.len) != NULL)
				|| (u.is_private != (rt_mercure_is_private(&m) != 0))) {
			abort();
		}
	}
	free(text);
	return 0;
}
