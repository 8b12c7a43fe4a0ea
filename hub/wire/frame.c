#include "hub/wire/frame.h"

#include <string.h>

size_t rt_frame_header(uint8_t *out, uint8_t opcode, uint64_t len)
{
	out[0] = (uint8_t) (0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t) len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t) (len >> 8);
		out[3] = (uint8_t) len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++) {
		out[2 + i] = (uint8_t) (len >> (56 - 8 * i));
	}
	return 10;
}

rt_buf *rt_frame_text_sb(rt_sb *sb)
{
	rt_buf *frame = sb->failed ? NULL : rt_frame_new(RT_FRAME_TEXT, sb->data, sb->len);

	rt_sb_free(sb);
	return frame;
}

size_t rt_frame_size(size_t len)
{
	return len + (len < 126 ? 2 : len <= 0xffff ? 4 : 10);
}

rt_buf *rt_frame_new(uint8_t opcode, const void *payload, size_t len)
{
	uint8_t header[10];
	size_t hlen = rt_frame_header(header, opcode, len);
	rt_buf *b = rt_buf_new(hlen + len);

	if (b == NULL) {
		return NULL;
	}
	memcpy(b->data, header, hlen);
	if (len) {
		memcpy(b->data + hlen, payload, len);
	}
	return b;
}

static size_t rt__header_size(const uint8_t *h)
{
	size_t n = 2;
	uint8_t len = h[1] & 0x7f;

	if (len == 126) {
		n += 2;
	} else if (len == 127) {
		n += 8;
	}
	return n + ((h[1] & 0x80) ? 4 : 0);
}

void rt_frame_scan_feed(rt_frame_scan *s, const uint8_t *data, size_t len)
{
	(void) rt_frame_scan_feed_mark(s, data, len);
}

size_t rt_frame_scan_feed_mark(rt_frame_scan *s, const uint8_t *data, size_t len)
{
	size_t i = 0, mark = rt_frame_scan_idle(s) ? 0 : SIZE_MAX;

	while (i < len) {
		if (s->payload_left > 0) {
			size_t take = (len - i < s->payload_left) ? len - i : (size_t) s->payload_left;
			s->payload_left -= take;
			i += take;
			if (rt_frame_scan_idle(s)) {
				mark = i;
			}
			continue;
		}
		s->hdr[s->hdr_len++] = data[i++];
		if (s->hdr_len < 2 || s->hdr_len < rt__header_size(s->hdr)) {
			continue;
		}
		{
			uint8_t opcode = s->hdr[0] & 0x0f, fin = s->hdr[0] & 0x80, l = s->hdr[1] & 0x7f;
			uint64_t plen = l;
			if (l == 126) {
				plen = ((uint64_t) s->hdr[2] << 8) | s->hdr[3];
			} else if (l == 127) {
				plen = 0;
				for (int k = 0; k < 8; k++) {
					plen = (plen << 8) | s->hdr[2 + k];
				}
			}
			if (opcode < 0x8) {
				s->in_message = !fin;
			}
			s->payload_left = plen;
			s->hdr_len = 0;
		}
		if (rt_frame_scan_idle(s)) {
			mark = i;
		}
	}
	return mark;
}

int rt_frame_scan_idle(const rt_frame_scan *s)
{
	return s->payload_left == 0 && s->hdr_len == 0 && !s->in_message;
}
