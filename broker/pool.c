#include "broker/pool.h"
#include "hub/hot.h"
#include "hub/map.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RT_POOL_MAGIC 0x72745f706f6f6c31ULL /* "rt_pool1" */
#define RT_ENTRY_PAD 1u
#define RT_DRAIN_CHUNK (256 * 1024)

typedef struct rt__slot {
	_Atomic int32_t pid;          /* 0: free */
	_Atomic uint32_t wake_pending;
	uint32_t node;
	uint32_t generation;
	uint64_t app;
	char name[48];                /* abstract socket name (first byte NUL) */
	socklen_t name_len;
} rt__slot;

typedef struct rt__entry {
	uint32_t len;                 /* payload bytes */
	uint32_t flags;
	uint64_t app;
} rt__entry;

struct rt_pool {
	uint64_t magic;
	pthread_mutex_t lock;
	uint64_t head;                /* bytes ever written */
	uint64_t msgs;                /* entries ever written: an overrun is counted in messages */
	uint64_t size;                /* ring bytes */
	uint64_t map_len;
	rt__slot slots[RT_POOL_SLOTS];
	_Alignas(8) unsigned char ring[];
};

struct rt_pool_member {
	rt_pool *pool;
	int slot;
	int fd;
	uint64_t app;
	uint64_t rpos;
	uint64_t rmsgs;               /* entries read or skipped, against pool->msgs */
	uint64_t lost_msgs;
	char *scratch;
};

static size_t rt__align8(size_t n)
{
	return (n + 7) & ~(size_t) 7;
}

uint64_t rt_pool_app_id(const char *host, int port)
{
	char key[96];
	int n = snprintf(key, sizeof(key), "%s:%d", host, port);
	return rt_hash(key, (size_t) n);
}

int rt_pool_map(rt_pool **out, size_t ring_size, char *err, size_t errlen)
{
	size_t len = sizeof(rt_pool) + rt__align8(ring_size);
	pthread_mutexattr_t attr;
	rt_pool *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %zu bytes of shared memory: %s", len, strerror(errno));
		return -errno;
	}
	memset(p, 0, sizeof(*p));
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&p->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	p->size = rt__align8(ring_size);
	p->map_len = len;
	p->magic = RT_POOL_MAGIC;
	*out = p;
	return 0;
}

void rt_pool_unmap(rt_pool *p)
{
	if (p != NULL) {
		munmap(p, p->map_len);
	}
}

RT_HOT static void rt__lock(rt_pool *p)
{
	if (pthread_mutex_lock(&p->lock) == EOWNERDEAD) {
		/* Its holder died mid-way; what it wrote is unpublished until head
		 * moves, so the ring is consistent as it stands. */
		pthread_mutex_consistent(&p->lock);
	}
}

RT_HOT static void rt__unlock(rt_pool *p)
{
	pthread_mutex_unlock(&p->lock);
}

/* One unbound datagram socket sends every wake-up: from any thread, and
 * from forked children too, since it names its receiver on each send. */
static int rt__wake_fd(void)
{
	static _Atomic int shared = -1;
	int fd = atomic_load(&shared), mine, expected = -1;

	if (fd >= 0) {
		return fd;
	}
	mine = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (mine < 0 || atomic_compare_exchange_strong(&shared, &expected, mine)) {
		return mine;
	}
	close(mine); /* another thread made one first */
	return expected;
}

static void rt__wake(rt__slot *s)
{
	struct sockaddr_un addr;
	int fd;

	if (atomic_exchange(&s->wake_pending, 1) != 0) {
		return; /* it has not read since the last wake-up: it will see this too */
	}
	fd = rt__wake_fd();
	if (fd < 0) {
		return;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, s->name, s->name_len);
	sendto(fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *) &addr,
			(socklen_t) (offsetof(struct sockaddr_un, sun_path) + s->name_len));
}

RT_HOT static void rt__ring_write(rt_pool *p, uint64_t at, const void *data, size_t len)
{
	memcpy(p->ring + (at % p->size), data, len);
}

