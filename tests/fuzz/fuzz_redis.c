/* Messages from Redis (broker/redis.c): the bytes of a Redis connection go
 * through hiredis's reply parser, and a pub/sub "message" reply through the
 * same checks as the broker's subscriber callback, then rt_msg_decode. The
 * broker's callback is bound to a live broker, so its few shape checks are
 * repeated here; the decoder is the real one. */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/msg.h"

static void on_reply(const redisReply *r)
{
	rt_msg *msg;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 3
			|| r->element[0]->type != REDIS_REPLY_STRING
			|| strcmp(r->element[0]->str, "message") != 0) {
		return;
	}
	msg = rt_msg_decode(r->element[2]->str, r->element[2]->len);
	if (msg != NULL) {
		char *out = malloc(r->element[2]->len);
		if (rt_msg_encode(msg, out, r->element[2]->len) != r->element[2]->len
				|| memcmp(out, r->element[2]->str, r->element[2]->len) != 0) {
			abort();
		}
		free(out);
		rt_msg_free(msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *reader = redisReaderCreate();
	void *reply;

	if (reader == NULL) {
		return 0;
	}
	if (redisReaderFeed(reader, (const char *) data, size) == REDIS_OK) {
		while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply != NULL) {
			on_reply(reply);
			freeReplyObject(reply);
		}
	}
	redisReaderFree(reader);
	return 0;
}
