#include "broker/pool.h"
#include "broker/history.h"
#include "hub/util/hot.h"
#include "hub/util/map.h"
#include "hub/model/token.h"

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
#include <time.h>
#include <unistd.h>

#define RT_POOL_MAGIC 0x72745f706f6f6c31ULL /* "rt_pool1" */
/* How long an attacher waits for the ring's lock before it calls it stuck. */
#define RT_POOL_LOCK_WAIT_MS 100
#define RT_POOL_STR_(x) #x
#define RT_POOL_STR(x) RT_POOL_STR_(x)
/* Raised whenever rt__shared or rt__slot changes meaning. */
#define RT_POOL_LAYOUT_VERSION 6u
#define RT_ENTRY_PAD 1u
/* Entries copied out per lock; one larger entry is copied out alone, into
 * a scratch buffer grown to its size (at most rt__max_entry). */
#define RT_DRAIN_CHUNK (256 * 1024)

typedef struct rt__slot {
	_Atomic int32_t pid;          /* 0: free */
	_Atomic uint32_t wake_pending;
	uint32_t node;
	uint32_t generation;
	_Atomic uint32_t load;        /* connections, as the hub last said */
	uint64_t app;
	char name[48];                /* abstract socket name (first byte NUL) */
	socklen_t name_len;
	/* The hub's counters for /metrics (rt_pool_set_metrics): written by its
	 * own process only, read by any; plain numbers, never used as sizes. */
	_Atomic uint64_t metrics[RT_POOL_METRICS];
	/* rt_pool_set_detail, for `php --ri realtime`: an odd recent_seq means
	 * a write is under way (readers retry, then take what they find). */
	_Atomic uint64_t ring_lag, overruns;
	_Atomic uint32_t recent_seq;
	uint32_t recent_count;
	char recent[RT_HUB_RECENT][RT_HUB_RECENT_LEN];
} rt__slot;

typedef struct rt__entry {
	uint32_t len;                 /* payload bytes */
	uint32_t flags;
	uint64_t app;
} rt__entry;

/* The shared segment. Everything in it may be written by any process of
 * the server, so no length read from it is used unchecked. The fields up to
 * the lock describe the layout: a process that attaches to a segment made
 * by another (broker/segment.c) checks them against its own build and the
 * file's size before it uses anything else. */
typedef struct rt__shared {
	uint64_t magic;               /* stored last: a segment half made has none */
	uint32_t version;             /* RT_POOL_LAYOUT_VERSION */
	uint32_t header_size;         /* sizeof(rt__shared) */
	uint32_t slot_count;          /* RT_POOL_SLOTS */
	uint32_t slot_size;           /* sizeof(rt__slot) */
	uint64_t ring_size;           /* bytes of the ring, after the header */
	uint64_t history_size;        /* bytes of the history store, after the ring */
	char secret_print[64];        /* rt_pool_set_secret: which CLI processes publish here */
	pthread_mutex_t lock;
	uint64_t head;                /* bytes ever written */
	uint64_t msgs;                /* entries ever written: an overrun is counted in messages */
	uint64_t history_print;       /* rt_history_rules_print of the server's realtime.history */
	rt__slot slots[RT_POOL_SLOTS];
	_Alignas(8) unsigned char ring[];
} rt__shared;

/* A process's handle on the segment: the ring's size stays in private
 * memory (inherited by forked workers), out of reach of the others. */
struct rt_pool {
	rt__shared *s;
	uint64_t size;                /* ring bytes */
	size_t map_len;
	rt_history hist;              /* bound when the segment has a history region */
	int has_hist;
	rt_history_rules rules;       /* which channels keep a history (rt_pool_set_history) */
};

struct rt_pool_member {
	rt_pool *pool;
	int slot;
	int fd;
	uint64_t app;
	uint64_t rpos;
	uint64_t rmsgs;               /* entries read or skipped, against the ring's msgs */
	uint64_t lost_msgs;
	char *scratch;
	size_t scratch_cap;
};

static size_t rt__align8(size_t n)
{
	return (n + 7) & ~(size_t) 7;
}

/* The largest entry, header included, the writer accepts: a quarter of the
 * ring, so that a hub a little behind still finds whole messages. */
