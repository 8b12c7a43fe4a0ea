/* Server-to-client WebSocket frames. They are never masked, so one frame's
 * bytes serve every subscriber; wslay frames what it sends itself (control
 * replies), this module frames what the hub fans out. */
#ifndef RT_HUB_FRAME_H
#define RT_HUB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"

#define RT_FRAME_TEXT 0x1
#define RT_FRAME_CLOSE 0x8
#define RT_FRAME_PING 0x9

/* Writes the header of an unfragmented, unmasked frame; returns its size (2 to 10). */
size_t rt_frame_header(uint8_t *out, uint8_t opcode, uint64_t payload_len);

/* A complete frame holding payload. NULL when out of memory. */
rt_buf *rt_frame_new(uint8_t opcode, const void *payload, size_t len);
/* A text frame of what sb holds; frees sb. NULL when out of memory (the
 * frame's, or sb's while it was assembled). */
rt_buf *rt_frame_text_sb(rt_sb *sb);
/* The size of the frame rt_frame_new makes of a payload of len bytes. */
size_t rt_frame_size(size_t len);

/* Follows frame boundaries in a client's byte stream without decoding
 * payloads, so the hub knows when the WebSocket parser holds no state and
 * may be let go between messages (it costs several KB per connection). */
typedef struct rt_frame_scan {
	uint64_t payload_left;
	uint8_t hdr[14];
	uint8_t hdr_len;
	uint8_t in_message;   /* a fragmented data message is under way */
} rt_frame_scan;

void rt_frame_scan_feed(rt_frame_scan *s, const uint8_t *data, size_t len);
/* The same, returning the offset in data just past the last point where
 * the scan was idle (0: at the start), or SIZE_MAX when it never was: the
 * bytes from there on are a message not yet complete. */
size_t rt_frame_scan_feed_mark(rt_frame_scan *s, const uint8_t *data, size_t len);
/* 1 between frames and outside any fragmented message. */
int rt_frame_scan_idle(const rt_frame_scan *s);

#endif
