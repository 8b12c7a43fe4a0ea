/* loadgen: the benchmark's coordinator. It forks worker processes that
 * hold the WebSocket clients (client.c), publishes over HTTP
 * (publisher.c), samples the server's processes (procstat.c) and prints
 * one JSON object per measured phase on stdout. Progress goes to stderr.
 *
 *   loadgen --name hub --workload a --ports 7001 --sub json --path /ws
 *           --pub query --pub-port 8001 --pub-path /pub.php --pids 1234
 *           --conns 10000 --channels 1 --rates 5,10,20 --duration 10
 * --aux-pids lists processes the server depends on (a redis-server) whose
 * CPU is reported apart (aux_cpu_s), not in server_cpu_s.
 */
#include "client.h"
#include "procstat.h"
#include "publisher.h"
#include "stats.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define MAX_WORKERS 32
#define MAX_PORTS 64
#define MAX_RATES 16
#define PER_WORKER_MAX 18000

typedef struct worker {
	pid_t pid;
	uv_pipe_t pipe;
	char *buf;
	size_t len, cap;
	int pending;          /* replies still due */
	int ready;
	uint32_t ok, failed;
	uint64_t fast, slow;  /* from COUNT */
	uint64_t st[7];       /* from STATS: received bytes other closed slow_received slow_closed last_rx */
	hist h;
} worker;

static struct {
	/* options */
	const char *name, *workload, *host, *path, *prefix, *pub_host, *pub_path, *variant;
	int ports[MAX_PORTS], nports;
	int sub_mode, pub_kind, pub_port, pub_conns, nchan_batch;
	uint32_t conns;
	int channels, procs, src_ips, concurrency;
	double rates[MAX_RATES];
	int nrates;
	double duration, drain, hold, connect_timeout, settle;
	const char *after_connect;
	int count, chan_per_op, payload;
	int slow_every, slow_rcvbuf;
	pid_t pids[PROC_MAX_PIDS];
	int npids;
	pid_t aux_pids[PROC_MAX_PIDS]; /* sampled apart from the server (redis-server) */
	int naux;
	const char *aux_name;
	/* state */
	uv_loop_t *loop;
	uv_timer_t tick, sampler;
	worker w[MAX_WORKERS];
	int nw;
	uint32_t *fast_ok;    /* per channel: fast clients that subscribed */
	uint32_t *slow_n;     /* per channel: slow clients */
	uint64_t rss_peak_kb;
	proc_sample base, connected;
	double connect_s;
} G;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "[loadgen %s/%s] ", G.name, G.workload);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- worker control ---- */

static void on_line(worker *w, char *line)
{
	if (strncmp(line, "READY ", 6) == 0) {
		char *p = line + 6, *end;
		w->ok = (uint32_t) strtoul(p, &end, 10);
		w->failed = (uint32_t) strtoul(end, &end, 10);
		while (*end == ' ') {
			unsigned long ch = strtoul(end + 1, &end, 10);
			unsigned long n = (*end == ':') ? strtoul(end + 1, &end, 10) : 0;
			if (ch < (unsigned long) G.channels && G.fast_ok[ch] >= n) {
				G.fast_ok[ch] -= (uint32_t) n;
			}
		}
		w->ready = 1;
		return;
	}
	if (w->pending > 0) {
		w->pending--;
	}
	if (strncmp(line, "COUNT ", 6) == 0) {
		char *end;
		w->fast = strtoull(line + 6, &end, 10);
		w->slow = strtoull(end, NULL, 10);
	} else if (strncmp(line, "STATS ", 6) == 0) {
		char *p = line + 6;
		for (int i = 0; i < 7; i++) {
			w->st[i] = strtoull(p, &p, 10);
		}
		hist_decode(&w->h, p + 1);
	}
}

