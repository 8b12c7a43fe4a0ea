dnl config.m4 for the realtime extension

PHP_ARG_ENABLE([realtime],
  [whether to enable the realtime WebSocket hub],
  [AS_HELP_STRING([--enable-realtime], [Enable the realtime extension])],
  [no])

PHP_ARG_ENABLE([realtime-hardening],
  [whether to build realtime with hardening flags],
  [AS_HELP_STRING([--disable-realtime-hardening],
    [Build realtime without -fstack-protector-strong, -D_FORTIFY_SOURCE=2 and -Wl,-z,relro,-z,now])],
  [yes], [no])

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

  dnl The flags Debian's own extension builds get (dpkg-buildflags). The hub
  dnl parses network input inside the PHP worker, so its memory is the
  dnl application server's memory.
  RT_HARDENING_CFLAGS=
  if test "$PHP_REALTIME_HARDENING" != "no"; then
    AC_LANG_PUSH([C])
    rt_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -fstack-protector-strong"
    AC_MSG_CHECKING([whether $CC accepts -fstack-protector-strong])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AC_MSG_RESULT([yes]); RT_HARDENING_CFLAGS="-fstack-protector-strong"],
      [AC_MSG_RESULT([no])])
    CFLAGS=$rt_save_CFLAGS

    dnl _FORTIFY_SOURCE does nothing without optimisation (glibc warns), and
    dnl defining it again over the compiler's or the user's own definition
    dnl warns too: add it only when the flags optimise and leave it unset.
    AC_MSG_CHECKING([whether to add -D_FORTIFY_SOURCE=2])
    rt_save_CFLAGS=$CFLAGS
    CFLAGS="$CPPFLAGS $CFLAGS"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#if !defined(__OPTIMIZE__) || defined(_FORTIFY_SOURCE)
#error no fortify: not optimising, or already set
#endif
]], [])],
      [AC_MSG_RESULT([yes]); RT_HARDENING_CFLAGS="$RT_HARDENING_CFLAGS -D_FORTIFY_SOURCE=2"],
      [AC_MSG_RESULT([no (no optimisation, or _FORTIFY_SOURCE already set)])])
    CFLAGS=$rt_save_CFLAGS

    rt_save_LDFLAGS=$LDFLAGS
    LDFLAGS="$LDFLAGS -Wl,-z,relro,-z,now"
    AC_MSG_CHECKING([whether the linker accepts -z relro -z now])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])],
      [AC_MSG_RESULT([yes]); REALTIME_SHARED_LIBADD="$REALTIME_SHARED_LIBADD -Wl,-z,relro,-z,now"],
      [AC_MSG_RESULT([no])])
    LDFLAGS=$rt_save_LDFLAGS
    AC_LANG_POP([C])
  fi
  PHP_SUBST([REALTIME_SHARED_LIBADD])

  REALTIME_SOURCES="realtime.c \
    broker/broker.c \
    broker/history.c \
    broker/memory.c \
    broker/pool.c \
    broker/redis.c \
    broker/redis_hist.c \
    broker/redis_reader.c \
    broker/redis_uv.c \
    broker/remote.c \
    broker/segment.c \
    ext/earlystart.c \
    ext/functions.c \
    ext/hubs.c \
    ext/lifecycle.c \
    ext/pusher_auth.c \
    hub/api/api.c \
    hub/api/client_js.c \
    hub/api/client_js_data.c \
    hub/api/mercure_api.c \
    hub/api/metrics.c \
    hub/api/publish_api.c \
    hub/api/pusher_api.c \
    hub/api/status_page.c \
    hub/auth.c \
    hub/core/session.c \
    hub/handoff.c \
    hub/hub.c \
    hub/model/config.c \
    hub/model/handoff_record.c \
    hub/model/history_rules.c \
    hub/model/identity.c \
    hub/model/jwt.c \
    hub/model/mercure_update.c \
    hub/model/msg.c \
    hub/model/presence.c \
    hub/model/query.c \
    hub/model/registry.c \
    hub/model/session_image.c \
    hub/model/token.c \
    hub/model/topic_selector.c \
    hub/model/view.c \
    hub/net/conn.c \
    hub/net/fdpass.c \
    hub/net/http_client.c \
    hub/net/limits.c \
    hub/net/longpoll.c \
    hub/net/stream.c \
    hub/polling.c \
    hub/proto/mercure.c \
    hub/proto/native.c \
    hub/proto/native_sse.c \
    hub/proto/proto.c \
    hub/proto/proto_size.c \
    hub/proto/pusher.c \
    hub/spread.c \
    hub/subscription_count.c \
    hub/util/balance.c \
    hub/util/buf.c \
    hub/util/log.c \
    hub/util/map.c \
    hub/util/siphash.c \
    hub/util/text.c \
    hub/util/utf8.c \
    hub/webhook.c \
    hub/wire/form.c \
    hub/wire/frame.c \
    hub/wire/http.c \
    hub/wire/mercure_req.c \
    hub/wire/sse.c"

  PHP_NEW_EXTENSION([realtime], [$REALTIME_SOURCES], [$ext_shared],,
    [-DZEND_ENABLE_STATIC_TSRMLS_CACHE=1 -I@ext_srcdir@ $RT_HARDENING_CFLAGS])
  PHP_ADD_INCLUDE([$ext_srcdir])
  PHP_ADD_BUILD_DIR([$ext_builddir/ext], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub/api], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub/core], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub/model], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub/net], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub/proto], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub/util], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/hub/wire], 1)
  PHP_ADD_BUILD_DIR([$ext_builddir/broker], 1)
fi
