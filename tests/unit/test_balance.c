/* The even-spread decision (hub/util/balance.c): which hubs of a pool take
 * new clients from the socket they share, given their loads. */
#include "rt_test.h"

#include "hub/util/balance.h"

#include <stdlib.h>

RT_TEST(alone_always_accepts)
{
	uint32_t one = 5000;

	RT_ASSERT(rt_balance_should_accept(5000, &one, 1));
	RT_ASSERT(rt_balance_should_accept(7, NULL, 0));
}

RT_TEST(ahead_pauses_behind_accepts)
{
	uint32_t loads[4] = {300, 250, 250, 200};

	RT_ASSERT(!rt_balance_should_accept(300, loads, 4));
	RT_ASSERT(!rt_balance_should_accept(250, loads, 4));
	RT_ASSERT(rt_balance_should_accept(200, loads, 4));
}

RT_TEST(within_slack_accepts)
{
	/* mean 250, slack 10% = 25 above the least loaded */
	uint32_t loads[4] = {265, 250, 245, 240};

	RT_ASSERT(rt_balance_should_accept(265, loads, 4));
	RT_ASSERT(!rt_balance_should_accept(266, (uint32_t[]) {266, 250, 245, 240}, 4));
}

RT_TEST(small_pools_do_not_flap)
{
	uint32_t loads[3] = {2, 1, 0};

	RT_ASSERT(rt_balance_should_accept(2, loads, 3));
	RT_ASSERT(!rt_balance_should_accept(3, (uint32_t[]) {3, 1, 0}, 3));
	RT_ASSERT(rt_balance_should_accept(0, (uint32_t[]) {0, 0, 0, 0}, 4));
}

RT_TEST(equal_loads_all_accept)
{
	uint32_t loads[4] = {4000000000u, 4000000000u, 4000000000u, 4000000000u};

	for (int i = 0; i < 4; i++) {
		RT_ASSERT(rt_balance_should_accept(loads[i], loads, 4));
	}
}

/* Whatever the loads, the least loaded hub accepts: the pool never stops
 * taking clients. And a simulated burst where the least loaded of the
 * accepting hubs is not the one that wins each race still ends within 20%
 * of the mean. */
RT_TEST(never_starves_and_spreads)
{
	uint32_t loads[8];

	srand(13);
	for (int round = 0; round < 1000; round++) {
		int n = 1 + rand() % 8, any = 0;
		for (int i = 0; i < n; i++) {
			loads[i] = (uint32_t) (rand() % 2000);
		}
		for (int i = 0; i < n; i++) {
			any |= rt_balance_should_accept(loads[i], loads, n);
		}
		RT_ASSERT(any);
	}
	for (int i = 0; i < 4; i++) {
		loads[i] = 0;
	}
	for (int c = 0; c < 1000; c++) {
		/* the race goes to the first accepting hub in a random order,
		 * skewed toward hub 0 as a busy-poll winner would be */
		int start = rand() % 3 == 0 ? rand() % 4 : 0, took = 0;
		for (int k = 0; k < 4 && !took; k++) {
			int i = (start + k) % 4;
			if (rt_balance_should_accept(loads[i], loads, 4)) {
				loads[i]++;
				took = 1;
			}
		}
		RT_ASSERT(took);
	}
	for (int i = 0; i < 4; i++) {
		RT_ASSERT(loads[i] >= 200 && loads[i] <= 300);
	}
}

int main(void)
{
	RT_RUN(alone_always_accepts);
	RT_RUN(ahead_pauses_behind_accepts);
	RT_RUN(within_slack_accepts);
	RT_RUN(small_pools_do_not_flap);
	RT_RUN(equal_loads_all_accept);
	RT_RUN(never_starves_and_spreads);
	return rt_test_summary();
}
