#!/usr/bin/env bash
# bench/redis_history_cost.sh: the cost per message of history on the redis
# broker against history off (issue 14; BENCHMARKS.md "History on the redis
# broker"). A private redis-server on a free loopback port, fresh for each
# run; a PHP process without a hub publishes N messages (each waits for
# Redis's answer): off, plain PUBLISH; on, the script that appends to the
# channel's stream and publishes with its position.
#
#   bash bench/redis_history_cost.sh [runs, default 3] [messages, default 20000]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/php_server.sh
RUNS=${1:-3}
N=${2:-20000}
EXT=${REALTIME_EXTENSION:-$PWD/modules/realtime.so}
[[ -f $EXT ]] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
tmp=$(mktemp -d)
rpid=
cleanup() {
	[[ -n $rpid ]] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

one() { # history rule ('' for off) → one JSON line
	local port
	port=$(free_port)
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$tmp" >"$tmp/redis.log" 2>&1 &
	rpid=$!
	for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
	php -n -d extension="$EXT" -d realtime.broker=redis -d realtime.redis_address="127.0.0.1:$port" \
		-d realtime.listen="127.0.0.1:$(free_port)" -d realtime.secret=bench-secret-0123456789 \
		-d realtime.history="$1" -d realtime.log="$tmp/hub.log" \
		bench/redis_history_cost.php "$N" 100 16 "$rpid" "$(getconf CLK_TCK)"
	kill "$rpid"
	wait "$rpid" 2>/dev/null || true
	rpid=
}

lines=()
for ((i = 1; i <= RUNS; i++)); do
	lines+=("$(one '')" "$(one 'chat-*:1000:300')")
	echo "${lines[-2]}" >&2
	echo "${lines[-1]}" >&2
done
python3 - "$(redis-server --version | sed 's/^Redis server v=//;s/ .*//')" "$N" "${lines[@]}" <<'PY'
import json, sys
version, n, rows = sys.argv[1], sys.argv[2], [json.loads(a) for a in sys.argv[3:]]
print(f"redis-server {version}, {n} messages of 100 bytes over 16 channels per run, "
      "history `chat-*:1000:300`:\n")
print("| run | call, off / on (µs, waits for Redis) | redis-server CPU per message, off / on (µs) |")
print("|---|---|---|")
for i in range(0, len(rows), 2):
    off, on = rows[i], rows[i + 1]
    print(f"| {i // 2 + 1} | {off['call_us']:.1f} / {on['call_us']:.1f} | {off['redis_cpu_us']:.1f} / {on['redis_cpu_us']:.1f} |")
PY
