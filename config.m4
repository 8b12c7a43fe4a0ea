dnl config.m4 for the realtime extension

PHP_ARG_ENABLE([realtime],
  [whether to enable the realtime WebSocket hub],
  [AS_HELP_STRING([--enable-realtime], [Enable the realtime extension])],
  [no])

dnl RT_REQUIRE_PKG(pkg-config name, header, library, function, Debian package)
dnl pkg-config first; where a package ships no .pc file, look for the header
dnl and the library directly.
AC_DEFUN([RT_REQUIRE_PKG], [
  rt_found=no
  if test -n "$PKG_CONFIG" && test -n "$1" && $PKG_CONFIG --exists "$1" 2>/dev/null; then
    rt_cflags=`$PKG_CONFIG --cflags "$1"`
    rt_libs=`$PKG_CONFIG --libs "$1"`
    PHP_EVAL_INCLINE([$rt_cflags])
    PHP_EVAL_LIBLINE([$rt_libs], [REALTIME_SHARED_LIBADD])
    rt_found=yes
  else
    AC_CHECK_HEADER([$2], [
      PHP_CHECK_LIBRARY([$3], [$4], [
        PHP_ADD_LIBRARY([$3], 1, [REALTIME_SHARED_LIBADD])
        rt_found=yes
      ])
    ])
  fi
  if test "$rt_found" != "yes"; then
    AC_MSG_ERROR([$2 (lib$3) not found: install the Debian package $5 (apt-get install $5)])
  fi
])

if test "$PHP_REALTIME" != "no"; then
  PKG_PROG_PKG_CONFIG

  RT_REQUIRE_PKG([libuv >= 1.44], [uv.h], [uv], [uv_loop_init], [libuv1-dev])
  RT_REQUIRE_PKG([], [wslay/wslay.h], [wslay], [wslay_event_context_server_init], [libwslay-dev])
  RT_REQUIRE_PKG([], [http_parser.h], [http_parser], [http_parser_init], [libhttp-parser-dev])
  RT_REQUIRE_PKG([jansson], [jansson.h], [jansson], [json_loadb], [libjansson-dev])
  RT_REQUIRE_PKG([hiredis], [hiredis/hiredis.h], [hiredis], [redisConnect], [libhiredis-dev])
  RT_REQUIRE_PKG([libcrypto], [openssl/sha.h], [crypto], [SHA1], [libssl-dev])
  RT_REQUIRE_PKG([libcurl], [curl/curl.h], [curl], [curl_multi_socket_action], [libcurl4-openssl-dev])

  PHP_ADD_LIBRARY([pthread], 1, [REALTIME_SHARED_LIBADD])
  PHP_SUBST([REALTIME_SHARED_LIBADD])

  REALTIME_SOURCES="realtime.c \
    broker/broker.c \
    broker/memory.c \
    broker/pool.c \
    broker/redis.c \
    broker/redis_reader.c \
    broker/redis_uv.c \
    broker/remote.c \
    ext/functions.c \
    ext/lifecycle.c \
    hub/api.c \
    hub/auth.c \
    hub/buf.c \
    hub/channel.c \
    hub/config.c \
    hub/conn.c \
    hub/frame.c \
    hub/http.c \
    hub/http_client.c \
    hub/hub.c \
    hub/identity.c \
    hub/log.c \
    hub/map.c \
    hub/msg.c \
    hub/native.c \
    hub/presence.c \
    hub/proto.c \
    hub/publish_api.c \
    hub/pusher.c \
    hub/pusher_api.c \
    hub/query.c \
    hub/session.c \
    hub/token.c \
    hub/view.c \
    hub/webhook.c"

  PHP_NEW_EXTENSION([realtime], [$REALTIME_SOURCES], [$ext_shared],,
    [-DZEND_ENABLE_STATIC_TSRMLS_CACHE=1 -I@ext_srcdir@])
  PHP_ADD_INCLUDE([$ext_srcdir])
  PHP_ADD_BUILD_DIR([$ext_builddir/ext], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/broker], 1)
fi
