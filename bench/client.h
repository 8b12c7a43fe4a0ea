/* One load-generator worker process: opens its share of the WebSocket
 * clients, subscribes them, counts deliveries and their latency, and
 * answers the coordinator's line commands on a control socket. */
#ifndef BENCH_CLIENT_H
#define BENCH_CLIENT_H

#include <stdint.h>

enum { SUB_JSON, SUB_URL, SUB_SSE, SUB_SSE_OPEN };

typedef struct client_opts {
	const char *host;        /* server address */
	const int *ports;        /* client g goes to ports[g % nports] */
	int nports;
	int sub_mode;            /* SUB_JSON: GET path, then a subscribe message; SUB_URL: GET path % channel;
	                          * SUB_SSE: a plain GET of path % channel, an event stream, ready at
	                          * its "subscribed" event; SUB_SSE_OPEN: the same, ready at its 200
	                          * (Mercure, nchan's EventSource: no such event) */
	const char *path;        /* "/ws" or "/sub/%s" */
	const char *prefix;      /* channel names: prefix + (g % nchannels) */
	int nchannels;
	uint32_t first, count;   /* this worker's clients: global indexes [first, first+count) */
	int slow_every;          /* client g is slow (stops reading) if g % slow_every == 0; 0: none */
	int slow_rcvbuf;         /* SO_RCVBUF for slow clients (0: leave) */
	const char *src_ip;      /* local address to connect from */
	int concurrency;         /* handshakes in flight */
	int ctl_fd;              /* control socket to the coordinator */
} client_opts;

/* Runs the worker; returns the process exit code. */
int client_main(const client_opts *o);

#endif
