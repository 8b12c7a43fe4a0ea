/* Process and thread lifecycle of the hub, seen from PHP's threads: which
 * process may run one, starting it lazily, restarting it in a forked child,
 * stopping it at shutdown. All hub state of a process lives here. */
#ifndef RT_EXT_LIFECYCLE_H
#define RT_EXT_LIFECYCLE_H

#include "php.h"
#include "broker/broker.h"
#include "hub/core/hub.h"

zend_result rt_lifecycle_minit(void);
void rt_lifecycle_mshutdown(void);
/* Called at every request start: starts the hub in server SAPIs. */
void rt_lifecycle_rinit(void);

/* Starts the hub in this process if it is not running (Realtime\start()).
 * Returns 0, or a negative errno with err set. */
int rt_lifecycle_start(char *err, size_t errlen);
/* Stops this process's hub; returns whether one was running. */
bool rt_lifecycle_stop(void);

/* Every use of the hub and broker below sits between enter and leave, with
 * no Zend call in between that may bail out (emalloc, output): in a ZTS
 * build a stop waits for the PHP threads in between before it frees the
 * hub, and leaves them none to post to after (docs/architecture.md,
 * Threads). Not nested. NTS: nothing, one PHP thread per process. */
#ifdef ZTS
void rt_lifecycle_enter(void);
void rt_lifecycle_leave(void);
#else
static inline void rt_lifecycle_enter(void) {}
static inline void rt_lifecycle_leave(void) {}
#endif
/* This process's hub, or NULL (between enter and leave). */
rt_hub *rt_lifecycle_hub(void);
/* This process's broker, opened on first use (between enter and leave).
 * NULL with err set on failure. */
rt_broker *rt_lifecycle_broker(const rt_broker_ops **ops, char *err, size_t errlen);
/* A copy of the running hub's settings: 0, or -ENOENT when none runs. */
int rt_lifecycle_hub_config(rt_config *out);
/* Copies the reason the last start failed to out; false when it did not. */
bool rt_lifecycle_last_error(char *out, size_t len);

/* Reads the realtime.* INI settings into cfg. Returns 0 or -EINVAL with err set. */
int rt_lifecycle_read_config(rt_config *cfg, char *err, size_t errlen);

#endif
