#include "hub/api/client_js.h"

#include <stdio.h>
#include <string.h>

int rt_client_js_owns(const char *path, size_t len, const rt_config *cfg)
{
	size_t n;

	return rt_http_client_js_name(path, len, cfg, &n) != NULL;
}

/* If-None-Match is a list of entity tags, or "*"; a weak "W/" tag matches
 * too (RFC 9110 13.1.2 compares weakly for GET). */
static int rt__etag_matches(const char *list, size_t len, const char *etag)
{
	size_t n = strlen(etag);

	for (size_t i = 0; i < len;) {
		while (i < len && (list[i] == ' ' || list[i] == '\t' || list[i] == ',')) {
			i++;
		}
		if (i < len && list[i] == '*') {
			return 1;
		}
		if (i + 2 <= len && list[i] == 'W' && list[i + 1] == '/') {
			i += 2;
		}
		if (i + n <= len && memcmp(list + i, etag, n) == 0
				&& (i + n == len || list[i + n] == ',' || list[i + n] == ' ')) {
			return 1;
		}
		while (i < len && list[i] != ',') {
			i++;
		}
	}
	return 0;
}

void rt_client_js_request(const rt_http_req *req, const rt_config *cfg, rt_http_answer *ans)
{
	size_t path_len, name_len, inm_len = 0;
	const char *path = rt_http_req_path(req, &path_len);
	const char *name = rt_http_client_js_name(path, path_len, cfg, &name_len);
	const char *inm = rt_http_req_header(req, RT_HDR_IF_NONE_MATCH, &inm_len);
	char line[96];

	for (size_t i = 0; name != NULL && i < rt_client_js_count; i++) {
		const rt_client_js_file *f = &rt_client_js_files[i];
		if (strlen(f->name) != name_len || memcmp(f->name, name, name_len) != 0) {
			continue;
		}
		if (inm != NULL && rt__etag_matches(inm, inm_len, f->etag)) {
			rt_http_answer_set(ans, 304, f->content_type, "", 0);
		} else {
			rt_http_answer_set(ans, 200, f->content_type, (const char *) f->data, f->len);
		}
		/* The name is not versioned: a page must see a new client within
		 * minutes of an upgrade, and revalidating costs a 304. */
		snprintf(line, sizeof(line), "ETag: %s", f->etag);
		rt_http_answer_header(ans, line);
		rt_http_answer_header(ans, "Cache-Control: public, max-age=300");
		rt_http_answer_header(ans, "X-Content-Type-Options: nosniff");
		/* A page on another origin than the hub imports it: module scripts
		 * load in CORS mode. The file is public and the same for everyone. */
		rt_http_answer_header(ans, "Access-Control-Allow-Origin: *");
		return;
	}
	rt_http_answer_set(ans, 404, "text/plain", "not found\n", 10);
}
