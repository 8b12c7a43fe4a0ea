#include "broker/history.h"
#include "hub/model/config.h"
#include "hub/util/siphash.h"
#include "hub/util/log.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define RT__MAGIC 0x72745f6869737431ULL /* "rt_hist1" */
#define RT__VERSION 1u
#define RT__PAD 1u
#define RT__NONE UINT64_MAX
/* Records looked at for a channel: a full window gives its coldest up. */
#define RT__PROBES 32u

typedef struct rt__head {
	uint64_t magic;         /* stored last when formatting */
	uint32_t version;
	uint32_t slots;
	uint64_t data_size;
	uint64_t head;          /* log bytes ever written */
	uint64_t tail;          /* the oldest byte still held */
	uint8_t key[16];        /* of the channel table's hash: clients name channels */
	/* Statistics for every process (Realtime\status()): what was lost
	 * before its channel's limits said so. */
	uint64_t evicted_messages; /* overwritten while the log was full */
	uint64_t evicted_channels; /* records given to another channel */
	uint64_t resets;        /* the store or a channel found corrupt */
	uint64_t spare;
} rt__head;

typedef struct rt__chan {
	uint64_t hash;          /* 0: a free record */
	uint64_t epoch;
	uint64_t top;           /* the last offset given */
	uint64_t first_offset;  /* of the oldest message held (top + 1 when none) */
	uint64_t first_pos;     /* log positions of the oldest and newest held */
	uint64_t last_pos;
	uint64_t used_ms;       /* last append; 0: never published (evicted first) */
	uint32_t count;         /* messages held */
	uint16_t name_len;
	uint16_t spare;
	char name[RT_CHANNEL_MAX];
} rt__chan;

typedef struct rt__entry {
	uint32_t plen;          /* payload bytes */
	uint32_t flags;         /* 0, or RT__PAD: the rest of the log up to its end */
	uint32_t slot;          /* the channel's record */
	uint32_t spare;
	uint64_t offset;
	uint64_t time_ms;
	uint64_t next;          /* the channel's next entry, RT__NONE for the newest */
} rt__entry;

static uint64_t rt__align8(uint64_t n)
{
	return (n + 7) & ~(uint64_t) 7;
}

static rt__head *rt__hd(const rt_history *h)
{
	return (rt__head *) h->mem;
}

static rt__chan *rt__chans(const rt_history *h)
{
	return (rt__chan *) (h->mem + sizeof(rt__head));
}

static unsigned char *rt__data(const rt_history *h)
{
	return h->mem + sizeof(rt__head) + (size_t) h->slots * sizeof(rt__chan);
}

uint64_t rt_history_new_epoch(void)
{
	static _Atomic uint64_t counter;
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t) sizeof(v)) {
		struct timespec ts;
		uint64_t seed[3];
		clock_gettime(CLOCK_REALTIME, &ts);
		seed[0] = (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
		seed[1] = (uint64_t) getpid();
		seed[2] = atomic_fetch_add(&counter, 1);
		v = rt_siphash_keyed(seed, sizeof(seed));
	}
	/* 0 means none; below 2^53 is not needed: epochs travel as hex text. */
	return v == 0 ? 1 : v;
}

int rt_history_bind(rt_history *h, void *mem, size_t len)
{
	uint64_t slots;

	memset(h, 0, sizeof(*h));
	if (mem == NULL || len < RT_HISTORY_MIN_SIZE) {
		return -1;
	}
	/* An eighth of the region for channel records. */
	slots = len / 8 / sizeof(rt__chan);
	if (slots < 16) {
		slots = 16;
	}
	if (slots > 1u << 20) {
		slots = 1u << 20;
	}
	h->mem = mem;
	h->len = len;
	h->slots = (uint32_t) slots;
	h->data_size = (len - sizeof(rt__head) - slots * sizeof(rt__chan)) & ~(uint64_t) 7;
	return 0;
}

void rt_history_format(rt_history *h)
{
	rt__head *hd = rt__hd(h);

	hd->magic = 0;
	atomic_thread_fence(memory_order_release);
	memset(h->mem + sizeof(rt__head), 0, (size_t) h->slots * sizeof(rt__chan));
	hd->version = RT__VERSION;
	hd->slots = h->slots;
	hd->data_size = h->data_size;
	hd->head = 0;
	hd->tail = 0;
	if (getrandom(hd->key, sizeof(hd->key), GRND_NONBLOCK) != (ssize_t) sizeof(hd->key)) {
		uint64_t a = rt_history_new_epoch(), b = rt_history_new_epoch();
		memcpy(hd->key, &a, 8);
		memcpy(hd->key + 8, &b, 8);
	}
	hd->evicted_messages = 0;
	hd->evicted_channels = 0;
	hd->resets = 0;
	hd->spare = 0;
	atomic_thread_fence(memory_order_release);
	hd->magic = RT__MAGIC;
}

