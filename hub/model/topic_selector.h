/* Mercure topic selectors: "*", an exact topic, or a URI template (RFC 6570
 * levels 1 to 4, as far as matching needs) that a topic must be an expansion
 * of. Matching runs in O(selector x topic) time, with no backtracking. */
#ifndef RT_HUB_TOPIC_SELECTOR_H
#define RT_HUB_TOPIC_SELECTOR_H

#include <stddef.h>

#define RT_TOPIC_SELECTOR_MAX 2048  /* bytes of a selector or a topic */

/* 1 when topic matches selector, 0 when not, -EINVAL when the selector is
 * a malformed template or either is longer than RT_TOPIC_SELECTOR_MAX. */
int rt_topic_selector_match(const char *selector, size_t slen, const char *topic, size_t tlen);

#endif
