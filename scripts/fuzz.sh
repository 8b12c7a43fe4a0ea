#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz and runs each for a set time.
#
#   scripts/fuzz.sh [--seconds N] [-j JOBS] [--logs DIR] [harness...]
#
#   --seconds N  how long each harness fuzzes (default 600); 0 only replays
#   -j JOBS      harnesses run at the same time (default 1)
#   --logs DIR   keep each harness's libFuzzer output in DIR/<harness>.log
#   harness      names as in tests/fuzz/fuzz_<name>.c (default: all)
#
# RT_FUZZ_BUILD (default tests/fuzz/build) is where binaries, the working
# corpus and crashes go, so that two runs can keep apart.
# Each harness first replays tests/fuzz/regressions/<harness>/ (inputs that
# once crashed it), then fuzzes from the committed seed corpus
# (tests/fuzz/corpus/<harness>/) plus a working corpus kept between runs in
# $RT_FUZZ_BUILD/corpus/<harness>/. A crash, leak, timeout or sanitizer
# report is saved in $RT_FUZZ_BUILD/crashes/<harness>/ and counts as a
# failure. One line per harness ("ok" or "CRASH"), then "N passed, N failed";
# the exit status is 0 only when nothing failed.
set -euo pipefail
# One group, parsed whole before it runs: editing this file while a long
# run is under way cannot change what the run does next.
{
cd "$(dirname "$0")/.."
root=$PWD
fz=$root/tests/fuzz
build=${RT_FUZZ_BUILD:-$fz/build}
[[ $build == /* ]] || build=$root/$build

seconds=600
jobs=1
logs=
harnesses=()
while (($#)); do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    --logs) logs=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    -*) echo "usage: $0 [--seconds N] [-j JOBS] [--logs DIR] [harness...]" >&2; exit 2 ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $jobs =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds and -j take numbers" >&2; exit 2; }
if ((${#harnesses[@]} == 0)); then
  read -r -a harnesses <<<"$(make --no-print-directory -s -C "$fz" list)"
fi
for h in "${harnesses[@]}"; do
  [[ -f $fz/fuzz_$h.c ]] || { echo "fuzz: no harness $h (tests/fuzz/fuzz_$h.c)" >&2; exit 2; }
done

echo "fuzz: building ${#harnesses[@]} harness(es)"
targets=()
for h in "${harnesses[@]}"; do targets+=("$build/fuzz_$h"); done
if ! make --no-print-directory -s -C "$fz" B="$build" -j"$(nproc)" "${targets[@]}"; then
  echo "fuzz: the build failed"
  echo "0 passed, ${#harnesses[@]} failed"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[[ -z $logs ]] || mkdir -p "$logs"

# Inputs larger than libFuzzer's default (4096) where the attack needs them.
max_len() {
  case $1 in
    token|http|decode) echo 20000 ;;
    *) echo 8192 ;;
  esac
}

# run_one HARNESS: writes its summary line to $tmp/HARNESS.result
run_one() {
  local h=$1 bin=$build/fuzz_$h log=$tmp/$h.log status=ok why=
  local work=$build/corpus/$h crashes=$build/crashes/$h/
  mkdir -p "$work" "$crashes"
  local -a regressions=()
  if [[ -d $fz/regressions/$h ]]; then
    mapfile -t regressions < <(find "$fz/regressions/$h" -type f | sort)
  fi
  {
    echo "== $h: replaying ${#regressions[@]} regression input(s)"
    if ((${#regressions[@]})); then
      "$bin" -runs=1 "${regressions[@]}" 2>&1
    fi
  } >"$log" 2>&1 || { status=CRASH; why="a regression input fails"; }
  if [[ $status == ok ]] && ((seconds > 0)); then
    echo "== $h: fuzzing for $seconds s" >>"$log"
    "$bin" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 \
      -max_len="$(max_len "$h")" -print_final_stats=1 -artifact_prefix="$crashes" \
      "$work" "$fz/corpus/$h" >>"$log" 2>&1 || { status=CRASH; why="see $crashes"; }
  fi
  local runs secs execs rate cov ft
  runs=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\1/p' "$log" | tail -1)
  secs=$(sed -nE 's/^Done ([0-9]+) runs in ([0-9]+) second.*/\2/p' "$log" | tail -1)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  cov=$(grep -oE ' cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  ft=$(grep -oE ' ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  local line
  line=$(printf '%-11s %-5s runs %s in %s s, execs %s (%s/s), cov %s, ft %s' "$h" "$status" \
    "${runs:-0}" "${secs:-0}" "${execs:-0}" "${rate:-0}" "${cov:-?}" "${ft:-?}")
  [[ -z $why ]] || line+=" ($why)"
  echo "$line" >"$tmp/$h.result"
  if [[ -n $logs ]]; then cp "$log" "$logs/$h.log"; fi
  if [[ $status != ok ]]; then
    grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz:|artifact_prefix|Test unit written)' "$log" | head -20 >>"$tmp/$h.result" || true
  fi
}

running=0
for h in "${harnesses[@]}"; do
  if ((running >= jobs)); then
    wait -n || true
    running=$((running - 1))
  fi
  run_one "$h" &
  running=$((running + 1))
done
wait || true

pass=0 fail=0
for h in "${harnesses[@]}"; do
  if [[ -f $tmp/$h.result ]]; then
    cat "$tmp/$h.result"
    if [[ $(head -1 "$tmp/$h.result") == *" ok "* ]]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
  else
    echo "$h CRASH (no result: the runner itself failed)"
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
((fail == 0))
exit
}
