#include "broker/broker.h"

#include <string.h>

static const rt_broker_ops *const rt__brokers[] = {
	&rt_broker_memory,
	&rt_broker_redis,
};

const rt_broker_ops *rt_broker_find(const char *name)
{
	for (size_t i = 0; i < sizeof(rt__brokers) / sizeof(rt__brokers[0]); i++) {
		if (strcmp(rt__brokers[i]->name, name) == 0) {
			return rt__brokers[i];
		}
	}
	return NULL;
}