static void on_pipe_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	worker *w = h->data;
	(void) sz;
	if (w->cap - w->len < 65536) {
		w->cap = w->cap ? w->cap * 2 : 262144;
		w->buf = realloc(w->buf, w->cap);
	}
	*buf = uv_buf_init(w->buf + w->len, (unsigned) (w->cap - w->len - 1));
}

static void on_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	worker *w = s->data;
	char *nl;
	(void) buf;

	if (nread < 0) {
		logf_("worker %d went away", (int) w->pid);
		uv_read_stop(s);
		w->ready = 1;
		w->pending = 0;
		return;
	}
	w->len += (size_t) nread;
	while ((nl = memchr(w->buf, '\n', w->len)) != NULL) {
		size_t used = (size_t) (nl - w->buf) + 1;
		*nl = '\0';
		on_line(w, w->buf);
		memmove(w->buf, w->buf + used, w->len - used);
		w->len -= used;
	}
}

static void on_ctl_written(uv_write_t *req, int status)
{
	(void) status;
	free(req);
}

static void ctl_all(const char *cmd)
{
	size_t len = strlen(cmd);
	for (int i = 0; i < G.nw; i++) {
		uv_write_t *req = malloc(sizeof(*req) + len);
		uv_buf_t b;
		memcpy(req + 1, cmd, len);
		b = uv_buf_init((char *) (req + 1), (unsigned) len);
		G.w[i].pending++;
		if (uv_write(req, (uv_stream_t *) &G.w[i].pipe, &b, 1, on_ctl_written) != 0) {
			free(req);
			G.w[i].pending--;
		}
	}
}

/* ---- waiting ---- */

static void on_tick(uv_timer_t *t)
{
	(void) t;
}

static int run_until(int (*pred)(void), double timeout_s)
{
	uint64_t deadline = mono_ns() + (uint64_t) (timeout_s * 1e9);

	while (!pred()) {
		if (mono_ns() > deadline) {
			return 0;
		}
		uv_run(G.loop, UV_RUN_ONCE);
	}
	return 1;
}

static int never(void)
{
	return 0;
}

static void sleep_loop(double s)
{
	run_until(never, s);
}

static int all_ready(void)
{
	for (int i = 0; i < G.nw; i++) {
		if (!G.w[i].ready) {
			return 0;
		}
	}
	return 1;
}

static int all_replied(void)
{
	for (int i = 0; i < G.nw; i++) {
		if (G.w[i].pending > 0) {
			return 0;
		}
	}
	return 1;
}

static void ctl_wait(const char *cmd)
{
	ctl_all(cmd);
	if (!run_until(all_replied, 30)) {
		logf_("workers did not answer %s", cmd);
	}
}

static void on_sampler(uv_timer_t *t)
{
	proc_sample s;
	(void) t;
	proc_sample_take(G.pids, G.npids, &s);
	if (s.rss_kb > G.rss_peak_kb) {
		G.rss_peak_kb = s.rss_kb;
	}
}

/* ---- setup ---- */

/* Forks the workers before the coordinator has an event loop, so that no
 * loop state is shared with them; pipes_open() attaches the control sockets. */
static int ctl_fds[MAX_WORKERS];

