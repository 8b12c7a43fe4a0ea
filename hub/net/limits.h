/* What a client may cost a hub: the count of connections per client
 * address, and the refusals of every limit, counted for Realtime\status()
 * and logged with their reason (docs/protocol.md, "Limits"). */
#ifndef RT_HUB_LIMITS_H
#define RT_HUB_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "hub/net/net.h"

struct rt_conn;

/* Connections of one client address: an IPv4 address (IPv4-mapped IPv6
 * included) or the /64 prefix of an IPv6 address. Owned by net->per_ip. */
typedef struct rt_ip_slot {
	uint32_t count;
	uint8_t key_len;
	char key[9];           /* '4' + 4 bytes, or '6' + the first 8 bytes */
} rt_ip_slot;

/* Counts one refusal of kind (RT_REFUSE_*) and logs its reason, at most
 * one line a kind per RT_LOG_LIMIT_MS (rt_log_limited): the next line says
 * how many were held back. */
void rt_limits_refuse(rt_net *net, int kind, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

/* Counts the connection on descriptor fd under its peer's address. Returns
 * 0 with *out set (NULL when realtime.max_connections_per_ip is 0 or the
 * peer has no IP address), -EUSERS when the address is at its limit (the
 * refusal is counted and logged), or -ENOMEM. */
int rt_limits_ip_acquire(rt_net *net, int fd, rt_ip_slot **out);
void rt_limits_ip_release(rt_net *net, rt_ip_slot *slot);
/* Frees what the per-address map still holds (at hub teardown). */
void rt_limits_free(rt_net *net);

#endif
