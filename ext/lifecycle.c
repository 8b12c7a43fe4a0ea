#include "ext/lifecycle.h"
#include "ext/earlystart.h"
#include "hub/util/hot.h"
#include "hub/util/log.h"

#include "SAPI.h"
#include "main/php_ini.h"
#include "main/php_main.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#define RT_RETRY_SECONDS 5

/* Threads (docs/architecture.md): rt__lock serializes start and stop for
 * their whole length; in ZTS rt__use_lock (read: enter/leave) keeps the
 * hub and broker alive for the PHP threads using them, and start and stop
 * change the pointers holding it for writing; rt__broker_lock makes the
 * first use open the broker once. Order: rt__lock, then rt__use_lock, then
 * rt__broker_lock. The pointers and pids are also read without a lock (a
 * fork check, rinit's "already running?"), hence the atomic accesses:
 * plain loads and stores on x86 and arm64, so NTS pays nothing. */
static pthread_mutex_t rt__lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t rt__broker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t rt__error_lock = PTHREAD_MUTEX_INITIALIZER;
#define RT__LOAD(v) __atomic_load_n(&(v), __ATOMIC_ACQUIRE)
#define RT__STORE(v, x) __atomic_store_n(&(v), (x), __ATOMIC_RELEASE)
#ifdef ZTS
/* Writer-preferring: a stop is not starved by a stream of broadcast(). */
#ifdef PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
static pthread_rwlock_t rt__use_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
#else
static pthread_rwlock_t rt__use_lock = PTHREAD_RWLOCK_INITIALIZER;
#endif

void rt_lifecycle_enter(void)
{
	pthread_rwlock_rdlock(&rt__use_lock);
}

void rt_lifecycle_leave(void)
{
	pthread_rwlock_unlock(&rt__use_lock);
}

static void rt__change_begin(void)
{
	pthread_rwlock_wrlock(&rt__use_lock);
}

static void rt__change_end(void)
{
	pthread_rwlock_unlock(&rt__use_lock);
}
#else
static void rt__change_begin(void) {}
static void rt__change_end(void) {}
#endif
static rt_hub *rt__hub;
static pid_t rt__hub_pid;
static rt_broker *rt__broker;
static const rt_broker_ops *rt__broker_ops;
static pid_t rt__broker_pid;
static time_t rt__last_attempt;
/* A hub thread outlived its stop: what it uses (the broker, the log) is
 * never freed in this process. */
static bool rt__hub_left_running;
static char rt__last_error[256];
static bool rt__post_startup;
/* This process, or the one it was forked from, ran a request. */
static bool rt__served_request;
static zend_result (*rt__prev_post_startup)(void);
/* Set up in the server's first process, before it forks (MINIT). */
static pid_t rt__minit_pid;
static int rt__prebound_fd = -1;
static char rt__prebound_addr[96];
static const rt_broker_ops *rt__prefork_ops;
/* The listen address another server already held at startup. */
static char rt__taken_addr[96];
/* opcache replaces ub_write while it runs a preload script in the master. */
static size_t (*rt__sapi_ub_write)(const char *str, size_t len);

/* Every broadcast() asks whether this process forked since the hub was
 * made, and getpid() is a system call: a fork handler clears the cached
 * pid instead. glibc drops the handler when the extension is unloaded. */
static pid_t rt__pid;
/* The environment a forked process starts with. php-fpm's workers drop the
 * copy their master made (clearenv) without freeing it; with this pointer
 * that block stays reachable rather than read as a leak (LeakSanitizer
 * used to miss it only because a stale copy lay on the stack, which an
 * early hub start overwrites). */
static char **volatile rt__inherited_env;

static void rt__on_fork_child(void)
{
	RT__STORE(rt__pid, 0);
	rt__inherited_env = environ;
}

RT_HOT static pid_t rt__self(void)
{
	pid_t pid = RT__LOAD(rt__pid);

	if (pid == 0) {
		pid = getpid();
		RT__STORE(rt__pid, pid);
	}
	return pid;
}

static zend_result rt__on_post_startup(void)
{
	if (rt__prev_post_startup != NULL && rt__prev_post_startup() != SUCCESS) {
		return FAILURE;
	}
	rt__post_startup = true;
	return SUCCESS;
}

