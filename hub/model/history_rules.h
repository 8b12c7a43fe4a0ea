/* Which channels keep a history (realtime.history) and for how long: a
 * parsed, fixed-size copy of the setting, so a copied rt_config carries it. */
#ifndef RT_HUB_HISTORY_RULES_H
#define RT_HUB_HISTORY_RULES_H

#include <stddef.h>
#include <stdint.h>

#define RT_HISTORY_RULES_MAX 16
#define RT_HISTORY_MAX_MESSAGES 100000u
#define RT_HISTORY_MAX_SECONDS 2592000u /* 30 days */

typedef struct rt_history_rule {
	uint16_t pattern_off;   /* into buf: a NUL-terminated glob ('*': any run) */
	uint32_t max_messages;  /* kept per channel */
	uint32_t max_seconds;   /* a message is dropped this long after it was published */
} rt_history_rule;

typedef struct rt_history_rules {
	uint32_t count;
	rt_history_rule rule[RT_HISTORY_RULES_MAX];
	char buf[1024];
} rt_history_rules;

/* Parses "pattern:max_messages:max_seconds ..." (space-separated; empty:
 * no history). Returns 0, or -EINVAL with why set (what is wrong in which
 * part). */
int rt_history_rules_parse(rt_history_rules *out, const char *value, char *why, size_t whylen);

/* Pusher's cache channels (cache-*, private-cache-*, presence-cache-*)
 * keep their last message for 30 minutes without a rule: a subscriber gets
 * it at once (docs/pusher.md, "Cache channels"). */
#define RT_HISTORY_CACHE_SECONDS 1800u
int rt_history_cache_channel(const char *channel, size_t len);

/* The first rule whose pattern matches the channel; else, for a cache
 * channel, the built-in rule (1 message, RT_HISTORY_CACHE_SECONDS); else NULL. */
const rt_history_rule *rt_history_rule_for(const rt_history_rules *rules, const char *channel,
		size_t len);

/* A fingerprint of the rules (the same in every process for the same
 * setting), so a process can tell whether another one numbers the same
 * channels. */
uint64_t rt_history_rules_print(const rt_history_rules *rules);

static inline const char *rt_history_rule_pattern(const rt_history_rules *rules,
		const rt_history_rule *r)
{
	return rules->buf + r->pattern_off;
}

#endif
