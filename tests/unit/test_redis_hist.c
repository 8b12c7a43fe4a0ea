/* broker/redis_hist.c: the history of the redis broker without a Redis.
 * Replies are built as Redis sends them (RESP bytes through a reader with
 * the broker's limits), so what is checked is what hiredis would hand over. */
#include "rt_test.h"

#include <errno.h>
#include <stdlib.h>

#include "broker/redis_hist.h"
#include "broker/redis_reader.h"

#define EPOCH 0x1122334455667788ull

/* What the publish script stores and publishes: head, the position, tail. */
static size_t assemble(const rt_msg *msg, uint64_t offset, uint64_t epoch, char *out)
{
	char *head, tail[8], e[8];
	size_t head_len, tail_len, n = 0;

	if (rt_redis_hist_split(msg, &head, &head_len, tail, &tail_len) != 0) {
		return 0;
	}
	memcpy(out, head, head_len);
	n = head_len;
	out[n++] = 1;
	out[n++] = 0;
	for (int i = 0; i < 8; i++) {
		out[n++] = (char) (offset >> (8 * i));
	}
	rt_redis_hist_epoch_bytes(epoch, e);
	memcpy(out + n, e, 8);
	n += 8;
	memcpy(out + n, tail, tail_len);
	free(head);
	return n + tail_len;
}

static rt_msg *publish_on(const char *channel, const char *data)
{
	rt_str ch = {channel, strlen(channel)};
	rt_msg_fields f = {0};
	rt_msg *m;

	f.channels = &ch;
	f.channel_count = 1;
	f.event = (rt_str) {"ev", 2};
	f.data = (rt_str) {data, strlen(data)};
	m = rt_msg_new(RT_MSG_PUBLISH, &f);
	if (m != NULL) {
		m->born = 1234567;
	}
	return m;
}

/* RESP: appends a bulk string. */
static size_t bulk(char *out, size_t at, const char *s, size_t len)
{
	at += (size_t) sprintf(out + at, "$%zu\r\n", len);
	memcpy(out + at, s, len);
	at += len;
	memcpy(out + at, "\r\n", 2);
	return at + 2;
}

static redisReply *parse(const char *resp, size_t len)
{
	redisReader *r = redisReaderCreate();
	void *got = NULL;

	rt_redis_reader_limit_history(r);
	if (redisReaderFeed(r, resp, len) != REDIS_OK || redisReaderGetReply(r, &got) != REDIS_OK) {
		got = NULL;
	}
	redisReaderFree(r);
	return got;
}

/* A read script's answer: epoch, top, then messages first..last on channel. */
static redisReply *read_reply(uint64_t epoch, const char *top, const char *channel,
		uint64_t first, uint64_t last, uint64_t msg_epoch)
{
	static char resp[1 << 16];
	char e[8], one[512];
	size_t at;
	uint64_t n = last >= first ? last - first + 1 : 0;

	at = (size_t) sprintf(resp, "*%llu\r\n", (unsigned long long) (n + 2));
	rt_redis_hist_epoch_bytes(epoch, e);
	at = bulk(resp, at, e, 8);
	at = bulk(resp, at, top, strlen(top));
	for (uint64_t o = first; n > 0 && o <= last; o++) {
		char data[32];
		rt_msg *m;
		size_t len;
		snprintf(data, sizeof(data), "{\"n\":%llu}", (unsigned long long) o);
		m = publish_on(channel, data);
		len = assemble(m, o, msg_epoch, one);
		rt_msg_free(m);
		at = bulk(resp, at, one, len);
	}
	return parse(resp, at);
}

RT_TEST(assembled_message_is_the_encoding_with_its_position)
{
	rt_msg *m = publish_on("chat", "{\"a\":1}");
	rt_pos pos = {42, EPOCH};
	char want[256], got[256];
	size_t wn, gn;
	rt_msg *back;

	RT_ASSERT(m != NULL);
	gn = assemble(m, 42, EPOCH, got);
	m->positions = &pos;
	wn = rt_msg_encode(m, want, sizeof(want));
	m->positions = NULL;
	RT_ASSERT(wn > 0);
	RT_ASSERT_EQ_INT(gn, wn);
	RT_ASSERT_MEM(got, want, wn);
	back = rt_msg_decode(got, gn);
	RT_ASSERT(back != NULL && back->positions != NULL);
	RT_ASSERT_EQ_INT(back->positions[0].offset, 42);
	RT_ASSERT(back->positions[0].epoch == EPOCH);
	RT_ASSERT_EQ_INT(back->born, 1234567);
	rt_msg_free(back);
	/* Unstamped: no tail, no flag. */
	m->born = 0;
	gn = assemble(m, 1, EPOCH, got);
	back = rt_msg_decode(got, gn);
	RT_ASSERT(back != NULL && back->born == 0 && back->positions[0].offset == 1);
	rt_msg_free(back);
	rt_msg_free(m);
}

