/* The native JSON protocol (docs/protocol.md): subscribe, unsubscribe,
 * ping, and the shape of delivered messages. */
#ifndef RT_HUB_NATIVE_H
#define RT_HUB_NATIVE_H

#include <stddef.h>

#include "hub/buf.h"
#include "hub/msg.h"

struct rt_conn;

void rt_native_on_open(struct rt_conn *conn);
void rt_native_on_message(struct rt_conn *conn, const char *text, size_t len);

/* The frame every native subscriber of channel receives for msg. */
rt_buf *rt_native_frame_message(const rt_msg *msg, rt_str channel);

#endif
