/* Replies to the redis broker's history scripts (broker/redis_hist.c): the
 * bytes of a Redis connection go through hiredis's reader with the limits
 * of a connection that reads histories (rt_redis_reader_limit_history),
 * then every reply through the checks of both scripts' answers. The first
 * byte picks the read's since and limit, so each path of the check runs. */
#include <hiredis/hiredis.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/redis_hist.h"
#include "broker/redis_reader.h"

static void on_reply(const redisReply *r, uint8_t mode)
{
	rt_redis_hist_read rd;
	rt_pos pos, since = {mode & 0x0f, 0x1122334455667788ull};

	if (rt_redis_hist_published(r, &pos) == 0 && (pos.offset == 0 || pos.epoch == 0)) {
		abort();
	}
	if (rt_redis_hist_check(r, "chat", 4, (mode & 0x10) ? &since : NULL, (mode & 0x20) ? 3 : 100,
			&rd) == 0) {
		if (rd.status != 0 && rd.status != 1) {
			abort();
		}
		/* What is accepted is a run of this channel's messages up to the top. */
		for (uint32_t i = 0; i < rd.count; i++) {
			const rt_msg *m = rd.msgs[i];
			if (m->channel_count != 1 || m->positions == NULL
					|| m->positions[0].epoch != rd.top.epoch
					|| m->positions[0].offset != rd.top.offset - (rd.count - 1 - i)) {
				abort();
			}
		}
		rt_redis_hist_read_free(&rd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *reader;
	void *reply;
	uint8_t mode;

	if (size < 1) {
		return 0;
	}
	mode = data[0];
	reader = redisReaderCreate();
	if (reader == NULL) {
		return 0;
	}
	rt_redis_reader_limit_history(reader);
	if (redisReaderFeed(reader, (const char *) data + 1, size - 1) == REDIS_OK) {
		while (redisReaderGetReply(reader, &reply) == REDIS_OK && reply != NULL) {
			on_reply(reply, mode);
			freeReplyObject(reply);
		}
	}
	redisReaderFree(reader);
	return 0;
}
