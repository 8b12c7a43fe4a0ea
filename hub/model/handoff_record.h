/* What a hub sends another to hand it one live connection (besides the
 * socket itself, passed with SCM_RIGHTS): the session image
 * (hub/model/session_image.h), the bytes of an inbound message not yet
 * complete, every outbound byte not yet written, and the ping state; and
 * the datagrams that carry records between two hubs. The decoders take
 * hostile input (another process): every length is checked against the
 * bytes left and the limits given, and anything malformed is refused whole. */
#ifndef RT_HUB_HANDOFF_RECORD_H
#define RT_HUB_HANDOFF_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "hub/util/buf.h"
#include "hub/model/session_image.h"

enum {
	RT_HANDOFF_F_AWAIT_PONG = 1,   /* a ping was sent and not answered yet */
};

typedef struct rt_handoff_record {
	uint8_t flags;                 /* RT_HANDOFF_F_* */
	uint32_t ping_in;              /* seconds until the next ping is due (0: never) */
	const uint8_t *out;            /* bytes to write first, as they are */
	size_t out_len;
	const uint8_t *carry;          /* raw bytes of an inbound message under way */
	size_t carry_len;
	rt_session_image image;
} rt_handoff_record;

/* What a decoded record may hold (from the receiving hub's settings). */
typedef struct rt_handoff_limits {
	rt_session_limits session;
	size_t max_out;                /* realtime.max_outbound */
	size_t max_carry;              /* realtime.max_message_size, plus its frame headers */
	uint32_t max_ping_in;          /* realtime.ping_interval */
} rt_handoff_limits;

/* The bytes of a record of an image already encoded (img, img_len),
 * outbound bytes given in pieces (out[0..out_count), the first starting
 * skip bytes in) and a carry. Returns 0 or -ENOMEM. */
int rt_handoff_record_encode(rt_sb *sb, uint8_t flags, uint32_t ping_in,
		const void *img, size_t img_len, const uint8_t *const *out, const size_t *out_lens,
		size_t out_count, const void *carry, size_t carry_len);
/* Rebuilds a record from exactly len bytes: rec->out and rec->carry point
 * into data. Returns 0, or -EINVAL (err says why) or -ENOMEM; on failure
 * rec holds nothing to free. */
int rt_handoff_record_decode(rt_handoff_record *rec, const void *data, size_t len,
		const rt_handoff_limits *lim, char *err, size_t errlen);
void rt_handoff_record_free(rt_handoff_record *rec);

/* ---- datagrams between two hubs ---- */

enum {
	RT_HANDOFF_HELLO = 'H',   /* sender -> taker: node u32, fence u64 */
	RT_HANDOFF_RECORD = 'R',  /* seq u32, total u32, then the record's first bytes; + the fd */
	RT_HANDOFF_MORE = 'M',    /* the record's next bytes */
	RT_HANDOFF_DONE = 'D',    /* count u32: no more records */
	RT_HANDOFF_ACK = 'A',     /* taker -> sender: seq u32, taken */
	RT_HANDOFF_NACK = 'N',    /* seq u32, refused (the sender closes it) */
};

typedef struct rt_handoff_dgram {
	uint8_t type;
	uint32_t node;            /* HELLO */
	uint64_t fence;           /* HELLO */
	uint32_t seq;             /* RECORD, ACK, NACK; DONE: the count */
	uint32_t total;           /* RECORD */
	const uint8_t *bytes;     /* RECORD, MORE */
	size_t len;
} rt_handoff_dgram;

#define RT_HANDOFF_RECORD_HEAD 9   /* type, seq, total */

/* Parses one datagram; 0, or -EINVAL when it is malformed. */
int rt_handoff_dgram_parse(rt_handoff_dgram *d, const void *data, size_t len);
/* Writes the head of a datagram of type into out (at least 13 bytes):
 * returns its size. a, b: the fields of the type (see above). */
size_t rt_handoff_dgram_head(uint8_t *out, uint8_t type, uint64_t a, uint32_t b);

#endif
