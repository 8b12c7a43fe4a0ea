/* segment_drop(): removes the named segment that the memory broker's
 * prefork made for cfg's app; it outlives the test by design, and tests
 * that start pools would otherwise leave one in /dev/shm per run. */
#ifndef RT_TEST_SEGMENT_DROP_H
#define RT_TEST_SEGMENT_DROP_H

#include <sys/mman.h>

#include "broker/segment.h"
#include "hub/model/config.h"

static inline void segment_drop(const rt_config *cfg)
{
	char name[RT_SEGMENT_NAME_MAX];

	rt_segment_name(name, sizeof(name), cfg->host, cfg->port);
	shm_unlink(name);
}

#endif