/* A store or channel found corrupt: it starts again in a new epoch. */
static void rt__count_reset(rt_history *h, const char *what)
{
	static rt_log_limit log;

	h->reset_corrupt++;
	rt__hd(h)->resets++;
	rt_log_limited(&log, RT_LOG_ERROR, "the history store in shared memory held %s: it starts "
			"again in a new epoch (clients resuming from before get recovered:false)", what);
}

void rt_history_losses_get(rt_history *h, rt_history_losses *out)
{
	rt__head *hd;

	memset(out, 0, sizeof(*out));
	if (h->mem == NULL) {
		return;
	}
	hd = rt__hd(h);
	if (hd->magic == RT__MAGIC) {
		out->evicted_messages = hd->evicted_messages;
		out->evicted_channels = hd->evicted_channels;
		out->resets = hd->resets;
	}
}

size_t rt_history_max_payload(const rt_history *h)
{
	/* A quarter of the log, so one message never flushes a whole store. */
	uint64_t max = h->data_size / 4;

	return max <= sizeof(rt__entry) ? 0 : (size_t) ((max - sizeof(rt__entry)) & ~(uint64_t) 7);
}

/* The header as this process expects it, or the store is made again. */
static void rt__ensure(rt_history *h)
{
	rt__head *hd = rt__hd(h);
	uint64_t head = hd->head, tail = hd->tail;

	if (hd->magic != RT__MAGIC || hd->version != RT__VERSION || hd->slots != h->slots
			|| hd->data_size != h->data_size || head < tail || head - tail > h->data_size
			|| head % 8 != 0 || tail % 8 != 0) {
		int was = hd->magic == RT__MAGIC;
		rt_history_format(h);
		if (was) {
			rt__count_reset(h, "a header that does not add up");
		}
	}
}

static void rt__reset_channel(rt__chan *c)
{
	c->epoch = rt_history_new_epoch();
	c->top = 0;
	c->first_offset = 1;
	c->first_pos = 0;
	c->last_pos = 0;
	c->count = 0;
}

/* Reads the entry of channel record `slot` with offset `offset` at log
 * position pos, checking it lies whole among the bytes held. */
static int rt__entry_at(const rt_history *h, uint64_t pos, uint32_t slot, uint64_t offset,
		rt__entry *e)
{
	const rt__head *hd = rt__hd(h);
	uint64_t off, span;

	if (pos < hd->tail || pos >= hd->head || pos % 8 != 0) {
		return -1;
	}
	off = pos % h->data_size;
	if (h->data_size - off < sizeof(rt__entry)) {
		return -1;
	}
	memcpy(e, rt__data(h) + off, sizeof(*e));
	if (e->flags != 0 || e->slot != slot || e->offset != offset) {
		return -1;
	}
	span = sizeof(rt__entry) + rt__align8(e->plen);
	if (e->plen > h->data_size || span > h->data_size - off || span > hd->head - pos) {
		return -1;
	}
	return 0;
}

/* Whether a record's numbers agree with each other. */
static int rt__chan_sound(const rt__chan *c)
{
	return c->name_len <= RT_CHANNEL_MAX && c->count <= RT_HISTORY_MAX_MESSAGES
			&& c->top < ((uint64_t) 1 << 53) && c->first_offset >= 1
			&& c->first_offset + c->count == c->top + 1;
}

