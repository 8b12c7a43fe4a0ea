/* Mercure updates as hub messages: what Mercure adds to a publish (the
 * update's id, SSE type and retry, the private flag, data that is not JSON)
 * travels in the target of an RT_MSG_PUBLISH, which a publish leaves unused,
 * so every broker and the history carry it unchanged (docs/mercure.md). */
#ifndef RT_HUB_MERCURE_UPDATE_H
#define RT_HUB_MERCURE_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "hub/model/msg.h"

#define RT_MERCURE_ID_MAX   256   /* bytes of an update id */
#define RT_MERCURE_TYPE_MAX 200   /* bytes of an update type (the SSE event) */
#define RT_MERCURE_RETRY_MAX 2147483647LL
/* Bytes of the fields in a message's target: id, type, retry and up to
 * RT_MERCURE_TARGET_TOPICS topics of a channel name's length. */
#define RT_MERCURE_TARGET_TOPICS 100
#define RT_MERCURE_TARGET_MAX (8 + RT_MERCURE_ID_MAX + RT_MERCURE_TYPE_MAX + 10 \
		+ RT_MERCURE_TARGET_TOPICS * 201)

/* An update as parsed back from a message (slices of the message). */
typedef struct rt_mercure_update {
	rt_str id;          /* never empty */
	rt_str type;        /* ptr NULL: none */
	int64_t retry;      /* -1: none */
	int is_private;
	/* The message's data is a JSON string whose value is the update's data
	 * (data that is not JSON text is wrapped so native clients get JSON). */
	int data_text;
	/* A private update with several topics: all of them, '\n'-separated,
	 * since the redis broker splits a message per channel and each part
	 * must still be authorized against every topic. Empty otherwise. */
	rt_str topics;
} rt_mercure_update;

/* What a publisher gives (HTTP POST or mercure_publish()). */
typedef struct rt_mercure_input {
	const rt_str *topics;   /* channel names, the first canonical */
	uint32_t topic_count;
	rt_str data;            /* any bytes of UTF-8 */
	int is_private;
	rt_str id;              /* ptr NULL: one is made (urn:uuid:...) */
	rt_str type;            /* ptr NULL: none */
	int64_t retry;          /* -1: none */
} rt_mercure_input;

/* 1 when msg is a Mercure update (out filled), 0 when it is another
 * message, -EINVAL when its target is not a well-formed update. */
int rt_mercure_update_parse(const rt_msg *msg, rt_mercure_update *out);

/* 1 when msg is a private Mercure update: a check on the fan-out path,
 * a few bytes read. */
static inline int rt_mercure_is_private(const rt_msg *msg)
{
	return msg->type == RT_MSG_PUBLISH && msg->target.ptr != NULL && msg->target.len >= 3
			&& msg->target.ptr[0] == 'M' && msg->target.ptr[1] == 'p';
}

/* 1 when s may be an update id: 1 to RT_MERCURE_ID_MAX bytes of UTF-8 with
 * no CR, LF or NUL (an SSE field), not starting with '#' (Mercure keeps
 * those). */
int rt_mercure_id_valid(const char *s, size_t len);
/* 1 when s may be an update type: the same, RT_MERCURE_TYPE_MAX bytes. */
int rt_mercure_type_valid(const char *s, size_t len);

/* A new message for the update (free with rt_msg_free): its channels are
 * the topics (each a valid channel name), its data the update's data as
 * JSON text. id_out (RT_MERCURE_ID_MAX + 1 bytes) gets the update's id.
 * Returns 0, -EINVAL with err set for bad input, -ENOMEM. */
int rt_mercure_update_new(const rt_mercure_input *in, rt_msg **out, char *id_out, char *err,
		size_t errlen);

/* Writes a fresh "urn:uuid:<random v4>" (46 bytes and a NUL) to out. */
void rt_mercure_new_id(char out[46]);

#endif
