/* LD_PRELOAD shim for scripts/asan.sh: dlopen() without RTLD_DEEPBIND, and
 * leak checks only in the processes that loaded the extension.
 *
 * Debian's PHP opens extensions with RTLD_DEEPBIND, which the sanitizer
 * runtimes refuse (a deep-bound library would call libc's malloc instead of
 * ASan's). PHP built with ASan drops the flag itself; an unsanitized PHP
 * loading a sanitized extension needs this. Preloaded before libasan, so
 * that PHP's dlopen() resolves here; the call goes on to ASan's own dlopen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

void *dlopen(const char *file, int mode)
{
	static void *(*next)(const char *, int);

	if (next == NULL) {
		next = (void *(*)(const char *, int)) dlsym(RTLD_NEXT, "dlopen");
	}
	return next(file, mode & ~RTLD_DEEPBIND);
}

/* Also matches the e2e pool tests' private copies (<tmp>/realtime.so). */
static int rt__is_extension(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *name = info->dlpi_name;
	size_t n = name != NULL ? strlen(name) : 0;

	(void) size;
	(void) data;
	return n >= 12 && strcmp(name + n - 12, "/realtime.so") == 0;
}

/* LeakSanitizer's hook, looked up through the dynamic linker: the preload
 * reaches every program php runs (sh, sed, a php -n script), whose own leaks
 * are not ours to report. Only a process that loaded realtime.so keeps the
 * exit-time leak check; errors other than leaks are reported everywhere. */
int __lsan_is_turned_off(void)
{
	return !dl_iterate_phdr(rt__is_extension, NULL);
}