static bool rt__server_sapi(void)
{
	static const char *const names[] = {"cli-server", "fpm-fcgi", "apache2handler",
		"frankenphp", NULL};

	for (int i = 0; names[i]; i++) {
		if (strcmp(sapi_module.name, names[i]) == 0) {
			return true;
		}
	}
	return false;
}

#define RT_APACHE_HANDOFF_TIMEOUT_MS 2000

int rt_lifecycle_read_config(rt_config *cfg, char *err, size_t errlen)
{
	char name[64];

	rt_config_defaults(cfg);
	for (const rt_setting *s = rt_settings; s->name; s++) {
		bool exists = false;
		size_t n = (size_t) snprintf(name, sizeof(name), "realtime.%s", s->name);
		const char *value = zend_ini_string_ex(name, n, 0, &exists);
		int r = rt_config_set(cfg, s->name, exists && value ? value : s->default_value,
				err, errlen);
		if (r != 0) {
			return r;
		}
	}
	/* The default handoff_timeout is short for php-fpm, which SIGKILLs a
	 * worker it culled about a second after its SIGQUIT. Apache kills no
	 * child that ends in an orderly way (MaxConnectionsPerChild, spare
	 * servers, a graceful restart): there takers that are busy (children
	 * ending and starting together) get longer, unless php.ini says. */
	if (strcmp(sapi_module.name, "apache2handler") == 0
			&& cfg_get_entry("realtime.handoff_timeout", sizeof("realtime.handoff_timeout") - 1) == NULL) {
		cfg->handoff_timeout = RT_APACHE_HANDOFF_TIMEOUT_MS;
	}
	/* Apache's parent replaces a child that ends on its own schedule (once
	 * a second, while the old one still runs): when every other hub is
	 * ending too, the next child's takes the clients. php-fpm starts a
	 * worker's successor only once it has exited: nothing to wait for. */
	cfg->handoff_await_taker = strcmp(sapi_module.name, "apache2handler") == 0;
	return 0;
}

static bool rt__enabled(void)
{
	return zend_ini_long("realtime.enabled", sizeof("realtime.enabled") - 1, 0) != 0;
}

/* In a forked child the parent's hub thread does not exist: forget it
 * without touching its memory or locks, which may be mid-use. */
RT_HOT static void rt__forget_after_fork(void)
{
	pid_t pid = rt__self();

	if (RT__LOAD(rt__hub) != NULL && RT__LOAD(rt__hub_pid) != pid) {
		RT__STORE(rt__hub, NULL);
	}
	if (RT__LOAD(rt__broker) != NULL && RT__LOAD(rt__broker_pid) != pid) {
		RT__STORE(rt__broker, NULL);
	}
}

/* The first PHP thread to need the broker opens it; the others wait. */
static rt_broker *rt__open_broker(char *err, size_t errlen)
{
	const rt_broker_ops *ops;
	rt_broker *b;
	rt_config cfg;

	pthread_mutex_lock(&rt__broker_lock);
	b = RT__LOAD(rt__broker);
	if (b != NULL) {
		pthread_mutex_unlock(&rt__broker_lock);
		return b;
	}
	if (rt_lifecycle_read_config(&cfg, err, errlen) != 0) {
		pthread_mutex_unlock(&rt__broker_lock);
		return NULL;
	}
	ops = rt_broker_find(cfg.broker);
	if (ops == NULL) {
		snprintf(err, errlen, "unknown broker '%s' (realtime.broker)", cfg.broker);
		pthread_mutex_unlock(&rt__broker_lock);
		return NULL;
	}
	if (ops->open(&b, &cfg, err, errlen) != 0) {
		pthread_mutex_unlock(&rt__broker_lock);
		return NULL;
	}
	RT__STORE(rt__broker_ops, ops);
	RT__STORE(rt__broker_pid, rt__self());
	/* A hub can only be made or dropped under the change lock, which the
	 * caller (a user between enter and leave, or start) keeps out. */
	if (RT__LOAD(rt__hub) != NULL) {
		ops->attach(b, RT__LOAD(rt__hub));
	}
	RT__STORE(rt__broker, b);
	pthread_mutex_unlock(&rt__broker_lock);
	return b;
}

RT_HOT rt_broker *rt_lifecycle_broker(const rt_broker_ops **ops, char *err, size_t errlen)
{
	rt_broker *b;

	rt__forget_after_fork();
	b = RT__LOAD(rt__broker);
	if (b == NULL) {
		b = rt__open_broker(err, errlen);
		if (b == NULL) {
			return NULL;
		}
	}
	*ops = RT__LOAD(rt__broker_ops);
	return b;
}

