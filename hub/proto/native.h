/* The native JSON protocol (docs/protocol.md): subscribe, unsubscribe,
 * ping, whisper, and the shape of everything the hub sends. */
#ifndef RT_HUB_NATIVE_H
#define RT_HUB_NATIVE_H

#include <stddef.h>

#include "hub/proto/proto.h"
#include "hub/wire/http.h"

struct rt_session;

void rt_native_on_open(struct rt_session *s, const rt_http_req *upgrade);
void rt_native_on_message(struct rt_session *s, const char *text, size_t len);

/* Its frames are those of rt_proto_native (hub/proto/proto.h). */

#endif