static uint64_t rt__max_entry(const rt_pool *p)
{
	return p->size / 4;
}

size_t rt_pool_max_message(const rt_pool *p)
{
	uint64_t max = rt__max_entry(p);

	/* need = header + align8(len) <= max  <=>  len <= (max - header) & ~7 */
	return max <= sizeof(rt__entry) ? 0 : (size_t) ((max - sizeof(rt__entry)) & ~(uint64_t) 7);
}

unsigned char *rt_pool_ring(rt_pool *p, uint64_t *size, uint64_t *head)
{
	*size = p->size;
	*head = p->s->head;
	return p->s->ring;
}

uint64_t rt_pool_app_id(const char *host, int port)
{
	char key[96];
	int n = snprintf(key, sizeof(key), "%s:%d", host, port);
	return rt_hash(key, (size_t) n);
}

size_t rt_pool_layout_size_ex(size_t ring_size, size_t history_size)
{
	return sizeof(rt__shared) + rt__align8(ring_size) + rt__align8(history_size);
}

size_t rt_pool_layout_size(size_t ring_size)
{
	return rt_pool_layout_size_ex(ring_size, 0);
}

size_t rt_pool_header_size(void)
{
	return sizeof(rt__shared);
}

void rt_pool_format(void *mem, size_t ring_size)
{
	rt_pool_format_ex(mem, ring_size, 0);
}

void rt_pool_format_ex(void *mem, size_t ring_size, size_t history_size)
{
	rt__shared *sh = mem;
	pthread_mutexattr_t attr;

	memset(sh, 0, sizeof(*sh));
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&sh->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	sh->version = RT_POOL_LAYOUT_VERSION;
	sh->header_size = (uint32_t) sizeof(rt__shared);
	sh->slot_count = RT_POOL_SLOTS;
	sh->slot_size = (uint32_t) sizeof(rt__slot);
	sh->ring_size = rt__align8(ring_size);
	sh->history_size = rt__align8(history_size);
	if (sh->history_size > 0) {
		rt_history h;
		if (rt_history_bind(&h, sh->ring + sh->ring_size, sh->history_size) == 0) {
			rt_history_format(&h);
		}
	}
	atomic_thread_fence(memory_order_release);
	sh->magic = RT_POOL_MAGIC;
}