/* php-fpm ends a worker with SIGTERM, left at SIG_DFL there, when it
 * outlasts process_control_timeout, 0 by default: a reload kills the
 * workers before their MSHUTDOWN, and their clients would see the socket
 * drop (1006) and wait before reconnecting. This handler has the hub close
 * them with 1012 (Pusher 4200) first, within a bound, then lets the signal
 * kill as before. Only async-signal-safe calls. */
#define RT_TERM_CLOSE_MS 800  /* of the second before php-fpm's SIGKILL */
static rt_hub *rt__term_hub;
static pid_t rt__term_pid;

static void rt__on_sigterm(int sig)
{
	int saved = errno;
	rt_hub *hub = __atomic_exchange_n(&rt__term_hub, NULL, __ATOMIC_SEQ_CST);
	struct sigaction dfl;

	if (hub != NULL && __atomic_load_n(&rt__term_pid, __ATOMIC_SEQ_CST) == getpid()) {
		rt_hub_mark_restart(hub);
		/* php-fpm sends SIGTERM to every worker at once (a reload or a
		 * stop) or to one past request_terminate_timeout, and SIGKILL a
		 * second later: a handoff gets part of that second, the closes
		 * with 1012 the rest. */
		rt_hub_cut_handoff(hub, RT_HUB_KILL_CUT_MS);
		rt_hub_stop_in_handler(hub, RT_TERM_CLOSE_MS);
	}
	/* Zend may have wrapped this handler in its own during a request (its
	 * wrapper calls this one): set the default action itself, which the
	 * signal raised here meets once this returns. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	errno = saved;
	raise(sig);
}

/* In an FPM worker whose SIGTERM nobody else handles. */
static void rt__close_on_sigterm(rt_hub *hub)
{
	struct sigaction sa, old;

	if (strcmp(sapi_module.name, "fpm-fcgi") != 0 || sigaction(SIGTERM, NULL, &old) != 0
			|| (old.sa_handler != SIG_DFL && old.sa_handler != rt__on_sigterm)) {
		return;
	}
	__atomic_store_n(&rt__term_pid, getpid(), __ATOMIC_SEQ_CST);
	__atomic_store_n(&rt__term_hub, hub, __ATOMIC_SEQ_CST);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rt__on_sigterm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND | SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
}

int rt_lifecycle_start(char *err, size_t errlen)
{
	const rt_broker_ops *ops;
	rt_broker *broker;
	rt_hub *hub = NULL;
	rt_config cfg;
	int r;

	if (!rt__enabled()) {
		snprintf(err, errlen, "hubs are turned off (realtime.enabled=0)");
		return -EPERM;
	}
	pthread_mutex_lock(&rt__lock);
	rt__forget_after_fork();
	if (RT__LOAD(rt__hub) != NULL) {
		pthread_mutex_unlock(&rt__lock);
		return 0;
	}
	RT__STORE(rt__last_attempt, time(NULL));
	r = rt_lifecycle_read_config(&cfg, err, errlen);
	if (r == 0) {
		rt_log_configure(cfg.log_format, cfg.log_level);
	}
	if (r == 0 && rt_log_open(cfg.log_path) != 0) {
		rt_log(RT_LOG_WARNING, "cannot open realtime.log '%s': logging to stderr",
				cfg.log_path);
	}
	if (r == 0) {
		broker = rt_lifecycle_broker(&ops, err, errlen);
		r = broker ? 0 : -EINVAL;
	}
	if (r == 0) {
		char addr[96];
		int fd = -1;
		snprintf(addr, sizeof(addr), "%s:%d", cfg.host, cfg.port);
		if (rt__prebound_fd >= 0 && strcmp(addr, rt__prebound_addr) == 0) {
			/* The hub closes what it is given; the process keeps its copy. */
			fd = fcntl(rt__prebound_fd, F_DUPFD_CLOEXEC, 3);
		}
		/* Sharing the port with the hubs of the other workers is right only
		 * when no other server had it first. */
		r = rt_hub_start(&hub, &cfg, ops->link(broker), fd,
				strcmp(addr, rt__taken_addr) != 0 && ops->link(broker) != NULL, err, errlen);
		if (r != 0 && fd >= 0) {
			close(fd);
		}
	}
	if (r == 0) {
		/* Seen by the other PHP threads only once the broker knows it. */
		rt__change_begin();
		RT__STORE(rt__hub_pid, rt__self());
		ops->attach(broker, hub);
		RT__STORE(rt__hub, hub);
		rt__change_end();
		rt__close_on_sigterm(hub);
		pthread_mutex_lock(&rt__error_lock);
		rt__last_error[0] = '\0';
		pthread_mutex_unlock(&rt__error_lock);
	} else {
		pthread_mutex_lock(&rt__error_lock);
		snprintf(rt__last_error, sizeof(rt__last_error), "%s", err);
		pthread_mutex_unlock(&rt__error_lock);
		rt_log(RT_LOG_ERROR, "hub not started: %s; PHP keeps serving, next try in %d s",
				err, RT_RETRY_SECONDS);
	}
	pthread_mutex_unlock(&rt__lock);
	return r;
}

/* While MSHUTDOWN holds php-fpm's SIGTERM back (rt_lifecycle_mshutdown),
 * the stop watches for it. */
static bool rt__watch_sigterm;

static int rt__sigterm_pending(void)
{
	sigset_t pending;

	return sigpending(&pending) == 0 && sigismember(&pending, SIGTERM) == 1;
}

/* rt__lock stays held until the hub is gone: a start() of another PHP
 * thread waits for it rather than seeing a half-stopped hub. */
bool rt_lifecycle_stop(void)
{
	rt_hub *hub;

	__atomic_store_n(&rt__term_hub, NULL, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&rt__lock);
	rt__forget_after_fork();
	/* Once this holds the change lock, no PHP thread is between enter and
	 * leave: none still posts to the hub after it is dropped here. */
	rt__change_begin();
	hub = RT__LOAD(rt__hub);
	RT__STORE(rt__hub, NULL);
	if (hub != NULL && RT__LOAD(rt__broker) != NULL) {
		rt__broker_ops->attach(rt__broker, NULL);
	}
	rt__change_end();
	if (hub == NULL) {
		pthread_mutex_unlock(&rt__lock);
		return false;
	}
	if (rt_hub_stop_watching(hub, rt__watch_sigterm ? rt__sigterm_pending : NULL) == -ETIMEDOUT) {
		rt__change_begin();
		rt__hub_left_running = true;
		/* Its link is the running thread's: a new hub gets a new broker,
		 * and this one is never freed (a PHP thread may have it still). */
		RT__STORE(rt__broker, NULL);
		rt__change_end();
	}
	pthread_mutex_unlock(&rt__lock);
	return true;
}

rt_hub *rt_lifecycle_hub(void)
{
	rt__forget_after_fork();
	return RT__LOAD(rt__hub);
}

int rt_lifecycle_hub_config(rt_config *out)
{
	rt_hub *hub;
	int r = -ENOENT;

	rt_lifecycle_enter();
	hub = rt_lifecycle_hub();
	if (hub != NULL) {
		*out = *rt_hub_config(hub);
		r = 0;
	}
	rt_lifecycle_leave();
	return r;
}

bool rt_lifecycle_last_error(char *out, size_t len)
{
	bool set;

	pthread_mutex_lock(&rt__error_lock);
	set = rt__last_error[0] != '\0';
	snprintf(out, len, "%s", rt__last_error);
	pthread_mutex_unlock(&rt__error_lock);
	return set;
}

void rt_lifecycle_rinit(void)
{
	char err[256];

	if (!rt__post_startup || !rt__enabled() || !rt__server_sapi()) {
		return;
	}
	/* A preload script runs a request in the FPM master: no hub there. */
	if (sapi_module.ub_write != rt__sapi_ub_write || SG(server_context) == NULL) {
		return;
	}
	if (!RT__LOAD(rt__served_request)) {
		RT__STORE(rt__served_request, true);
	}
	rt__forget_after_fork();
	if (RT__LOAD(rt__hub) != NULL) {
		return;
	}
	if (RT__LOAD(rt__last_attempt) != 0 && RT__LOAD(rt__hub_pid) == rt__self()
			&& time(NULL) - RT__LOAD(rt__last_attempt) < RT_RETRY_SECONDS) {
		return;
	}
	rt_lifecycle_start(err, sizeof(err));
	RT__STORE(rt__hub_pid, rt__self()); /* the retry clock belongs to this process */
}

/* A worker is ready to serve (ext/earlystart.c), on its main thread, with
 * its pool's user and settings: its hub starts now, not at its first
 * request. A process forked from one that ran a request (pcntl_fork) is
 * not a worker, even when it returns to the server's loop. */
static pid_t rt__ready_pid;

static void rt__on_worker_ready(void)
{
	char err[256];
	pid_t pid = rt__self();

	if (RT__LOAD(rt__ready_pid) == pid) {
		return;
	}
	RT__STORE(rt__ready_pid, pid);
#if defined(ZTS) && defined(COMPILE_DL_REALTIME)
	ZEND_TSRMLS_CACHE_UPDATE();
#endif
	if (RT__LOAD(rt__served_request) || !rt__post_startup || !rt__enabled()) {
		return;
	}
	rt__forget_after_fork();
	if (RT__LOAD(rt__hub) == NULL) {
		rt_lifecycle_start(err, sizeof(err));
		RT__STORE(rt__hub_pid, pid); /* the retry clock of the first request belongs to this process */
	}
}

/* A restart of php-fpm (it re-executes its master) or Apache (MSHUTDOWN
 * then MINIT in its parent) would close the pre-bound socket and bind a
 * new one: the clients that the old workers told to reconnect at once, and
 * that wait in its backlog, would be reset, and while busy old Apache
 * children still listen the new bind would fail. So MSHUTDOWN keeps the
 * socket open across the restart, its number in the environment, as
 * php-fpm does with FPM_SOCKETS, and the next MINIT takes it back. */
#define RT_PREBOUND_ENV "REALTIME_PREBOUND_FD"

static bool rt__restarting_server(void)
{
	return strcmp(sapi_module.name, "fpm-fcgi") == 0
		|| strcmp(sapi_module.name, "apache2handler") == 0;
}

/* The socket a previous start of this server kept (see above), if it is
 * still a listening socket bound to cfg's address (cfg NULL: the address
 * does not matter, it is let go). Returns it, or a negative errno. */
static int rt__adopt_prebound(const rt_config *cfg)
{
	const char *v = getenv(RT_PREBOUND_ENV);
	char err[160], *end;
	long fd;
	int r;

	if (v == NULL) {
		return -ENOENT;
	}
	fd = strtol(v, &end, 10);
	unsetenv(RT_PREBOUND_ENV);
	if (*end != '\0' || fd < 3 || fd > INT_MAX || fcntl((int) fd, F_GETFD) < 0) {
		return -EBADF;
	}
	if (cfg == NULL) {
		int listening = 0;
		socklen_t len = sizeof(listening);
		if (getsockopt((int) fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening) {
			close((int) fd);
		}
		return -ENOENT;
	}
	r = rt_hub_check_prebound(cfg, (int) fd, err, sizeof(err));
	if (r == -ENOTSOCK) {
		return r; /* not what was kept: not ours to close */
	}
	if (r != 0) {
		rt_log(RT_LOG_INFO, "not keeping the socket of the previous start: %s", err);
		close((int) fd);
		return r;
	}
	fcntl((int) fd, F_SETFD, FD_CLOEXEC);
	return (int) fd;
}

/* MSHUTDOWN of the server's first process: true when the socket stays open
 * for the next MINIT. */
static bool rt__keep_prebound(void)
{
	char v[16];
	int flags = fcntl(rt__prebound_fd, F_GETFD);

	if (!rt__restarting_server() || flags < 0
			|| fcntl(rt__prebound_fd, F_SETFD, flags & ~FD_CLOEXEC) != 0) {
		return false;
	}
	snprintf(v, sizeof(v), "%d", rt__prebound_fd);
	return setenv(RT_PREBOUND_ENV, v, 1) == 0;
}

/* In a server SAPI's first process: share memory and the listening port
 * with the workers it is about to fork. */
static void rt__prefork(void)
{
	rt_config cfg;
	char err[256];
	const rt_broker_ops *ops;

	if (!rt__enabled() || !rt__server_sapi()
			|| rt_lifecycle_read_config(&cfg, err, sizeof(err)) != 0) {
		rt__adopt_prebound(NULL);
		return;
	}
	rt__minit_pid = rt__self();
	ops = rt_broker_find(cfg.broker);
	if (ops != NULL && ops->prefork != NULL) {
		if (ops->prefork(&cfg, err, sizeof(err)) != 0) {
			rt_log(RT_LOG_WARNING, "%s: each worker's hub will serve its own clients only", err);
		} else {
			rt__prefork_ops = ops;
		}
	}
	rt__prebound_fd = rt__adopt_prebound(&cfg);
	if (rt__prebound_fd < 0) {
		rt__prebound_fd = rt_hub_prebind(&cfg, err, sizeof(err));
	}
	if (rt__prebound_fd >= 0) {
		snprintf(rt__prebound_addr, sizeof(rt__prebound_addr), "%s:%d", cfg.host, cfg.port);
	} else if (rt__prebound_fd == -EADDRINUSE) {
		snprintf(rt__taken_addr, sizeof(rt__taken_addr), "%s:%d", cfg.host, cfg.port);
		rt_log(RT_LOG_ERROR, "%s: another server holds this port, so this server's hubs "
				"will not start (pages are served as usual)", err);
	} else {
		rt_log(RT_LOG_WARNING, "%s", err);
	}
}

zend_result rt_lifecycle_minit(void)
{
	rt__prev_post_startup = zend_post_startup_cb;
	zend_post_startup_cb = rt__on_post_startup;
	rt__sapi_ub_write = sapi_module.ub_write;
	pthread_atfork(NULL, NULL, rt__on_fork_child);
	rt__prefork();
	if (rt__enabled() && rt__server_sapi()) {
		char err[160];
		if (rt_earlystart_install(sapi_module.name, rt__on_worker_ready, err, sizeof(err)) != 0) {
			rt_log(RT_LOG_INFO, "each worker's hub starts with its first request: %s", err);
		}
	}
	return SUCCESS;
}

/* Apache's children run MSHUTDOWN inside their SIGTERM/SIGHUP handler
 * (just_die), where the signal is blocked while it runs; outside a handler
 * a prefork child never blocks them. */
static bool rt__in_signal_handler(void)
{
	sigset_t cur;

	if (strcmp(sapi_module.name, "apache2handler") != 0
			|| pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0) {
		return false;
	}
	return sigismember(&cur, SIGTERM) == 1 || sigismember(&cur, SIGHUP) == 1;
}

/* Only async-signal-safe work: no lock (the interrupted code may hold one),
 * no allocation, a bounded wait; the rest goes with the process. */
static void rt__mshutdown_in_handler(void)
{
	rt_hub *hub = rt__hub;

	if (hub != NULL && rt__hub_pid == getpid()) {
		rt_hub_mark_restart(hub);
		/* Apache's SIGTERM or SIGHUP: a stop or hard restart, every child at
		 * once, and its parent kills what remains a few seconds later. */
		rt_hub_cut_handoff(hub, RT_HUB_KILL_CUT_MS);
		rt_hub_stop_in_handler(hub, 0);
	}
	rt__hub = NULL;
	rt__hub_left_running = true;
}

void rt_lifecycle_mshutdown(void)
{
	rt_earlystart_uninstall();
	if (rt__in_signal_handler()) {
		rt__mshutdown_in_handler();
		return;
	}
	if (rt__hub != NULL && rt__hub_pid == rt__self()) {
		sigset_t term, old;
		bool hold = __atomic_load_n(&rt__term_hub, __ATOMIC_SEQ_CST) != NULL;
		/* FPM's SIGTERM follows its SIGQUIT at once (process_control_timeout
		 * 0): it waits until this stop has closed the clients. */
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		if (hold) {
			pthread_sigmask(SIG_BLOCK, &term, &old);
			rt__watch_sigterm = true;
		}
		/* php-fpm and Apache replace their workers: reconnect at once. */
		if (rt__restarting_server()) {
			rt_hub_mark_restart(rt__hub);
		}
		rt_lifecycle_stop();
		if (hold) {
			rt__watch_sigterm = false;
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
	}
	if (rt__broker != NULL && rt__broker_pid == rt__self()) {
		rt__broker_ops->close(rt__broker);
		rt__broker = NULL;
	}
	if (rt__minit_pid == rt__self()) {
		/* The ring stays mapped while a hub thread may still read it. */
		if (rt__prefork_ops != NULL && !rt__hub_left_running) {
			rt__prefork_ops->postfork_shutdown();
			rt__prefork_ops = NULL;
		}
		if (rt__prebound_fd >= 0) {
			if (!rt__keep_prebound()) {
				close(rt__prebound_fd);
			}
			rt__prebound_fd = -1;
		}
	}
	if (!rt__hub_left_running) {
		rt_log_close();
	}
}
