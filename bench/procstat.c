#include "procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int proc_parse_pids(const char *list, pid_t *pids, int max)
{
	int n = 0;
	const char *p = list;

	while (p && *p && n < max) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p) {
			break;
		}
		if (v > 0) {
			pids[n++] = (pid_t) v;
		}
		p = (*end == ',') ? end + 1 : NULL;
	}
	return n;
}

/* utime+stime (fields 14 and 15) in clock ticks; -1 if unreadable; the
 * stime part in *sys. */
static long long proc__ticks(pid_t pid, long long *sys)
{
	char path[64], buf[1024];
	FILE *f;
	size_t n;
	char *p;
	unsigned long long ut, st;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	f = fopen(path, "r");
	if (f == NULL) {
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the command name may contain spaces */
	if (p == NULL) {
		return -1;
	}
	/* after ") " come fields 3..: state ppid pgrp session tty tpgid flags
	 * minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
		return -1;
	}
	*sys = (long long) st;
	return (long long) (ut + st);
}

static uint64_t proc__status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	f = fopen(path, "r");
	if (f == NULL) {
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static uint64_t proc__meminfo_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	uint64_t v = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f == NULL) {
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoull(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

static void proc__sockstat(uint64_t *inuse, uint64_t *mem_kb)
{
	char line[512];
	FILE *f = fopen("/proc/net/sockstat", "r");

	*inuse = *mem_kb = 0;
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long in, orphan, tw, alloc, mem;
		if (sscanf(line, "TCP: inuse %llu orphan %llu tw %llu alloc %llu mem %llu",
				&in, &orphan, &tw, &alloc, &mem) == 5) {
			*inuse = in;
			*mem_kb = mem * (uint64_t) sysconf(_SC_PAGESIZE) / 1024;
		}
	}
	fclose(f);
}

void proc_sample_take(const pid_t *pids, int n, proc_sample *out)
{
	long long ticks = 0, sys_ticks = 0;
	double hz = (double) sysconf(_SC_CLK_TCK);

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < n; i++) {
		long long sys = 0, t = proc__ticks(pids[i], &sys);
		if (t >= 0) {
			ticks += t;
			sys_ticks += sys;
			if (i < PROC_MAX_PIDS) {
				out->pid_cpu_s[i] = (double) t / hz;
			}
			out->alive++;
			out->rss_kb += proc__status_kb(pids[i], "VmRSS");
		}
	}
	out->cpu_s = (double) ticks / hz;
	out->sys_s = (double) sys_ticks / hz;
	out->slab_kb = proc__meminfo_kb("Slab");
	proc__sockstat(&out->tcp_inuse, &out->tcp_mem_kb);
}

double proc_self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
			+ (double) ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

void proc_cpu_times(cpu_times *out)
{
	char line[512];
	double hz = (double) sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");

	memset(out, 0, sizeof(*out));
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = {0};
		int cpu;
		/* cpuN user nice system idle iowait irq softirq steal */
		if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1],
				&v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 9 && cpu >= 0 && cpu < PROC_MAX_CPUS) {
			out->busy_s[cpu] = (double) (v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
			out->steal_s[cpu] = (double) v[7] / hz;
			if (cpu + 1 > out->n) {
				out->n = cpu + 1;
			}
		}
	}
	fclose(f);
}

double proc_sched_cpu(const pid_t *pids, int n)
{
	unsigned long long total = 0;
	int found = 0;

	for (int i = 0; i < n; i++) {
		char path[64];
		struct dirent *e;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/task", (int) pids[i]);
		d = opendir(path);
		if (d == NULL) {
			continue;
		}
		while ((e = readdir(d)) != NULL) {
			char p2[300];
			unsigned long long ns;
			FILE *f;
			if (e->d_name[0] == '.') {
				continue;
			}
			snprintf(p2, sizeof(p2), "/proc/%d/task/%s/schedstat", (int) pids[i], e->d_name);
			f = fopen(p2, "r");
			if (f == NULL) {
				continue;
			}
			if (fscanf(f, "%llu", &ns) == 1) {
				total += ns;
				found = 1;
			}
			fclose(f);
		}
		closedir(d);
	}
	return found ? (double) total / 1e9 : -1.0;
}