RT_TEST(split_refuses_what_is_not_one_channel_publish)
{
	rt_str chs[2] = {{"a", 1}, {"b", 1}};
	rt_msg_fields f = {0};
	rt_msg *m;
	char *head, tail[8];
	size_t hl, tl;

	f.channels = chs;
	f.channel_count = 2;
	f.data = (rt_str) {"1", 1};
	m = rt_msg_new(RT_MSG_PUBLISH, &f);
	RT_ASSERT_EQ_INT(rt_redis_hist_split(m, &head, &hl, tail, &tl), -EINVAL);
	RT_ASSERT(head == NULL);
	rt_msg_free(m);
}

RT_TEST(epoch_bytes_round_trip)
{
	char e[8];

	rt_redis_hist_epoch_bytes(EPOCH, e);
	RT_ASSERT(rt_redis_hist_epoch_of(e, 8) == EPOCH);
	RT_ASSERT(rt_redis_hist_epoch_of(e, 7) == 0);
	RT_ASSERT(rt_redis_hist_epoch_of(NULL, 8) == 0);
}

static int published(const char *resp, rt_pos *pos)
{
	redisReply *r = parse(resp, strlen(resp));
	int st = rt_redis_hist_published(r, pos);

	freeReplyObject(r);
	return st;
}

RT_TEST(published_position_is_checked)
{
	rt_pos pos;

	RT_ASSERT_EQ_INT(published("*2\r\n:7\r\n$8\r\n\x88\x77\x66\x55\x44\x33\x22\x11\r\n", &pos), 0);
	RT_ASSERT_EQ_INT(pos.offset, 7);
	RT_ASSERT(pos.epoch == EPOCH);
	RT_ASSERT_EQ_INT(published("*2\r\n:0\r\n$8\r\n\x88\x77\x66\x55\x44\x33\x22\x11\r\n", &pos),
			-EPROTO);
	RT_ASSERT_EQ_INT(published("*2\r\n:-3\r\n$8\r\n\x88\x77\x66\x55\x44\x33\x22\x11\r\n", &pos),
			-EPROTO);
	RT_ASSERT_EQ_INT(published("*2\r\n:9007199254740992\r\n$8\r\n12345678\r\n", &pos), -EPROTO);
	RT_ASSERT_EQ_INT(published("*2\r\n$1\r\n7\r\n$8\r\n12345678\r\n", &pos), -EPROTO);
	RT_ASSERT_EQ_INT(published("*2\r\n:7\r\n$7\r\n1234567\r\n", &pos), -EPROTO);
	RT_ASSERT_EQ_INT(published("*2\r\n:7\r\n$8\r\n\0\0\0\0\0\0\0\0\r\n", &pos), -EPROTO);
	RT_ASSERT_EQ_INT(published("*1\r\n:7\r\n", &pos), -EPROTO);
	RT_ASSERT_EQ_INT(published(":7\r\n", &pos), -EPROTO);
	RT_ASSERT_EQ_INT(published("-ERR no\r\n", &pos), -EPROTO);
	RT_ASSERT_EQ_INT(rt_redis_hist_published(NULL, &pos), -EPROTO);
}

static int check(redisReply *r, const char *channel, const rt_pos *since, uint32_t limit,
		rt_redis_hist_read *rd)
{
	int st = rt_redis_hist_check(r, channel, strlen(channel), since, limit, rd);

	freeReplyObject(r);
	return st;
}

RT_TEST(read_without_history)
{
	rt_redis_hist_read rd;
	rt_pos since = {3, EPOCH};

	RT_ASSERT_EQ_INT(check(parse("*0\r\n", 4), "chat", NULL, 10, &rd), 0);
	RT_ASSERT_EQ_INT(rd.status, 1);
	RT_ASSERT_EQ_INT(rd.top.offset, 0);
	RT_ASSERT_EQ_INT(check(parse("*0\r\n", 4), "chat", &since, 10, &rd), 0);
	RT_ASSERT_EQ_INT(rd.status, 0);
}

RT_TEST(read_of_the_last_messages)
{
	rt_redis_hist_read rd;

	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 3, 5, EPOCH), "chat", NULL, 3, &rd), 0);
	RT_ASSERT_EQ_INT(rd.status, 1);
	RT_ASSERT_EQ_INT(rd.count, 3);
	RT_ASSERT_EQ_INT(rd.top.offset, 5);
	RT_ASSERT(rd.top.epoch == EPOCH);
	RT_ASSERT_EQ_INT(rd.msgs[0]->positions[0].offset, 3);
	RT_ASSERT_EQ_INT(rd.msgs[2]->positions[0].offset, 5);
	RT_ASSERT(rd.raw[0] != NULL); /* its reply is freed by now */
	rt_redis_hist_read_free(&rd);
	/* Only the position (limit 0). */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 1, 0, EPOCH), "chat", NULL, 0, &rd), 0);
	RT_ASSERT_EQ_INT(rd.status, 1);
	RT_ASSERT_EQ_INT(rd.count, 0);
	RT_ASSERT_EQ_INT(rd.top.offset, 5);
}

