#include "hub/proto/proto.h"

const rt_proto_ops *rt_proto(int proto)
{
	return proto == RT_PROTO_PUSHER ? &rt_proto_pusher
			: proto == RT_PROTO_NATIVE_SSE ? &rt_proto_native_sse
			: proto == RT_PROTO_MERCURE ? &rt_proto_mercure : &rt_proto_native;
}
