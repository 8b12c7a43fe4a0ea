/* A real hub for the harnesses whose bytes enter through a connection: one
 * hub (hub/hub.c, its own loop thread, no broker) on a loopback port,
 * started once per fuzzing process, and blocking client sockets that talk
 * to it like any client. Each input runs on a fresh connection that ends
 * with the client's EOF, and the harness waits until the hub has closed it,
 * so an input's work is done before the next begins. */
#ifndef RT_FUZZ_LIVE_H
#define RT_FUZZ_LIVE_H

#include <stddef.h>
#include <stdint.h>

#define RT_FUZZ_SECRET "fuzz-secret"
#define RT_FUZZ_PUBLISH_KEY "fuzz-publish-key-0123"
#define RT_FUZZ_APP_ID "77"
#define RT_FUZZ_APP_KEY "fuzzkey"
#define RT_FUZZ_APP_SECRET "fuzz-app-secret"
#define RT_FUZZ_MERCURE_KEY "fuzz-mercure-key-0123"

/* Starts the hub (once); aborts when it cannot. */
void rt_fuzz_live_start(void);
int rt_fuzz_live_port(void);
/* A connection to the hub; aborts when the hub does not accept. */
int rt_fuzz_live_connect(void);
/* Opens a WebSocket on target (path and query); returns the fd after a 101,
 * or -1 when the hub refused. */
int rt_fuzz_live_ws(const char *target);
/* Sends a masked frame. 0, or -1 when the hub has gone away. */
int rt_fuzz_live_frame(int fd, uint8_t b0, const void *payload, size_t len);
/* Reads one text frame's payload into out (NUL-terminated); its length,
 * or -1. Control frames are skipped. */
long rt_fuzz_live_text(int fd, char *out, size_t cap);
/* Sends EOF and waits until the hub closes the connection; then closes fd.
 * Aborts when the hub stops answering (a hang is a finding). */
void rt_fuzz_live_finish(int fd);
/* A connection token for uid, allowed on every channel. malloc'd. */
char *rt_fuzz_live_token(const char *uid);
/* hex(HMAC-SHA256(key, data)) into out (65 bytes). */
void rt_fuzz_hmac_hex(const char *key, const void *data, size_t len, char out[65]);

#endif
