#include "php.h"
#include "ext/standard/info.h"
#include "zend_smart_str.h"

#include "ext/hubs.h"
#include "ext/lifecycle.h"
#include "hub/util/log.h"

/* Writes at most max hubs to out, returns how many it wrote. */
static int rt__hubs_in(rt_hub_peer *out, int max)
{
	rt_hub *hub = rt_lifecycle_hub();
	const rt_broker_ops *ops;
	const rt_hub_link *link;
	rt_broker *broker;
	char err[256];
	int n;

	broker = rt_lifecycle_broker(&ops, err, sizeof(err));
	if (hub == NULL) {
		/* A CLI script sees the server's hubs through the segment. */
		n = broker != NULL && ops->peers != NULL ? ops->peers(broker, out, max) : 0;
		return n < max ? n : max;
	}
	link = broker != NULL ? ops->link(broker) : NULL;
	if (link == NULL || link->peers == NULL) {
		rt_hub_stats stats;
		rt_hub_stats_get(hub, &stats);
		out[0].node = stats.node_id;
		out[0].pid = stats.pid;
		out[0].load = (uint32_t) stats.connections;
		return 1;
	}
	n = link->peers(link->ctx, out, max);
	return n < max ? n : max;
}

static int rt__hubs(rt_hub_peer *out, int max)
{
	int n;

	rt_lifecycle_enter();
	n = rt__hubs_in(out, max);
	rt_lifecycle_leave();
	return n;
}

void rt_hubs_add_status(zval *arr)
{
	rt_hub_peer peers[256];
	int n = rt__hubs(peers, 256);
	zval list;

	array_init_size(&list, (uint32_t) n);
	for (int i = 0; i < n; i++) {
		zval h;
		array_init_size(&h, 3);
		add_assoc_long(&h, "node", (zend_long) peers[i].node);
		add_assoc_long(&h, "pid", (zend_long) peers[i].pid);
		add_assoc_long(&h, "connections", (zend_long) peers[i].load);
		add_next_index_zval(&list, &h);
	}
	add_assoc_zval(arr, "hubs", &list);
}

void rt_hubs_info_row(void)
{
	rt_hub_peer peers[256];
	int n = rt__hubs(peers, 256);
	smart_str s = {0};

	if (n == 0) {
		return;
	}
	for (int i = 0; i < n; i++) {
		smart_str_append_printf(&s, "%s%u (pid %d): %u", i ? ", " : "",
				peers[i].node, (int) peers[i].pid, peers[i].load);
	}
	smart_str_0(&s);
	php_info_print_table_row(2, "Pool hubs (node (pid): connections)", ZSTR_VAL(s.s));
	smart_str_free(&s);
}

/* One row per hub of the pool: its broker's state and its process's last
 * error and warning lines, as its slot says; without a pool, this
 * process's own lines. */
void rt_hubs_detail_rows(void)
{
	const rt_broker_ops *ops;
	char err[256], title[64];
	rt_hub_detail *d;
	rt_broker *broker;
	int n = 0;

	d = emalloc(sizeof(*d) * 256);
	rt_lifecycle_enter();
	broker = rt_lifecycle_broker(&ops, err, sizeof(err));
	if (broker != NULL && ops->details != NULL) {
		n = ops->details(broker, d, 256);
	}
	rt_lifecycle_leave();
	if (n <= 0) {
		char recent[RT_LOG_RECENT][RT_LOG_RECENT_LEN];
		int k = rt_log_recent(recent, RT_LOG_RECENT, NULL);
		smart_str s = {0};
		for (int i = 0; i < k; i++) {
			smart_str_append_printf(&s, "%s%s", i ? " | " : "", recent[i]);
		}
		smart_str_0(&s);
		php_info_print_table_row(2, "Recent errors (this process)", s.s ? ZSTR_VAL(s.s) : "none");
		smart_str_free(&s);
		efree(d);
		return;
	}
	for (int i = 0; i < n && i < 256; i++) {
		smart_str s = {0};
		smart_str_append_printf(&s, "memory ring: %llu bytes behind, %llu messages lost to overruns; "
				"recent errors: ", (unsigned long long) d[i].ring_lag,
				(unsigned long long) d[i].overruns);
		if (d[i].recent_count == 0) {
			smart_str_appends(&s, "none");
		}
		for (int k = 0; k < d[i].recent_count && k < RT_HUB_RECENT; k++) {
			smart_str_append_printf(&s, "%s%s", k ? " | " : "", d[i].recent[k]);
		}
		smart_str_0(&s);
		snprintf(title, sizeof(title), "Hub %u (pid %d)", d[i].node, d[i].pid);
		php_info_print_table_row(2, title, ZSTR_VAL(s.s));
		smart_str_free(&s);
	}
	efree(d);
}
