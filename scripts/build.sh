#!/usr/bin/env bash
# Build modules/realtime.so in the repo root: phpize, configure, make.
# Each step reruns only when its input is newer than its output.
# CFLAGS from the environment win; otherwise warnings are turned on.
#
#   scripts/build.sh          modules/realtime.so
#   scripts/build.sh --asan   build-asan/modules/realtime.so: the same sources
#                             configured out of tree (VPATH) with ASan + UBSan,
#                             for scripts/test.sh asan; PHP is not sanitized,
#                             so the sanitizer runtimes must be LD_PRELOADed
#                             into whatever loads it (scripts/asan-env.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ${1:-} == --asan ]]; then
  [[ -x configure && -f config.m4 && ! config.m4 -nt configure ]] || bash "$0"  # phpize in the root first
  root=$PWD
  mkdir -p build-asan
  cd build-asan
  # -O1 keeps stack traces usable; _FORTIFY_SOURCE=0 because glibc's _chk
  # wrappers would hide accesses from ASan's interceptors (config.m4 then
  # adds no fortify, the other hardening flags stay on). UBSan traps: its
  # own runtime, loaded beside ASan's into PHP, loses its log_path in php
  # processes and reports on stderr only; a trap (SIGILL) is reported by
  # ASan, with the faulting line, into the log scripts/asan.sh scans.
  san="-fsanitize=address,undefined -fsanitize-undefined-trap-on-error -fno-omit-frame-pointer"
  flags="CFLAGS=-g -O1 $san -D_FORTIFY_SOURCE=0 -Wall -Wextra LDFLAGS=$san"
  if [[ ! -f Makefile || ../configure -nt Makefile || $(cat .flags 2>/dev/null) != "$flags" ]]; then
    echo "build: build-asan/ ./configure --enable-realtime (ASan + UBSan)"
    CFLAGS="-g -O1 $san -D_FORTIFY_SOURCE=0 -Wall -Wextra" LDFLAGS="$san" \
      "$root/configure" --enable-realtime --with-php-config="${PHP_CONFIG:-php-config}" >/dev/null ||
      { echo "build: configure failed; see build-asan/config.log" >&2; exit 1; }
    make clean >/dev/null
    echo "$flags" >.flags
  fi
  echo "build: build-asan/ make -j2"
  make -j2 >/dev/null || { echo "build: make failed in build-asan/" >&2; exit 1; }
  [[ -f modules/realtime.so ]] || { echo "build: build-asan/modules/realtime.so was not produced" >&2; exit 1; }
  echo "build: build-asan/modules/realtime.so ok"
  exit 0
fi

PHPIZE=${PHPIZE:-phpize}
PHP_CONFIG=${PHP_CONFIG:-php-config}

[[ -f config.m4 ]] || { echo "build: config.m4 not found in $PWD" >&2; exit 1; }

if [[ ! -x configure || config.m4 -nt configure ]]; then
  echo "build: $PHPIZE"
  # phpize chats on stderr (autoconf deprecation notes): show it only on failure
  out=$("$PHPIZE" 2>&1) || { printf '%s\n' "$out" >&2; echo "build: $PHPIZE failed" >&2; exit 1; }
fi

if [[ ! -f Makefile || configure -nt Makefile ]]; then
  echo "build: ./configure --enable-realtime"
  export CFLAGS=${CFLAGS-"-g -O2 -Wall -Wextra"}
  ./configure --enable-realtime --with-php-config="$PHP_CONFIG" >/dev/null ||
    { echo "build: configure failed; see config.log" >&2; exit 1; }
  # objects do not depend on the Makefile: new flags need a clean rebuild
  make clean >/dev/null
fi

echo "build: make -j2"
make -j2 >/dev/null || { echo "build: make failed" >&2; exit 1; }

[[ -f modules/realtime.so ]] || { echo "build: modules/realtime.so was not produced" >&2; exit 1; }
echo "build: modules/realtime.so ok"
