#!/usr/bin/env bash
# Keeps the source lists of config.m4 and config.w32 equal to the C files in
# the tree. With --check, changes nothing and fails when they differ.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[[ ${1:-} == --check ]] && check=1

files=(realtime.c $(ls ext/*.c hub/*.c broker/*.c | sort))
m4_list=$(printf '%s \\\n    ' "${files[@]}")
m4_list=${m4_list% \\$'\n'    }

want_m4=$(awk -v list="$m4_list" '
  /^  REALTIME_SOURCES="/ { print "  REALTIME_SOURCES=\"" list "\""; skip = 1; next }
  skip && /"$/ { skip = 0; next }
  skip { next }
  { print }' config.m4)

w32_line() { # dir
  local d=$1 names
  names=$(cd "$d" && ls *.c | sort | tr '\n' ' ')
  printf '\t\tADD_SOURCES(configure_module_dirname + "/%s", "%s", "realtime");' "$d" "${names% }"
}
want_w32=$(awk -v e="$(w32_line ext)" -v h="$(w32_line hub)" -v b="$(w32_line broker)" '
  /ADD_SOURCES\(configure_module_dirname \+ "\/ext"/ { print e; next }
  /ADD_SOURCES\(configure_module_dirname \+ "\/hub"/ { print h; next }
  /ADD_SOURCES\(configure_module_dirname \+ "\/broker"/ { print b; next }
  { print }' config.w32)

if ((check)); then
  status=0
  [[ $want_m4 == "$(cat config.m4)" ]] || { echo "config.m4 does not list the C files of the tree: run scripts/sync-sources.sh" >&2; status=1; }
  [[ $want_w32 == "$(cat config.w32)" ]] || { echo "config.w32 does not list the C files of the tree: run scripts/sync-sources.sh" >&2; status=1; }
  exit $status
fi
printf '%s\n' "$want_m4" > config.m4
printf '%s\n' "$want_w32" > config.w32
