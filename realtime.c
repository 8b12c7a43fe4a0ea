/* Module entry: INI settings, lifecycle hooks and phpinfo(). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "php.h"
#include "php_ini.h"
#include "SAPI.h"
#include "ext/standard/info.h"
#include "ext/spl/spl_exceptions.h"

#include "php_realtime.h"
#include "ext/lifecycle.h"
#include "ext/hubs.h"
#include "stubs/realtime_arginfo.h"

zend_class_entry *realtime_ce_exception;

/* Room for every row of rt_settings (MINIT refuses to start otherwise). */
#define RT_SETTING_COUNT 64
static zend_ini_entry_def rt__ini_defs[RT_SETTING_COUNT + 1];
static char rt__ini_names[RT_SETTING_COUNT][48];

/* Refuses a value the hub could not run with (php_admin_value in an FPM pool). */
static ZEND_INI_MH(rt__on_modify)
{
	rt_config scratch;
	char err[256];
	const char *name = ZSTR_VAL(entry->name) + sizeof("realtime.") - 1;

	(void) mh_arg1; (void) mh_arg2; (void) mh_arg3; (void) stage;
	rt_config_defaults(&scratch);
	if (rt_config_set(&scratch, name, ZSTR_VAL(new_value), err, sizeof(err)) != 0) {
		php_error_docref(NULL, E_WARNING, "%s", err);
		return FAILURE;
	}
	return SUCCESS;
}

/* phpinfo() pages leak (a forgotten debug page, a support ticket): the
 * credentials show only whether they are set. ini_get() still reads them. */
static ZEND_INI_DISP(rt__display_hidden)
{
	zend_string *v = type == ZEND_INI_DISPLAY_ORIG && ini_entry->modified
			? ini_entry->orig_value : ini_entry->value;

	if (v != NULL && ZSTR_LEN(v) > 0) {
		PUTS("********");
	} else if (!sapi_module.phpinfo_as_text) {
		PUTS("<i>no value</i>");
	} else {
		PUTS("no value");
	}
}