int rt_pool_check(void *mem, uint64_t file_size, char *why, size_t whylen)
{
	rt__shared *sh = mem;
	/* Each field read once: another process may be writing them. */
	uint64_t magic = sh->magic, ring = sh->ring_size, hist = sh->history_size;
	uint32_t version = sh->version, header = sh->header_size;
	uint32_t slots = sh->slot_count, slot_size = sh->slot_size;
	int r;

	if (file_size < sizeof(rt__shared)) {
		snprintf(why, whylen, "it is truncated: %llu bytes, less than its %zu-byte header",
				(unsigned long long) file_size, sizeof(rt__shared));
		return -EBADMSG;
	}
	if (magic == 0) {
		snprintf(why, whylen, "it has no magic number yet (being made, or its maker died "
				"making it)");
		return -EAGAIN;
	}
	if (magic != RT_POOL_MAGIC) {
		snprintf(why, whylen, "its magic number is wrong (it is not a realtime segment)");
		return -EPROTO;
	}
	if (version != RT_POOL_LAYOUT_VERSION) {
		snprintf(why, whylen, "its layout version is %u, this build uses %u (another version "
				"of the extension made it)", version, RT_POOL_LAYOUT_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (header != sizeof(rt__shared) || slots != RT_POOL_SLOTS || slot_size != sizeof(rt__slot)) {
		snprintf(why, whylen, "its header says %u header bytes and %u slots of %u bytes, this "
				"build uses %zu, %d and %zu", header, slots, slot_size, sizeof(rt__shared),
				RT_POOL_SLOTS, sizeof(rt__slot));
		return -EBADMSG;
	}
	if (ring % 8 != 0 || ring < 64 || hist % 8 != 0 || ring > file_size - sizeof(rt__shared)
			|| hist != file_size - sizeof(rt__shared) - ring
			|| (hist != 0 && hist < RT_HISTORY_MIN_SIZE)) {
		snprintf(why, whylen, "its header says a ring of %llu bytes, its size leaves %llu "
				"(and a history of %llu bytes)", (unsigned long long) ring,
				(unsigned long long) (file_size - sizeof(rt__shared)), (unsigned long long) hist);
		return -EBADMSG;
	}
	/* A lock that stays taken would stop every hub: it is held for a
	 * memcpy at a time, so one not free within RT_POOL_LOCK_WAIT_MS is
	 * stuck (a holder stopped, or a lock left unrecoverable, which glibc
	 * reports once and then just never grants). One whose holder died is
	 * taken over. */
	{
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += RT_POOL_LOCK_WAIT_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		r = pthread_mutex_timedlock(&sh->lock, &until);
	}
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(&sh->lock);
		r = 0;
	}
	if (r != 0) {
		snprintf(why, whylen, "its lock is unusable (%s)", r == ETIMEDOUT
				? "held for over " RT_POOL_STR(RT_POOL_LOCK_WAIT_MS) " ms" : strerror(r));
		return -ENOTRECOVERABLE;
	}
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

int rt_pool_wrap(rt_pool **out, void *mem, size_t map_len, char *err, size_t errlen)
{
	rt__shared *sh = mem;
	uint64_t ring, hist;
	rt_pool *p;

	if (map_len < sizeof(rt__shared) + 64 || (map_len - sizeof(rt__shared)) % 8 != 0) {
		snprintf(err, errlen, "a mapping of %zu bytes holds no ring", map_len);
		return -EINVAL;
	}
	/* The split between ring and history is read once and checked against
	 * the mapping's length: the sizes kept are private from here on. */
	ring = sh->ring_size;
	if (ring % 8 != 0 || ring < 64 || ring > map_len - sizeof(rt__shared)) {
		snprintf(err, errlen, "a mapping of %zu bytes cannot hold a ring of %llu", map_len,
				(unsigned long long) ring);
		return -EINVAL;
	}
	hist = map_len - sizeof(rt__shared) - ring;
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->s = mem;
	p->size = ring;
	p->map_len = map_len;
	p->has_hist = hist >= RT_HISTORY_MIN_SIZE
			&& rt_history_bind(&p->hist, sh->ring + ring, (size_t) hist) == 0;
	*out = p;
	return 0;
}

/* What a CLI process must know to publish here: a process of the right
 * user with another app's secret posts to /publish, and fails there as it
 * would from another host. */
static void rt__secret_print(const char *secret, char out[65])
{
	static const char label[] = "realtime pool segment";

	rt_hmac_sha256_hex(secret, strlen(secret), label, sizeof(label) - 1, out);
}

void rt_pool_set_secret(rt_pool *p, const char *secret)
{
	char print[65];

	rt__secret_print(secret, print);
	memcpy(p->s->secret_print, print, sizeof(p->s->secret_print));
}

int rt_pool_secret_matches(const rt_pool *p, const char *secret)
{
	char print[65], theirs[sizeof(p->s->secret_print)];

	rt__secret_print(secret, print);
	memcpy(theirs, p->s->secret_print, sizeof(theirs));
	return rt_secure_equals(print, theirs, sizeof(theirs));
}

int rt_pool_map(rt_pool **out, size_t ring_size, char *err, size_t errlen)
{
	return rt_pool_map_ex(out, ring_size, 0, err, errlen);
}

int rt_pool_map_ex(rt_pool **out, size_t ring_size, size_t history_size, char *err,
		size_t errlen)
{
	size_t len = rt_pool_layout_size_ex(ring_size, history_size);
	rt__shared *sh;
	int r;

	sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		int e = errno;
		snprintf(err, errlen, "cannot map %zu bytes of shared memory: %s", len, strerror(e));
		return -e;
	}
	rt_pool_format_ex(sh, ring_size, history_size);
	r = rt_pool_wrap(out, sh, len, err, errlen);
	if (r != 0) {
		munmap(sh, len);
	}
	return r;
}

void rt_pool_unmap(rt_pool *p)
{
	if (p != NULL) {
		munmap(p->s, p->map_len);
		free(p);
	}
}

RT_HOT static void rt__lock(rt_pool *p)
{
	if (pthread_mutex_lock(&p->s->lock) == EOWNERDEAD) {
		/* Its holder died mid-way; what it wrote is unpublished until head
		 * moves, so the ring is consistent as it stands. */
		pthread_mutex_consistent(&p->s->lock);
	}
}

RT_HOT static void rt__unlock(rt_pool *p)
{
	pthread_mutex_unlock(&p->s->lock);
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
	socklen_t name_len = s->name_len;
	int fd;

	if (atomic_exchange(&s->wake_pending, 1) != 0) {
		return; /* it has not read since the last wake-up: it will see this too */
	}
	/* Read once from shared memory, and checked before it sizes a copy. */
	if (name_len == 0 || name_len > sizeof(s->name)) {
		return;
	}
	fd = rt__wake_fd();
	if (fd < 0) {
		return;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, s->name, name_len);
	sendto(fd, "w", 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *) &addr,
			(socklen_t) (offsetof(struct sockaddr_un, sun_path) + name_len));
}

