#include "hub/model/history_rules.h"
#include "hub/model/identity.h"
#include "hub/util/map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT__PATTERN_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-=@,.;#*" \
		":/?&%+!$'()[]~"

/* The last ':' of s[0..len), or NULL. */
static const char *rt__last_colon(const char *s, size_t len)
{
	while (len > 0) {
		if (s[--len] == ':') {
			return s + len;
		}
	}
	return NULL;
}

static int rt__number(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -1;
		}
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v < 1 || v > max) {
		return -1;
	}
	*out = (uint32_t) v;
	return 0;
}

int rt_history_rules_parse(rt_history_rules *out, const char *value, char *why, size_t whylen)
{
	const char *p = value;
	size_t used = 0;

	memset(out, 0, sizeof(*out));
	for (;;) {
		const char *word, *c1, *c2, *end;
		size_t plen;
		rt_history_rule *r;

		while (*p == ' ' || *p == '\t') {
			p++;
		}
		if (*p == '\0') {
			return 0;
		}
		word = p;
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			p++;
		}
		end = p;
		/* The numbers are the last two fields: a pattern may hold ':'
		 * (channel names do, and Mercure topic URLs). */
		c2 = rt__last_colon(word, (size_t) (end - word));
		c1 = c2 != NULL ? rt__last_colon(word, (size_t) (c2 - word)) : NULL;
		if (c1 == NULL || c2 == NULL) {
			snprintf(why, whylen, "\"%.*s\" is not pattern:max_messages:max_seconds",
					(int) (end - word > 80 ? 80 : end - word), word);
			return -EINVAL;
		}
		plen = (size_t) (c1 - word);
		if (plen == 0 || plen > 200 || strspn(word, RT__PATTERN_CHARS) < plen) {
			snprintf(why, whylen, "pattern \"%.*s\" must be 1 to 200 characters of channel "
					"names or '*'", (int) (plen > 80 ? 80 : plen), word);
			return -EINVAL;
		}
		if (out->count == RT_HISTORY_RULES_MAX || used + plen + 1 > sizeof(out->buf)) {
			snprintf(why, whylen, "at most %d patterns of %zu bytes in all",
					RT_HISTORY_RULES_MAX, sizeof(out->buf) - RT_HISTORY_RULES_MAX);
			return -EINVAL;
		}
		r = &out->rule[out->count];
		if (rt__number(c1 + 1, (size_t) (c2 - c1 - 1), RT_HISTORY_MAX_MESSAGES,
				&r->max_messages) != 0) {
			snprintf(why, whylen, "max_messages of \"%.*s\" must be from 1 to %u",
					(int) (plen > 80 ? 80 : plen), word, RT_HISTORY_MAX_MESSAGES);
			return -EINVAL;
		}
		if (rt__number(c2 + 1, (size_t) (end - c2 - 1), RT_HISTORY_MAX_SECONDS,
				&r->max_seconds) != 0) {
			snprintf(why, whylen, "max_seconds of \"%.*s\" must be from 1 to %u",
					(int) (plen > 80 ? 80 : plen), word, RT_HISTORY_MAX_SECONDS);
			return -EINVAL;
		}
		r->pattern_off = (uint16_t) used;
		memcpy(out->buf + used, word, plen);
		out->buf[used + plen] = '\0';
		used += plen + 1;
		out->count++;
	}
}

int rt_history_cache_channel(const char *channel, size_t len)
{
	static const char *const prefixes[] = { "cache-", "private-cache-", "presence-cache-" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);
		if (len > n && memcmp(channel, prefixes[i], n) == 0) {
			return 1;
		}
	}
	return 0;
}

const rt_history_rule *rt_history_rule_for(const rt_history_rules *rules, const char *channel,
		size_t len)
{
	/* pattern_off is not used: the built-in rule has no pattern text. */
	static const rt_history_rule cache = { 0, 1, RT_HISTORY_CACHE_SECONDS };

	for (uint32_t i = 0; i < rules->count && i < RT_HISTORY_RULES_MAX; i++) {
		if (rt_pattern_match(rules->buf + rules->rule[i].pattern_off, channel, len)) {
			return &rules->rule[i];
		}
	}
	return rt_history_cache_channel(channel, len) ? &cache : NULL;
}

uint64_t rt_history_rules_print(const rt_history_rules *rules)
{
	char text[sizeof(rules->buf) + RT_HISTORY_RULES_MAX * 24 + 32];
	/* The built-in cache rule is part of what a process numbers: a server
	 * built before it must not share a segment with one built after. */
	size_t n = (size_t) snprintf(text, sizeof(text), "cache:1:%u ", RT_HISTORY_CACHE_SECONDS);

	for (uint32_t i = 0; i < rules->count && i < RT_HISTORY_RULES_MAX; i++) {
		const rt_history_rule *r = &rules->rule[i];
		int w = snprintf(text + n, sizeof(text) - n, "%s:%u:%u ", rules->buf + r->pattern_off,
				r->max_messages, r->max_seconds);
		if (w < 0 || (size_t) w >= sizeof(text) - n) {
			break;
		}
		n += (size_t) w;
	}
	return rt_hash(text, n);
}
