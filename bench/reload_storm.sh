#!/usr/bin/env bash
# Reload-storm benchmark (issue 14): 1,000 clients reconnect at once to
# php-fpm (4 workers) + nginx and each recovers the 1,000 messages it missed
# from the memory broker's history. Needs php-fpm, nginx and node
# (scripts/deps.sh) and a built modules/realtime.so. Usage:
# bash bench/reload_storm.sh [runs] (default 3); N=clients and MISSED=messages
# override 1000. Each run prints one JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
ulimit -n 65536 2>/dev/null || true
for ((i = 1; i <= runs; i++)); do
  node bench/reload_storm.mjs
done