static uint64_t rt__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

void rt_pool_set_history(rt_pool *p, const rt_history_rules *rules)
{
	p->rules = *rules;
}

void rt_pool_publish_history_rules(rt_pool *p)
{
	p->s->history_print = rt_history_rules_print(&p->rules);
}

int rt_pool_history_rules_match(const rt_pool *p, const rt_history_rules *rules)
{
	return p->s->history_print == rt_history_rules_print(rules);
}

int rt_pool_history_on(const rt_pool *p, const char *channel, size_t len)
{
	return p->has_hist && rt_history_rule_for(&p->rules, channel, len) != NULL;
}

/* Keeps the message of channel c in its history; under the lock. */
static void rt__history_keep(rt_pool *p, const rt_msg *msg, uint32_t c,
		const rt_history_rule *rule, uint64_t now, rt_pos *pos)
{
	rt_history_limits lim = {rule->max_messages, rule->max_seconds};
	rt_msg one;
	unsigned char *dst;
	size_t len;

	/* The entry is the message for this channel alone, as a client is
	 * sent it: no exclusion (a recovering client is another connection). */
	memset(&one, 0, sizeof(one));
	one.type = RT_MSG_PUBLISH;
	one.channel_count = 1;
	one.channels = &msg->channels[c];
	one.event = msg->event;
	one.data = msg->data;
	one.target = msg->target; /* a Mercure update's id and private flag */
	len = rt_msg_encoded_size(&one);
	dst = rt_history_append(&p->hist, msg->channels[c].ptr, msg->channels[c].len, &lim, now,
			len, pos);
	if (dst != NULL) {
		rt_msg_encode(&one, (char *) dst, len);
	}
}

