/* Latency histogram: log-linear buckets over nanoseconds (64 sub-buckets
 * per power of two, about 1.6% resolution), mergeable across processes. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stdint.h>
#include <stddef.h>

#define HIST_BUCKETS 2048

typedef struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t b[HIST_BUCKETS];
} hist;

void hist_reset(hist *h);
void hist_add(hist *h, uint64_t ns);
void hist_merge(hist *into, const hist *from);
/* Value (ns) below which a fraction q (0..1) of the samples lie. */
uint64_t hist_quantile(const hist *h, double q);

/* Text form "count sum max idx:n idx:n ..." for sending over a pipe. */
size_t hist_encode(const hist *h, char *out, size_t cap);
int hist_decode(hist *h, const char *text);

#endif