RT_TEST(read_after_a_position)
{
	rt_redis_hist_read rd;
	rt_pos since = {2, EPOCH}, at_top = {5, EPOCH}, other = {2, EPOCH + 1}, early = {1, EPOCH};

	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 3, 5, EPOCH), "chat", &since, 100, &rd),
			0);
	RT_ASSERT_EQ_INT(rd.status, 1);
	RT_ASSERT_EQ_INT(rd.count, 3);
	rt_redis_hist_read_free(&rd);
	/* Nothing missed. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 1, 0, EPOCH), "chat", &at_top, 100,
			&rd), 0);
	RT_ASSERT_EQ_INT(rd.status, 1);
	RT_ASSERT_EQ_INT(rd.count, 0);
	/* Another epoch: the history was lost since. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 1, 0, EPOCH), "chat", &other, 100, &rd),
			0);
	RT_ASSERT_EQ_INT(rd.status, 0);
	RT_ASSERT(rd.top.epoch == EPOCH);
	/* Offset 2 was trimmed (by size or age): 3..5 alone do not cover since 1. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 3, 5, EPOCH), "chat", &early, 100, &rd),
			0);
	RT_ASSERT_EQ_INT(rd.status, 0);
	RT_ASSERT(rd.msgs == NULL && rd.count == 0);
	/* A position ahead of the top (another history, or made up). */
	at_top.offset = 9;
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 1, 0, EPOCH), "chat", &at_top, 100,
			&rd), 0);
	RT_ASSERT_EQ_INT(rd.status, 0);
}

RT_TEST(read_refuses_what_is_not_the_history)
{
	rt_redis_hist_read rd;
	char resp[64];
	size_t n;

	/* Messages of another channel. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "other", 3, 5, EPOCH), "chat", NULL, 10, &rd),
			-EPROTO);
	/* Of another epoch. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 3, 5, EPOCH + 1), "chat", NULL, 10,
			&rd), -EPROTO);
	/* Not ending at the top. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "6", "chat", 3, 5, EPOCH), "chat", NULL, 10, &rd),
			-EPROTO);
	/* More than asked for. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5", "chat", 3, 5, EPOCH), "chat", NULL, 2, &rd),
			-EPROTO);
	/* Tops that are not offsets. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "5a", "chat", 1, 0, EPOCH), "chat", NULL, 2, &rd),
			-EPROTO);
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "", "chat", 1, 0, EPOCH), "chat", NULL, 2, &rd),
			-EPROTO);
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "9007199254740992", "chat", 1, 0, EPOCH), "chat",
			NULL, 2, &rd), -EPROTO);
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "-1", "chat", 1, 0, EPOCH), "chat", NULL, 2, &rd),
			-EPROTO);
	/* More messages than the top counts. */
	RT_ASSERT_EQ_INT(check(read_reply(EPOCH, "1", "chat", 0, 1, EPOCH), "chat", NULL, 5, &rd),
			-EPROTO);
	/* Epoch 0, a short epoch, an integer where a message goes, one element. */
	RT_ASSERT_EQ_INT(check(read_reply(0, "5", "chat", 1, 0, EPOCH), "chat", NULL, 2, &rd), -EPROTO);
	RT_ASSERT_EQ_INT(check(parse("*2\r\n$7\r\n1234567\r\n$1\r\n5\r\n", 24), "chat", NULL, 2, &rd),
			-EPROTO);
	n = (size_t) sprintf(resp, "*3\r\n$8\r\n12345678\r\n$1\r\n5\r\n:5\r\n");
	RT_ASSERT_EQ_INT(check(parse(resp, n), "chat", NULL, 2, &rd), -EPROTO);
	RT_ASSERT_EQ_INT(check(parse("*1\r\n$1\r\n5\r\n", 11), "chat", NULL, 2, &rd), -EPROTO);
	RT_ASSERT_EQ_INT(check(parse("$1\r\n5\r\n", 7), "chat", NULL, 2, &rd), -EPROTO);
	RT_ASSERT_EQ_INT(rt_redis_hist_check(NULL, "chat", 4, NULL, 2, &rd), -EPROTO);
}

RT_TEST(history_reader_takes_long_flat_arrays_only)
{
	char resp[64];
	redisReply *r;

	snprintf(resp, sizeof(resp), "*%d\r\n", RT_REDIS_MAX_HISTORY + 1);
	RT_ASSERT(parse(resp, strlen(resp)) == NULL);
	RT_ASSERT(parse("*1\r\n*1\r\n:1\r\n", 12) == NULL);
	r = read_reply(EPOCH, "20", "chat", 1, 20, EPOCH);
	RT_ASSERT(r != NULL && r->elements == 22);
	freeReplyObject(r);
}

int main(void)
{
	RT_RUN(assembled_message_is_the_encoding_with_its_position);
	RT_RUN(split_refuses_what_is_not_one_channel_publish);
	RT_RUN(epoch_bytes_round_trip);
	RT_RUN(published_position_is_checked);
	RT_RUN(read_without_history);
	RT_RUN(read_of_the_last_messages);
	RT_RUN(read_after_a_position);
	RT_RUN(read_refuses_what_is_not_the_history);
	RT_RUN(history_reader_takes_long_flat_arrays_only);
	return rt_test_summary();
}