RT_HOT int rt_pool_append_at(rt_pool *p, uint64_t app, const rt_msg *msg, rt_pos *out,
		char *err, size_t errlen)
{
	const rt_history_rule *stack_rules[16], **rules = NULL;
	rt_pos stack_pos[16], *pos = NULL;
	rt_msg with_pos, unstamped;
	const rt_msg *m = msg;
	size_t len, need;
	rt__entry e;
	uint64_t head, at, now = 0;
	int kept = 0, r = 0;

	if (p->has_hist && msg->type == RT_MSG_PUBLISH
			&& msg->positions == NULL && msg->channel_count > 0) {
		if (msg->channel_count <= 16) {
			rules = stack_rules;
			pos = stack_pos;
		} else {
			rules = malloc(msg->channel_count * sizeof(*rules));
			pos = malloc(msg->channel_count * sizeof(*pos));
			if (rules == NULL || pos == NULL) {
				free(rules);
				free(pos);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
		}
		for (uint32_t c = 0; c < msg->channel_count; c++) {
			rules[c] = rt_history_rule_for(&p->rules, msg->channels[c].ptr, msg->channels[c].len);
			pos[c].offset = 0;
			pos[c].epoch = 0;
			kept |= rules[c] != NULL;
		}
		if (kept) {
			with_pos = *msg;
			with_pos.positions = pos;
			m = &with_pos;
			now = rt__now_ms();
		}
	}
	len = rt_msg_encoded_size(m);
	need = sizeof(rt__entry) + rt__align8(len);
	if (need > rt__max_entry(p) && m->born != 0) {
		/* The publish time (metrics only) never makes a message too large:
		 * one at the limit goes without it. */
		unstamped = *m;
		unstamped.born = 0;
		m = &unstamped;
		len = rt_msg_encoded_size(m);
		need = sizeof(rt__entry) + rt__align8(len);
	}
	if (need > rt__max_entry(p) || len > UINT32_MAX) {
		snprintf(err, errlen, "a message of %zu bytes is larger than %zu bytes, the most "
				"realtime.pool_memory=%llu carries (a message may use a quarter of it)",
				len, rt_pool_max_message(p), (unsigned long long) p->size);
		r = -EMSGSIZE;
		goto done;
	}
	e.len = (uint32_t) len;
	e.flags = 0;
	e.app = app;
	rt__lock(p);
	/* Positions are given under the ring's lock: offsets follow the
	 * order in which every hub reads the ring. */
	if (kept) {
		for (uint32_t c = 0; c < msg->channel_count; c++) {
			if (rules[c] != NULL) {
				rt__history_keep(p, msg, c, rules[c], now, &pos[c]);
			}
		}
	}
	/* Where to write is worked out once, from the private size: the
	 * entry lies within the ring whatever head says. */
	head = p->s->head;
	at = head % p->size;
	if (at + need > p->size) {
		/* Entries never wrap: pad to the end of the ring. */
		if (p->size - at >= sizeof(rt__entry)) {
			rt__entry pad = {(uint32_t) (p->size - at - sizeof(rt__entry)), RT_ENTRY_PAD, 0};
			memcpy(p->s->ring + at, &pad, sizeof(pad));
		}
		head += p->size - at;
		at = 0;
	}
	memcpy(p->s->ring + at, &e, sizeof(e));
	rt_msg_encode(m, (char *) p->s->ring + at + sizeof(e), len);
	atomic_thread_fence(memory_order_release);
	p->s->head = head + need;
	p->s->msgs++;
	rt__unlock(p);
	if (out != NULL) {
		for (uint32_t c = 0; c < msg->channel_count; c++) {
			out[c] = kept ? pos[c] : (rt_pos) {0, 0};
		}
	}
done:
	if (rules != NULL && rules != stack_rules) {
		free(rules);
		free(pos);
	}
	return r;
}

RT_HOT int rt_pool_append(rt_pool *p, uint64_t app, const rt_msg *msg, char *err, size_t errlen)
{
	return rt_pool_append_at(p, app, msg, NULL, err, errlen);
}

int rt_pool_history_read(rt_pool *p, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, rt_history_fn fn, void *ctx, rt_pos *top)
{
	const rt_history_rule *rule;
	rt_history_limits lim;
	int r;

	top->offset = 0;
	top->epoch = 0;
	if (!p->has_hist || (rule = rt_history_rule_for(&p->rules, channel, len)) == NULL) {
		return -ENOENT;
	}
	lim.max_messages = rule->max_messages;
	lim.max_seconds = rule->max_seconds;
	if (limit > rule->max_messages) {
		limit = rule->max_messages;
	}
	rt__lock(p);
	r = rt_history_read(&p->hist, channel, len, &lim, rt__now_ms(), since, limit, fn, ctx, top);
	rt__unlock(p);
	return r;
}

size_t rt_pool_history_size(const rt_pool *p)
{
	return p->has_hist ? p->hist.len : 0;
}

void rt_pool_history_losses(rt_pool *p, uint64_t *evicted_messages, uint64_t *evicted_channels,
		uint64_t *resets)
{
	rt_history_losses l = {0};

	if (p->has_hist) {
		rt__lock(p);
		rt_history_losses_get(&p->hist, &l);
		rt__unlock(p);
	}
	*evicted_messages = l.evicted_messages;
	*evicted_channels = l.evicted_channels;
	*resets = l.resets;
}

int rt_pool_wake(rt_pool *p, uint64_t app, const rt_pool_member *except)
{
	int n = 0;

	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		rt__slot *s = &p->s->slots[i];
		if (atomic_load_explicit(&s->pid, memory_order_relaxed) != 0 && s->app == app) {
			n++;
			if (except == NULL || except->slot != i) {
				rt__wake(s);
			}
		}
	}
	return n;
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
		if (atomic_load(&p->s->slots[i].pid) == 0) {
			s = &p->s->slots[i];
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
		atomic_store(&s->load, 0);
		for (int k = 0; k < RT_POOL_METRICS; k++) {
			atomic_store_explicit(&s->metrics[k], 0, memory_order_relaxed);
		}
		atomic_store(&s->ring_lag, 0);
		atomic_store(&s->overruns, 0);
		atomic_store(&s->recent_seq, 0);
		s->recent_count = 0;
		atomic_store(&s->pid, (int32_t) getpid());
		m->rpos = p->s->head;
		m->rmsgs = p->s->msgs;
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
	m->scratch_cap = RT_DRAIN_CHUNK;
	*out = m;
	return 0;
}

int rt_pool_member_fd(const rt_pool_member *m)
{
	return m->fd;
}

/* What an entry at pos claims, checked against the ring before anything is
 * copied: the segment is shared with every process of the server, so a
 * length read from it is trusted no more than one read from the network.
 * Returns the bytes the entry spans (a pad: to the ring's end), or 0 when
 * it is not a well-formed entry. */
static uint64_t rt__entry_span(const rt_pool *p, uint64_t rpos, rt__entry *e)
{
	uint64_t pos = rpos % p->size, to_end = p->size - pos, span;

	memset(e, 0, sizeof(*e));
	if (to_end < sizeof(rt__entry)) {
		span = to_end; /* the writer skips a tail too short for a header */
	} else {
		memcpy(e, p->s->ring + pos, sizeof(*e));
		if (e->flags == RT_ENTRY_PAD) {
			span = to_end;
			if (e->len != to_end - sizeof(rt__entry)) {
				return 0;
			}
		} else if (e->flags == 0) {
			span = sizeof(rt__entry) + rt__align8(e->len);
			if (span > rt__max_entry(p) || span > to_end) {
				return 0;
			}
		} else {
			return 0;
		}
	}
	return span <= p->s->head - rpos ? span : 0;
}

static int rt__scratch_fit(rt_pool_member *m, size_t need)
{
	char *bigger;

	if (need <= m->scratch_cap) {
		return 0;
	}
	bigger = realloc(m->scratch, need);
	if (bigger == NULL) {
		return -ENOMEM;
	}
	m->scratch = bigger;
	m->scratch_cap = need;
	return 0;
}

/* Counts the entries a skip to the writer's position passed over. The
 * shared count is only a statistic: one that went backwards counts none. */
static void rt__skip_to_newest(rt_pool_member *m)
{
	uint64_t msgs = m->pool->s->msgs;

	if (msgs > m->rmsgs) {
		m->lost_msgs += msgs - m->rmsgs;
	}
	m->rmsgs = msgs;
}

uint64_t rt_pool_drain_ex(rt_pool_member *m, void (*cb)(void *ctx, rt_msg *msg), void *ctx,
		rt_pool_loss *loss)
{
	rt_pool *p = m->pool;
	rt__slot *s = &p->s->slots[m->slot];
	char buf[64];
	uint64_t lost = 0;

	memset(loss, 0, sizeof(*loss));
	while (recv(m->fd, buf, sizeof(buf), 0) > 0) {
	}
	/* Cleared before reading: a message published after the read wakes us again. */
	atomic_store(&s->wake_pending, 0);
	for (;;) {
		size_t n = 0;

		rt__lock(p);
		if (p->s->head - m->rpos > p->size) {
			loss->overrun += p->s->head - m->rpos;
			m->rpos = p->s->head;
			rt__skip_to_newest(m);
		}
		/* Copy whole entries out, so the lock is held for memcpy only. */
		while (m->rpos < p->s->head) {
			rt__entry e;
			uint64_t span = rt__entry_span(p, m->rpos, &e);
			if (span == 0) {
				/* Nothing after a bad entry can be framed: skip to the
				 * writer's position, which is always an entry boundary. */
				loss->corrupt += p->s->head - m->rpos;
				m->rpos = p->s->head;
				rt__skip_to_newest(m);
				break;
			}
			if (span < sizeof(rt__entry) || e.flags == RT_ENTRY_PAD) {
				m->rpos += span;
				continue;
			}
			if (n + span > m->scratch_cap) {
				if (n > 0) {
					break; /* hand over what is out, then come back for it */
				}
				if (rt__scratch_fit(m, (size_t) span) != 0) {
					loss->nomem += span;
					m->rpos += span;
					m->rmsgs++;
					m->lost_msgs++;
					continue;
				}
			}
			memcpy(m->scratch + n, p->s->ring + m->rpos % p->size, (size_t) span);
			/* The header as checked, not as it may read now: the copy is
			 * walked by these lengths once the lock is released. */
			memcpy(m->scratch + n, &e, sizeof(e));
			n += (size_t) span;
			m->rpos += span;
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
				} else {
					loss->undecodable += sizeof(e) + e.len;
				}
			}
			off += sizeof(e) + rt__align8(e.len);
		}
		if (n == 0) {
			break;
		}
	}
	if (m->scratch_cap > RT_DRAIN_CHUNK) {
		/* A large message is rare: do not keep its buffer for good. */
		char *small = realloc(m->scratch, RT_DRAIN_CHUNK);
		if (small != NULL) {
			m->scratch = small;
			m->scratch_cap = RT_DRAIN_CHUNK;
		}
	}
	lost = loss->overrun + loss->corrupt + loss->nomem + loss->undecodable;
	return lost;
}

