#include "hub/subscription_count.h"
#include "hub/core/server.h"
#include "hub/core/session.h"
#include "hub/proto/proto.h"
#include "hub/wire/frame.h"
#include "hub/model/identity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* {"event":"pusher_internal:subscription_count","channel":..,"data":"{\"subscription_count\":N}"};
 * pusher-js hands it to the app as pusher:subscription_count. */
static rt_buf *rt__frame(const rt_channel *ch, uint64_t count)
{
	char data[64];
	rt_sb sb;

	snprintf(data, sizeof(data), "{\"subscription_count\":%" PRIu64 "}", count);
	rt_sb_init(&sb);
	rt_sb_puts(&sb, "{\"event\":\"pusher_internal:subscription_count\",\"channel\":");
	rt_sb_json_string(&sb, ch->name, ch->name_len);
	rt_sb_puts(&sb, ",\"data\":");
	rt_sb_json_string(&sb, data, strlen(data));
	rt_sb_puts(&sb, "}");
	return rt_frame_text_sb(&sb);
}

static void rt__channel(rt_channel *ch, uint64_t total)
{
	rt_buf *frame = NULL;

	/* The view may not have this hub's own subscribers yet: it hears of
	 * them through the broker, in order with the other hubs'. */
	if (total < ch->count) {
		total = ch->count;
	}
	if (total == ch->count_sent && !ch->count_joined) {
		return;
	}
	for (uint32_t i = 0; i < ch->count; i++) {
		rt_session *s = ch->subs[i]->session;
		if (s->protocol != &rt_proto_pusher) {
			continue;
		}
		if (frame == NULL && (frame = rt__frame(ch, total)) == NULL) {
			return; /* out of memory: tried again next interval */
		}
		rt_session_send(s, frame);
	}
	if (frame != NULL) {
		rt_buf_unref(frame);
	}
	ch->count_sent = total;
	ch->count_joined = 0;
}

void rt_subscription_count_tick(rt_hub *hub)
{
	uint32_t every = hub->cfg.pusher_subscription_count;
	size_t it = 0;
	void *v;

	if (every == 0 || hub->syncing || hub->net.now % every != 0) {
		return;
	}
	while (rt_map_next(&hub->registry.channels, &it, &v)) {
		rt_channel *ch = v;
		const rt_vchannel *vch;
		if (ch->presence != NULL || rt_channel_is_presence(ch->name, ch->name_len)) {
			continue; /* Pusher sends member counts there instead */
		}
		vch = rt_view_channel(&hub->view, ch->name, ch->name_len);
		rt__channel(ch, vch != NULL ? vch->subs.total : 0);
	}
}
