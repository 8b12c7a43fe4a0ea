/* A worker of php-fpm or php -S is ready when its main thread enters its
 * accept loop: by then FPM has dropped to the pool's user, applied chroot,
 * stdio and the pool's php_value/php_admin_value. No hook of PHP runs
 * there, and a thread cannot tell from outside (after setuid the worker is
 * not dumpable, so /proc/self/task/N/syscall is closed to it). The one call
 * that marks the moment, on the right thread, is the loop's own blocking
 * call: accept() in FPM (main/fastcgi.c), select() in php -S
 * (sapi/cli/php_cli_server.c). Both are imports of the server executable,
 * so its import slot (GOT entry) for that call is pointed at a wrapper
 * that calls back, then calls what the slot held. Only the executable's
 * own slot changes: libraries and extensions keep theirs.
 *
 * Apache has a real hook: child_init runs in each prefork child after the
 * privilege drop. PHP does not offer it to extensions, but httpd exports
 * ap_hook_child_init, so it is registered at run time. httpd clears every
 * hook list (apr_hook_deregister_all) before it unloads modules on a
 * restart, so the hook never outlives this code. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ext/earlystart.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#if defined(__linux__) && defined(__ELF__) && (defined(__x86_64__) || defined(__aarch64__))
#include <elf.h>
#include <link.h>
#define RT_HAVE_GOT 1
#endif

static rt_earlystart_fn rt__fn;

/* ---- Apache: child_init ---- */

/* httpd's types, kept opaque: void ap_hook_child_init(ap_HOOK_child_init_t *,
 * const char * const *pre, const char * const *succ, int order). */
typedef void (*rt__child_init_t)(void *pchild, void *server);
typedef void (*rt__hook_child_init_t)(rt__child_init_t fn, const char *const *pre,
		const char *const *succ, int order);
#define RT_APR_HOOK_LAST 30

static void rt__on_child_init(void *pchild, void *server)
{
	(void) pchild;
	(void) server;
	if (rt__fn != NULL) {
		rt__fn();
	}
}

static int rt__install_apache(char *err, size_t errlen)
{
	rt__hook_child_init_t hook;
	void *sym = dlsym(RTLD_DEFAULT, "ap_hook_child_init");

	if (sym == NULL) {
		snprintf(err, errlen, "httpd does not export ap_hook_child_init");
		return -ENOENT;
	}
	memcpy(&hook, &sym, sizeof(hook));
	/* Runs after mod_php's own child_init (zend_signal_init, the MSHUTDOWN
	 * cleanup): hooks added after httpd sorted them run last. */
	hook(rt__on_child_init, NULL, NULL, RT_APR_HOOK_LAST);
	return 0;
}

/* ---- php-fpm and php -S: the executable's import slot ---- */

#ifdef RT_HAVE_GOT

typedef int (*rt__accept_t)(int, struct sockaddr *, socklen_t *);
typedef int (*rt__select_t)(int, fd_set *, fd_set *, fd_set *, struct timeval *);

static void **rt__slot;     /* the patched slot, or NULL */
static void *rt__slot_was;  /* what it held */
static void *rt__slot_now;  /* our wrapper */
static int rt__slot_relro;  /* the slot is in a page made read-only after relocation */

static int rt__accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	rt__accept_t next;

	if (rt__fn != NULL) {
		rt__fn();
	}
	memcpy(&next, &rt__slot_was, sizeof(next));
	return next(fd, sa, len);
}

static int rt__select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	rt__select_t next;

	if (rt__fn != NULL) {
		rt__fn();
	}
	memcpy(&next, &rt__slot_was, sizeof(next));
	return next(n, r, w, e, tv);
}

typedef struct rt__find {
	const char *name;
	void **slot;
	int relro;
} rt__find;

/* A d_ptr of the dynamic section: glibc relocates most in place, some
 * loaders do not; an address below the load base is still relative. */
static uintptr_t rt__dyn_addr(const struct dl_phdr_info *info, ElfW(Addr) ptr)
{
	return ptr < info->dlpi_addr ? info->dlpi_addr + ptr : ptr;
}

static int rt__is_slot_reloc(unsigned long type)
{
#if defined(__x86_64__)
	return type == R_X86_64_JUMP_SLOT || type == R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
	return type == R_AARCH64_JUMP_SLOT || type == R_AARCH64_GLOB_DAT;
#endif
}

/* Looks through the relocations of the executable (the first object
 * dl_iterate_phdr reports) for the slot of f->name. */
