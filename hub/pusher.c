/* Pusher Channels protocol 7. Not written yet: a client on /app/{key} is
 * told the app does not exist (4001) and closed. */
#include "hub/conn.h"
#include "hub/proto.h"

#include <string.h>

static void rt__on_open(rt_conn *conn)
{
	static const char err[] =
			"{\"event\":\"pusher:error\",\"data\":{\"code\":4001,\"message\":\"not available\"}}";
	rt_conn_send_text(conn, err, sizeof(err) - 1);
	rt_conn_close_ws(conn, 4001, "not available");
}

static void rt__on_message(rt_conn *conn, const char *text, size_t len)
{
	(void) conn;
	(void) text;
	(void) len;
}

static rt_buf *rt__none_message(const rt_msg *msg, rt_str channel)
{
	(void) msg;
	(void) channel;
	return NULL;
}

static rt_buf *rt__none_added(const rt_channel *ch, const rt_member *m)
{
	(void) ch;
	(void) m;
	return NULL;
}

static rt_buf *rt__none_removed(const rt_channel *ch, const char *user_id, size_t len)
{
	(void) ch;
	(void) user_id;
	(void) len;
	return NULL;
}

static rt_buf *rt__none_whisper(const rt_whisper *w)
{
	(void) w;
	return NULL;
}

const rt_proto_ops rt_proto_pusher = {
	.name = "pusher",
	.on_open = rt__on_open,
	.on_message = rt__on_message,
	.frame_message = rt__none_message,
	.frame_member_added = rt__none_added,
	.frame_member_removed = rt__none_removed,
	.frame_whisper = rt__none_whisper,
};
