/* What a session (hub/core/session.h) asks of whatever carries it to its
 * client: a WebSocket connection (hub/net/conn.c) today, SSE or long-polling
 * later. transport is the carrier's own pointer. */
#ifndef RT_HUB_TRANSPORT_H
#define RT_HUB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"

/* Close codes of the native protocol beyond RFC 6455's (docs/protocol.md). */
#define RT_CLOSE_PING_TIMEOUT 4000
#define RT_CLOSE_SLOW_CONSUMER 4008
#define RT_CLOSE_DISCONNECTED 4009     /* Realtime\disconnectUser() */
/* RFC 6455's "service restart": this worker ends, the server goes on, so
 * reconnect at once (rt_hub_mark_restart). */
#define RT_CLOSE_SERVICE_RESTART 1012

typedef struct rt_transport_ops {
	/* Queues a shared frame (takes a reference); a transport that cannot
	 * keep up closes itself (slow consumer) later, never during the call. */
	void (*send)(void *transport, rt_buf *frame);
	/* Frames and queues one text message. */
	void (*send_text)(void *transport, const char *text, size_t len);
	/* Starts closing with a close code (RT_CLOSE_* above, or the protocol's
	 * own). */
	void (*close)(void *transport, uint16_t code, const char *reason);
	/* Ends at once (out of memory, broken client). */
	void (*abort)(void *transport);
	/* Stops (1) or resumes (0) reading from the client. */
	void (*pause)(void *transport, int paused);
} rt_transport_ops;

#endif
