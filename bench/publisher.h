/* Publishes timestamped messages over HTTP at a set rate. One "op" is one
 * logical publish: count messages to each of n channels (prefix + first..).
 * How an op becomes requests depends on the server kind:
 *   PUB_QUERY (our PHP page, the ws and uWS peers): one
 *     POST <path>?p=<prefix>&from=<first>&n=<n>&count=<count>, body = payload;
 *   PUB_NCHAN: POST <path><c1>,<c2>,... (100 channels a request by default:
 *     nchan caps the joined channel ids at 1,024 bytes),
 *     repeated count times, all pipelined on one keep-alive connection.
 * The payload starts with "TS<CLOCK_MONOTONIC ns>:" written right before the
 * requests are sent. */
#ifndef BENCH_PUBLISHER_H
#define BENCH_PUBLISHER_H

#include <stdint.h>
#include <uv.h>

enum { PUB_QUERY, PUB_NCHAN };

typedef struct pub_result {
	uint64_t ops_sent, ops_ok, ops_failed;
	uint64_t requests, responses, http_errors, conn_errors;
	uint64_t calls, call_ns;       /* from {"calls":N,"ns":T} answers (pub.php) */
	uint64_t first_ns, last_ns;    /* monotonic time of the first and last op */
	uint64_t ok_channel_msgs;      /* channel-messages of successful ops */
} pub_result;

typedef struct pub_cfg {
	int kind;
	const char *host;
	int port;
	const char *path;
	int conns;                     /* parallel keep-alive connections */
	int nchan_batch;               /* channels per nchan request */
} pub_cfg;

typedef struct publisher publisher;

publisher *pub_new(uv_loop_t *loop, const pub_cfg *cfg);
/* Starts ops at rate per second for duration seconds (rate 0: one op and
 * stop). Each op covers channels [first, first+n) count times each, with a
 * payload of payload_len bytes. Expected deliveries are the caller's. */
void pub_start(publisher *p, double rate, double duration, const char *prefix,
		int first, int n, int count, int payload_len);
/* 1 once every op has been started and answered (or failed). */
int pub_done(const publisher *p);
/* Per-op outcome: the callback learns, for each op, whether it succeeded. */
void pub_result_get(const publisher *p, pub_result *out);
void pub_free(publisher *p);

#endif
