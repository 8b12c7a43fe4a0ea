/* Messages from Redis (broker/redis.c): the bytes of a Redis connection go
 * through hiredis's reply parser with the broker's limits
 * (broker/redis_reader.c), and a pub/sub "message" reply through the shape
 * checks of the broker's subscriber callback, then rt_msg_decode. That
 * callback is bound to a live broker, so its checks are repeated here, all
 * but the payload's type: the decoder sees whatever hiredis gives. */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/redis_reader.h"
#include "hub/model/msg.h"

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
	rt_redis_reader_limit(reader);
	if (redisReaderFeed(reader, (const char *) data, size) == REDIS_OK) {
		while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply != NULL) {
			on_reply(reply);
			freeReplyObject(reply);
		}
	}
	redisReaderFree(reader);
	return 0;
}
