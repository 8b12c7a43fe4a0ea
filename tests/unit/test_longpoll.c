/* hub/net/longpoll.c: a long-polling session's queue as a transport. */
#include "rt_test.h"

#include <stdlib.h>

#include "hub/net/longpoll.h"

static int readies;

static void on_ready(rt_longpoll *lp)
{
	(void) lp;
	readies++;
}

static rt_buf *frame(const char *text)
{
	rt_buf *b = rt_buf_new(strlen(text));

	memcpy(b->data, text, b->len);
	return b;
}

static void send_text(rt_longpoll *lp, const char *text)
{
	rt_buf *b = frame(text);

	rt_longpoll_transport.send(lp, b);
	rt_buf_unref(b);
}

RT_TEST(bounded_queue_drops_oldest)
{
	_Atomic uint64_t dropped = 0;
	rt_longpoll lp;
	rt_sb sb;

	RT_ASSERT_EQ_INT(rt_longpoll_init(&lp, 3), 0);
	lp.ready = on_ready;
	lp.stat_dropped = &dropped;
	RT_ASSERT(rt_longpoll_last(&lp) == 0);
	for (int i = 1; i <= 5; i++) {
		char t[16];
		snprintf(t, sizeof(t), "%d|", i);
		send_text(&lp, t);
	}
	RT_ASSERT_EQ_INT(lp.count, 3);
	RT_ASSERT(atomic_load(&dropped) == 2);
	RT_ASSERT_EQ_INT(readies, 5);
	RT_ASSERT(rt_longpoll_last(&lp) == 5);
	rt_sb_init(&sb);
	RT_ASSERT(rt_longpoll_batch(&lp, &sb, 1 << 20) == 5);
	RT_ASSERT_EQ_INT(sb.len, 6);
	RT_ASSERT_MEM(sb.data, "3|4|5|", 6);
	rt_sb_free(&sb);
	/* A batch under max_bytes, but never empty. */
	rt_sb_init(&sb);
	RT_ASSERT(rt_longpoll_batch(&lp, &sb, 1) == 3);
	RT_ASSERT_MEM(sb.data, "3|", 2);
	rt_sb_free(&sb);
	/* Acknowledged frames go; the next batch starts after them. */
	rt_longpoll_ack(&lp, 4);
	RT_ASSERT_EQ_INT(lp.count, 1);
	rt_sb_init(&sb);
	RT_ASSERT(rt_longpoll_batch(&lp, &sb, 1 << 20) == 5);
	RT_ASSERT_MEM(sb.data, "5|", 2);
	rt_sb_free(&sb);
	rt_longpoll_ack(&lp, 5);
	rt_sb_init(&sb);
	RT_ASSERT(rt_longpoll_batch(&lp, &sb, 1 << 20) == 5);
	RT_ASSERT_EQ_INT(sb.len, 0);
	rt_sb_free(&sb);
	rt_longpoll_free(&lp);
}

RT_TEST(text_and_close)
{
	rt_longpoll lp;
	rt_sb sb;
	const char *want = "data: {\"a\":1}\n\nevent: close\ndata: {\"type\":\"close\",\"code\":4009,"
			"\"reason\":\"bye\"}\n\n";

	RT_ASSERT_EQ_INT(rt_longpoll_init(&lp, 8), 0);
	rt_longpoll_transport.send_text(&lp, "{\"a\":1}", 7);
	rt_longpoll_transport.close(&lp, 4009, "bye");
	RT_ASSERT(lp.closed);
	/* Nothing after the close. */
	send_text(&lp, "late");
	rt_longpoll_transport.send_text(&lp, "x", 1);
	rt_sb_init(&sb);
	RT_ASSERT(rt_longpoll_batch(&lp, &sb, 1 << 20) == 2);
	RT_ASSERT_EQ_INT(sb.len, strlen(want));
	RT_ASSERT_MEM(sb.data, want, strlen(want));
	rt_sb_free(&sb);
	rt_longpoll_free(&lp);
}

int main(void)
{
	RT_RUN(bounded_queue_drops_oldest);
	RT_RUN(text_and_close);
	return rt_test_summary();
}