static bool rt__is_credential(const char *name)
{
	static const char *const hidden[] = {"secret", "redis_password", "app_secret",
		"publish_key", "metrics_key", "mercure_publisher_key", "mercure_subscriber_key", NULL};

	for (int i = 0; hidden[i]; i++) {
		if (strcmp(name, hidden[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* The INI table is built from hub/model/config.c's list, the one place that
 * names every setting and its default. */
static zend_result rt__build_ini_defs(void)
{
	int i = 0;

	for (const rt_setting *s = rt_settings; s->name && i < RT_SETTING_COUNT; s++, i++) {
		zend_ini_entry_def *d = &rt__ini_defs[i];
		int n = snprintf(rt__ini_names[i], sizeof(rt__ini_names[i]), "realtime.%s", s->name);
		memset(d, 0, sizeof(*d));
		d->name = rt__ini_names[i];
		d->name_length = (uint16_t) n;
		d->value = s->default_value;
		d->value_length = (uint32_t) strlen(s->default_value);
		d->on_modify = rt__on_modify;
		d->modifiable = PHP_INI_SYSTEM;
		d->displayer = rt__is_credential(s->name) ? rt__display_hidden : NULL;
	}
	memset(&rt__ini_defs[i], 0, sizeof(rt__ini_defs[i]));
	return rt_settings[i].name == NULL ? SUCCESS : FAILURE;
}

/* A bad value in php.ini or -d would otherwise fall back to the default
 * unnoticed: refuse to start instead, naming the setting and the value. */
static zend_result rt__check_configured_values(void)
{
	rt_config scratch;
	char err[256];

	rt_config_defaults(&scratch);
	for (const rt_setting *s = rt_settings; s->name; s++) {
		char name[64];
		size_t n = (size_t) snprintf(name, sizeof(name), "realtime.%s", s->name);
		zend_string *key = zend_string_init(name, n, 0);
		zval *v = zend_get_configuration_directive(key);
		zend_string_release(key);
		if (v != NULL && Z_TYPE_P(v) == IS_STRING
				&& rt_config_set(&scratch, s->name, Z_STRVAL_P(v), err, sizeof(err)) != 0) {
			zend_error(E_CORE_WARNING, "realtime: %s", err);
			return FAILURE;
		}
	}
	return SUCCESS;
}

PHP_MINIT_FUNCTION(realtime)
{
	(void) type;
	if (rt__build_ini_defs() == FAILURE) {
		zend_error(E_CORE_WARNING, "realtime: more settings than RT_SETTING_COUNT");
		return FAILURE;
	}
	if (rt__check_configured_values() == FAILURE) {
		return FAILURE;
	}
	if (zend_register_ini_entries(rt__ini_defs, module_number) == FAILURE) {
		return FAILURE;
	}
	realtime_ce_exception = register_class_Realtime_Exception(spl_ce_RuntimeException);
	if (rt_mercure_function_register() == FAILURE) {
		return FAILURE;
	}
	return rt_lifecycle_minit();
}

PHP_MSHUTDOWN_FUNCTION(realtime)
{
	rt_lifecycle_mshutdown();
	UNREGISTER_INI_ENTRIES();
	return SUCCESS;
}

PHP_RINIT_FUNCTION(realtime)
{
	(void) type;
	(void) module_number;
#if defined(ZTS) && defined(COMPILE_DL_REALTIME)
	ZEND_TSRMLS_CACHE_UPDATE();
#endif
	rt_lifecycle_rinit();
	return SUCCESS;
}

PHP_MINFO_FUNCTION(realtime)
{
	rt_hub *hub;
	rt_hub_stats stats;
	rt_config *hub_cfg = emalloc(sizeof(*hub_cfg));
	char buf[64];

	/* Copied out: printing may bail out, which must not happen between
	 * enter and leave. */
	rt_lifecycle_enter();
	hub = rt_lifecycle_hub();
	if (hub != NULL) {
		*hub_cfg = *rt_hub_config(hub);
		rt_hub_stats_get(hub, &stats);
	}
	rt_lifecycle_leave();
	php_info_print_table_start();
	php_info_print_table_row(2, "realtime support", "enabled");
	php_info_print_table_row(2, "Version", PHP_REALTIME_VERSION);
	if (hub != NULL) {
		const rt_config *cfg = hub_cfg;
		php_info_print_table_row(2, "Hub", "running");
		snprintf(buf, sizeof(buf), "%d", stats.pid);
		php_info_print_table_row(2, "Hub pid", buf);
		snprintf(buf, sizeof(buf), "%s:%d%s", cfg->host, cfg->port, cfg->path);
		php_info_print_table_row(2, "Hub address", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long) stats.connections);
		php_info_print_table_row(2, "Connections", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long) stats.channels);
		php_info_print_table_row(2, "Channels", buf);
	} else {
		char why[256];
		php_info_print_table_row(2, "Hub", rt_lifecycle_last_error(why, sizeof(why)) ? why
				: "not running in this process (server workers start one when they start)");
	}
	efree(hub_cfg);
	/* The whole pool, from a worker or from `php --ri realtime` on the
	 * server's host (a CLI of the pool's user reads the segment's slots). */
	rt_hubs_info_row();
	{
		rt_config cfg;
		char err[256], seg[700];
		if (rt_lifecycle_read_config(&cfg, err, sizeof(err)) == 0
				&& strcmp(cfg.broker, "memory") == 0) {
			rt_broker_memory_describe(&cfg, seg, sizeof(seg));
			php_info_print_table_row(2, "Shared memory segment", seg);
		}
		if (rt_lifecycle_read_config(&cfg, err, sizeof(err)) == 0
				&& strcmp(cfg.broker, "redis") == 0) {
			const rt_broker_ops *ops;
			rt_broker_stats st = {0};
			rt_broker *b;
			rt_lifecycle_enter();
			b = rt_lifecycle_broker(&ops, err, sizeof(err));
			if (b != NULL && ops->stats != NULL) {
				ops->stats(b, &st);
			}
			rt_lifecycle_leave();
			snprintf(seg, sizeof(seg), "handed to the hub %llu, failed %llu, dropped %llu, "
					"waiting %llu (redis_publish_*)",
					(unsigned long long) st.redis_publish_handed,
					(unsigned long long) st.redis_publish_failed,
					(unsigned long long) st.redis_publish_dropped,
					(unsigned long long) st.redis_publish_waiting);
			php_info_print_table_row(2, "Redis publishes", seg);
			php_info_print_table_row(2, "Redis", st.broker_connected ? "connected" : "down");
		}
	}
	rt_hubs_detail_rows();
	{
		uint64_t handed_off, taken_over, handoff_closed;
		rt_hub_handoff_totals(&handed_off, &taken_over, &handoff_closed);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long) handed_off);
		php_info_print_table_row(2, "Connections handed off", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long) taken_over);
		php_info_print_table_row(2, "Connections taken over", buf);
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long) handoff_closed);
		php_info_print_table_row(2, "Connections closed for lack of a taker", buf);
	}
	php_info_print_table_end();
	DISPLAY_INI_ENTRIES();
}

zend_module_entry realtime_module_entry = {
	STANDARD_MODULE_HEADER,
	"realtime",
	ext_functions,
	PHP_MINIT(realtime),
	PHP_MSHUTDOWN(realtime),
	PHP_RINIT(realtime),
	NULL,
	PHP_MINFO(realtime),
	PHP_REALTIME_VERSION,
	STANDARD_MODULE_PROPERTIES
};

#ifdef COMPILE_DL_REALTIME
#ifdef ZTS
ZEND_TSRMLS_CACHE_DEFINE()
#endif
ZEND_GET_MODULE(realtime)
#endif
