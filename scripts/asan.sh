#!/usr/bin/env bash
# Run a command against the ASan + UBSan build (scripts/build.sh --asan),
# then fail if any sanitizer report was written.
#
#   scripts/asan.sh LOGDIR CMD...
#
# PHP itself is not sanitized, so the sanitizer runtime is LD_PRELOADed into
# every php, php-fpm and apache2 process, through wrappers that PHP_BIN,
# PHP_FPM_BIN and APACHE_BIN (the e2e harness's variables) and TEST_PHP_EXECUTABLE
# point at. CMD itself (node, make) runs unsanitized. Any error is fatal and
# every report goes to LOGDIR/asan.PID (UBSan checks trap, and ASan reports
# the trap with its stack); leaks are checked at the exit of each process
# that loaded the extension, with tests/asan/lsan.supp naming only PHP's own
# allocations. The exit status is CMD's, or 1 when CMD succeeded but a report
# was found.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

(($# >= 2)) || { echo "usage: $0 LOGDIR CMD..." >&2; exit 2; }
logdir=$1
shift
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
rm -f "$logdir"/asan.* "$logdir"/ubsan.*

so=$root/build-asan/modules/realtime.so
[[ -f $so ]] || { echo "asan: $so not found: run scripts/build.sh --asan" >&2; exit 1; }

# The runtime the module was linked against (UBSan traps: no runtime of its own).
libasan=$(${CC:-gcc} -print-file-name=libasan.so)
[[ -e $libasan ]] || { echo "asan: libasan.so not found (${CC:-gcc} -print-file-name)" >&2; exit 1; }

# Its own directory under /tmp, open to every user: tests run some
# processes as another user (nobody), who must reach these wrappers even
# when the log directory sits in a private mktemp directory.
bin=$(mktemp -d /tmp/rt-asan-bin.XXXXXX)
chmod 755 "$bin"
trap 'rm -rf "$bin"' EXIT
ln -sfn "$bin" "$logdir/bin"   # where callers name them ($logdir/bin/php)
# Debian's PHP dlopen()s extensions with RTLD_DEEPBIND, which ASan refuses:
# a shim ahead of libasan drops the flag (hence verify_asan_link_order=0).
${CC:-gcc} -shared -fPIC -O2 -Wall -Wextra -o "$bin/nodeepbind.so" "$root/tests/asan/nodeepbind.c" ||
  { echo "asan: cannot build tests/asan/nodeepbind.c" >&2; exit 1; }
preload="$bin/nodeepbind.so $(readlink -f "$libasan")"

# quarantine_size_mb: as tests/e2e/lib/sanitizer.mjs assumes for RSS bounds
export ASAN_OPTIONS="verify_asan_link_order=0:log_path=$logdir/asan:halt_on_error=1:exitcode=86:detect_leaks=1:disable_coredump=1:handle_abort=1:detect_odr_violation=0:quarantine_size_mb=64:handle_sigill=1"
export RT_SANITIZER=asan
# for a UBSan runtime, should a build use one
export UBSAN_OPTIONS="log_path=$logdir/ubsan:halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$root/tests/asan/lsan.supp:print_suppressions=0"
# Zend's allocator hides emalloc'd blocks from ASan: use malloc instead.
export USE_ZEND_ALLOC=0
# PHP dlclose()s extensions at shutdown: keep realtime.so mapped until the
# exit-time leak check, which looks for it and symbolizes its frames.
export ZEND_DONT_UNLOAD_MODULES=1
if command -v llvm-symbolizer >/dev/null; then
  ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer)
  export ASAN_SYMBOLIZER_PATH
fi

# wrap NAME REAL: a script that runs REAL with the runtime preloaded
wrap() {
  local real
  real=$(command -v "$2") || { echo "asan: $2 not found" >&2; exit 1; }
  cat >"$bin/$1" <<EOF
#!/bin/sh
LD_PRELOAD="$preload\${LD_PRELOAD:+ \$LD_PRELOAD}" exec "$real" "\$@"
EOF
  chmod +x "$bin/$1"
}
wrap php "${PHP_BIN:-php}"
wrap php-fpm "${PHP_FPM_BIN:-/usr/sbin/php-fpm8.2}"
wrap apache2 "${APACHE_BIN:-/usr/sbin/apache2}"

export REALTIME_EXTENSION=$so
export PHP_BIN=$bin/php PHP_FPM_BIN=$bin/php-fpm APACHE_BIN=$bin/apache2
export TEST_PHP_EXECUTABLE=$bin/php

"$@"
rc=$?

# A report anywhere fails the run, whatever CMD's status said.
reports=$(find "$logdir" -maxdepth 1 -type f \( -name 'asan.*' -o -name 'ubsan.*' \) -size +0 | sort)
if [[ -n $reports ]]; then
  echo "asan: $(wc -l <<<"$reports") sanitizer report(s):"
  for f in $reports; do
    echo "---- $f"
    head -c 20000 "$f"
  done
  ((rc != 0)) || rc=1
else
  echo "asan: no sanitizer reports"
fi
exit "$rc"
