/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: 9a27f30a46bc106bb1fde1c05967dccdd48b6380 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_broadcast, 0, 2, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, message, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, event, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_start, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

#define arginfo_Realtime_stop arginfo_Realtime_start

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_status, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()


ZEND_FUNCTION(Realtime_broadcast);
ZEND_FUNCTION(Realtime_start);
ZEND_FUNCTION(Realtime_stop);
ZEND_FUNCTION(Realtime_status);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("Realtime", broadcast, Realtime_broadcast, arginfo_Realtime_broadcast)
	ZEND_NS_FALIAS("Realtime", start, Realtime_start, arginfo_Realtime_start)
	ZEND_NS_FALIAS("Realtime", stop, Realtime_stop, arginfo_Realtime_stop)
	ZEND_NS_FALIAS("Realtime", status, Realtime_status, arginfo_Realtime_status)
	ZEND_FE_END
};


static const zend_function_entry class_Realtime_Exception_methods[] = {
	ZEND_FE_END
};

static zend_class_entry *register_class_Realtime_Exception(zend_class_entry *class_entry_RuntimeException)
{
	zend_class_entry ce, *class_entry;

	INIT_NS_CLASS_ENTRY(ce, "Realtime", "Exception", class_Realtime_Exception_methods);
	class_entry = zend_register_internal_class_ex(&ce, class_entry_RuntimeException);

	return class_entry;
}
