#!/usr/bin/env bash
# Keeps the source lists of config.m4 and config.w32 equal to the C files in
# the tree (hub/ and its layer folders included). With --check, changes
# nothing and fails when they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[[ ${1:-} == --check ]] && check=1

files=(realtime.c $(find ext hub broker -name '*.c' | LC_ALL=C sort))
m4_list=$(printf '%s \\\n    ' "${files[@]}")
m4_list=${m4_list% \\$'\n'    }
# Every folder holding sources gets a build directory (out-of-tree builds).
all_dirs=$(printf '%s\n' "${files[@]}" | sed -n 's|/[^/]*$||p' | LC_ALL=C sort -u)
dirs=$(grep '^ext' <<<"$all_dirs"; grep '^hub' <<<"$all_dirs"; grep '^broker' <<<"$all_dirs")
m4_dirs=$(for d in $dirs; do printf '  PHP_ADD_BUILD_DIR([$ext_builddir/%s], 1)\n' "$d"; done)

want_m4=$(awk -v list="$m4_list" -v dirs="$m4_dirs" '
  /^  REALTIME_SOURCES="/ { print "  REALTIME_SOURCES=\"" list "\""; skip = 1; next }
  skip && /"$/ { skip = 0; next }
  skip { next }
  /^  PHP_ADD_BUILD_DIR\(/ { if (!done) print dirs; done = 1; next }
  { print }' config.m4)

w32_lines=$(for d in $dirs; do
  names=$(cd "$d" && ls *.c | LC_ALL=C sort | tr '\n' ' ')
  printf '\t\tADD_SOURCES(configure_module_dirname + "/%s", "%s", "realtime");\n' "$d" "${names% }"
done)
want_w32=$(awk -v lines="$w32_lines" '
  /ADD_SOURCES\(configure_module_dirname \+ "\// { if (!done) print lines; done = 1; next }
  { print }' config.w32)

if ((check)); then
  status=0
  [[ $want_m4 == "$(cat config.m4)" ]] || { echo "config.m4 does not list the C files of the tree: run scripts/sync-sources.sh" >&2; status=1; }
  [[ $want_w32 == "$(cat config.w32)" ]] || { echo "config.w32 does not list the C files of the tree: run scripts/sync-sources.sh" >&2; status=1; }
  exit $status
fi
printf '%s\n' "$want_m4" > config.m4
printf '%s\n' "$want_w32" > config.w32
