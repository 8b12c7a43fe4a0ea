/* The handoff socket (hub/net/fdpass.c): a stopping hub refuses new links
 * but keeps the ones that connected just before, with what they already
 * sent; closing the listener would have dropped them after their sender
 * saw its connect succeed. Real unix sockets in this process. */
#include "rt_test.h"

#include "hub/net/fdpass.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define NODE 4242

RT_TEST(refuse_new_keeps_the_backlog)
{
	int listener = rt_fdpass_listen((int) getpid(), NODE);
	int early, late, taken;
	uint8_t buf[64];
	int got = -1;
	ssize_t n;

	RT_ASSERT(listener >= 0);
	early = rt_fdpass_connect((int) getpid(), NODE);
	RT_ASSERT(early >= 0);
	RT_ASSERT_EQ_INT(rt_fdpass_send(early, "hello", 5, -1), 0);
	RT_ASSERT_EQ_INT(rt_fdpass_refuse_new(listener), 0);
	/* A hub that connects now is told no, and looks for another taker. */
	late = rt_fdpass_connect((int) getpid(), NODE);
	RT_ASSERT_EQ_INT(late, -ECONNREFUSED);
	/* The one that connected before is still there, with its datagram. */
	taken = rt_fdpass_accept(listener);
	RT_ASSERT(taken >= 0);
	n = rt_fdpass_recv(taken, buf, sizeof(buf), &got);
	RT_ASSERT_EQ_INT((int) n, 5);
	RT_ASSERT(memcmp(buf, "hello", 5) == 0);
	RT_ASSERT_EQ_INT(got, -1);
	RT_ASSERT(rt_fdpass_accept(listener) < 0);
	close(taken);
	close(early);
	close(listener);
}

int main(void)
{
	RT_RUN(refuse_new_keeps_the_backlog);
	return rt_test_summary();
}
