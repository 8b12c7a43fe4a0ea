#include "hub/msg.h"
#include "hub/query.h"

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

rt_msg *rt_msg_new(rt_msg_type type, const rt_msg_fields *f)
{
	size_t size = sizeof(rt_msg) + f->channel_count * sizeof(rt_str)
			+ f->event.len + f->data.len + f->exclude.len + f->target.len + 4;
	rt_msg *msg;
	char *cursor;

	for (uint32_t i = 0; i < f->channel_count; i++) {
		size += f->channels[i].len + 1;
	}
	msg = malloc(size);
	if (msg == NULL) {
		return NULL;
	}
	msg->next = NULL;
	msg->type = type;
	msg->channel_count = f->channel_count;
	msg->channels = (rt_str *) (msg + 1);
	cursor = (char *) (msg->channels + f->channel_count);
	for (uint32_t i = 0; i < f->channel_count; i++) {
		rt__copy(&cursor, &msg->channels[i], f->channels[i]);
	}
	rt__copy(&cursor, &msg->event, f->event);
	rt__copy(&cursor, &msg->data, f->data);
	rt__copy(&cursor, &msg->exclude, f->exclude);
	rt__copy(&cursor, &msg->target, f->target);
	msg->query = f->query;
	return msg;
}

void rt_msg_free(rt_msg *msg)
{
	if (msg != NULL && msg->query != NULL) {
		rt_query_release(msg->query);
	}
	free(msg);
}