RT_HOT int rt_pool_append(rt_pool *p, uint64_t app, const rt_msg *msg, char *err, size_t errlen)
{
	size_t len = rt_msg_encoded_size(msg);
	size_t need = sizeof(rt__entry) + rt__align8(len);
	rt__entry e = {(uint32_t) len, 0, app};
	uint64_t pos;

	if (need > p->size / 4) {
		snprintf(err, errlen, "a message of %zu bytes is too large for realtime.pool_memory "
				"(%llu bytes; a message may use a quarter)", len, (unsigned long long) p->size);
		return -EMSGSIZE;
	}
	rt__lock(p);
	pos = p->head % p->size;
	if (pos + need > p->size) {
		/* Entries never wrap: pad to the end of the ring. */
		if (p->size - pos >= sizeof(rt__entry)) {
			rt__entry pad = {(uint32_t) (p->size - pos - sizeof(rt__entry)), RT_ENTRY_PAD, 0};
			rt__ring_write(p, p->head, &pad, sizeof(pad));
		}
		p->head += p->size - pos;
	}
	rt__ring_write(p, p->head, &e, sizeof(e));
	rt_msg_encode(msg, (char *) p->ring + ((p->head + sizeof(e)) % p->size), len);
	atomic_thread_fence(memory_order_release);
	p->head += need;
	p->msgs++;
	rt__unlock(p);
	return 0;
}

void rt_pool_wake(rt_pool *p, uint64_t app, const rt_pool_member *except)
{
	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		rt__slot *s = &p->slots[i];
		if (atomic_load(&s->pid) != 0 && s->app == app
				&& (except == NULL || except->slot != i)) {
			rt__wake(s);
		}
	}
}

int rt_pool_publish(rt_pool *p, uint64_t app, const rt_msg *msg, char *err, size_t errlen)
{
	int r = rt_pool_append(p, app, msg, err, errlen);

	if (r == 0) {
		rt_pool_wake(p, app, NULL);
	}
	return r;
}

int rt_pool_join(rt_pool *p, uint64_t app, uint32_t node, rt_pool_member **out,
		char *err, size_t errlen)
{
	rt_pool_member *m = calloc(1, sizeof(*m));
	struct sockaddr_un addr;
	rt__slot *s = NULL;
	socklen_t name_len;

	if (m == NULL || (m->scratch = malloc(RT_DRAIN_CHUNK)) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	/* Abstract namespace: nothing on disk, gone with the process. */
	name_len = (socklen_t) (1 + snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
			"realtime.%d.%u", (int) getpid(), node));
	if (m->fd < 0 || bind(m->fd, (struct sockaddr *) &addr,
			(socklen_t) (offsetof(struct sockaddr_un, sun_path) + name_len)) != 0) {
		snprintf(err, errlen, "cannot open the wake-up socket: %s", strerror(errno));
		if (m->fd >= 0) {
			close(m->fd);
		}
		free(m->scratch);
		free(m);
		return -errno;
	}
	rt__lock(p);
	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		if (atomic_load(&p->slots[i].pid) == 0) {
			s = &p->slots[i];
			m->slot = i;
			break;
		}
	}
	if (s != NULL) {
		s->app = app;
		s->node = node;
		s->generation++;
		memcpy(s->name, addr.sun_path, name_len);
		s->name_len = name_len;
		atomic_store(&s->wake_pending, 0);
		atomic_store(&s->pid, (int32_t) getpid());
		m->rpos = p->head;
		m->rmsgs = p->msgs;
	}
	rt__unlock(p);
	if (s == NULL) {
		close(m->fd);
		free(m->scratch);
		free(m);
		snprintf(err, errlen, "all %d hub slots of the shared memory are taken", RT_POOL_SLOTS);
		return -ENOSPC;
	}
	m->pool = p;
	m->app = app;
	*out = m;
	return 0;
}

int rt_pool_member_fd(const rt_pool_member *m)
{
	return m->fd;
}

