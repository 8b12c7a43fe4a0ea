/* /metrics (hub/api/metrics.c) and the counters each hub publishes in its
 * slot of the shared segment (broker/pool.c): the sums come from the slots
 * of live hubs of one app only, reads are bounded by the caller's sizes
 * whatever the segment says, and the key rule holds. */
#include "rt_test.h"
#include "broker/pool.h"
#include "hub/api/metrics.h"
#include "hub/wire/http.h"
#include "hub/util/log.h"

#include <fcntl.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APP 7

RT_TEST(slots_carry_counters_per_app)
{
	rt_pool *p;
	rt_pool_member *a, *b, *other;
	rt_pool_peer peers[4];
	uint64_t va[3] = {1, 2, 3}, vb[3] = {10, 20, 30}, vo[3] = {99, 99, 99};
	uint64_t got[4 * 3];
	char err[200];
	int n;

	RT_ASSERT(rt_pool_map(&p, 64 * 1024, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP, 1, &a, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP, 2, &b, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP + 1, 3, &other, err, sizeof(err)) == 0);
	rt_pool_set_metrics(a, va, 3);
	rt_pool_set_metrics(b, vb, 3);
	rt_pool_set_metrics(other, vo, 3);
	n = rt_pool_peer_metrics(p, APP, peers, got, 3, 4);
	RT_ASSERT_EQ_INT(n, 2);
	for (int i = 0; i < n; i++) {
		const uint64_t *want = peers[i].node == 1 ? va : vb;
		RT_ASSERT(memcmp(&got[i * 3], want, sizeof(va)) == 0);
		RT_ASSERT_EQ_INT(peers[i].pid, (int32_t) getpid());
	}
	/* Room for one hub: one written, nothing past it. */
	got[3] = 12345;
	RT_ASSERT_EQ_INT(rt_pool_peer_metrics(p, APP, peers, got, 3, 1), 1);
	RT_ASSERT(got[3] == 12345);
	/* A hub that leaves takes its figures; a new one starts from zero. */
	rt_pool_leave(b);
	RT_ASSERT(rt_pool_join(p, APP, 4, &b, err, sizeof(err)) == 0);
	n = rt_pool_peer_metrics(p, APP, peers, got, 3, 4);
	RT_ASSERT_EQ_INT(n, 2);
	for (int i = 0; i < n; i++) {
		RT_ASSERT(got[i * 3 + 2] == (peers[i].node == 1 ? 3u : 0u));
	}
	rt_pool_leave(a);
	rt_pool_leave(b);
	rt_pool_leave(other);
	rt_pool_unmap(p);
}

RT_TEST(more_counters_than_a_slot_are_clipped)
{
	rt_pool *p;
	rt_pool_member *a;
	rt_pool_peer peer;
	uint64_t v[RT_POOL_METRICS + 8], got[RT_POOL_METRICS + 8];
	char err[200];

	for (int i = 0; i < RT_POOL_METRICS + 8; i++) {
		v[i] = (uint64_t) i + 1;
		got[i] = 777;
	}
	RT_ASSERT(rt_pool_map(&p, 64 * 1024, err, sizeof(err)) == 0);
	RT_ASSERT(rt_pool_join(p, APP, 1, &a, err, sizeof(err)) == 0);
	rt_pool_set_metrics(a, v, RT_POOL_METRICS + 8);
	RT_ASSERT_EQ_INT(rt_pool_peer_metrics(p, APP, &peer, got, RT_POOL_METRICS + 8, 1), 1);
	RT_ASSERT(got[RT_POOL_METRICS - 1] == RT_POOL_METRICS);
	RT_ASSERT(got[RT_POOL_METRICS] == 777);
	RT_ASSERT(RT_METRICS_MAX <= RT_POOL_METRICS);
	/* Two hubs: the second's figures start at the caller's stride. */
	{
		rt_pool_member *b;
		rt_pool_peer two[2];
		static uint64_t wide[2 * (RT_POOL_METRICS + 8)];
		RT_ASSERT(rt_pool_join(p, APP, 2, &b, err, sizeof(err)) == 0);
		rt_pool_set_metrics(b, v, RT_POOL_METRICS);
		RT_ASSERT_EQ_INT(rt_pool_peer_metrics(p, APP, two, wide, RT_POOL_METRICS + 8, 2), 2);
		RT_ASSERT(wide[RT_POOL_METRICS + 8] == 1 && wide[RT_POOL_METRICS + 8 + 1] == 2);
		rt_pool_leave(b);
	}
	rt_pool_leave(a);
	rt_pool_unmap(p);
}

