/* Log lines from any thread: one write(2) per line, to the file named by
 * realtime.log or to stderr. Never calls into PHP. */
#ifndef RT_HUB_LOG_H
#define RT_HUB_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum { RT_LOG_ERROR, RT_LOG_WARNING, RT_LOG_INFO };

/* Opens path for appending (empty or NULL: stderr). Returns 0 or -errno. */
int rt_log_open(const char *path);
void rt_log_close(void);
/* realtime.log_format and realtime.log_level: how lines are written (text
 * or one JSON object a line) and the least important level kept. */
enum { RT_LOG_TEXT, RT_LOG_JSON };
void rt_log_configure(int format, int min_level);
/* Parses a log_format ("text"/"json") or log_level ("error"/"warning"/
 * "info") value for what ("format" or "level"); -1 when invalid. */
int rt_log_parse(const char *what, const char *value);
void rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The process's last few error and warning lines (whatever log_level
 * lets out), for `php --ri realtime`: copies at most max of them, newest
 * first, each NUL-terminated and cut to RT_LOG_RECENT_LEN - 1 bytes; returns
 * how many, and sets *seq (NULL: not wanted) to how many were ever kept. */
#define RT_LOG_RECENT 4
#define RT_LOG_RECENT_LEN 120
int rt_log_recent(char (*out)[RT_LOG_RECENT_LEN], int max, uint64_t *seq);

/* A log line that something outside can repeat at will (a drop, a refusal)
 * goes through one of these per call site, so it cannot fill the disk: at
 * most one line per RT_LOG_LIMIT_MS, the next one saying how many were held
 * back. Zero-initialised; safe from any thread. */
#define RT_LOG_LIMIT_MS 10000
typedef struct rt_log_limit {
	_Atomic unsigned long long next_ms;
	_Atomic unsigned long long held;
} rt_log_limit;
void rt_log_limited(rt_log_limit *lim, int level, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
void rt_log_limitedv(rt_log_limit *lim, int level, const char *fmt, va_list ap);

#endif
