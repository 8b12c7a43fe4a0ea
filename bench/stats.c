#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned hist__index(uint64_t v)
{
	unsigned e, idx;

	if (v < 64) {
		return (unsigned) v;
	}
	e = 63u - (unsigned) __builtin_clzll(v); /* v in [2^e, 2^(e+1)) */
	idx = 64 + (e - 6) * 64 + (unsigned) ((v >> (e - 6)) - 64);
	return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* Middle of the values a bucket covers. */
static uint64_t hist__value(unsigned idx)
{
	unsigned e, m;

	if (idx < 64) {
		return idx;
	}
	e = (idx - 64) / 64 + 6;
	m = (idx - 64) % 64 + 64;
	return ((uint64_t) m << (e - 6)) + (((uint64_t) 1 << (e - 6)) >> 1);
}

void hist_reset(hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_add(hist *h, uint64_t ns)
{
	h->b[hist__index(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns) {
		h->max_ns = ns;
	}
}

void hist_merge(hist *into, const hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		into->b[i] += from->b[i];
	}
	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns) {
		into->max_ns = from->max_ns;
	}
}

uint64_t hist_quantile(const hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0) {
		return 0;
	}
	rank = (uint64_t) (q * (double) h->count);
	if (rank >= h->count) {
		rank = h->count - 1;
	}
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen > rank) {
			uint64_t v = hist__value(i);
			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}

size_t hist_encode(const hist *h, char *out, size_t cap)
{
	size_t n = (size_t) snprintf(out, cap, "%llu %llu %llu", (unsigned long long) h->count,
			(unsigned long long) h->sum_ns, (unsigned long long) h->max_ns);

	for (unsigned i = 0; i < HIST_BUCKETS && n < cap; i++) {
		if (h->b[i]) {
			n += (size_t) snprintf(out + n, cap - n, " %u:%llu", i,
					(unsigned long long) h->b[i]);
		}
	}
	return n < cap ? n : cap - 1;
}

int hist_decode(hist *h, const char *text)
{
	char *end;
	unsigned long long v;

	hist_reset(h);
	h->count = strtoull(text, &end, 10);
	h->sum_ns = strtoull(end, &end, 10);
	h->max_ns = strtoull(end, &end, 10);
	while (*end == ' ') {
		unsigned long idx = strtoul(end + 1, &end, 10);
		if (*end != ':' || idx >= HIST_BUCKETS) {
			return -1;
		}
		v = strtoull(end + 1, &end, 10);
		h->b[idx] = v;
	}
	return 0;
}