uint64_t rt_pool_member_lost(const rt_pool_member *m)
{
	return m->lost_msgs;
}

uint64_t rt_pool_member_lag(const rt_pool_member *m)
{
	/* Another process moves head: one relaxed load, never a torn value. */
	uint64_t head = __atomic_load_n(&m->pool->s->head, __ATOMIC_RELAXED);

	return head > m->rpos ? head - m->rpos : 0;
}

uint64_t rt_pool_drain(rt_pool_member *m, void (*cb)(void *ctx, rt_msg *msg), void *ctx)
{
	rt_pool_loss loss;

	return rt_pool_drain_ex(m, cb, ctx, &loss);
}

void rt_pool_leave(rt_pool_member *m)
{
	rt_pool *p = m->pool;

	rt__lock(p);
	atomic_store(&p->s->slots[m->slot].pid, 0);
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
		rt__slot *s = &p->s->slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (pid > 0 && s->app == app && rt__process_gone(pid)) {
			dead[n++] = s->node;
			atomic_store(&s->pid, 0);
		}
	}
	rt__unlock(p);
	return n;
}

void rt_pool_set_load(rt_pool_member *m, uint32_t load)
{
	atomic_store_explicit(&m->pool->s->slots[m->slot].load, load, memory_order_relaxed);
}

