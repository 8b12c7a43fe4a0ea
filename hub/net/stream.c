#include "hub/net/stream.h"
#include "hub/net/conn.h"
#include "hub/wire/sse.h"

#include <stdio.h>
#include <string.h>

static void rt__s_send(void *t, rt_buf *frame)
{
	rt_conn_send(t, frame);
}

static void rt__s_send_text(void *t, const char *text, size_t len)
{
	rt_conn *conn = t;
	rt_buf *b = rt_sse_event_buf(NULL, text, len, 0);

	if (b == NULL) {
		rt_conn_close(conn);
		return;
	}
	rt_conn_send(conn, b);
	rt_buf_unref(b);
}

/* The client learns why before the stream ends: a "close" event with the
 * code a WebSocket would have been closed with. */
static void rt__s_close(void *t, uint16_t code, const char *reason)
{
	rt_conn *conn = t;
	char text[160];
	rt_buf *b;
	rt_sb json, event;

	if (conn->state != RT_CONN_OPEN) {
		return;
	}
	rt_sb_init(&json);
	snprintf(text, sizeof(text), "{\"type\":\"close\",\"code\":%u,\"reason\":", (unsigned) code);
	rt_sb_puts(&json, text);
	rt_sb_json_string(&json, reason != NULL ? reason : "", reason != NULL ? strlen(reason) : 0);
	rt_sb_puts(&json, "}");
	rt_sb_init(&event);
	if (!json.failed) {
		rt_sse_event(&event, "close", json.data, json.len, 0);
	}
	/* Without it (out of memory) the stream still ends: only the why is lost. */
	b = event.failed || event.len == 0 ? NULL : rt_buf_new(event.len);
	if (b != NULL) {
		memcpy(b->data, event.data, event.len);
		rt_conn_send(conn, b);
		rt_buf_unref(b);
	}
	rt_sb_free(&json);
	rt_sb_free(&event);
	rt_conn_stream_end(conn);
}

static void rt__s_abort(void *t)
{
	rt_conn_close(t);
}

static void rt__s_pause(void *t, int paused)
{
	rt_conn_transport.pause(t, paused);
}

const rt_transport_ops rt_stream_transport = {
	.send = rt__s_send,
	.send_text = rt__s_send_text,
	.close = rt__s_close,
	.abort = rt__s_abort,
	.pause = rt__s_pause,
};
