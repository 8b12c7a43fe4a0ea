#!/usr/bin/env bash
# The one test command: installs deps, builds, runs every suite.
#
#   scripts/test.sh              every suite below
#   scripts/test.sh unit|phpt|e2e ...   only those suites
#   scripts/test.sh asan         phpt and e2e again on the ASan + UBSan build
#                                (scripts/build.sh --asan, scripts/asan.sh)
#   scripts/test.sh fuzz         every libFuzzer harness briefly, regressions
#                                replayed (tests/fuzz, docs/fuzzing.md)
#   scripts/test.sh conformance  RFC 6455 cases against an echo testee built
#                                from hub/ (tests/conformance, docs/conformance.md)
#   scripts/test.sh zts          on a thread-safe PHP built from Debian's source
#                                (scripts/zts-php.sh, cached outside the clone):
#                                phpt on its CLI, tests/zts's thread stress
#                                harness under ThreadSanitizer, and Apache's
#                                event MPM with its mod_php (docs/threads.md)
#
# No test skips: a skipped test counts as a failure (scripts/deps.sh installs
# everything every test needs). A node:test `todo` test is optional: it runs,
# and its count shows as "todo (optional): N" without failing the run.
#
# Every suite runs even if another failed. The last line is the total,
# "N passed, N failed"; the exit status is 0 only if nothing failed and at
# least one test ran. A suite whose command fails without any failing test
# being counted (compile error, crash, timeout) counts as one failure.
# RT_SUITE_TIMEOUT (seconds, default 1500) bounds each suite when stdin is
# not a terminal (CI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

