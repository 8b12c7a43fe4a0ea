/* floor: the kernel cost of one small send to one loopback TCP socket.
 * Opens N connected loopback pairs, writes to each "server" end and
 * measures the sender's CPU time (CLOCK_THREAD_CPUTIME_ID) per message:
 *   single   one write() of SIZE bytes per socket
 *   sep16    16 write()s of SIZE bytes per socket
 *   batch16  one write() of 16*SIZE bytes per socket (coalesced)
 *   writev16 one writev() of 16 iovecs of SIZE bytes per socket
 * With --reader a child process blocked in epoll on the other CPU drains
 * the client ends, so the sender also pays for waking a reader, as a real
 * server does; without it the client ends are drained untimed between
 * rounds. Prints one JSON line.
 *   floor [--pairs 8000] [--size 110] [--rounds 9] [--reader]
 *
 * floor --wake [--iters 400]: the cost of a wake-up, as a lone
 * Realtime\broadcast() pays it: one 1-byte sendto() on an unbound AF_UNIX
 * datagram socket to a thread blocked in epoll_wait() on a named one (what
 * broker/pool.c does for an idle hub). Each send follows a 2 ms pause, so
 * the receiver is asleep every time. The median wall-clock and CPU time of
 * the sendto() call, with the receiver on the sender's CPU, on the other
 * CPU, and with no thread waiting (the sender reads the byte back itself). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pairs = 8000, size = 110, rounds = 9, use_reader = 0;
static int *snd, *rcv;

static double thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void open_pairs(void)
{
	struct sockaddr_in a = {0};
	socklen_t alen = sizeof(a);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *) &a, sizeof(a)) != 0 || listen(l, 4096) != 0
			|| getsockname(l, (struct sockaddr *) &a, &alen) != 0) {
		die("listen");
	}
	snd = calloc((size_t) pairs, sizeof(int));
	rcv = calloc((size_t) pairs, sizeof(int));
	for (int i = 0; i < pairs; i++) {
		rcv[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (rcv[i] < 0 || connect(rcv[i], (struct sockaddr *) &a, sizeof(a)) != 0) {
			die("connect");
		}
		snd[i] = accept(l, NULL, NULL);
		if (snd[i] < 0) {
			die("accept");
		}
		setsockopt(snd[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	close(l);
}

static void drain_all(void)
{
	static char buf[1 << 16];
	for (int i = 0; i < pairs; i++) {
		while (recv(rcv[i], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
		}
	}
}

/* The reader: a child process on the other CPU, blocked in epoll. */
static pid_t start_reader(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		static char buf[1 << 16];
		struct epoll_event evs[256];
		int ep = epoll_create1(0);
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(1, &set);
		sched_setaffinity(0, sizeof(set), &set);
		for (int i = 0; i < pairs; i++) {
			struct epoll_event ev = {.events = EPOLLIN, .data.fd = rcv[i]};
			close(snd[i]);
			epoll_ctl(ep, EPOLL_CTL_ADD, rcv[i], &ev);
		}
		for (;;) {
			int n = epoll_wait(ep, evs, 256, -1);
			for (int i = 0; i < n; i++) {
				while (recv(evs[i].data.fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
				}
			}
		}
	}
	return pid;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

enum { SINGLE, SEP16, BATCH16, WRITEV16 };

/* One round over every socket; returns CPU ns per message. */
static double round_once(int mode, const char *msg)
{
	struct iovec iov[16];
	double t0, t1;
	int msgs = mode == SINGLE ? 1 : 16;

	for (int k = 0; k < 16; k++) {
		iov[k].iov_base = (void *) msg;
		iov[k].iov_len = (size_t) size;
	}
	t0 = thread_cpu_ns();
	for (int i = 0; i < pairs; i++) {
		ssize_t r = 0;
		switch (mode) {
		case SINGLE:
			r = write(snd[i], msg, (size_t) size);
			break;
		case SEP16:
			for (int k = 0; k < 16; k++) {
				r = write(snd[i], msg, (size_t) size);
			}
			break;
		case BATCH16:
			r = write(snd[i], msg, (size_t) size * 16);
			break;
		case WRITEV16:
			r = writev(snd[i], iov, 16);
			break;
		}
		if (r < 0 && errno != EAGAIN) {
			die("write");
		}
	}
	t1 = thread_cpu_ns();
	return (t1 - t0) / ((double) pairs * msgs);
}

static double measure(int mode, const char *msg)
{
	double v[64];
	int n = rounds < 64 ? rounds : 64;

	for (int r = 0; r < n; r++) {
		v[r] = round_once(mode, msg);
		if (use_reader) {
			usleep(50000);
		} else {
			drain_all();
		}
	}
	qsort(v, (size_t) n, sizeof(double), cmpd);
	return v[n / 2];
}

/* ---- --wake ---- */

static double mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static void pin_to(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int wake_cpu;

static void *wake_receiver(void *arg)
{
	int fd = *(int *) arg, ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	char buf[64];

	pin_to(wake_cpu);
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	for (;;) {
		if (epoll_wait(ep, &ev, 1, -1) == 1) {
			while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
			}
		}
	}
	return NULL;
}

/* Median wall and CPU ns of one sendto(); receiver_cpu < 0: nobody waits. */
static void wake_case(int iters, int sender_cpu, int receiver_cpu, double *wall, double *cpu)
{
	struct sockaddr_un addr;
	socklen_t alen;
	int rfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int sfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	double *w = calloc((size_t) iters, sizeof(double)), *c = calloc((size_t) iters, sizeof(double));
	pthread_t th;
	char buf[64];

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	alen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1
			+ (size_t) snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
				"rt-floor-wake-%d-%d", (int) getpid(), receiver_cpu));
	if (rfd < 0 || sfd < 0 || bind(rfd, (struct sockaddr *) &addr, alen) != 0) {
		die("wake socket");
	}
	pin_to(sender_cpu);
	if (receiver_cpu >= 0) {
		wake_cpu = receiver_cpu;
		pthread_create(&th, NULL, wake_receiver, &rfd);
		usleep(50000);
	}
	for (int i = -20; i < iters; i++) {
		double t0, t1, c0, c1;
		usleep(2000);
		c0 = thread_cpu_ns();
		t0 = mono_ns();
		sendto(sfd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *) &addr, alen);
		t1 = mono_ns();
		c1 = thread_cpu_ns();
		if (receiver_cpu < 0) {
			while (recv(rfd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
			}
		}
		if (i >= 0) {
			w[i] = t1 - t0;
			c[i] = c1 - c0;
		}
	}
	if (receiver_cpu >= 0) {
		pthread_cancel(th);
		pthread_join(th, NULL);
	}
	close(rfd);
	close(sfd);
	qsort(w, (size_t) iters, sizeof(double), cmpd);
	qsort(c, (size_t) iters, sizeof(double), cmpd);
	wall[0] = w[iters / 2];
	wall[1] = w[iters * 9 / 10];
	*cpu = c[iters / 2];
	free(w);
	free(c);
}

