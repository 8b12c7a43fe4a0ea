/* POST /publish. Not written yet: every request gets 404. */
#include "hub/api.h"
#include "hub/conn.h"

void rt_publish_api_handle(struct rt_conn *conn, const rt_http_req *req, const char *body,
		size_t len)
{
	static const char reply[] = "{\"error\":\"not found\"}";
	(void) req;
	(void) body;
	(void) len;
	rt_conn_http_respond(conn, 404, "application/json", NULL, reply, sizeof(reply) - 1);
}
