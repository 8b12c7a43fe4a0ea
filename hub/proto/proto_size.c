#include "hub/proto/proto.h"
#include "hub/wire/frame.h"

#include <errno.h>
#include <stdio.h>

/* Apart from proto.c, whose protocol table a test program may replace
 * (tests/conformance): these measure through whichever table is linked. */

size_t rt_proto_message_frame_max(const rt_msg *msg)
{
	rt_str ch = {NULL, 0};
	size_t max = 0, widest = 0;

	/* Frames differ between channels by the channel's name alone: the
	 * widest one makes the largest, and data is measured once per protocol. */
	if (msg->type == RT_MSG_PUBLISH) {
		for (uint32_t i = 0; i < msg->channel_count; i++) {
			size_t w = rt_json_string_size(msg->channels[i].ptr, msg->channels[i].len);
			if (ch.ptr == NULL || w > widest) {
				ch = msg->channels[i];
				widest = w;
			}
		}
		if (ch.ptr == NULL) {
			return 0; /* no channel: nothing is framed */
		}
	}
	for (int p = 0; p < RT_PROTO_COUNT; p++) {
		size_t n = rt_proto_frame_size(p, rt_proto(p)->message_size(msg, ch));
		max = n > max ? n : max;
	}
	return max;
}

int rt_proto_check_outbound(const rt_msg *msg, uint32_t max_outbound, char *err, size_t errlen)
{
	size_t frame;

	if (msg->type != RT_MSG_PUBLISH && msg->type != RT_MSG_TO_USER
			&& msg->type != RT_MSG_TO_CONNECTION) {
		return 0;
	}
	frame = rt_proto_message_frame_max(msg);
	if (frame <= max_outbound) {
		return 0;
	}
	/* Queued, it would close every subscriber as a slow consumer. */
	snprintf(err, errlen, "the message is too large: its frame of %zu bytes is over "
			"realtime.max_outbound=%u, the most a client may have queued", frame, max_outbound);
	return -EMSGSIZE;
}
