#include "hub/util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int rt__log_fd = 2;

/* rt_log_recent's ring. A try-lock, never waited on: a line that finds it
 * taken (another thread keeping one, or a lock a fork left held) is not
 * kept, and logging never blocks. */
static atomic_flag rt__recent_lock = ATOMIC_FLAG_INIT;
static char rt__recent[RT_LOG_RECENT][RT_LOG_RECENT_LEN];
static uint64_t rt__recent_seq;

static void rt__keep_recent(const char *when, const char *level, const char *fmt, va_list ap)
{
	char *slot;
	int n;

	if (atomic_flag_test_and_set_explicit(&rt__recent_lock, memory_order_acquire)) {
		return;
	}
	slot = rt__recent[rt__recent_seq % RT_LOG_RECENT];
	n = snprintf(slot, RT_LOG_RECENT_LEN, "%s %s: ", when, level);
	if (n > 0 && n < RT_LOG_RECENT_LEN) {
		vsnprintf(slot + n, (size_t) (RT_LOG_RECENT_LEN - n), fmt, ap);
	}
	rt__recent_seq++;
	atomic_flag_clear_explicit(&rt__recent_lock, memory_order_release);
}

int rt_log_recent(char (*out)[RT_LOG_RECENT_LEN], int max, uint64_t *seq)
{
	int n = 0;

	if (atomic_flag_test_and_set_explicit(&rt__recent_lock, memory_order_acquire)) {
		if (seq != NULL) {
			*seq = 0;
		}
		return 0;
	}
	for (uint64_t i = rt__recent_seq; i > 0 && n < max && n < RT_LOG_RECENT; i--, n++) {
		memcpy(out[n], rt__recent[(i - 1) % RT_LOG_RECENT], RT_LOG_RECENT_LEN);
		out[n][RT_LOG_RECENT_LEN - 1] = '\0';
	}
	if (seq != NULL) {
		*seq = rt__recent_seq;
	}
	atomic_flag_clear_explicit(&rt__recent_lock, memory_order_release);
	return n;
}
static _Atomic int rt__log_format = RT_LOG_TEXT;
static _Atomic int rt__log_level = RT_LOG_INFO;

void rt_log_configure(int format, int min_level)
{
	atomic_store(&rt__log_format, format == RT_LOG_JSON ? RT_LOG_JSON : RT_LOG_TEXT);
	atomic_store(&rt__log_level, min_level < RT_LOG_ERROR || min_level > RT_LOG_INFO
			? RT_LOG_INFO : min_level);
}

int rt_log_parse(const char *what, const char *value)
{
	static const char *const formats[] = {"text", "json"};
	static const char *const levels[] = {"error", "warning", "info"};
	int format = strcmp(what, "format") == 0;
	const char *const *names = format ? formats : levels;
	int n = format ? 2 : 3;

	for (int i = 0; i < n; i++) {
		if (strcmp(value, names[i]) == 0) {
			return i;
		}
	}
	return -1;
}

/* Appends s to out (at n, within cap) as JSON string content; returns the new n. */
static size_t rt__json_escape(char *out, size_t n, size_t cap, const char *s)
{
	for (; *s != '\0' && n + 7 < cap; s++) {
		unsigned char c = (unsigned char) *s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char) c;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t) snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char) c;
		}
	}
	return n;
}

int rt_log_open(const char *path)
{
	int fd;

	rt_log_close();
	if (path == NULL || *path == '\0') {
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		return -errno;
	}
	rt__log_fd = fd;
	return 0;
}

void rt_log_close(void)
{
	if (rt__log_fd > 2) {
		close(rt__log_fd);
	}
	rt__log_fd = 2;
}

static void rt__vlog(int level, unsigned long long held, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

void rt_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt__vlog(level, 0, fmt, ap);
	va_end(ap);
}

void rt_log_limited(rt_log_limit *lim, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_log_limitedv(lim, level, fmt, ap);
	va_end(ap);
}

void rt_log_limitedv(rt_log_limit *lim, int level, const char *fmt, va_list ap)
{
	struct timespec ts;
	unsigned long long now, next;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long) ts.tv_sec * 1000ull + (unsigned long long) ts.tv_nsec / 1000000ull;
	next = atomic_load(&lim->next_ms);
	/* One thread wins the slot; the others count themselves as held back. */
	if (now < next || !atomic_compare_exchange_strong(&lim->next_ms, &next, now + RT_LOG_LIMIT_MS)) {
		atomic_fetch_add(&lim->held, 1);
		return;
	}
	rt__vlog(level, atomic_exchange(&lim->held, 0), fmt, ap);
}

static void rt__vlog(int level, unsigned long long held, const char *fmt, va_list ap)
{
	static const char *const names[] = {"error", "warning", "info"};
	char line[1024];
	struct tm tm;
	time_t now = time(NULL);
	size_t n;
	int w;

	gmtime_r(&now, &tm);
	if (level <= RT_LOG_WARNING) {
		char when[32];
		va_list copy;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		va_copy(copy, ap);
		rt__keep_recent(when, names[level < 0 ? 0 : level], fmt, copy);
		va_end(copy);
	}
	if (level > atomic_load_explicit(&rt__log_level, memory_order_relaxed)) {
		return;
	}
	if (atomic_load_explicit(&rt__log_format, memory_order_relaxed) == RT_LOG_JSON) {
		char msg[1024], out[2300];
		va_list copy;
		va_copy(copy, ap);
		vsnprintf(msg, sizeof(msg), fmt, copy);
		va_end(copy);
		n = strftime(out, sizeof(out), "{\"time\":\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
		n += (size_t) snprintf(out + n, sizeof(out) - n, ",\"level\":\"%s\",\"pid\":%d,\"msg\":\"",
				names[level < 0 || level > RT_LOG_INFO ? 0 : level], (int) getpid());
		n = rt__json_escape(out, n, sizeof(out) - 64, msg);
		n += (size_t) snprintf(out + n, sizeof(out) - n, "\",\"held\":%llu}\n", held);
		if (write(rt__log_fd, out, n) < 0) {
			/* Nowhere left to report a failed log write. */
		}
		return;
	}
	n = strftime(line, sizeof(line), "[%Y-%m-%dT%H:%M:%SZ] ", &tm);
	w = snprintf(line + n, sizeof(line) - n, "realtime[%d] %s: ", (int) getpid(),
			names[level < 0 || level > RT_LOG_INFO ? 0 : level]);
	n += (w > 0) ? (size_t) w : 0;
	w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (w > 0) {
		n += ((size_t) w < sizeof(line) - n - 1) ? (size_t) w : sizeof(line) - n - 2;
	}
	if (held > 0 && n < sizeof(line) - 2) {
		w = snprintf(line + n, sizeof(line) - n - 1, " (and %llu more like this since the last such line)",
				held);
		if (w > 0) {
			n += ((size_t) w < sizeof(line) - n - 1) ? (size_t) w : sizeof(line) - n - 2;
		}
	}
	line[n++] = '\n';
	if (write(rt__log_fd, line, n) < 0) {
		/* Nowhere left to report a failed log write. */
	}
}
