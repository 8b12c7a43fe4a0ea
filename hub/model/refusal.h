/* The kinds of refusal of the limits on what clients may cost (hub/net/limits.h),
 * counted for Realtime\\status(). */
#ifndef RT_HUB_REFUSAL_H
#define RT_HUB_REFUSAL_H

/* Refusals of the limits on what clients may cost (hub/net/limits.h). */
enum {
	RT_REFUSE_CONNECTIONS,       /* realtime.max_connections */
	RT_REFUSE_HANDSHAKES,        /* realtime.max_handshakes */
	RT_REFUSE_PER_IP,            /* realtime.max_connections_per_ip */
	RT_REFUSE_HANDSHAKE_TIMEOUT, /* realtime.handshake_timeout */
	RT_REFUSE_AUTH_CALLS,        /* realtime.max_auth_calls */
	RT_REFUSE_SUBSCRIBE_RATE,    /* realtime.subscribe_rate */
	RT_REFUSE_SUBSCRIPTIONS,     /* realtime.max_subscriptions */
	RT_REFUSE_CHANNELS,          /* realtime.max_channels */
	RT_REFUSE_PRESENCE_MEMBERS,  /* realtime.max_presence_members */
	RT_REFUSE_COUNT
};

/* Realtime\status() keys of the refusal counters, by RT_REFUSE_*. */
extern const char *const rt_refusal_names[RT_REFUSE_COUNT];

#endif
