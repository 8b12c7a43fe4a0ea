#!/usr/bin/env bash
# Handoff benchmark (issue 13): time and CPU to hand 1,000 connections from
# an ending php-fpm worker to two others, and the longest delivery pause
# other clients see. Needs php-fpm, nginx and node (scripts/deps.sh) and a
# built modules/realtime.so. Usage: bash bench/handoff.sh [runs] (default 3);
# N=connections overrides 1000 (N=10000 needs a descriptor limit above
# 10,000 for this shell: ulimit -n). Each run prints two JSON lines: "idle" (no
# traffic: the takers' CPU) and "stream" (broadcasts every 5 ms: pauses).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
ulimit -n 65536 2>/dev/null || true
for ((i = 1; i <= runs; i++)); do
  MODE=idle node bench/handoff.mjs
  MODE=stream node bench/handoff.mjs
done
