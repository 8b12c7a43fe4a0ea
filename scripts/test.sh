#!/usr/bin/env bash
# The one test command: installs deps, builds, runs every suite.
#
#   scripts/test.sh              unit, phpt, e2e and fuzz
#   scripts/test.sh unit|phpt|e2e|fuzz ...   only those suites
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

all_suites=(unit phpt e2e fuzz)
if (($#)); then suites=("$@"); else suites=("${all_suites[@]}"); fi
for s in "${suites[@]}"; do
  [[ " ${all_suites[*]} " == *" $s "* ]] || { echo "usage: $0 [unit|phpt|e2e|fuzz]..." >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
suite_timeout=${RT_SUITE_TIMEOUT:-1500}

total_pass=0
total_fail=0
results=()

# record NAME PASSED FAILED [SKIPPED]
record() {
  local line="$1: $2 passed, $3 failed"
  [[ -z ${4:-} || ${4:-0} == 0 ]] || line+=", $4 skipped"
  results+=("$line")
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
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
  local pass fail skip
  pass=$(sum_field "$log" '^# pass ([0-9]+)$')
  fail=$(sum_field "$log" '^# (fail|cancelled) ([0-9]+)$' 2)
  skip=$(sum_field "$log" '^# (skipped|todo) ([0-9]+)$' 2)
  ((rc == 0 || fail > 0)) || { echo "e2e: node --test exited with status $rc"; fail=1; }
  record e2e "$pass" "$fail" "$skip"
}

echo "== deps"
bash scripts/deps.sh || record deps 0 1

built=1
if [[ " ${suites[*]} " == *" phpt "* || " ${suites[*]} " == *" e2e "* ]]; then
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
