/* Brokers carry a published message to every hub that has subscribers for
 * it: "memory" to the hub of this process, "redis" (later) across hosts.
 * The PHP layer picks one by realtime.broker and calls it through its ops. */
#ifndef RT_BROKER_BROKER_H
#define RT_BROKER_BROKER_H

#include <stddef.h>

#include "hub/config.h"
#include "hub/hub.h"
#include "hub/msg.h"

typedef struct rt_broker rt_broker;

typedef struct rt_broker_ops {
	const char *name;
	/* Per process, on a PHP thread. Returns 0 or a negative errno. */
	int (*open)(rt_broker **out, const rt_config *cfg, char *err, size_t errlen);
	/* The hub of this process started (hub) or stopped (NULL). */
	void (*attach)(rt_broker *b, rt_hub *hub);
	/* Takes ownership of msg. Returns 0, or a negative errno with err set. */
	int (*publish)(rt_broker *b, rt_msg *msg, char *err, size_t errlen);
	void (*close)(rt_broker *b);
} rt_broker_ops;

extern const rt_broker_ops rt_broker_memory;

/* The ops for a realtime.broker value, or NULL. */
const rt_broker_ops *rt_broker_find(const char *name);

#endif