static void fork_workers(void)
{
	uint32_t per, first = 0;
	int procs = G.procs;

	if (procs <= 0) {
		procs = (int) ((G.conns + PER_WORKER_MAX - 1) / PER_WORKER_MAX);
	}
	if (procs < 1) {
		procs = 1;
	}
	if (procs > MAX_WORKERS) {
		procs = MAX_WORKERS;
	}
	per = (G.conns + (uint32_t) procs - 1) / (uint32_t) procs;
	G.nw = procs;
	for (int k = 0; k < procs; k++) {
		int sv[2];
		pid_t pid;
		static char src[MAX_WORKERS][32];
		client_opts o;

		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
			perror("socketpair");
			exit(1);
		}
		snprintf(src[k], sizeof(src[k]), "127.0.0.%d", 2 + k % (G.src_ips > 0 ? G.src_ips : 1));
		memset(&o, 0, sizeof(o));
		o.host = G.host;
		o.ports = G.ports;
		o.nports = G.nports;
		o.sub_mode = G.sub_mode;
		o.path = G.path;
		o.prefix = G.prefix;
		o.nchannels = G.channels;
		o.first = first;
		o.count = first + per <= G.conns ? per : G.conns - first;
		o.slow_every = G.slow_every;
		o.slow_rcvbuf = G.slow_rcvbuf;
		o.src_ip = src[k];
		o.concurrency = G.concurrency;
		o.ctl_fd = sv[1];
		first += o.count;
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			close(sv[0]);
			for (int j = 0; j < k; j++) {
				close(ctl_fds[j]); /* the other workers' pipes belong to the coordinator */
			}
			_exit(client_main(&o));
		}
		close(sv[1]);
		G.w[k].pid = pid;
		ctl_fds[k] = sv[0];
	}
}

static void pipes_open(void)
{
	for (int k = 0; k < G.nw; k++) {
		uv_pipe_init(G.loop, &G.w[k].pipe, 0);
		uv_pipe_open(&G.w[k].pipe, ctl_fds[k]);
		G.w[k].pipe.data = &G.w[k];
		uv_read_start((uv_stream_t *) &G.w[k].pipe, on_pipe_alloc, on_pipe_read);
	}
}

static void count_subscribers(void)
{
	G.fast_ok = calloc((size_t) G.channels, sizeof(uint32_t));
	G.slow_n = calloc((size_t) G.channels, sizeof(uint32_t));
	for (uint32_t g = 0; g < G.conns; g++) {
		uint32_t ch = g % (uint32_t) G.channels;
		if (G.slow_every > 0 && g % (uint32_t) G.slow_every == 0) {
			G.slow_n[ch]++;
		} else {
			G.fast_ok[ch]++;
		}
	}
}

static void kill_workers(void)
{
	for (int i = 0; i < G.nw; i++) {
		if (G.w[i].pid > 0) {
			kill(G.w[i].pid, SIGKILL);
			waitpid(G.w[i].pid, NULL, 0);
			G.w[i].pid = 0;
		}
	}
}

static void on_signal(int sig)
{
	(void) sig;
	kill_workers();
	_exit(2);
}

static double clients_cpu(void)
{
	pid_t pids[MAX_WORKERS];
	proc_sample s;
	for (int i = 0; i < G.nw; i++) {
		pids[i] = G.w[i].pid;
	}
	proc_sample_take(pids, G.nw, &s);
	return s.cpu_s + proc_self_cpu();
}

/* ---- output ---- */

static void json_head(void)
{
	uint32_t ok = 0, failed = 0;
	for (int i = 0; i < G.nw; i++) {
		ok += G.w[i].ok;
		failed += G.w[i].failed;
	}
	printf("{\"server\":\"%s\",\"workload\":\"%s\",\"variant\":\"%s\",\"conns\":%u,\"conns_ok\":%u,"
			"\"conns_failed\":%u,\"channels\":%d,\"server_procs\":%d,\"client_procs\":%d,"
			"\"payload\":%d,\"slow_every\":%d,\"connect_s\":%.3f,"
			"\"rss_base_kb\":%llu,\"rss_conn_kb\":%llu,\"rss_per_conn_b\":%.1f,"
			"\"kernel_per_conn_b\":%.1f,\"slab_delta_kb\":%lld,\"tcp_mem_delta_kb\":%lld",
			G.name, G.workload, G.variant ? G.variant : "", G.conns, ok, failed, G.channels,
			G.npids, G.nw, G.payload, G.slow_every, G.connect_s,
			(unsigned long long) G.base.rss_kb, (unsigned long long) G.connected.rss_kb,
			ok ? ((double) G.connected.rss_kb - (double) G.base.rss_kb) * 1024.0 / ok : 0.0,
			ok ? (((double) G.connected.slab_kb - (double) G.base.slab_kb)
					+ ((double) G.connected.tcp_mem_kb - (double) G.base.tcp_mem_kb)) * 1024.0 / ok : 0.0,
			(long long) G.connected.slab_kb - (long long) G.base.slab_kb,
			(long long) G.connected.tcp_mem_kb - (long long) G.base.tcp_mem_kb);
}

