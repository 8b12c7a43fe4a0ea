#include "hub/api.h"

#include <string.h>

void rt_api_handle(struct rt_conn *conn, const rt_http_req *req, const char *body, size_t len)
{
	size_t path_len;
	const char *path = rt_http_req_path(req, &path_len);

	if (path_len >= 6 && memcmp(path, "/apps/", 6) == 0) {
		rt_pusher_api_handle(conn, req, body, len);
	} else {
		rt_publish_api_handle(conn, req, body, len);
	}
}