uint64_t rt_pool_drain(rt_pool_member *m, void (*cb)(void *ctx, rt_msg *msg), void *ctx)
{
	rt_pool *p = m->pool;
	rt__slot *s = &p->slots[m->slot];
	char buf[64];
	uint64_t lost = 0;

	while (recv(m->fd, buf, sizeof(buf), 0) > 0) {
	}
	/* Cleared before reading: a message published after the read wakes us again. */
	atomic_store(&s->wake_pending, 0);
	for (;;) {
		size_t n = 0;

		rt__lock(p);
		if (p->head - m->rpos > p->size) {
			lost += p->head - m->rpos;
			m->rpos = p->head;
			m->lost_msgs += p->msgs - m->rmsgs;
			m->rmsgs = p->msgs;
		}
		/* Copy whole entries out, so the lock is held for memcpy only. */
		while (m->rpos < p->head) {
			uint64_t pos = m->rpos % p->size;
			rt__entry e;
			size_t whole;
			if (p->size - pos < sizeof(rt__entry)) {
				m->rpos += p->size - pos;
				continue;
			}
			memcpy(&e, p->ring + pos, sizeof(e));
			whole = sizeof(e) + rt__align8(e.len);
			if (e.flags & RT_ENTRY_PAD) {
				m->rpos += p->size - pos;
				continue;
			}
			if (n + whole > RT_DRAIN_CHUNK) {
				break;
			}
			memcpy(m->scratch + n, p->ring + pos, whole);
			n += whole;
			m->rpos += whole;
			m->rmsgs++;
		}
		rt__unlock(p);
		for (size_t off = 0; off < n;) {
			rt__entry e;
			rt_msg *msg;
			memcpy(&e, m->scratch + off, sizeof(e));
			if (e.app == m->app) {
				msg = rt_msg_decode(m->scratch + off + sizeof(e), e.len);
				if (msg != NULL) {
					cb(ctx, msg);
				}
			}
			off += sizeof(e) + rt__align8(e.len);
		}
		if (n == 0) {
			break;
		}
	}
	return lost;
}

uint64_t rt_pool_member_lost(const rt_pool_member *m)
{
	return m->lost_msgs;
}

void rt_pool_leave(rt_pool_member *m)
{
	rt_pool *p = m->pool;

	rt__lock(p);
	atomic_store(&p->slots[m->slot].pid, 0);
	rt__unlock(p);
	close(m->fd);
	free(m->scratch);
	free(m);
}

/* A process that exited is gone even while its parent has not reaped it
 * (php -S never waits for a killed worker): a zombie counts as dead. */
static int rt__process_gone(pid_t pid)
{
	char path[64], buf[256];
	const char *state;
	FILE *f;
	size_t n;

	if (kill(pid, 0) != 0) {
		return errno == ESRCH;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	f = fopen(path, "re");
	if (f == NULL) {
		return 0;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	state = strrchr(buf, ')');
	return state != NULL && (state[2] == 'Z' || state[2] == 'X');
}

int rt_pool_reap(rt_pool *p, uint64_t app, uint32_t *dead, int max)
{
	int n = 0;

	rt__lock(p);
	for (int i = 0; i < RT_POOL_SLOTS && n < max; i++) {
		rt__slot *s = &p->slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (pid != 0 && s->app == app && rt__process_gone(pid)) {
			dead[n++] = s->node;
			atomic_store(&s->pid, 0);
		}
	}
	rt__unlock(p);
	return n;
}

int rt_pool_has_node(rt_pool *p, uint64_t app, uint32_t node)
{
	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		rt__slot *s = &p->slots[i];
		if (atomic_load(&s->pid) != 0 && s->app == app && s->node == node) {
			return 1;
		}
	}
	return 0;
}

uint32_t rt_pool_first_node(rt_pool *p, uint64_t app, uint32_t except)
{
	uint32_t best = 0;

	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		rt__slot *s = &p->slots[i];
		if (atomic_load(&s->pid) != 0 && s->app == app && s->node != except
				&& (best == 0 || s->node < best)) {
			best = s->node;
		}
	}
	return best;
}
