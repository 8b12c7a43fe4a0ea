/* history_cost: what history adds to a publish on the memory broker, and
 * what a replay costs the store, measured on the real code (broker/pool.c,
 * broker/history.c) without a server around it.
 *   append   CPU time per rt_pool_append_at (the work of broadcast() in the
 *            request) of a message of SIZE bytes on one of CHANNELS
 *            channels, history off and on (realtime.history "chat-*:1000:300")
 *   drain    CPU time per message of a hub draining them from the ring
 *   replay   CPU time of one rt_pool_history_read of 1000 missed messages
 *            (what the hub does for one reconnecting client), and of 1000
 *            of them one after the other (a reload storm of 1000 clients,
 *            the store's share; decoding and sending are the hub's)
 * Prints one JSON line.
 *   history_cost [--messages 200000] [--size 100] [--channels 16] */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/pool.h"

static double rt__cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static void rt__drop(void *ctx, rt_msg *msg)
{
	(*(unsigned long *) ctx)++;
	rt_msg_free(msg);
}

static void rt__count(void *ctx, const rt_pos *pos, const unsigned char *bytes, size_t len)
{
	(void) pos;
	(void) bytes;
	*(size_t *) ctx += len;
}

/* ns per append and per drained message, with the given rules. */
static void rt__run(const char *rules_text, int messages, int size, int channels,
		double *append_ns, double *drain_ns, rt_pool **keep)
{
	rt_history_rules rules;
	rt_pool *p;
	rt_pool_member *m;
	char err[256], *data = malloc((size_t) size + 3), names[64][16];
	rt_str chs[64];
	unsigned long drained = 0;
	double t0, spent_append = 0, spent_drain = 0;

	if (rt_history_rules_parse(&rules, rules_text, err, sizeof(err)) != 0
			|| rt_pool_map_ex(&p, 64 << 20, 64 << 20, err, sizeof(err)) != 0
			|| rt_pool_join(p, 1, 1, &m, err, sizeof(err)) != 0) {
		fprintf(stderr, "history_cost: %s\n", err);
		exit(1);
	}
	rt_pool_set_history(p, &rules);
	data[0] = '"';
	memset(data + 1, 'x', (size_t) size);
	data[size + 1] = '"';
	for (int c = 0; c < channels; c++) {
		snprintf(names[c], sizeof(names[c]), "chat-%d", c);
		chs[c].ptr = names[c];
		chs[c].len = strlen(names[c]);
	}
	/* In rounds that the ring holds, drained between them. */
	for (int done = 0; done < messages;) {
		int round = messages - done < 20000 ? messages - done : 20000;
		t0 = rt__cpu_ns();
		for (int i = 0; i < round; i++) {
			rt_msg_fields f = {0};
			rt_msg msg;
			rt_pos pos;
			f.channels = &chs[(done + i) % channels];
			f.channel_count = 1;
			f.data.ptr = data;
			f.data.len = (size_t) size + 2;
			rt_msg_view(&msg, RT_MSG_PUBLISH, &f);
			if (rt_pool_append_at(p, 1, &msg, &pos, err, sizeof(err)) != 0) {
				fprintf(stderr, "history_cost: %s\n", err);
				exit(1);
			}
		}
		spent_append += rt__cpu_ns() - t0;
		t0 = rt__cpu_ns();
		rt_pool_drain(m, rt__drop, &drained);
		spent_drain += rt__cpu_ns() - t0;
		done += round;
	}
	*append_ns = spent_append / messages;
	*drain_ns = spent_drain / (double) (drained ? drained : 1);
	rt_pool_leave(m);
	free(data);
	if (keep != NULL) {
		*keep = p;
	} else {
		rt_pool_unmap(p);
	}
}

int main(int argc, char **argv)
{
	int messages = 200000, size = 100, channels = 16;
	double off_append, off_drain, on_append, on_drain, t0, one_ns, storm_ms;
	rt_pool *p;
	rt_pos top, since;
	size_t bytes = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--messages") == 0) {
			messages = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--size") == 0) {
			size = atoi(argv[i + 1]);
		} else if (strcmp(argv[i], "--channels") == 0) {
			channels = atoi(argv[i + 1]);
		}
	}
	if (messages < 1000 || size < 1 || channels < 1 || channels > 64) {
		fprintf(stderr, "usage: history_cost [--messages N>=1000] [--size B] [--channels 1..64]\n");
		return 2;
	}
	rt__run("", messages, size, channels, &off_append, &off_drain, NULL);
	rt__run("chat-*:1000:300", messages, size, channels, &on_append, &on_drain, &p);
	/* A client 1000 messages behind on chat-0. */
	rt_pool_history_read(p, "chat-0", 6, NULL, 1, rt__count, &bytes, &top);
	since.offset = top.offset - 1000;
	since.epoch = top.epoch;
	t0 = rt__cpu_ns();
	if (rt_pool_history_read(p, "chat-0", 6, &since, 1000, rt__count, &bytes, &top) != 1) {
		fprintf(stderr, "history_cost: the last 1000 messages of chat-0 are not all held\n");
		return 1;
	}
	one_ns = rt__cpu_ns() - t0;
	t0 = rt__cpu_ns();
	for (int i = 0; i < 1000; i++) {
		rt_pool_history_read(p, "chat-0", 6, &since, 1000, rt__count, &bytes, &top);
	}
	storm_ms = (rt__cpu_ns() - t0) / 1e6;
	printf("{\"messages\":%d,\"size\":%d,\"channels\":%d,"
			"\"append_ns_off\":%.0f,\"append_ns_on\":%.0f,"
			"\"drain_ns_off\":%.0f,\"drain_ns_on\":%.0f,"
			"\"replay_1000_us\":%.1f,\"replay_1000x1000_ms\":%.1f}\n",
			messages, size, channels, off_append, on_append, off_drain, on_drain,
			one_ns / 1e3, storm_ms);
	rt_pool_unmap(p);
	return 0;
}