static uint64_t total_fast(void)
{
	uint64_t t = 0;
	for (int i = 0; i < G.nw; i++) {
		t += G.w[i].fast;
	}
	return t;
}

static void json_doubles(const char *key, const double *v, int n)
{
	printf(",\"%s\":[", key);
	for (int i = 0; i < n; i++) {
		printf("%s%.3f", i ? "," : "", v[i]);
	}
	printf("]");
}

static void run_phase(publisher *pub, double rate)
{
	proc_sample s0, s1, a0, a1;
	cpu_times c0, c1;
	double as0, as1;
	pub_result r;
	hist h;
	uint64_t expected_fast = 0, expected_slow = 0, per_op_fast = 0, per_op_slow = 0;
	uint64_t st[7] = {0}, last_progress_ns, last_total = 0;
	double cli0, cli1, window_s, cpu;
	int n = G.chan_per_op > 0 ? G.chan_per_op : G.channels;

	for (int ch = 0; ch < n && ch < G.channels; ch++) {
		per_op_fast += (uint64_t) G.fast_ok[ch] * (uint64_t) G.count;
		per_op_slow += (uint64_t) G.slow_n[ch] * (uint64_t) G.count;
	}
	ctl_wait("RESET\n");
	proc_sample_take(G.pids, G.npids, &s0);
	proc_sample_take(G.aux_pids, G.naux, &a0);
	as0 = proc_sched_cpu(G.aux_pids, G.naux);
	proc_cpu_times(&c0);
	G.rss_peak_kb = s0.rss_kb;
	cli0 = clients_cpu();
	uv_timer_start(&G.sampler, on_sampler, 250, 250);
	logf_("rate %.1f op/s for %.0f s (%llu deliveries an op)", rate, G.duration,
			(unsigned long long) per_op_fast);
	pub_start(pub, rate, G.duration, G.prefix, 0, n, G.count, G.payload);
	{
		uint64_t deadline = mono_ns() + (uint64_t) ((G.duration + 60) * 1e9);
		while (!pub_done(pub) && mono_ns() < deadline) {
			uv_run(G.loop, UV_RUN_ONCE);
		}
	}
	pub_result_get(pub, &r);
	/* every op that succeeded must arrive; ops_ok counts them */
	expected_fast = per_op_fast * r.ops_ok;
	expected_slow = per_op_slow * r.ops_ok;
	/* drain: wait for the deliveries, until no progress for 2 s or the drain limit */
	last_progress_ns = mono_ns();
	for (;;) {
		uint64_t now, tot;
		ctl_all("COUNT\n");
		run_until(all_replied, 10);
		tot = total_fast();
		now = mono_ns();
		if (tot >= expected_fast) {
			break;
		}
		if (tot > last_total) {
			last_total = tot;
			last_progress_ns = now;
		}
		if (now - last_progress_ns > 2000000000ull || now - r.last_ns > (uint64_t) (G.drain * 1e9)) {
			break;
		}
		sleep_loop(0.05);
	}
	uv_timer_stop(&G.sampler);
	proc_sample_take(G.pids, G.npids, &s1);
	proc_sample_take(G.aux_pids, G.naux, &a1);
	as1 = proc_sched_cpu(G.aux_pids, G.naux);
	proc_cpu_times(&c1);
	if (s1.rss_kb > G.rss_peak_kb) {
		G.rss_peak_kb = s1.rss_kb;
	}
	cli1 = clients_cpu();
	ctl_wait("STATS\n");
	hist_reset(&h);
	for (int i = 0; i < G.nw; i++) {
		for (int k = 0; k < 6; k++) {
			st[k] += G.w[i].st[k];
		}
		if (G.w[i].st[6] > st[6]) {
			st[6] = G.w[i].st[6];
		}
		hist_merge(&h, &G.w[i].h);
	}
	window_s = st[6] > r.first_ns ? (double) (st[6] - r.first_ns) / 1e9 : 0;
	cpu = s1.cpu_s - s0.cpu_s;
	json_head();
	printf(",\"rate\":%.2f,\"count\":%d,\"chan_per_op\":%d,\"duration_s\":%.1f,"
			"\"ops_sent\":%llu,\"ops_ok\":%llu,\"ops_failed\":%llu,\"achieved_rate\":%.2f,"
			"\"requests\":%llu,\"http_errors\":%llu,\"pub_conn_errors\":%llu,"
			"\"expected\":%llu,\"received\":%llu,\"loss\":%lld,\"loss_pct\":%.4f,"
			"\"window_s\":%.3f,\"deliveries_per_s\":%.0f,"
			"\"lat_p50_ms\":%.3f,\"lat_p99_ms\":%.3f,\"lat_p999_ms\":%.3f,\"lat_max_ms\":%.3f,"
			"\"lat_mean_ms\":%.3f,\"server_cpu_s\":%.2f,\"cpu_us_per_delivery\":%.3f,"
			"\"cpu_s_per_million\":%.3f,\"client_cpu_s\":%.2f,"
			"\"rss_start_kb\":%llu,\"rss_peak_kb\":%llu,\"rss_end_kb\":%llu,"
			"\"slow_expected\":%llu,\"slow_received\":%llu,\"closed\":%llu,\"slow_closed\":%llu,"
			"\"other_msgs\":%llu,\"php_calls\":%llu,\"php_ns_per_call\":%.1f,"
			"\"server_sys_s\":%.2f,\"wall_s\":%.3f",
			rate, G.count, n, G.duration,
			(unsigned long long) r.ops_sent, (unsigned long long) r.ops_ok,
			(unsigned long long) r.ops_failed,
			r.last_ns > r.first_ns ? (double) (r.ops_sent - 1) * 1e9 / (double) (r.last_ns - r.first_ns) : 0.0,
			(unsigned long long) r.requests, (unsigned long long) r.http_errors,
			(unsigned long long) r.conn_errors,
			(unsigned long long) expected_fast, (unsigned long long) st[0],
			(long long) expected_fast - (long long) st[0],
			expected_fast ? 100.0 * ((double) expected_fast - (double) st[0]) / (double) expected_fast : 0.0,
			window_s, window_s > 0 ? (double) st[0] / window_s : 0.0,
			hist_quantile(&h, 0.50) / 1e6, hist_quantile(&h, 0.99) / 1e6,
			hist_quantile(&h, 0.999) / 1e6, h.max_ns / 1e6,
			h.count ? (double) h.sum_ns / (double) h.count / 1e6 : 0.0,
			cpu, st[0] + st[4] ? cpu * 1e6 / (double) (st[0] + st[4]) : 0.0,
			st[0] + st[4] ? cpu * 1e6 / (double) (st[0] + st[4]) : 0.0,
			cli1 - cli0,
			(unsigned long long) s0.rss_kb, (unsigned long long) G.rss_peak_kb,
			(unsigned long long) s1.rss_kb,
			(unsigned long long) expected_slow, (unsigned long long) st[4],
			(unsigned long long) st[3], (unsigned long long) st[5], (unsigned long long) st[2],
			(unsigned long long) r.calls, r.calls ? (double) r.call_ns / (double) r.calls : 0.0,
			s1.sys_s - s0.sys_s, (double) (mono_ns() - r.first_ns) / 1e9);
	{
		double v[PROC_MAX_PIDS > PROC_MAX_CPUS ? PROC_MAX_PIDS : PROC_MAX_CPUS];
		int n2 = G.npids < PROC_MAX_PIDS ? G.npids : PROC_MAX_PIDS;
		for (int i = 0; i < n2; i++) {
			v[i] = s1.pid_cpu_s[i] - s0.pid_cpu_s[i];
		}
		json_doubles("pid_cpu_s", v, n2);
		for (int i = 0; i < c1.n; i++) {
			v[i] = c1.busy_s[i] - c0.busy_s[i];
		}
		json_doubles("cpu_busy_s", v, c1.n);
		for (int i = 0; i < c1.n; i++) {
			v[i] = c1.steal_s[i] - c0.steal_s[i];
		}
		json_doubles("cpu_steal_s", v, c1.n);
	}
	if (G.naux > 0) {
		/* the scheduler's ns clock when there is one: a few ticks would be all */
		printf(",\"aux_name\":\"%s\",\"aux_cpu_s\":%.4f,\"aux_ticks_cpu_s\":%.2f,"
				"\"aux_sys_s\":%.2f",
				G.aux_name ? G.aux_name : "aux",
				as0 >= 0 && as1 >= 0 ? as1 - as0 : a1.cpu_s - a0.cpu_s,
				a1.cpu_s - a0.cpu_s, a1.sys_s - a0.sys_s);
	}
	printf("}\n");
	fflush(stdout);
	logf_("  %llu/%llu delivered, %.0f/s, p50 %.2f ms p99 %.2f ms, %.3f us server CPU a delivery",
			(unsigned long long) st[0], (unsigned long long) expected_fast,
			window_s > 0 ? (double) st[0] / window_s : 0.0, hist_quantile(&h, 0.50) / 1e6,
			hist_quantile(&h, 0.99) / 1e6, st[0] ? cpu * 1e6 / (double) (st[0] + st[4]) : 0.0);
}

