/* Whether a hub should take new clients from the listening socket it shares
 * with the other hubs of its pool, given every hub's load (a pure decision). */
#ifndef RT_UTIL_BALANCE_H
#define RT_UTIL_BALANCE_H

#include <stdint.h>

/* How far above the least loaded hub a hub may go, in percent of the mean
 * load, and at least in connections (so small pools do not flap). */
#define RT_BALANCE_SLACK_PCT 10u
#define RT_BALANCE_MIN_GAP 2u

/* self: this hub's load; loads: every live hub's load, this hub's included
 * (n of them). 1 when this hub should accept: when it is alone, or within
 * the slack of the least loaded hub. The least loaded hub always accepts, so
 * some hub always does. */
int rt_balance_should_accept(uint32_t self, const uint32_t *loads, int n);

#endif
