#include "hub/proto/proto.h"
#include "hub/wire/frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>

/* Apart from proto.c, whose protocol table a test program may replace
 * (tests/conformance): these measure through whichever table is linked. */

/* Frames differ between channels by the channel's name (and position)
 * alone: the widest name makes the largest. */
static rt_str rt__widest_channel(const rt_msg *msg)
{
	rt_str ch = {NULL, 0};
	size_t widest = 0;

	for (uint32_t i = 0; i < msg->channel_count; i++) {
		size_t w = rt_json_string_size(msg->channels[i].ptr, msg->channels[i].len);
		if (ch.ptr == NULL || w > widest) {
			ch = msg->channels[i];
			widest = w;
		}
	}
	return ch;
}

size_t rt_proto_message_frame_max(const rt_msg *msg)
{
	rt_str ch = {NULL, 0};
	size_t max = 0;

	/* Data is measured once per protocol, on the widest channel. */
	if (msg->type == RT_MSG_PUBLISH) {
		ch = rt__widest_channel(msg);
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
	if (msg->type == RT_MSG_PUBLISH && msg->positions == NULL) {
		/* Where it is published a message has no position yet: the broker
		 * gives one on channels with history, and the native frame grows by
		 * it. Measured with the largest position on its widest channel, a
		 * message that passes here fits every subscriber's queue later. */
		rt_pos worst = {UINT64_MAX, UINT64_MAX};
		rt_str ch = rt__widest_channel(msg);
		rt_msg positioned = *msg;
		size_t with;

		positioned.channels = &ch;
		positioned.channel_count = 1;
		positioned.positions = &worst;
		with = rt_proto_message_frame_max(&positioned);
		frame = with > frame ? with : frame;
	}
	if (frame <= max_outbound) {
		return 0;
	}
	/* Queued, it would close every subscriber as a slow consumer. */
	snprintf(err, errlen, "the message is too large: its frame of %zu bytes is over "
			"realtime.max_outbound=%u, the most a client may have queued", frame, max_outbound);
	return -EMSGSIZE;
}
