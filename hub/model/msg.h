/* A message handed from a PHP thread (or a broker) to the hub thread. It is
 * one malloc'd block owning copies of all its bytes, so nothing allocated by
 * PHP ever crosses the thread boundary. */
#ifndef RT_HUB_MSG_H
#define RT_HUB_MSG_H

#include <stddef.h>
#include <stdint.h>

typedef enum rt_msg_type {
	RT_MSG_PUBLISH = 1,      /* data to every subscriber of each channel */
	RT_MSG_TO_USER,          /* data to every connection of user `target` */
	RT_MSG_TO_CONNECTION,    /* data to connection `target` */
	RT_MSG_DISCONNECT_USER,  /* close every connection of user `target` */
	RT_MSG_QUERY,            /* answer `query` */
	RT_MSG_STOP,             /* close every client with 1001 and end the loop */
	/* Between the hubs of an app (hub/model/view.h): */
	RT_MSG_STATE,            /* hub `origin` has `count` subscribers on channels[0], or,
	                          * with a `target` user, `count` of that user's connections
	                          * (`data`: the user's info) */
	RT_MSG_SYNC,             /* hub `origin` started: everyone, report your state */
	RT_MSG_GONE,             /* hub `origin` stopped or died: forget what it reported */
	RT_MSG_WHISPER,          /* a client event on channels[0] from connection `exclude`
	                          * of user `target` */
	RT_MSG_STATE_BEGIN,      /* hub `origin` reports its whole state: what it reported
	                          * before and does not report again by ... */
	RT_MSG_STATE_END,        /* ... this one, it no longer has */
	RT_MSG_HANDOFF,          /* hub `origin` hands its connections over (fence `count`)
	                          * to the hubs listed in `data` ("node,node"): its
	                          * snapshot, and where they start delivering (hub/handoff.h) */
} rt_msg_type;

typedef struct rt_str {
	const char *ptr;
	size_t len;
} rt_str;

/* The "type" of the messages the HTTP publish API takes (and the remote
 * broker sends it): "publish", "user", "connection", "disconnect"; NULL for
 * the other types. */
const char *rt_msg_api_name(rt_msg_type type);
/* The type of such a name; 0 when it is none. */
rt_msg_type rt_msg_api_type(const char *name, size_t len);

struct rt_query;

/* Where a message stands in a channel's history (realtime.history): offset
 * counts from 1 per channel; epoch names the history's incarnation and
 * changes whenever it is lost. offset 0: the channel keeps no history. */
typedef struct rt_pos {
	uint64_t offset;
	uint64_t epoch;
} rt_pos;

typedef struct rt_msg_fields {
	const rt_str *channels;
	uint32_t channel_count;
	rt_str event;   /* ptr NULL: no event name */
	rt_str data;    /* JSON text of the payload */
	rt_str exclude; /* connection id not to deliver to; ptr NULL: none */
	rt_str target;  /* user or connection id */
	struct rt_query *query;
	uint32_t origin; /* the hub that sent it; 0 from PHP */
	uint32_t count;
	const rt_pos *positions; /* NULL, or one per channel (a publish with history) */
} rt_msg_fields;

typedef struct rt_msg {
	struct rt_msg *next;
	rt_msg_type type;
	uint32_t channel_count;
	rt_str *channels;
	rt_str event;
	rt_str data;
	rt_str exclude;
	rt_str target;
	struct rt_query *query;
	uint32_t origin;
	uint32_t count;
	rt_pos *positions;       /* NULL, or channel_count of them */
	/* When it was published (rt_msg_now_us), for the latency histogram of
	 * /metrics; 0: unknown. Travels with the message, not a trusted value. */
	uint64_t born;
} rt_msg;

/* Microseconds of CLOCK_REALTIME (one clock for every process of a host,
 * and for hosts that share a Redis broker with their clocks in sync). */
uint64_t rt_msg_now_us(void);

/* Copies every field into one allocation. NULL when out of memory. */
rt_msg *rt_msg_new(rt_msg_type type, const rt_msg_fields *fields);
/* A message that points at fields' bytes: nothing is copied or allocated,
 * so it lives only as long as they do and is never passed to rt_msg_free. */
void rt_msg_view(rt_msg *out, rt_msg_type type, const rt_msg_fields *fields);
/* An RT_MSG_TO_CONNECTION control message: event (a NUL-terminated
 * literal), data and the target connection's id, copied. NULL when out of
 * memory. */
rt_msg *rt_msg_to_connection(const char *event, const char *data, size_t data_len,
		const char *target, size_t target_len);
/* rt_msg_new of a message's fields. */
rt_msg *rt_msg_copy(const rt_msg *msg);
void rt_msg_free(rt_msg *msg);

/* A byte string carrying msg between processes (queries do not travel;
 * positions do, after the other fields).
 * Returns its length, or 0 when out of space. */
size_t rt_msg_encode(const rt_msg *msg, char *out, size_t outlen);
size_t rt_msg_encoded_size(const rt_msg *msg);
/* NULL when the bytes are not a well-formed message. */
rt_msg *rt_msg_decode(const char *in, size_t len);

#endif
