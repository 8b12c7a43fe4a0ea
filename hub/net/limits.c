#include "hub/net/limits.h"
#include "hub/util/log.h"
#include "hub/net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const char *const rt_refusal_names[RT_REFUSE_COUNT] = {
	[RT_REFUSE_CONNECTIONS] = "refused_connections",
	[RT_REFUSE_HANDSHAKES] = "refused_handshakes",
	[RT_REFUSE_PER_IP] = "refused_per_ip",
	[RT_REFUSE_HANDSHAKE_TIMEOUT] = "handshake_timeouts",
	[RT_REFUSE_AUTH_CALLS] = "refused_auth_calls",
	[RT_REFUSE_SUBSCRIBE_RATE] = "refused_subscribe_rate",
	[RT_REFUSE_SUBSCRIPTIONS] = "refused_subscriptions",
	[RT_REFUSE_CHANNELS] = "refused_channels",
	[RT_REFUSE_PRESENCE_MEMBERS] = "refused_presence_members",
};

void rt_limits_refuse(rt_net *net, int kind, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add_explicit(&net->stat_refused[kind], 1, memory_order_relaxed);
	/* A flood must not become a flood of log lines. */
	va_start(ap, fmt);
	rt_log_limitedv(&net->refuse_log[kind], RT_LOG_WARNING, fmt, ap);
	va_end(ap);
}


/* The key of a peer address; 0 when it has none (a unix socket). */
static size_t rt__ip_key(const struct sockaddr_storage *sa, char key[9], char *text,
		size_t text_len)
{
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
		key[0] = '4';
		memcpy(key + 1, &in->sin_addr, 4);
		inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t) text_len);
		return 5;
	}
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			key[0] = '4';
			memcpy(key + 1, in6->sin6_addr.s6_addr + 12, 4);
			inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, text, (socklen_t) text_len);
			return 5;
		}
		/* A host is given a /64 and picks addresses in it at will: one
		 * client is one /64. */
		struct in6_addr prefix = in6->sin6_addr;
		key[0] = '6';
		memcpy(key + 1, prefix.s6_addr, 8);
		memset(prefix.s6_addr + 8, 0, 8);
		if (inet_ntop(AF_INET6, &prefix, text, (socklen_t) (text_len - 3)) != NULL) {
			strcat(text, "/64");
		}
		return 9;
	}
	return 0;
}

int rt_limits_ip_acquire(rt_net *net, int fd, rt_ip_slot **out)
{
	struct sockaddr_storage sa;
	socklen_t sa_len = sizeof(sa);
	char key[9], text[INET6_ADDRSTRLEN + 4] = "";
	size_t key_len;
	rt_ip_slot *slot;

	*out = NULL;
	if (net->cfg->max_connections_per_ip == 0
			|| getpeername(fd, (struct sockaddr *) &sa, &sa_len) != 0
			|| (key_len = rt__ip_key(&sa, key, text, sizeof(text))) == 0) {
		return 0;
	}
	slot = rt_map_get(&net->per_ip, key, key_len);
	if (slot != NULL && slot->count >= net->cfg->max_connections_per_ip) {
		rt_limits_refuse(net, RT_REFUSE_PER_IP, "refused a connection from %s: it has %u "
				"connections (realtime.max_connections_per_ip)", text, slot->count);
		return -EUSERS;
	}
	if (slot == NULL) {
		slot = calloc(1, sizeof(*slot));
		if (slot == NULL) {
			return -ENOMEM;
		}
		memcpy(slot->key, key, key_len);
		slot->key_len = (uint8_t) key_len;
		if (rt_map_put(&net->per_ip, slot->key, key_len, slot) != 0) {
			free(slot);
			return -ENOMEM;
		}
	}
	slot->count++;
	*out = slot;
	return 0;
}

void rt_limits_ip_release(rt_net *net, rt_ip_slot *slot)
{
	if (slot != NULL && --slot->count == 0) {
		rt_map_remove(&net->per_ip, slot->key, slot->key_len);
		free(slot);
	}
}

void rt_limits_free(rt_net *net)
{
	size_t it = 0;
	void *v;

	while (rt_map_next(&net->per_ip, &it, &v)) {
		free(v);
	}
	rt_map_free(&net->per_ip);
}
