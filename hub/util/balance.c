/* Hubs that share one listening socket race for each client; the kernel
 * wakes them all and the first to call accept() wins, which favours
 * whichever hub is least busy at that instant, not least loaded. A hub that
 * is clearly ahead of the least loaded one sits the race out. Comparing to
 * the minimum rather than the mean keeps every hub within the slack of every
 * other, both above and below the mean, and never stops them all. */
#include "hub/util/balance.h"

#include <stddef.h>

int rt_balance_should_accept(uint32_t self, const uint32_t *loads, int n)
{
	uint64_t sum = 0, gap;
	uint32_t min = self;

	if (loads == NULL || n <= 1) {
		return 1;
	}
	for (int i = 0; i < n; i++) {
		sum += loads[i];
		if (loads[i] < min) {
			min = loads[i];
		}
	}
	gap = sum * RT_BALANCE_SLACK_PCT / (100u * (uint64_t) n);
	if (gap < RT_BALANCE_MIN_GAP) {
		gap = RT_BALANCE_MIN_GAP;
	}
	return (uint64_t) self <= (uint64_t) min + gap;
}
