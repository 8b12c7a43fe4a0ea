#include "hub/msg.h"

#include <stdlib.h>
#include <string.h>

static void rt__copy(char **cursor, rt_str *dst, rt_str src)
{
	if (src.ptr == NULL) {
		dst->ptr = NULL;
		dst->len = 0;
		return;
	}
	memcpy(*cursor, src.ptr, src.len);
	(*cursor)[src.len] = '\0';
	dst->ptr = *cursor;
	dst->len = src.len;
	*cursor += src.len + 1;
}

rt_msg *rt_msg_new(rt_msg_type type, const rt_str *channels, uint32_t channel_count,
		rt_str event, rt_str data, rt_str exclude)
{
	size_t size = sizeof(rt_msg) + channel_count * sizeof(rt_str)
			+ event.len + data.len + exclude.len + 3;
	rt_msg *msg;
	char *cursor;

	for (uint32_t i = 0; i < channel_count; i++) {
		size += channels[i].len + 1;
	}
	msg = malloc(size);
	if (msg == NULL) {
		return NULL;
	}
	msg->next = NULL;
	msg->type = type;
	msg->channel_count = channel_count;
	msg->channels = (rt_str *) (msg + 1);
	cursor = (char *) (msg->channels + channel_count);
	for (uint32_t i = 0; i < channel_count; i++) {
		rt__copy(&cursor, &msg->channels[i], channels[i]);
	}
	rt__copy(&cursor, &msg->event, event);
	rt__copy(&cursor, &msg->data, data);
	rt__copy(&cursor, &msg->exclude, exclude);
	return msg;
}

void rt_msg_free(rt_msg *msg)
{
	free(msg);
}