static int rt__find_in_executable(struct dl_phdr_info *info, size_t size, void *arg)
{
	rt__find *f = arg;
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	size_t strsz = 0, sizes[2] = {0, 0};
	const ElfW(Rela) *tables[2] = {NULL, NULL};
	uintptr_t relro_lo = 0, relro_hi = 0;
	int pltrel_is_rela = 0;

	(void) size;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC) {
			dyn = (const ElfW(Dyn) *) (info->dlpi_addr + ph->p_vaddr);
		} else if (ph->p_type == PT_GNU_RELRO) {
			relro_lo = info->dlpi_addr + ph->p_vaddr;
			relro_hi = relro_lo + ph->p_memsz;
		}
	}
	if (dyn == NULL) {
		return 1;
	}
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			symtab = (const ElfW(Sym) *) rt__dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			strtab = (const char *) rt__dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRSZ:
			strsz = dyn->d_un.d_val;
			break;
		case DT_JMPREL:
			tables[0] = (const ElfW(Rela) *) rt__dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_PLTRELSZ:
			sizes[0] = dyn->d_un.d_val;
			break;
		case DT_PLTREL:
			pltrel_is_rela = dyn->d_un.d_val == DT_RELA;
			break;
		case DT_RELA:
			tables[1] = (const ElfW(Rela) *) rt__dyn_addr(info, dyn->d_un.d_ptr);
			break;
		case DT_RELASZ:
			sizes[1] = dyn->d_un.d_val;
			break;
		}
	}
	if (symtab == NULL || strtab == NULL || !pltrel_is_rela) {
		return 1;
	}
	for (int t = 0; t < 2 && f->slot == NULL; t++) {
		size_t n = tables[t] != NULL ? sizes[t] / sizeof(ElfW(Rela)) : 0;
		for (size_t k = 0; k < n; k++) {
			const ElfW(Rela) *r = &tables[t][k];
			size_t sym = ELF64_R_SYM(r->r_info);
			if (sym == 0 || !rt__is_slot_reloc(ELF64_R_TYPE(r->r_info))
					|| symtab[sym].st_name >= strsz
					|| strcmp(strtab + symtab[sym].st_name, f->name) != 0) {
				continue;
			}
			f->slot = (void **) (info->dlpi_addr + r->r_offset);
			f->relro = (uintptr_t) f->slot >= relro_lo && (uintptr_t) f->slot < relro_hi;
			break;
		}
	}
	return 1; /* the executable is the first object: look no further */
}

/* Writes a slot, lifting the read-only protection of its page meanwhile. */
static int rt__slot_write(void **slot, void *value, int relro)
{
	uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);
	void *start = (void *) ((uintptr_t) slot & ~(page - 1));

	if (mprotect(start, page, PROT_READ | PROT_WRITE) != 0) {
		return -errno;
	}
	__atomic_store_n(slot, value, __ATOMIC_SEQ_CST);
	if (relro) {
		mprotect(start, page, PROT_READ);
	}
	return 0;
}

static int rt__install_slot(const char *name, void *wrapper, char *err, size_t errlen)
{
	rt__find f = {name, NULL, 0};
	int r;

	dl_iterate_phdr(rt__find_in_executable, &f);
	if (f.slot == NULL) {
		snprintf(err, errlen, "the server executable imports no %s()", name);
		return -ENOENT;
	}
	rt__slot_was = __atomic_load_n(f.slot, __ATOMIC_SEQ_CST);
	r = rt__slot_write(f.slot, wrapper, f.relro);
	if (r != 0) {
		snprintf(err, errlen, "cannot change the import slot of %s(): %s", name, strerror(-r));
		return r;
	}
	rt__slot = f.slot;
	rt__slot_now = wrapper;
	rt__slot_relro = f.relro;
	return 0;
}

#endif /* RT_HAVE_GOT */

int rt_earlystart_install(const char *sapi, rt_earlystart_fn fn, char *err, size_t errlen)
{
	int r;

	rt__fn = fn;
	if (strcmp(sapi, "apache2handler") == 0) {
		r = rt__install_apache(err, errlen);
	}
#ifdef RT_HAVE_GOT
	else if (strcmp(sapi, "fpm-fcgi") == 0) {
		void *w;
		rt__accept_t a = rt__accept;
		memcpy(&w, &a, sizeof(w));
		r = rt__install_slot("accept", w, err, errlen);
	} else if (strcmp(sapi, "cli-server") == 0) {
		void *w;
		rt__select_t s = rt__select;
		memcpy(&w, &s, sizeof(w));
		r = rt__install_slot("select", w, err, errlen);
	}
#endif
	else {
		snprintf(err, errlen, "no worker-start point is known for the %s SAPI", sapi);
		r = -ENOENT;
	}
	if (r != 0) {
		rt__fn = NULL;
	}
	return r;
}

void rt_earlystart_uninstall(void)
{
	rt__fn = NULL;
#ifdef RT_HAVE_GOT
	if (rt__slot != NULL && __atomic_load_n(rt__slot, __ATOMIC_SEQ_CST) == rt__slot_now) {
		rt__slot_write(rt__slot, rt__slot_was, rt__slot_relro);
	}
	rt__slot = NULL;
#endif
}