static void run_idle(void)
{
	proc_sample s0, s1;
	proc_sample_take(G.pids, G.npids, &s0);
	sleep_loop(G.hold);
	proc_sample_take(G.pids, G.npids, &s1);
	ctl_wait("STATS\n");
	json_head();
	printf(",\"hold_s\":%.1f,\"idle_cpu_pct\":%.3f,\"rss_end_kb\":%llu,\"closed\":%llu}\n",
			G.hold, G.hold > 0 ? 100.0 * (s1.cpu_s - s0.cpu_s) / G.hold : 0.0,
			(unsigned long long) s1.rss_kb, (unsigned long long) G.w[0].st[3]);
	fflush(stdout);
}

/* ---- options ---- */

static int parse_list_int(const char *s, int *out, int max)
{
	int n = 0;
	while (s && *s && n < max) {
		char *end;
		out[n++] = (int) strtol(s, &end, 10);
		s = *end == ',' ? end + 1 : NULL;
	}
	return n;
}

static int parse_list_double(const char *s, double *out, int max)
{
	int n = 0;
	while (s && *s && n < max) {
		char *end;
		out[n++] = strtod(s, &end);
		s = *end == ',' ? end + 1 : NULL;
	}
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: loadgen --name N --workload W --ports P[,P..] [options]\n"
		"  --host IP            server address (127.0.0.1)\n"
		"  --sub json|url|sse|sse-open subscribe with a JSON message after connecting, or by URL;\n"
		"                       sse: an event stream, GET path %% channel (no upgrade), ready at its\n"
		"                       \"subscribed\" event; sse-open: ready at its 200 (Mercure, nchan)\n"
		"  --path PATH          /ws, or a format with %%s for the channel (/sub/%%s)\n"
		"  --pub query|nchan    publish request style; --pub-port, --pub-path, --pub-conns\n"
		"  --pids LIST          server process ids to sample (CPU, RSS)\n"
		"  --aux-pids LIST      other processes whose CPU is reported apart; --aux-name NAME\n"
		"  --conns N --channels M --prefix S --procs K --src-ips K --concurrency N\n"
		"  --rates R[,R..]      ops per second, one phase each (empty: idle run)\n"
		"  --duration S --drain S --count C --chan-per-op N --payload BYTES\n"
		"  --slow-every N       every Nth client stops reading; --slow-rcvbuf BYTES\n"
		"  --hold S             idle run: seconds to hold the connections\n"
		"  --after-connect CMD  shell command to run once every client is subscribed\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"name", 1, 0, 'N'}, {"workload", 1, 0, 'W'}, {"variant", 1, 0, 'V'},
		{"host", 1, 0, 'h'}, {"ports", 1, 0, 'P'}, {"sub", 1, 0, 's'}, {"path", 1, 0, 'p'},
		{"pub", 1, 0, 'b'}, {"pub-port", 1, 0, 'o'}, {"pub-path", 1, 0, 'q'},
		{"pub-conns", 1, 0, 'k'}, {"nchan-batch", 1, 0, 'B'}, {"pids", 1, 0, 'i'},
		{"conns", 1, 0, 'n'}, {"channels", 1, 0, 'm'}, {"prefix", 1, 0, 'x'},
		{"procs", 1, 0, 'w'}, {"src-ips", 1, 0, 'S'}, {"concurrency", 1, 0, 'c'},
		{"rates", 1, 0, 'r'}, {"duration", 1, 0, 'd'}, {"drain", 1, 0, 'D'},
		{"count", 1, 0, 'C'}, {"chan-per-op", 1, 0, 'O'}, {"payload", 1, 0, 'L'},
		{"slow-every", 1, 0, 'E'}, {"slow-rcvbuf", 1, 0, 'R'}, {"hold", 1, 0, 'H'},
		{"connect-timeout", 1, 0, 'T'}, {"settle", 1, 0, 'Z'}, {"after-connect", 1, 0, 'A'},
		{"aux-pids", 1, 0, 'X'}, {"aux-name", 1, 0, 'Y'},
		{0, 0, 0, 0},
	};
	int ch;
	uint64_t t0;

	G.name = "server";
	G.workload = "x";
	G.host = "127.0.0.1";
	G.path = "/ws";
	G.prefix = "c";
	G.pub_host = "127.0.0.1";
	G.pub_path = "/pub";
	G.pub_conns = 4;
	G.nchan_batch = 100;
	G.conns = 1000;
	G.channels = 1;
	G.src_ips = 8;
	G.concurrency = 256;
	G.duration = 10;
	G.drain = 15;
	G.count = 1;
	G.payload = 64;
	G.connect_timeout = 180;
	G.settle = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'N': G.name = optarg; break;
		case 'W': G.workload = optarg; break;
		case 'V': G.variant = optarg; break;
		case 'h': G.host = optarg; G.pub_host = optarg; break;
		case 'P': G.nports = parse_list_int(optarg, G.ports, MAX_PORTS); break;
		case 's': G.sub_mode = strcmp(optarg, "url") == 0 ? SUB_URL
				: strcmp(optarg, "sse") == 0 ? SUB_SSE
				: strcmp(optarg, "sse-open") == 0 ? SUB_SSE_OPEN : SUB_JSON; break;
		case 'p': G.path = optarg; break;
		case 'b': G.pub_kind = strcmp(optarg, "nchan") == 0 ? PUB_NCHAN : PUB_QUERY; break;
		case 'o': G.pub_port = atoi(optarg); break;
		case 'q': G.pub_path = optarg; break;
		case 'k': G.pub_conns = atoi(optarg); break;
		case 'B': G.nchan_batch = atoi(optarg); break;
		case 'i': G.npids = proc_parse_pids(optarg, G.pids, PROC_MAX_PIDS); break;
		case 'n': G.conns = (uint32_t) strtoul(optarg, NULL, 10); break;
		case 'm': G.channels = atoi(optarg); break;
		case 'x': G.prefix = optarg; break;
		case 'w': G.procs = atoi(optarg); break;
		case 'S': G.src_ips = atoi(optarg); break;
		case 'c': G.concurrency = atoi(optarg); break;
		case 'r': G.nrates = parse_list_double(optarg, G.rates, MAX_RATES); break;
		case 'd': G.duration = atof(optarg); break;
		case 'D': G.drain = atof(optarg); break;
		case 'C': G.count = atoi(optarg); break;
		case 'O': G.chan_per_op = atoi(optarg); break;
		case 'L': G.payload = atoi(optarg); break;
		case 'E': G.slow_every = atoi(optarg); break;
		case 'R': G.slow_rcvbuf = atoi(optarg); break;
		case 'H': G.hold = atof(optarg); break;
		case 'T': G.connect_timeout = atof(optarg); break;
		case 'Z': G.settle = atof(optarg); break;
		case 'A': G.after_connect = optarg; break;
		case 'X': G.naux = proc_parse_pids(optarg, G.aux_pids, PROC_MAX_PIDS); break;
		case 'Y': G.aux_name = optarg; break;
		default: usage();
		}
	}
	if (G.nports == 0 || G.channels < 1 || G.conns == 0) {
		usage();
	}
	signal(SIGPIPE, SIG_IGN);
	count_subscribers();
	proc_sample_take(G.pids, G.npids, &G.base);
	t0 = mono_ns();
	fork_workers();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	G.loop = uv_default_loop();
	uv_timer_init(G.loop, &G.tick);
	uv_timer_start(&G.tick, on_tick, 20, 20);
	uv_timer_init(G.loop, &G.sampler);
	pipes_open();
	logf_("%u clients in %d processes to %s port(s) %d..", G.conns, G.nw, G.host, G.ports[0]);
	if (!run_until(all_ready, G.connect_timeout)) {
		logf_("not every client connected within %.0f s", G.connect_timeout);
	}
	G.connect_s = (double) (mono_ns() - t0) / 1e9;
	{
		uint32_t ok = 0, failed = 0;
		for (int i = 0; i < G.nw; i++) {
			ok += G.w[i].ok;
			failed += G.w[i].failed;
		}
		logf_("%u connected and subscribed, %u failed, in %.1f s", ok, failed, G.connect_s);
	}
	if (G.after_connect != NULL && system(G.after_connect) != 0) {
		logf_("--after-connect command failed: %s", G.after_connect);
	}
	sleep_loop(G.settle);
	proc_sample_take(G.pids, G.npids, &G.connected);

	if (G.nrates == 0) {
		run_idle();
	} else {
		pub_cfg pc = {G.pub_kind, G.pub_host, G.pub_port, G.pub_path, G.pub_conns, G.nchan_batch};
		publisher *pub = pub_new(G.loop, &pc);
		for (int i = 0; i < G.nrates; i++) {
			run_phase(pub, G.rates[i]);
		}
		if (G.slow_every > 0) {
			ctl_wait("RESUME\n");
			sleep_loop(2);
			ctl_wait("STATS\n");
			{
				uint64_t sc = 0, sr = 0;
				for (int i = 0; i < G.nw; i++) {
					sc += G.w[i].st[5];
					sr += G.w[i].st[4];
				}
				printf("{\"server\":\"%s\",\"workload\":\"%s\",\"variant\":\"slow-after\","
						"\"slow_closed_total\":%llu,\"slow_received_after_resume\":%llu}\n",
						G.name, G.workload, (unsigned long long) sc, (unsigned long long) sr);
				fflush(stdout);
			}
		}
		pub_free(pub);
	}
	ctl_all("QUIT\n");
	sleep_loop(0.2);
	kill_workers();
	return 0;
}
