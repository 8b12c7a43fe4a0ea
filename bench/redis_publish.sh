#!/usr/bin/env bash
# Realtime\broadcast() on the redis broker: µs per call in the calling
# thread (bench/redis_publish.php), against an idle redis-server and a busy
# one (a concurrent redis-benchmark), each private on a free loopback port.
# Prints a markdown table (the figures of BENCHMARKS.md's "Redis broker:
# broadcast() in the request" and docs/redis.md).
#
#   bash bench/redis_publish.sh [calls per run, default 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
EXT=${REALTIME_EXTENSION:-$PWD/modules/realtime.so}
[[ -f $EXT ]] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
HPORT=$(free_port)
tmp=$(mktemp -d)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
rpid=$!
bpid=
cleanup() {
	[[ -n $bpid ]] && kill "$bpid" 2>/dev/null
	kill "$rpid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
for _ in $(seq 100); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.05; done

run() {
	php -n -d extension="$EXT" -d realtime.broker=redis -d realtime.redis_address="127.0.0.1:$RPORT" \
		-d realtime.listen="127.0.0.1:$HPORT" -d realtime.secret=bench -d realtime.log="$tmp/hub.log" \
		bench/redis_publish.php "$N" 100
}

idle=$(run)
# Busy: 50 clients pipelining GET/SET as fast as Redis answers them.
redis-benchmark -p "$RPORT" -c 50 -P 16 -n 100000000 -t set,get -q >/dev/null 2>&1 &
bpid=$!
sleep 1
busy=$(run)

py() {
	python3 - "$idle" "$busy" "$(redis-server --version | sed 's/^Redis server v=//;s/ .*//')" "$N" <<'PY'
import json, sys
idle, busy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"redis-server {sys.argv[3]}, {sys.argv[4]} calls per run, 64-byte payload, median of 5 runs, µs per call:\n")
print("| Redis | before: `broadcast()` waits for `PUBLISH`'s reply (the path without a hub) | `broadcast()` handed to the hub (batches of 100) | back to back (Redis's pace) | `broadcastConfirmed()` |")
print("|---|---:|---:|---:|---:|")
for name, r in (("idle", idle), ("busy (redis-benchmark -c 50 -P 16)", busy)):
    print(f"| {name} | {r['sync_us']:.2f} | {r['handed_us']:.2f} | {r['sustained_us']:.2f} | {r['confirmed_us']:.2f} |")
fails = [f"{k}={r[k]}" for r in (idle, busy) for k in ("redis_publish_failed", "redis_publish_dropped") if r[k]]
print("\nfailed / dropped publishes: " + (", ".join(fails) if fails else "none"))
PY
}
py