static int wake_main(int iters)
{
	double nw[2], sw[2], ow[2], nc, sc, oc;
	int ncpu = (int) sysconf(_SC_NPROCESSORS_ONLN);

	wake_case(iters, 0, -1, nw, &nc);
	wake_case(iters, 0, 0, sw, &sc);
	if (ncpu >= 2) {
		wake_case(iters, 0, 1, ow, &oc);
	} else {
		ow[0] = ow[1] = oc = 0;
	}
	printf("{\"wake\":1,\"iters\":%d,\"nowaiter_ns\":%.0f,\"nowaiter_p90_ns\":%.0f,"
			"\"nowaiter_cpu_ns\":%.0f,\"same_cpu_ns\":%.0f,\"same_cpu_p90_ns\":%.0f,"
			"\"same_cpu_cpu_ns\":%.0f,\"other_cpu_ns\":%.0f,\"other_cpu_p90_ns\":%.0f,"
			"\"other_cpu_cpu_ns\":%.0f}\n",
			iters, nw[0], nw[1], nc, sw[0], sw[1], sc, ow[0], ow[1], oc);
	return 0;
}

int main(int argc, char **argv)
{
	char *msg;
	pid_t reader = 0;
	double single, sep16, batch16, writev16;
	int wake = 0, iters = 400;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc) {
			pairs = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
			size = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			rounds = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--reader") == 0) {
			use_reader = 1;
		} else if (strcmp(argv[i], "--wake") == 0) {
			wake = 1;
		} else if (strcmp(argv[i], "--iters") == 0 && i + 1 < argc) {
			iters = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: floor [--pairs N] [--size BYTES] [--rounds R] [--reader]\n"
					"       floor --wake [--iters N]\n");
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (wake) {
		return wake_main(iters < 20 ? 20 : iters);
	}
	msg = malloc((size_t) size * 16);
	memset(msg, 'x', (size_t) size * 16);
	open_pairs();
	if (use_reader) {
		reader = start_reader();
		for (int i = 0; i < pairs; i++) {
			close(rcv[i]);
		}
	}
	round_once(SINGLE, msg); /* warm up */
	if (use_reader) {
		usleep(100000);
	} else {
		drain_all();
	}
	single = measure(SINGLE, msg);
	sep16 = measure(SEP16, msg);
	batch16 = measure(BATCH16, msg);
	writev16 = measure(WRITEV16, msg);
	if (reader > 0) {
		kill(reader, SIGKILL);
		waitpid(reader, NULL, 0);
	}
	printf("{\"pairs\":%d,\"size\":%d,\"rounds\":%d,\"reader\":%d,\"single_ns\":%.0f,"
			"\"sep16_ns_per_msg\":%.0f,\"batch16_ns_per_msg\":%.0f,\"writev16_ns_per_msg\":%.0f}\n",
			pairs, size, rounds, use_reader, single, sep16, batch16, writev16);
	return 0;
}
