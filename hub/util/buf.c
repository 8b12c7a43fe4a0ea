#include "hub/util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rt_buf *rt_buf_new(size_t len)
{
	rt_buf *b;

	if (len > UINT32_MAX) {
		return NULL;
	}
	b = malloc(sizeof(*b) + len);
	if (b == NULL) {
		return NULL;
	}
	b->refs = 1;
	b->len = (uint32_t) len;
	return b;
}

void rt_buf_unref(rt_buf *b)
{
	if (b != NULL && --b->refs == 0) {
		free(b);
	}
}

void rt_sb_init(rt_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void rt_sb_free(rt_sb *sb)
{
	free(sb->data);
	rt_sb_init(sb);
}

static int rt__sb_reserve(rt_sb *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	size_t cap = sb->cap ? sb->cap : 64;
	char *p;

	if (sb->failed) {
		return -1;
	}
	if (need <= sb->cap) {
		return 0;
	}
	while (cap < need) {
		cap *= 2;
	}
	p = realloc(sb->data, cap);
	if (p == NULL) {
		sb->failed = 1;
		return -1;
	}
	sb->data = p;
	sb->cap = cap;
	return 0;
}

void rt_sb_append(rt_sb *sb, const void *data, size_t len)
{
	if (rt__sb_reserve(sb, len) != 0) {
		return;
	}
	if (len > 0) { /* data may be NULL then */
		memcpy(sb->data + sb->len, data, len);
	}
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void rt_sb_puts(rt_sb *sb, const char *s)
{
	rt_sb_append(sb, s, strlen(s));
}

size_t rt_json_string_size(const char *s, size_t len)
{
	size_t n = len + 2;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];
		if (c >= 0x20 && c != '"' && c != '\\') {
			continue;
		}
		n += (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') ? 1 : 5;
	}
	return n;
}

void rt_sb_json_string(rt_sb *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;

	rt_sb_append(sb, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) s[i];
		char esc[6];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\') {
			continue;
		}
		rt_sb_append(sb, s + start, i - start);
		start = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		rt_sb_append(sb, esc, n);
	}
	rt_sb_append(sb, s + start, len - start);
	rt_sb_append(sb, "\"", 1);
}
