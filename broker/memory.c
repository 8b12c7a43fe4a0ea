/* The memory broker: a message goes straight to this process's hub. */
#include "broker/broker.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct rt_broker {
	_Atomic(rt_hub *) hub;
};

static int rt__memory_open(rt_broker **out, const rt_config *cfg, char *err, size_t errlen)
{
	(void) cfg;
	*out = calloc(1, sizeof(**out));
	if (*out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void rt__memory_attach(rt_broker *b, rt_hub *hub)
{
	atomic_store(&b->hub, hub);
}

static int rt__memory_publish(rt_broker *b, rt_msg *msg, char *err, size_t errlen)
{
	rt_hub *hub = atomic_load(&b->hub);
	int r;

	if (hub == NULL) {
		rt_msg_free(msg);
		snprintf(err, errlen, "no hub is running in this process");
		return -ENOTCONN;
	}
	r = rt_hub_post(hub, msg);
	if (r != 0) {
		snprintf(err, errlen, "the hub is shutting down");
	}
	return r;
}

static void rt__memory_close(rt_broker *b)
{
	free(b);
}

const rt_broker_ops rt_broker_memory = {
	.name = "memory",
	.open = rt__memory_open,
	.attach = rt__memory_attach,
	.publish = rt__memory_publish,
	.close = rt__memory_close,
};