static rt__chan *rt__channel(rt_history *h, const char *name, size_t len, uint32_t *slot)
{
	rt__head *hd = rt__hd(h);
	rt__chan *chans = rt__chans(h), *c;
	uint8_t key[16];
	uint64_t hash;
	uint32_t probes = h->slots < RT__PROBES ? h->slots : RT__PROBES;
	uint32_t start, pick = UINT32_MAX, coldest = UINT32_MAX;

	memcpy(key, hd->key, sizeof(key));
	hash = rt_siphash24(key, name, len) | 1;
	start = (uint32_t) (hash % h->slots);
	for (uint32_t i = 0; i < probes; i++) {
		uint32_t idx = (start + i) % h->slots;
		c = &chans[idx];
		if (c->hash == hash && c->name_len == len && len <= RT_CHANNEL_MAX
				&& memcmp(c->name, name, len) == 0) {
			*slot = idx;
			if (!rt__chan_sound(c)) {
				rt__count_reset(h, "a channel record that does not add up");
				rt__reset_channel(c);
			}
			return c;
		}
		if (c->hash == 0 && pick == UINT32_MAX) {
			pick = idx;
		}
		if (coldest == UINT32_MAX || c->used_ms < chans[coldest].used_ms) {
			coldest = idx;
		}
	}
	if (pick == UINT32_MAX) {
		static rt_log_limit log;
		pick = coldest;
		h->evicted_channels++;
		hd->evicted_channels++;
		rt_log_limited(&log, RT_LOG_WARNING, "the history's channel table is full: the least "
				"recently published channel lost its history and epoch (raise "
				"realtime.history_memory)");
	}
	/* Its entries still in the log are orphans: the tail passes over them
	 * (no record's first_pos names them again) and no walk reaches them. */
	c = &chans[pick];
	memset(c, 0, sizeof(*c));
	c->hash = hash;
	c->name_len = (uint16_t) len;
	memcpy(c->name, name, len);
	rt__reset_channel(c);
	*slot = pick;
	return c;
}

/* Drops the oldest message a channel holds. */
static void rt__drop_first(rt__chan *c, uint64_t next)
{
	c->count--;
	c->first_offset++;
	if (c->count == 0) {
		c->first_pos = c->last_pos = 0;
	} else {
		c->first_pos = next;
	}
}

/* Trims a channel by count (keeping room for `room` more) and by age;
 * -1 when its chain is broken (it was reset). */
static int rt__trim(rt_history *h, rt__chan *c, uint32_t slot, const rt_history_limits *lim,
		uint64_t now_ms, uint32_t room)
{
	uint64_t max_age = (uint64_t) lim->max_seconds * 1000;

	while (c->count > 0) {
		rt__entry e;
		if (rt__entry_at(h, c->first_pos, slot, c->first_offset, &e) != 0) {
			rt__count_reset(h, "a broken chain of messages");
			rt__reset_channel(c);
			return -1;
		}
		if ((uint64_t) c->count + room <= lim->max_messages
				&& !(e.time_ms + max_age < now_ms)) {
			break;
		}
		rt__drop_first(c, e.next);
	}
	return 0;
}

/* Frees the oldest entry of the log; -1 when it is not a sound entry. */
static int rt__evict_tail(rt_history *h)
{
	rt__head *hd = rt__hd(h);
	uint64_t tail = hd->tail, off = tail % h->data_size, to_end = h->data_size - off, span;
	rt__entry e;

	if (tail >= hd->head) {
		return -1;
	}
	if (to_end < sizeof(rt__entry)) {
		span = to_end;
	} else {
		memcpy(&e, rt__data(h) + off, sizeof(e));
		if (e.flags == RT__PAD) {
			span = to_end;
		} else if (e.flags == 0 && e.plen <= h->data_size) {
			span = sizeof(rt__entry) + rt__align8(e.plen);
			if (span > to_end) {
				return -1;
			}
			if (e.slot < h->slots) {
				rt__chan *c = &rt__chans(h)[e.slot];
				if (c->hash != 0 && c->count > 0 && c->first_pos == tail
						&& c->first_offset == e.offset) {
					static rt_log_limit log;
					rt__drop_first(c, e.next);
					rt__hd(h)->evicted_messages++;
					rt_log_limited(&log, RT_LOG_WARNING, "realtime.history_memory is full: "
							"the oldest messages go before their channels' limits");
				}
			}
		} else {
			return -1;
		}
	}
	if (span > hd->head - tail) {
		return -1;
	}
	hd->tail = tail + span;
	return 0;
}

/* Makes room for need bytes at the head (padding to the log's end first
 * when they would not fit before it); returns where they go, or RT__NONE
 * when the log was corrupt (and has been formatted). */
static uint64_t rt__reserve(rt_history *h, uint64_t need)
{
	rt__head *hd = rt__hd(h);
	uint64_t head = hd->head, off = head % h->data_size;
	uint64_t pad = off + need > h->data_size ? h->data_size - off : 0;

	while (head + pad + need - hd->tail > h->data_size) {
		if (rt__evict_tail(h) != 0) {
			rt_history_format(h);
			rt__count_reset(h, "a malformed message");
			return RT__NONE;
		}
	}
	if (pad > 0) {
		if (pad >= sizeof(rt__entry)) {
			rt__entry p = {(uint32_t) (pad - sizeof(rt__entry)), RT__PAD, 0, 0, 0, 0, RT__NONE};
			memcpy(rt__data(h) + off, &p, sizeof(p));
		}
		head += pad;
	}
	hd->head = head + need;
	return head;
}

