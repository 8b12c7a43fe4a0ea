#include "broker/redis_hist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>

/* Epoch: kept while the meta hash holds a sane one and the stream is
 * there, or the stream is gone only because nothing was published for the
 * rule's seconds (it expired: nothing was lost); a stream evicted or
 * deleted before its time, or a meta hash that vanished or holds garbage,
 * starts a new epoch from the caller's random one (a script cannot draw
 * random numbers of its own: Redis seeds math.random the same for every
 * call). The meta hash outlives the stream by a day, so an idle client at
 * the top still recovers. Offsets are formatted with %d because Lua 5.1
 * prints large numbers in exponent form. The position is spliced between
 * head and tail exactly where rt_msg_encode puts it: a u16 count (1), the
 * offset, the epoch. */
const char rt_redis_hist_publish_lua[] =
	"local stream, meta = KEYS[1], KEYS[2]\n"
	"local now = redis.call('TIME')\n"
	"local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)\n"
	"local ttl = tonumber(ARGV[6])\n"
	"local e = redis.call('HGET', meta, 'e')\n"
	"local o = tonumber(redis.call('HGET', meta, 'o') or '')\n"
	"local t = tonumber(redis.call('HGET', meta, 't') or '')\n"
	"local lost = not e or #e ~= 8 or e == '\\0\\0\\0\\0\\0\\0\\0\\0' or not o or o < 0\n"
	"    or o >= 9007199254740990\n"
	"if not lost and redis.call('EXISTS', stream) == 0 then\n"
	"  lost = not t or ms - t < ttl\n"
	"end\n"
	"if lost then\n"
	"  e = ARGV[4]\n"
	"  redis.call('DEL', stream, meta)\n"
	"  redis.call('HSET', meta, 'e', e, 'o', '0')\n"
	"end\n"
	"local off = redis.call('HINCRBY', meta, 'o', 1)\n"
	"redis.call('HSET', meta, 't', string.format('%d', ms))\n"
	"local n, b = off, {}\n"
	"for i = 1, 8 do local c = n % 256; b[i] = string.char(c); n = (n - c) / 256 end\n"
	"local body = ARGV[2] .. '\\1\\0' .. table.concat(b) .. e .. ARGV[3]\n"
	"redis.call('XADD', stream, 'MAXLEN', '~', ARGV[5], '*', 'o', string.format('%d', off),\n"
	"    'm', body)\n"
	"if ms > ttl then redis.call('XTRIM', stream, 'MINID', string.format('%d', ms - ttl)) end\n"
	"redis.call('PEXPIRE', stream, ttl)\n"
	"redis.call('PEXPIRE', meta, ttl + 86400000)\n"
	"redis.call('PUBLISH', ARGV[1], body)\n"
	"return {off, e}\n";

/* Entries older than the rule's seconds are skipped here too: the publish
 * script trims them only when the channel is published on again. Without
 * the stream, the meta hash still tells the position (nothing to replay). */
const char rt_redis_hist_read_lua[] =
	"local stream, meta = KEYS[1], KEYS[2]\n"
	"local e = redis.call('HGET', meta, 'e')\n"
	"local o = redis.call('HGET', meta, 'o')\n"
	"if not e or not o then return {} end\n"
	"local top = tonumber(o)\n"
	"local n = tonumber(ARGV[3])\n"
	"if not top or not n then return {} end\n"
	"if ARGV[1] ~= '' then\n"
	"  if ARGV[2] ~= e then return {e, o} end\n"
	"  local want = top - (tonumber(ARGV[1]) or top)\n"
	"  if want <= 0 or want > n then return {e, o} end\n"
	"  n = want\n"
	"end\n"
	"if n <= 0 or redis.call('EXISTS', stream) == 0 then return {e, o} end\n"
	"local now = redis.call('TIME')\n"
	"local minid = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)\n"
	"    - tonumber(ARGV[4])\n"
	"if minid < 0 then minid = 0 end\n"
	"local r = redis.call('XREVRANGE', stream, '+', string.format('%d', minid), 'COUNT',\n"
	"    string.format('%d', n))\n"
	"local out = {e, o}\n"
	"for i = #r, 1, -1 do\n"
	"  local f = r[i][2]\n"
	"  for j = 1, #f - 1, 2 do\n"
	"    if f[j] == 'm' then out[#out + 1] = f[j + 1] end\n"
	"  end\n"
	"end\n"
	"return out\n";

/* rt_msg_encode's flag for a message that ends with its publish time. */
#define RT__STAMPED 0x80

int rt_redis_hist_split(const rt_msg *msg, char **head, size_t *head_len, char tail[8],
		size_t *tail_len)
{
	rt_msg bare;
	size_t n;

	*head = NULL;
	if (msg->type != RT_MSG_PUBLISH || msg->channel_count != 1) {
		return -EINVAL;
	}
	bare = *msg;
	bare.positions = NULL;
	bare.born = 0;
	n = rt_msg_encoded_size(&bare);
	*head = malloc(n);
	if (*head == NULL) {
		return -ENOMEM;
	}
	if (rt_msg_encode(&bare, *head, n) != n) {
		free(*head);
		*head = NULL;
		return -EINVAL;
	}
	*head_len = n;
	*tail_len = 0;
	if (msg->born != 0) {
		(*head)[0] = (char) ((unsigned char) (*head)[0] | RT__STAMPED);
		memcpy(tail, &msg->born, 8);
		*tail_len = 8;
	}
	return 0;
}