static int authorized(const char *key, const char *request, int loopback)
{
	rt_http_req *req = malloc(sizeof(*req));
	size_t used;
	int r;

	if (req == NULL) {
		return -1;
	}
	rt_http_req_init(req, 0);
	if (rt_http_req_feed(req, request, strlen(request), &used) < 0) {
		rt_http_req_free(req);
		return -1;
	}
	r = rt_metrics_authorized(key, req, loopback);
	rt_http_req_free(req);
	return r;
}

RT_TEST(key_rule)
{
	const char *none = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *good = "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k3y\r\n\r\n";
	const char *bad = "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k3z\r\n\r\n";
	const char *longer = "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k3yy\r\n\r\n";

	/* No key: loopback only, whatever the header says. */
	RT_ASSERT_EQ_INT(authorized("", none, 1), 1);
	RT_ASSERT_EQ_INT(authorized("", none, 0), 0);
	RT_ASSERT_EQ_INT(authorized("", good, 0), 0);
	/* A key: the bearer alone decides, loopback or not. */
	RT_ASSERT_EQ_INT(authorized("k3y", good, 0), 1);
	RT_ASSERT_EQ_INT(authorized("k3y", good, 1), 1);
	RT_ASSERT_EQ_INT(authorized("k3y", none, 1), 0);
	RT_ASSERT_EQ_INT(authorized("k3y", bad, 1), 0);
	RT_ASSERT_EQ_INT(authorized("k3y", longer, 1), 0);
	RT_ASSERT_EQ_INT(rt_metrics_authorized("k3y", NULL, 1), 0);
}

RT_TEST(paths)
{
	RT_ASSERT(rt_metrics_owns("/metrics", 8));
	RT_ASSERT(rt_metrics_owns("/health/live", 12));
	RT_ASSERT(rt_metrics_owns("/health/ready", 13));
	RT_ASSERT(!rt_metrics_owns("/health", 7));
	RT_ASSERT(!rt_metrics_owns("/metricsx", 9));
}

/* realtime.log_format=json: one object a line, the message escaped, and
 * realtime.log_level leaves out what is less important. */
RT_TEST(json_log_lines)
{
	char path[] = "/tmp/rt-test-log-XXXXXX";
	char buf[4096];
	int fd = mkstemp(path);
	ssize_t n;

	RT_ASSERT(fd >= 0);
	RT_ASSERT(rt_log_open(path) == 0);
	rt_log_configure(RT_LOG_JSON, RT_LOG_WARNING);
	rt_log(RT_LOG_WARNING, "refused \"x\" \\ %s", "a\nb\t\x01");
	rt_log(RT_LOG_INFO, "left out");
	rt_log_configure(RT_LOG_TEXT, RT_LOG_INFO);
	rt_log_close();
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(path);
	RT_ASSERT(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	RT_ASSERT(strncmp(buf, "{\"time\":\"", 9) == 0);
	RT_ASSERT(strstr(buf, "\"level\":\"warning\"") != NULL);
	RT_ASSERT(strstr(buf, "\"msg\":\"refused \\\"x\\\" \\\\ a\\u000ab\\u0009\\u0001\",\"held\":0}\n")
			!= NULL);
	RT_ASSERT(strstr(buf, "left out") == NULL);
	RT_ASSERT(strchr(buf, '\n') == buf + n - 1);
	RT_ASSERT_EQ_INT(rt_log_parse("format", "json"), RT_LOG_JSON);
	RT_ASSERT_EQ_INT(rt_log_parse("format", "yaml"), -1);
	RT_ASSERT_EQ_INT(rt_log_parse("level", "warning"), RT_LOG_WARNING);
	RT_ASSERT_EQ_INT(rt_log_parse("level", "debug"), -1);
}

int main(void)
{
	RT_RUN(slots_carry_counters_per_app);
	RT_RUN(more_counters_than_a_slot_are_clipped);
	RT_RUN(key_rule);
	RT_RUN(paths);
	RT_RUN(json_log_lines);
	return rt_test_summary();
}