int rt_pool_peers(rt_pool *p, uint64_t app, rt_pool_peer *out, int max)
{
	int n = 0;

	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		rt__slot *s = &p->s->slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (pid > 0 && s->app == app) {
			if (n < max) {
				out[n].node = s->node;
				out[n].pid = pid;
				out[n].load = atomic_load_explicit(&s->load, memory_order_relaxed);
			}
			n++;
		}
	}
	return n;
}

void rt_pool_set_metrics(rt_pool_member *m, const uint64_t *values, int n)
{
	rt__slot *s = &m->pool->s->slots[m->slot];

	for (int k = 0; k < n && k < RT_POOL_METRICS; k++) {
		atomic_store_explicit(&s->metrics[k], values[k], memory_order_relaxed);
	}
}

int rt_pool_peer_metrics(rt_pool *p, uint64_t app, rt_pool_peer *peers, uint64_t *values,
		int nvalues, int max)
{
	int n = 0, kept = nvalues < RT_POOL_METRICS ? nvalues : RT_POOL_METRICS;

	for (int i = 0; i < RT_POOL_SLOTS && n < max; i++) {
		rt__slot *s = &p->s->slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (pid > 0 && s->app == app) {
			peers[n].node = s->node;
			peers[n].pid = pid;
			peers[n].load = atomic_load_explicit(&s->load, memory_order_relaxed);
			for (int k = 0; k < kept; k++) {
				values[(size_t) n * (size_t) nvalues + (size_t) k] =
						atomic_load_explicit(&s->metrics[k], memory_order_relaxed);
			}
			n++;
		}
	}
	return n;
}

