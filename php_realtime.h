#ifndef PHP_REALTIME_H
#define PHP_REALTIME_H

extern zend_module_entry realtime_module_entry;
#define phpext_realtime_ptr &realtime_module_entry

#define PHP_REALTIME_VERSION "0.1.0"

#if defined(ZTS) && defined(COMPILE_DL_REALTIME)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

extern zend_class_entry *realtime_ce_exception;

/* Defines mercure_publish() (ext/functions.c) when realtime.mercure_function
 * is on and no other extension or SAPI (FrankenPHP) has defined it. */
zend_result rt_mercure_function_register(void);

#endif
