#!/usr/bin/env bash
# Checks that hub/ is layered: a file includes headers of its own layer or of
# the layers below it, never above (docs/architecture.md). Layers, lowest
# first: hub/util, hub/model, hub/wire, hub/net, hub/core, hub/proto,
# hub/api, then the top of hub/ (loop thread, auth, webhooks), then broker/.
# Prints every upward include and exits 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

rank() { # path -> layer number
  case $1 in
    hub/util/*) echo 1 ;;
    hub/model/*) echo 2 ;;
    hub/wire/*) echo 3 ;;
    hub/net/*) echo 4 ;;
    hub/core/*) echo 5 ;;
    hub/proto/*) echo 6 ;;
    hub/api/*) echo 7 ;;
    hub/*) echo 8 ;;
    broker/*) echo 9 ;;
    *) echo 10 ;;
  esac
}

status=0
while IFS= read -r f; do
  r=$(rank "$f")
  while IFS= read -r inc; do
    [[ -n $inc ]] || continue
    if (( $(rank "$inc") > r )); then
      echo "layers: $f includes $inc, a layer above it" >&2
      status=1
    fi
  done < <(sed -n 's/^#include "\(\(hub\|broker\)\/[^"]*\)".*/\1/p' "$f")
done < <(find hub broker -name '*.[ch]' | sort)
((status == 0)) && echo "layers: no upward include in hub/ or broker/"
exit $status
