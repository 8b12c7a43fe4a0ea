/* Runs a callback on a server worker's main thread once the worker is ready
 * to serve, before its first request: no SAPI offers that hook. */
#ifndef RT_EXT_EARLYSTART_H
#define RT_EXT_EARLYSTART_H

#include <stddef.h>

/* Called on the main thread: in php-fpm before each accept() of its request
 * loop, in php -S before each select() of its event loop (through the
 * executable's own import slots), in an Apache prefork child once, from a
 * child_init hook. It must be cheap when it has nothing to do. */
typedef void (*rt_earlystart_fn)(void);

/* In MINIT, for the SAPI named sapi. Returns 0, -ENOENT when this server
 * offers no such point (hubs then start with the first request), or
 * another negative errno; err says why. */
int rt_earlystart_install(const char *sapi, rt_earlystart_fn fn, char *err, size_t errlen);

/* In MSHUTDOWN, before the extension's code is unloaded: puts back what
 * install changed in this process (Apache's hook lists are cleared by
 * httpd itself before it unloads modules on a restart). */
void rt_earlystart_uninstall(void);

#endif