unsigned char *rt_history_append(rt_history *h, const char *channel, size_t len,
		const rt_history_limits *lim, uint64_t now_ms, size_t plen, rt_pos *pos)
{
	uint64_t need = sizeof(rt__entry) + rt__align8(plen), at;
	uint32_t slot;
	rt__chan *c;
	rt__entry e;

	rt__ensure(h);
	if (len > RT_CHANNEL_MAX) {
		pos->offset = 0;
		pos->epoch = 0;
		return NULL;
	}
	c = rt__channel(h, channel, len, &slot);
	c->used_ms = now_ms > 0 ? now_ms : 1;
	rt__trim(h, c, slot, lim, now_ms, 1);
	if (plen > rt_history_max_payload(h)) {
		/* It gets a position but no place: nobody recovers across it. */
		c->top++;
		c->count = 0;
		c->first_offset = c->top + 1;
		c->first_pos = c->last_pos = 0;
		pos->offset = c->top;
		pos->epoch = c->epoch;
		return NULL;
	}
	at = rt__reserve(h, need);
	if (at == RT__NONE) {
		/* The store was formatted: this channel starts again too. */
		c = rt__channel(h, channel, len, &slot);
		c->used_ms = now_ms > 0 ? now_ms : 1;
		at = rt__reserve(h, need);
		if (at == RT__NONE) {
			pos->offset = 0;
			pos->epoch = 0;
			return NULL;
		}
	}
	/* The eviction may have emptied this channel; link to its newest. */
	if (c->count > 0) {
		rt__entry last;
		if (rt__entry_at(h, c->last_pos, slot, c->top, &last) != 0) {
			rt__count_reset(h, "a broken chain of messages");
			rt__reset_channel(c);
		} else {
			last.next = at;
			memcpy(rt__data(h) + c->last_pos % h->data_size, &last, sizeof(last));
		}
	}
	c->top++;
	memset(&e, 0, sizeof(e));
	e.plen = (uint32_t) plen;
	e.slot = slot;
	e.offset = c->top;
	e.time_ms = now_ms;
	e.next = RT__NONE;
	memcpy(rt__data(h) + at % h->data_size, &e, sizeof(e));
	if (c->count == 0) {
		c->first_pos = at;
		c->first_offset = c->top;
	}
	c->last_pos = at;
	c->count++;
	pos->offset = c->top;
	pos->epoch = c->epoch;
	return rt__data(h) + at % h->data_size + sizeof(rt__entry);
}

int rt_history_read(rt_history *h, const char *channel, size_t len,
		const rt_history_limits *lim, uint64_t now_ms, const rt_pos *since, uint32_t limit,
		rt_history_fn fn, void *ctx, rt_pos *top)
{
	uint32_t slot, skip = 0;
	uint64_t p;
	rt__chan *c;

	rt__ensure(h);
	top->offset = 0;
	top->epoch = 0;
	if (len > RT_CHANNEL_MAX) {
		return 0;
	}
	c = rt__channel(h, channel, len, &slot);
	rt__trim(h, c, slot, lim, now_ms, 0);
	top->offset = c->top;
	top->epoch = c->epoch;
	if (since != NULL) {
		if (since->epoch != c->epoch || since->offset > c->top
				|| c->top - since->offset > limit || c->first_offset > since->offset + 1) {
			return 0;
		}
		skip = (uint32_t) (since->offset + 1 - c->first_offset);
	} else if (c->count > limit) {
		skip = c->count - limit;
	}
	/* Check the whole chain first: a gap is never partly replayed. */
	p = c->first_pos;
	for (uint32_t i = 0; i < c->count; i++) {
		rt__entry e;
		if (rt__entry_at(h, p, slot, c->first_offset + i, &e) != 0
				|| (i + 1 < c->count) != (e.next != RT__NONE)) {
			rt__count_reset(h, "a broken chain of messages");
			rt__reset_channel(c);
			top->offset = c->top;
			top->epoch = c->epoch;
			return since == NULL;
		}
		p = e.next;
	}
	p = c->first_pos;
	for (uint32_t i = 0; i < c->count; i++) {
		rt__entry e;
		rt_pos at;
		rt__entry_at(h, p, slot, c->first_offset + i, &e);
		if (i >= skip) {
			at.offset = e.offset;
			at.epoch = c->epoch;
			fn(ctx, &at, rt__data(h) + p % h->data_size + sizeof(rt__entry), e.plen);
		}
		p = e.next;
	}
	return 1;
}