void rt_redis_hist_epoch_bytes(uint64_t epoch, char out[8])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (char) (epoch >> (8 * i));
	}
}

uint64_t rt_redis_hist_epoch_of(const char *bytes, size_t len)
{
	uint64_t e = 0;

	if (bytes == NULL || len != 8) {
		return 0;
	}
	for (int i = 7; i >= 0; i--) {
		e = e << 8 | (unsigned char) bytes[i];
	}
	return e;
}

static int rt__is_string(const redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
			&& (r->str != NULL || r->len == 0);
}

/* A decimal offset as the meta hash holds it: digits only, within range. */
static int rt__offset_of(const redisReply *r, uint64_t *out)
{
	uint64_t v = 0;

	if (!rt__is_string(r) || r->len == 0 || r->len > 16) {
		return -1;
	}
	for (size_t i = 0; i < r->len; i++) {
		if (r->str[i] < '0' || r->str[i] > '9') {
			return -1;
		}
		v = v * 10 + (uint64_t) (r->str[i] - '0');
	}
	if (v > RT_REDIS_HIST_MAX_OFFSET) {
		return -1;
	}
	*out = v;
	return 0;
}

int rt_redis_hist_published(const redisReply *r, rt_pos *out)
{
	const redisReply *o, *e;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element == NULL) {
		return -EPROTO;
	}
	o = r->element[0];
	e = r->element[1];
	if (o == NULL || o->type != REDIS_REPLY_INTEGER || o->integer < 1
			|| (unsigned long long) o->integer > RT_REDIS_HIST_MAX_OFFSET
			|| !rt__is_string(e)) {
		return -EPROTO;
	}
	out->epoch = rt_redis_hist_epoch_of(e->str, e->len);
	if (out->epoch == 0) {
		return -EPROTO;
	}
	out->offset = (uint64_t) o->integer;
	return 0;
}

void rt_redis_hist_read_free(rt_redis_hist_read *rd)
{
	for (uint32_t i = 0; rd->msgs != NULL && i < rd->count; i++) {
		rt_msg_free(rd->msgs[i]);
	}
	free(rd->msgs);
	free(rd->raw);
	rd->msgs = NULL;
	rd->raw = NULL;
	rd->count = 0;
}

int rt_redis_hist_check(const redisReply *r, const char *channel, size_t len, const rt_pos *since,
		uint32_t limit, rt_redis_hist_read *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || (r->elements > 0 && r->element == NULL)) {
		return -EPROTO;
	}
	if (r->elements == 0) {
		/* No history yet: nothing was missed only if nothing was seen. */
		out->status = since == NULL;
		return 0;
	}
	if (r->elements < 2 || r->elements - 2 > limit) {
		return -EPROTO;
	}
	out->top.epoch = rt_redis_hist_epoch_of(rt__is_string(r->element[0]) ? r->element[0]->str
			: NULL, rt__is_string(r->element[0]) ? r->element[0]->len : 0);
	if (out->top.epoch == 0 || rt__offset_of(r->element[1], &out->top.offset) != 0) {
		return -EPROTO;
	}
	n = r->elements - 2;
	if (n > out->top.offset) {
		return -EPROTO;
	}
	if (n > 0) {
		out->msgs = calloc(n, sizeof(*out->msgs));
		out->raw = calloc(n, sizeof(*out->raw));
		if (out->msgs == NULL || out->raw == NULL) {
			rt_redis_hist_read_free(out);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const redisReply *e = r->element[2 + i];
		rt_msg *m = rt__is_string(e) && e->len > 0 ? rt_msg_decode(e->str, e->len) : NULL;
		/* The i-th of n must be top - (n - 1 - i): the run ends at the top. */
		uint64_t want = out->top.offset - (uint64_t) (n - 1 - i);
		if (m == NULL || m->type != RT_MSG_PUBLISH || m->channel_count != 1
				|| m->channels[0].len != len || memcmp(m->channels[0].ptr, channel, len) != 0
				|| m->positions == NULL || m->positions[0].epoch != out->top.epoch
				|| m->positions[0].offset != want) {
			rt_msg_free(m);
			rt_redis_hist_read_free(out);
			return -EPROTO;
		}
		out->msgs[i] = m;
		out->raw[i] = e;
		out->count = (uint32_t) (i + 1);
	}
	if (since == NULL) {
		out->status = 1;
		return 0;
	}
	/* Everything after since, or nothing is given. */
	out->status = since->epoch == out->top.epoch && since->offset <= out->top.offset
			&& out->top.offset - since->offset == n;
	if (!out->status) {
		rt_redis_hist_read_free(out);
	}
	return 0;
}
