#ifndef PHP_REALTIME_H
#define PHP_REALTIME_H

extern zend_module_entry realtime_module_entry;
#define phpext_realtime_ptr &realtime_module_entry

#define PHP_REALTIME_VERSION "0.1.0"

#if defined(ZTS) && defined(COMPILE_DL_REALTIME)
ZEND_TSRMLS_CACHE_EXTERN()
#endif

extern zend_class_entry *realtime_ce_exception;

#endif
