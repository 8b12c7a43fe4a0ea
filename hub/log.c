#include "hub/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int rt__log_fd = 2;

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

void rt_log(int level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info"};
	char line[1024];
	struct tm tm;
	time_t now = time(NULL);
	size_t n;
	va_list ap;
	int w;

	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "[%Y-%m-%dT%H:%M:%SZ] ", &tm);
	w = snprintf(line + n, sizeof(line) - n, "realtime[%d] %s: ", (int) getpid(),
			names[level < 0 || level > RT_LOG_INFO ? 0 : level]);
	n += (w > 0) ? (size_t) w : 0;
	va_start(ap, fmt);
	w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (w > 0) {
		n += ((size_t) w < sizeof(line) - n - 1) ? (size_t) w : sizeof(line) - n - 2;
	}
	line[n++] = '\n';
	if (write(rt__log_fd, line, n) < 0) {
		/* Nowhere left to report a failed log write. */
	}
}
