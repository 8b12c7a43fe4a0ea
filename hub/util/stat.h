/* Counters that one thread (a hub's loop) writes and any thread reads. */
#ifndef RT_HUB_UTIL_STAT_H
#define RT_HUB_UTIL_STAT_H

#include <stdatomic.h>
#include <stdint.h>

/* Adds n (or subtracts: n = (uint64_t) -k) to a counter only its owner
 * thread writes: a plain load and store, no locked read-modify-write in the
 * hot path, and readers still see whole values. */
static inline void rt_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			memory_order_relaxed);
}

#endif
