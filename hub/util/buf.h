/* Byte buffers.
 * rt_buf: an immutable, refcounted frame shared by every subscriber it is
 * queued for; only the hub thread touches the count, so it is not atomic.
 * rt_sb: a growable string used to assemble one message. */
#ifndef RT_HUB_BUF_H
#define RT_HUB_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct rt_buf {
	uint32_t refs;
	uint32_t len;
	char data[];
} rt_buf;

rt_buf *rt_buf_new(size_t len);

static inline rt_buf *rt_buf_ref(rt_buf *b)
{
	b->refs++;
	return b;
}

void rt_buf_unref(rt_buf *b);

typedef struct rt_sb {
	char *data;
	size_t len;
	size_t cap;
	int failed; /* an allocation failed: the contents are incomplete */
} rt_sb;

void rt_sb_init(rt_sb *sb);
void rt_sb_free(rt_sb *sb);
void rt_sb_append(rt_sb *sb, const void *data, size_t len);
void rt_sb_puts(rt_sb *sb, const char *s);
/* Appends s as a quoted JSON string. */
void rt_sb_json_string(rt_sb *sb, const char *s, size_t len);
/* The bytes rt_sb_json_string appends for s, quotes included. */
size_t rt_json_string_size(const char *s, size_t len);

#endif
