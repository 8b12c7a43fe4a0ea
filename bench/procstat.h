/* Samples a server's processes and the kernel's socket memory from /proc. */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

#define PROC_MAX_PIDS 64

typedef struct proc_sample {
	double cpu_s;        /* utime+stime of all listed processes (all threads) */
	double sys_s;        /* stime alone: the kernel's share of cpu_s */
	double pid_cpu_s[PROC_MAX_PIDS]; /* utime+stime of each listed process */
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

/* Busy and stolen seconds of each CPU from /proc/stat (busy = everything
 * but idle and iowait; steal is time the hypervisor ran something else). */
#define PROC_MAX_CPUS 16
typedef struct cpu_times {
	int n;
	double busy_s[PROC_MAX_CPUS];
	double steal_s[PROC_MAX_CPUS];
} cpu_times;
void proc_cpu_times(cpu_times *out);

/* CPU seconds of the listed processes from the scheduler's nanosecond
 * clock (/proc/<pid>/task/<tid>/schedstat, every thread); -1 when the
 * kernel does not provide it. For processes that use little CPU, where
 * utime+stime's 10 ms ticks are too coarse. */
double proc_sched_cpu(const pid_t *pids, int n);

#endif
