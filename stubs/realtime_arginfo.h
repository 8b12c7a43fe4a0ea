/* This is a generated file, edit the .stub.php file instead.
 * Stub hash: fb81265adcd463cf64e5e1bcb13a29ac2a533092 */

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_broadcast, 0, 2, IS_ARRAY, 1)
	ZEND_ARG_TYPE_MASK(0, channel, MAY_BE_STRING|MAY_BE_ARRAY, NULL)
	ZEND_ARG_TYPE_INFO(0, message, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, event, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, except, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_history, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, limit, IS_LONG, 0, "100")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, since, IS_ARRAY, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_broadcastToUser, 0, 2, IS_VOID, 0)
	ZEND_ARG_TYPE_MASK(0, userId, MAY_BE_LONG|MAY_BE_STRING, NULL)
	ZEND_ARG_TYPE_INFO(0, message, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, event, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_send, 0, 2, IS_VOID, 0)
	ZEND_ARG_TYPE_INFO(0, connectionId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, message, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, event, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_disconnectUser, 0, 1, IS_VOID, 0)
	ZEND_ARG_TYPE_MASK(0, userId, MAY_BE_LONG|MAY_BE_STRING, NULL)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_getChannelUsers, 0, 1, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_getChannels, 0, 0, IS_ARRAY, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_getConnectionCount, 0, 0, IS_LONG, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_getSubscriberCount, 0, 1, IS_LONG, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_token, 0, 1, IS_STRING, 0)
	ZEND_ARG_TYPE_MASK(0, userId, MAY_BE_LONG|MAY_BE_STRING, NULL)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, options, IS_ARRAY, 0, "[]")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_pusherAuth, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, socketId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, channel, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, channelData, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_pusherUserAuth, 0, 2, IS_ARRAY, 0)
	ZEND_ARG_TYPE_INFO(0, socketId, IS_STRING, 0)
	ZEND_ARG_TYPE_INFO(0, userData, IS_STRING, 0)
ZEND_END_ARG_INFO()

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_INFO_EX(arginfo_Realtime_start, 0, 0, _IS_BOOL, 0)
ZEND_END_ARG_INFO()

#define arginfo_Realtime_stop arginfo_Realtime_start

#define arginfo_Realtime_status arginfo_Realtime_getChannels

ZEND_BEGIN_ARG_WITH_RETURN_TYPE_MASK_EX(arginfo_Realtime_broadcastConfirmed, 0, 2, MAY_BE_ARRAY|MAY_BE_TRUE)
	ZEND_ARG_TYPE_MASK(0, channel, MAY_BE_STRING|MAY_BE_ARRAY, NULL)
	ZEND_ARG_TYPE_INFO(0, message, IS_MIXED, 0)
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, event, IS_STRING, 1, "null")
	ZEND_ARG_TYPE_INFO_WITH_DEFAULT_VALUE(0, except, IS_STRING, 1, "null")
ZEND_END_ARG_INFO()


ZEND_FUNCTION(Realtime_broadcast);
ZEND_FUNCTION(Realtime_history);
ZEND_FUNCTION(Realtime_broadcastToUser);
ZEND_FUNCTION(Realtime_send);
ZEND_FUNCTION(Realtime_disconnectUser);
ZEND_FUNCTION(Realtime_getChannelUsers);
ZEND_FUNCTION(Realtime_getChannels);
ZEND_FUNCTION(Realtime_getConnectionCount);
ZEND_FUNCTION(Realtime_getSubscriberCount);
ZEND_FUNCTION(Realtime_token);
ZEND_FUNCTION(Realtime_pusherAuth);
ZEND_FUNCTION(Realtime_pusherUserAuth);
ZEND_FUNCTION(Realtime_start);
ZEND_FUNCTION(Realtime_stop);
ZEND_FUNCTION(Realtime_status);
ZEND_FUNCTION(Realtime_broadcastConfirmed);


static const zend_function_entry ext_functions[] = {
	ZEND_NS_FALIAS("Realtime", broadcast, Realtime_broadcast, arginfo_Realtime_broadcast)
	ZEND_NS_FALIAS("Realtime", history, Realtime_history, arginfo_Realtime_history)
	ZEND_NS_FALIAS("Realtime", broadcastToUser, Realtime_broadcastToUser, arginfo_Realtime_broadcastToUser)
	ZEND_NS_FALIAS("Realtime", send, Realtime_send, arginfo_Realtime_send)
	ZEND_NS_FALIAS("Realtime", disconnectUser, Realtime_disconnectUser, arginfo_Realtime_disconnectUser)
	ZEND_NS_FALIAS("Realtime", getChannelUsers, Realtime_getChannelUsers, arginfo_Realtime_getChannelUsers)
	ZEND_NS_FALIAS("Realtime", getChannels, Realtime_getChannels, arginfo_Realtime_getChannels)
	ZEND_NS_FALIAS("Realtime", getConnectionCount, Realtime_getConnectionCount, arginfo_Realtime_getConnectionCount)
	ZEND_NS_FALIAS("Realtime", getSubscriberCount, Realtime_getSubscriberCount, arginfo_Realtime_getSubscriberCount)
	ZEND_NS_FALIAS("Realtime", token, Realtime_token, arginfo_Realtime_token)
	ZEND_NS_FALIAS("Realtime", pusherAuth, Realtime_pusherAuth, arginfo_Realtime_pusherAuth)
	ZEND_NS_FALIAS("Realtime", pusherUserAuth, Realtime_pusherUserAuth, arginfo_Realtime_pusherUserAuth)
	ZEND_NS_FALIAS("Realtime", start, Realtime_start, arginfo_Realtime_start)
	ZEND_NS_FALIAS("Realtime", stop, Realtime_stop, arginfo_Realtime_stop)
	ZEND_NS_FALIAS("Realtime", status, Realtime_status, arginfo_Realtime_status)
	ZEND_NS_FALIAS("Realtime", broadcastConfirmed, Realtime_broadcastConfirmed, arginfo_Realtime_broadcastConfirmed)
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
