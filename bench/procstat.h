/* Samples a server's processes and the kernel's socket memory from /proc. */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

#define PROC_MAX_PIDS 64

typedef struct proc_sample {
	double cpu_s;        /* utime+stime of all listed processes (all threads) */
	uint64_t rss_kb;     /* sum of VmRSS */
	uint64_t slab_kb;    /* /proc/meminfo Slab (whole machine) */
	uint64_t tcp_mem_kb; /* /proc/net/sockstat TCP mem pages * page size */
	uint64_t tcp_inuse;  /* /proc/net/sockstat TCP inuse */
	int alive;           /* how many of the pids could be read */
} proc_sample;

/* Parses "1,2,3" into pids; returns the count. */
int proc_parse_pids(const char *list, pid_t *pids, int max);
void proc_sample_take(const pid_t *pids, int n, proc_sample *out);
/* CPU seconds this process (the load generator itself) has used. */
double proc_self_cpu(void);

#endif