all_suites=(unit phpt e2e asan conformance fuzz zts)
if (($#)); then suites=("$@"); else suites=("${all_suites[@]}"); fi
for s in "${suites[@]}"; do
  [[ " ${all_suites[*]} " == *" $s "* ]] || { echo "usage: $0 [$(IFS="|"; echo "${all_suites[*]}")]..." >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite_timeout=${RT_SUITE_TIMEOUT:-1500}

total_pass=0
total_fail=0
results=()

# record NAME PASSED FAILED [SKIPPED [TODO]]: a skip counts as a failure
# (a test that cannot run fails); the counts given are always printed
record() {
  local skip=${4:-0}
  local line="$1: $2 passed, $(($3 + skip)) failed"
  [[ -z ${4:-} ]] || line+=", $4 skipped$( ((skip == 0)) || echo ' (counted as failed)')"
  [[ -z ${5:-} ]] || line+=", todo (optional): $5"
  results+=("$line")
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3 + skip))
  echo "== $line"
}

# sum_field FILE REGEX [GROUP]: sum of the numbers that group GROUP
# (default 1) of the extended REGEX captures on matching lines
sum_field() {
  sed -nE "s/$2/\\${3:-1}/p" "$1" | awk '{ s += $1 } END { print s + 0 }'
}

# timed CMD...: run with the suite time limit (not on a terminal, where
# timeout's own process group would keep Ctrl-C from reaching CMD)
timed() {
  if [[ -t 0 ]]; then "$@"; else timeout -k 30 "$suite_timeout" "$@"; fi
}

run_unit() {
  local log=$tmp/unit.log rc
  if timed make --no-print-directory -C tests/unit 2>&1 | tee "$log"; then rc=0; else rc=${PIPESTATUS[0]}; fi
  local pass fail
  pass=$(sum_field "$log" '^# ([0-9]+) passed, [0-9]+ failed$')
  fail=$(sum_field "$log" '^# [0-9]+ passed, ([0-9]+) failed$')
  ((rc == 0 || fail > 0)) || { echo "unit: make -C tests/unit exited with status $rc"; fail=1; }
  record unit "$pass" "$fail"
}

# Replays tests/fuzz/regressions, then fuzzes each harness RT_FUZZ_SECONDS
# (default 10), two at a time; one pass or failure per harness.
run_fuzz() {
  local log=$tmp/fuzz.log rc
  if timed bash scripts/fuzz.sh --seconds "${RT_FUZZ_SECONDS:-10}" -j2 2>&1 | tee "$log"; then rc=0; else rc=${PIPESTATUS[0]}; fi
  local pass fail
  pass=$(sum_field "$log" '^([0-9]+) passed, [0-9]+ failed$')
  fail=$(sum_field "$log" '^[0-9]+ passed, ([0-9]+) failed$')
  ((rc == 0 || fail > 0)) || { echo "fuzz: scripts/fuzz.sh exited with status $rc"; fail=1; }
  record fuzz "$pass" "$fail"
}

run_phpt() {
  if ! compgen -G 'tests/phpt/*.phpt' >/dev/null; then
    echo "phpt: no tests in tests/phpt, skipping"
    record phpt 0 0
    return
  fi
  local log=$tmp/phpt.log rc=0
  NO_INTERACTION=1 REPORT_EXIT_STATUS=1 NO_COLOR=1 \
    timed make test TESTS="-q --show-diff -j2 tests/phpt" >"$log" 2>&1 || rc=$?
  local pass fail skip
  pass=$(sum_field "$log" '^Tests passed +: +([0-9]+).*')
  fail=$(sum_field "$log" '^Tests (failed|borked|leaked) +: +([0-9]+).*' 2)
  skip=$(sum_field "$log" '^Tests skipped +: +([0-9]+).*')
  ((rc == 0 || fail > 0)) || { echo "phpt: make test exited with status $rc"; fail=1; }
  if ((fail > 0)); then
    cat "$log"
  else
    grep -E '^(Tests|Number of tests|Expected fail)' "$log" || true
  fi
  record phpt "$pass" "$fail" "$skip"
}

run_e2e() {
  local files
  files=$(find tests/e2e -name node_modules -prune -o -name '*.test.mjs' -print 2>/dev/null)
  if [[ -z $files ]]; then
    echo "e2e: no tests/e2e/*.test.mjs files, skipping"
    record e2e 0 0
    return
  fi
  local log=$tmp/e2e.log rc
  if timed node --test --test-reporter=tap tests/e2e/ 2>&1 | tee "$log"; then rc=0; else rc=${PIPESTATUS[0]}; fi
  local pass fail skip todo
  pass=$(sum_field "$log" '^# pass ([0-9]+)$')
  fail=$(sum_field "$log" '^# (fail|cancelled) ([0-9]+)$' 2)
  skip=$(sum_field "$log" '^# skipped ([0-9]+)$')
  todo=$(sum_field "$log" '^# todo ([0-9]+)$')
  ((rc == 0 || fail > 0)) || { echo "e2e: node --test exited with status $rc"; fail=1; }
  record e2e "$pass" "$fail" "$skip" "$todo"
}

# The phpt and e2e suites again, on build-asan/modules/realtime.so (ASan +
# UBSan) with the runtimes preloaded into every php, php-fpm and apache2
# (scripts/asan.sh). A sanitizer report (error or leak) is one more failure.
run_asan() {
  echo "asan: scripts/build.sh --asan"
  timed bash scripts/build.sh --asan || { record asan-build 0 1; return; }
  local dir=$tmp/asan log rc pass fail skip todo reports

  log=$tmp/asan-phpt.log rc=0
  NO_INTERACTION=1 REPORT_EXIT_STATUS=1 NO_COLOR=1 \
    timed bash scripts/asan.sh "$dir/phpt" make --no-print-directory -C build-asan test \
    PHP_EXECUTABLE="$dir/phpt/bin/php" TESTS="-q --show-diff -j2 $root/tests/phpt" >"$log" 2>&1 || rc=$?
  pass=$(sum_field "$log" '^Tests passed +: +([0-9]+).*')
  fail=$(sum_field "$log" '^Tests (failed|borked|leaked) +: +([0-9]+).*' 2)
  skip=$(sum_field "$log" '^Tests skipped +: +([0-9]+).*')
  reports=$(sum_field "$log" '^asan: ([0-9]+) sanitizer report.*')
  fail=$((fail + reports))
  ((rc == 0 || fail > 0)) || { echo "asan phpt: exited with status $rc"; fail=1; }
  if ((fail > 0)); then cat "$log"; else grep -E '^(Tests|Number of tests|asan:)' "$log" || true; fi
  record asan-phpt "$pass" "$fail" "$skip"

  # package.test.mjs builds and installs its own (unsanitized) extension;
  # handoff-scaling.test.mjs and handoff-many.test.mjs run FPM workers that
  # FPM culls (SIGQUIT; the latter an ondemand worker idle for 1 s), and
  # each such worker's exit leaks 72 bytes php-fpm itself allocated (an
  # unsymbolized frame of the stripped php-fpm binary, no frame of ours),
  # which LeakSanitizer cannot be told apart from ours by a suppression
  local files
  mapfile -t files < <(find tests/e2e -maxdepth 1 -name '*.test.mjs' ! -name package.test.mjs \
    ! -name handoff-scaling.test.mjs ! -name handoff-many.test.mjs | sort)
  log=$tmp/asan-e2e.log
  if timed bash scripts/asan.sh "$dir/e2e" node --test --test-reporter=tap "${files[@]}" 2>&1 | tee "$log"; then rc=0; else rc=${PIPESTATUS[0]}; fi
  pass=$(sum_field "$log" '^# pass ([0-9]+)$')
  fail=$(sum_field "$log" '^# (fail|cancelled) ([0-9]+)$' 2)
  skip=$(sum_field "$log" '^# skipped ([0-9]+)$')
  todo=$(sum_field "$log" '^# todo ([0-9]+)$')
  reports=$(sum_field "$log" '^asan: ([0-9]+) sanitizer report.*')
  fail=$((fail + reports))
  ((rc == 0 || fail > 0)) || { echo "asan e2e: exited with status $rc"; fail=1; }
  record asan-e2e "$pass" "$fail" "$skip" "$todo"
}

# WebSocket conformance: tests/conformance's echo testee (hub/ code, ASan +
# UBSan) driven over raw sockets by node --test.
run_conformance() {
  local log=$tmp/conformance.log rc
  if ! timed make --no-print-directory -C tests/conformance >"$tmp/conformance-build.log" 2>&1; then
    cat "$tmp/conformance-build.log"
    record conformance 0 1
    return
  fi
  if timed node --test --test-reporter=tap tests/conformance/ 2>&1 | tee "$log"; then rc=0; else rc=${PIPESTATUS[0]}; fi
  local pass fail skip todo
  pass=$(sum_field "$log" '^# pass ([0-9]+)$')
  fail=$(sum_field "$log" '^# (fail|cancelled) ([0-9]+)$' 2)
  skip=$(sum_field "$log" '^# skipped ([0-9]+)$')
  todo=$(sum_field "$log" '^# todo ([0-9]+)$')
  ((rc == 0 || fail > 0)) || { echo "conformance: node --test exited with status $rc"; fail=1; }
  record conformance "$pass" "$fail" "$skip" "$todo"
}

# A free TCP port on 127.0.0.1 (the kernel's pick, released at once).
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

# Thread safety on a ZTS PHP (docs/threads.md): scripts/zts-php.sh builds
# it once (6 to 10 minutes cold on 2 cores, seconds when cached), then
#   zts-phpt    the phpt suite on its CLI (build-zts/)
#   zts-stress  tests/zts/stress.c: PHP threads of one process broadcasting,
#               querying, stopping and starting the hub at once, with a
#               client counting deliveries; ThreadSanitizer (build-zts-tsan/),
#               a report counts as a failure. Four runs: the memory broker
#               in a lone process, the same as a FrankenPHP server (the
#               pool's shared ring), the redis broker, and Redis unreachable
#               (state changes wait in the hub across stop() and start())
#   zts-apache  tests/zts/apache-event.test.mjs: Apache's event MPM with
#               the ZTS mod_php, the pool scenarios of prefork
run_zts() {
  local log=$tmp/zts-build.log rc prefix
  if ! timed bash scripts/zts-php.sh >"$log" 2>&1; then
    cat "$log"
    record zts-build 0 1
    return
  fi
  cat "$log"
  prefix=$(bash scripts/zts-php.sh --prefix)

  log=$tmp/zts-phpt.log rc=0
  NO_INTERACTION=1 REPORT_EXIT_STATUS=1 NO_COLOR=1 \
    timed make --no-print-directory -C build-zts test PHP_EXECUTABLE="$prefix/bin/php" \
    TESTS="-q --show-diff -j2 $root/tests/phpt" >"$log" 2>&1 || rc=$?
  local pass fail skip todo reports
  pass=$(sum_field "$log" '^Tests passed +: +([0-9]+).*')
  fail=$(sum_field "$log" '^Tests (failed|borked|leaked) +: +([0-9]+).*' 2)
  skip=$(sum_field "$log" '^Tests skipped +: +([0-9]+).*')
  ((rc == 0 || fail > 0)) || { echo "zts phpt: make test exited with status $rc"; fail=1; }
  if ((fail > 0)); then cat "$log"; else grep -E '^(PHP +:|Tests|Number of tests)' "$log" || true; fi
  record zts-phpt "$pass" "$fail" "$skip"

  pass=0 fail=0
  if ! make --no-print-directory -C tests/zts PREFIX="$prefix" >"$tmp/zts-harness.log" 2>&1; then
    cat "$tmp/zts-harness.log"
    fail=1
  else
    local redis_port redis_pid run
    for run in memory frankenphp redis redis-away; do
      local port
      port=$(free_port)
      local args=("$root/build-zts-tsan/modules/realtime.so" "$port") out=$tmp/zts-stress-$run.out
      redis_pid=
      if [[ $run == redis ]]; then
        redis_port=$(free_port)
        redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$tmp/redis.log" 2>&1 &
        redis_pid=$!
        local deadline=$((SECONDS + 10))
        until redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; do
          ((SECONDS < deadline)) || { echo "zts stress: redis-server did not answer"; break; }
          sleep 0.1
        done
        args+=("redis=127.0.0.1:$redis_port")
      fi
      [[ $run != frankenphp ]] || args+=(sapi=frankenphp)
      [[ $run != redis-away ]] || args+=("redis=127.0.0.1:$(free_port)" redis-away)
      echo "zts stress ($run): tests/zts/build/stress ${args[*]}"
      rc=0
      TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1" \
        timed tests/zts/build/stress "${args[@]}" >"$out" 2>"$out.err" || rc=$?
      [[ -z $redis_pid ]] || { kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null || true; }
      rm -f /dev/shm/realtime."$port".*  # the pool's segment outlives its server by design
      local p f
      p=$(sum_field "$out" '^([0-9]+) passed, [0-9]+ failed$')
      f=$(sum_field "$out" '^[0-9]+ passed, ([0-9]+) failed$')
      reports=$(grep -c '^WARNING: ThreadSanitizer' "$out.err" || true)
      grep -E '^(ok|not ok)' "$out" | sed 's/^/  /'
      if ((f > 0 || reports > 0)); then cat "$out.err"; fi
      ((reports == 0)) || echo "zts stress ($run): $reports ThreadSanitizer report(s)"
      f=$((f + reports))
      ((rc == 0 || f > 0)) || { echo "zts stress ($run): exited with status $rc"; cat "$out.err"; f=1; }
      pass=$((pass + p)) fail=$((fail + f))
    done
  fi
  record zts-stress "$pass" "$fail"

  log=$tmp/zts-apache.log
  if RT_ZTS_MOD_PHP="$prefix/apache2/libphp.so" REALTIME_EXTENSION="$root/build-zts/modules/realtime.so" \
    PHP_BIN="$prefix/bin/php" timed node --test --test-reporter=tap tests/zts/ 2>&1 | tee "$log"; then rc=0; else rc=${PIPESTATUS[0]}; fi
  pass=$(sum_field "$log" '^# pass ([0-9]+)$')
  fail=$(sum_field "$log" '^# (fail|cancelled) ([0-9]+)$' 2)
  skip=$(sum_field "$log" '^# skipped ([0-9]+)$')
  todo=$(sum_field "$log" '^# todo ([0-9]+)$')
  ((rc == 0 || fail > 0)) || { echo "zts apache: node --test exited with status $rc"; fail=1; }
  record zts-apache "$pass" "$fail" "$skip" "$todo"
}

echo "== deps"
bash scripts/deps.sh || record deps 0 1

built=1
if [[ " ${suites[*]} " =~ " "(phpt|e2e|asan)" " ]]; then
  echo "== build"
  bash scripts/build.sh || { built=0; record build 0 1; }
fi

for s in "${suites[@]}"; do
  echo "== $s"
  if [[ $s != unit && $s != fuzz ]] && ((!built)); then
    echo "$s: not run, the build failed"
    continue
  fi
  cd "$root"
  "run_$s"
done

echo "== summary"
printf '%s\n' "${results[@]}"
echo "$total_pass passed, $total_fail failed"
((total_fail == 0 && total_pass > 0))
