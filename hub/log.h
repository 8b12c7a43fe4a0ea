/* Log lines from any thread: one write(2) per line, to the file named by
 * realtime.log or to stderr. Never calls into PHP. */
#ifndef RT_HUB_LOG_H
#define RT_HUB_LOG_H

enum { RT_LOG_ERROR, RT_LOG_WARNING, RT_LOG_INFO };

/* Opens path for appending (empty or NULL: stderr). Returns 0 or -errno. */
int rt_log_open(const char *path);
void rt_log_close(void);
void rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
