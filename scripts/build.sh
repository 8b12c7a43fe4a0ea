#!/usr/bin/env bash
# Build modules/realtime.so in the repo root: phpize, configure, make.
# Each step reruns only when its input is newer than its output.
# CFLAGS from the environment win; otherwise warnings are turned on.
set -euo pipefail
cd "$(dirname "$0")/.."

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
fi

echo "build: make -j2"
make -j2 >/dev/null || { echo "build: make failed" >&2; exit 1; }

[[ -f modules/realtime.so ]] || { echo "build: modules/realtime.so was not produced" >&2; exit 1; }
echo "build: modules/realtime.so ok"
