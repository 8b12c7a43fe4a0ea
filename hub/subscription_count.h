/* Pusher's subscription_count events (realtime.pusher_subscription_count):
 * Pusher clients on a channel that is not a presence channel hear how many
 * subscriptions the whole app has on it, at most once per interval. */
#ifndef RT_HUB_SUBSCRIPTION_COUNT_H
#define RT_HUB_SUBSCRIPTION_COUNT_H

#include "hub/core/hub.h"

/* From the hub's once-a-second tick. */
void rt_subscription_count_tick(rt_hub *hub);

#endif
