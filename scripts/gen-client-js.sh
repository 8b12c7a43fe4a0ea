#!/usr/bin/env bash
# Regenerate hub/api/client_js_data.c from clients/js/realtime.js and
# realtime.global.js (the hub serves them at /realtime.js). The generated
# file is checked in, so phpize/configure/make and pecl install need no
# generator.
#
#   scripts/gen-client-js.sh          regenerate it
#   scripts/gen-client-js.sh --check  exit 1 if the checked-in file is stale
set -euo pipefail
cd "$(dirname "$0")/.."
out=hub/api/client_js_data.c
case "${1:-}" in
  --check)
    if ! php scripts/gen-client-js.php | cmp -s - "$out"; then
      echo "$out does not match clients/js: run scripts/gen-client-js.sh" >&2
      exit 1
    fi ;;
  "") php scripts/gen-client-js.php > "$out.tmp" && mv "$out.tmp" "$out" ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
