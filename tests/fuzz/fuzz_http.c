/* The HTTP request head and the upgrade checks (hub/wire/http.c), as a
 * connection feeds them: the head in pieces, then the body.
 * Input: one byte choosing the piece size, then the bytes of the request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub/model/config.h"
#include "hub/wire/http.h"

static rt_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[200];
	(void) argc;
	(void) argv;
	rt_config_defaults(&cfg);
	rt_config_set(&cfg, "allowed_origins", "https://a.example, http://b.example:8080", err,
			sizeof(err));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *) data + 1;
	size_t piece, off = 0, used, len;
	rt_http_req *req;
	rt_http_decision d;
	int st = RT_HTTP_MORE;

	if (size < 1) {
		return 0;
	}
	piece = (size_t) data[0] * 37 + 1;
	size--;
	req = malloc(sizeof(*req));
	rt_http_req_init(req, 1024);
	while (off < size && st == RT_HTTP_MORE) {
		size_t n = size - off < piece ? size - off : piece;
		st = rt_http_req_feed(req, in + off, n, &used);
		off += used;
		if (st == RT_HTTP_MORE && used != n) {
			break;
		}
	}
	if (st == RT_HTTP_DONE) {
		rt_http_route_request(req, &cfg, &d);
		for (int h = 0; h < RT_HDR_COUNT; h++) {
			const char *v = rt_http_req_header(req, h, &len);
			if (v != NULL && v[len] != '\0') {
				abort(); /* every value is NUL-terminated in buf */
			}
		}
		rt_http_req_path(req, &len);
		rt_http_req_query(req, "token", &len);
		if (d.route == RT_ROUTE_API) {
			while (off < size) {
				size_t n = size - off < piece ? size - off : piece;
				if (rt_http_req_feed_body(req, in + off, n) != RT_HTTP_MORE) {
					break;
				}
				off += n;
			}
		}
	}
	rt_http_req_free(req);
	return 0;
}
