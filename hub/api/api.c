#include "hub/api/api.h"
#include "hub/util/text.h"
#include "hub/core/server.h"
#include "hub/model/token.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void rt_api_handle(rt_hub *hub, const rt_http_req *req, const char *body, size_t len,
		rt_http_answer *ans)
{
	size_t path_len;
	const char *path = rt_http_req_path(req, &path_len);

	if (rt_has_prefix(path, path_len, "/apps/")) {
		rt_pusher_api_handle(hub, req, body, len, ans);
	} else if (path_len == 20 && memcmp(path, "/.well-known/mercure", 20) == 0) {
		rt_mercure_api_handle(hub, req, body, len, ans);
	} else {
		rt_publish_api_handle(hub, req, body, len, ans);
	}
}

static void rt__json(rt_http_answer *ans, int status, const char *body)
{
	rt_http_answer_set(ans, status, "application/json", body, strlen(body));
}

/* A load balancer needs the status alone; the detail (pid, node id,
 * counts) helps an attacker size the server, so it needs
 * "Authorization: Bearer <realtime.metrics_key>". */
void rt_api_health(rt_hub *hub, const rt_http_req *req, rt_http_answer *ans)
{
	const char *key = hub->cfg.metrics_key;
	size_t len, n = strlen(key);
	const char *v = req ? rt_http_req_bearer(req, &len) : NULL;
	char body[256];

	if (hub->net.stopping) {
		rt__json(ans, 503, "{\"status\":\"stopping\"}\n");
		return;
	}
	if (n == 0 || v == NULL || len != n || !rt_secure_equals(v, key, n)) {
		rt__json(ans, 200, "{\"status\":\"ok\"}\n");
		return;
	}
	snprintf(body, sizeof(body),
			"{\"status\":\"ok\",\"pid\":%d,\"node\":%" PRIu32 ",\"connections\":%" PRIu64
			",\"channels\":%" PRIu64 "}\n",
			(int) getpid(), hub->node_id,
			atomic_load_explicit(&hub->net.stat_connections, memory_order_relaxed),
			(uint64_t) rt_registry_count(&hub->registry));
	rt__json(ans, 200, body);
}