void rt_pool_set_detail(rt_pool_member *m, uint64_t overruns,
		const char (*recent)[RT_HUB_RECENT_LEN], int n)
{
	rt__slot *s = &m->pool->s->slots[m->slot];
	uint32_t seq = atomic_load_explicit(&s->recent_seq, memory_order_relaxed);

	atomic_store_explicit(&s->ring_lag, rt_pool_member_lag(m), memory_order_relaxed);
	atomic_store_explicit(&s->overruns, overruns, memory_order_relaxed);
	n = n < 0 ? 0 : n > RT_HUB_RECENT ? RT_HUB_RECENT : n;
	atomic_store_explicit(&s->recent_seq, seq | 1u, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	s->recent_count = (uint32_t) n;
	memset(s->recent, 0, sizeof(s->recent));
	for (int i = 0; i < n; i++) {
		memcpy(s->recent[i], recent[i], RT_HUB_RECENT_LEN);
		s->recent[i][RT_HUB_RECENT_LEN - 1] = '\0';
	}
	atomic_store_explicit(&s->recent_seq, (seq | 1u) + 1u, memory_order_release);
}

/* Copies slot s's lines into d, bounded and cleaned: another process may
 * have written anything there, or be writing now. */
static void rt__copy_recent(rt__slot *s, rt_hub_detail *d)
{
	for (int tries = 0; tries < 4; tries++) {
		uint32_t before = atomic_load_explicit(&s->recent_seq, memory_order_acquire);
		uint32_t count = s->recent_count;
		d->recent_count = count > RT_HUB_RECENT ? RT_HUB_RECENT : (int) count;
		memcpy(d->recent, s->recent, sizeof(d->recent));
		atomic_thread_fence(memory_order_acquire);
		if (!(before & 1u) && atomic_load_explicit(&s->recent_seq, memory_order_relaxed) == before) {
			break;
		}
	}
	for (int i = 0; i < RT_HUB_RECENT; i++) {
		char *line = d->recent[i];
		line[RT_HUB_RECENT_LEN - 1] = '\0';
		for (char *c = line; *c != '\0'; c++) {
			if ((unsigned char) *c < 0x20 || *c == 0x7f) {
				*c = '?';
			}
		}
	}
}

int rt_pool_details(rt_pool *p, uint64_t app, rt_hub_detail *out, int max)
{
	int n = 0;

	for (int i = 0; i < RT_POOL_SLOTS && n < max; i++) {
		rt__slot *s = &p->s->slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (pid > 0 && s->app == app) {
			rt_hub_detail *d = &out[n++];
			memset(d, 0, sizeof(*d));
			d->node = s->node;
			d->pid = pid;
			d->ring_lag = atomic_load_explicit(&s->ring_lag, memory_order_relaxed);
			d->overruns = atomic_load_explicit(&s->overruns, memory_order_relaxed);
			rt__copy_recent(s, d);
		}
	}
	return n;
}

int rt_pool_live_hubs(rt_pool *p, uint64_t app)
{
	int n = 0;

	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		rt__slot *s = &p->s->slots[i];
		int32_t pid = atomic_load(&s->pid);
		if (pid > 0 && s->app == app && !rt__process_gone(pid)) {
			n++;
		}
	}
	return n;
}

int rt_pool_has_node(rt_pool *p, uint64_t app, uint32_t node)
{
	for (int i = 0; i < RT_POOL_SLOTS; i++) {
		rt__slot *s = &p->s->slots[i];
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
		rt__slot *s = &p->s->slots[i];
		if (atomic_load(&s->pid) != 0 && s->app == app && s->node != except
				&& (best == 0 || s->node < best)) {
			best = s->node;
		}
	}
	return best;
}
