#!/usr/bin/env bash
# bench/sse_fanout.sh: SSE fan-out, workload (a) of bench/run.sh over event
# streams (issue 15): N subscribers on one channel, one message published at
# each rate, server CPU per delivery. Servers, one process each, pinned to
# CPU 0 with the load generator on CPU 1 (as run.sh):
#   hub          the hub's WebSocket clients (the same run's reference)
#   hub-sse      the hub's native event streams, GET /ws/sse?channels=<ch>
#   hub-mercure  the hub's Mercure subscribers, GET /.well-known/mercure?topic=<ch>
#   nchan-sse    nchan's EventSource subscribers (nchan_subscriber eventsource)
# The publisher is run.sh's: Realtime\broadcast() in a php -S request for the
# hub, POST /pub/<ch> for nchan; every message carries a send timestamp.
#
#   bash bench/sse_fanout.sh [rounds, default 3] [conns, default 10000] [rates, default 10,20,40]
#
# Prints one line per server and rate (medians over the rounds) and keeps
# the loadgen's JSON lines in bench/results/<date>-sse/results.jsonl;
# SSE_REPORT=<that file> prints the table of an earlier run again.
set -euo pipefail
ROUNDS=${1:-3}
CONNS=${2:-10000}
RATES=${3:-10,20,40}
DUR=${SSE_DUR:-8}
SERVERS=${SSE_SERVERS:-hub,hub-sse,hub-mercure,nchan-sse}

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench

report() { # results.jsonl servers
python3 - "$1" "$2" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
servers = sys.argv[2].split(",")
by = {}
for r in rows:
    if "rate" in r and "cpu_us_per_delivery" in r:
        by.setdefault((r["server"], r["rate"]), []).append(r)
rates = sorted({k[1] for k in by})
print("| server | offered msg/s | achieved msg/s | runs | delivered/s | loss % | p99 ms | server CPU µs/delivery (median; min-max) |")
print("|---|---|---|---|---|---|---|---|")
med = {}
for s in servers:
    for rt in rates:
        rs = by.get((s, rt))
        if not rs:
            continue
        cpu = [r["cpu_us_per_delivery"] for r in rs]
        med[(s, rt)] = statistics.median(cpu)
        print(f"| {s} | {rt:g} | {statistics.median(r['achieved_rate'] for r in rs):.1f} | {len(rs)} | "
              f"{statistics.median(r['deliveries_per_s'] for r in rs):,.0f} | "
              f"{statistics.median(r['loss_pct'] for r in rs):.2f} | {statistics.median(r['lat_p99_ms'] for r in rs):.1f} | "
              f"{med[(s, rt)]:.2f} ({min(cpu):.2f}-{max(cpu):.2f}) |")
print()
for rt in rates:
    parts = []
    for a, b in (("hub-sse", "hub"), ("hub-mercure", "hub"), ("nchan-sse", "hub-sse"), ("nchan-sse", "hub-mercure")):
        if (a, rt) in med and (b, rt) in med and med[(b, rt)] > 0:
            parts.append(f"{a} ÷ {b} {med[(a, rt)] / med[(b, rt)]:.2f}×")
    print(f"{rt:g}/s: " + ", ".join(parts))
PY
}
if [[ -n ${SSE_REPORT:-} ]]; then
	report "$SSE_REPORT" "$SERVERS"
	exit 0
fi

RUN_DIR=$BENCH/results/$(date +%Y%m%d-%H%M%S)-sse
mkdir -p "$RUN_DIR"
: > "$RUN_DIR/pgids"
RESULTS=$RUN_DIR/results.jsonl
: > "$RESULTS"
log() { echo "[sse_fanout $(date +%T)] $*" >&2; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[[ -f $ROOT/modules/realtime.so ]] || { log "build first: bash scripts/build.sh"; exit 1; }
[[ -f /usr/lib/nginx/modules/ngx_nchan_module.so ]] || { log "needs libnginx-mod-nchan (scripts/deps.sh)"; exit 1; }
cp "$ROOT/modules/realtime.so" "$RUN_DIR/realtime.so"
HUB_SO=$RUN_DIR/realtime.so
make -C "$BENCH" > "$RUN_DIR/make.log" 2>&1 || { cat "$RUN_DIR/make.log" >&2; exit 1; }

SRV_CPU= CLI_CPU=
if (($(nproc) >= 2)); then SRV_CPU=0 CLI_CPU=1; fi
# shellcheck source=servers.sh
source "$BENCH/servers.sh"
trap 'server_stop >/dev/null 2>&1 || true' EXIT

{
	echo "git_commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
	echo "started=$(date '+%Y-%m-%d %H:%M:%S %Z')"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "rounds=$ROUNDS conns=$CONNS rates=$RATES duration=$DUR"
} > "$RUN_DIR/env.txt"

IFS=, read -r -a LIST <<< "$SERVERS"
for ((round = 1; round <= ROUNDS; round++)); do
	for s in "${LIST[@]}"; do
		log "round $round: $s, $CONNS subscribers, rates $RATES"
		if ! server_start "$s" 1 1048576; then
			log "$s did not start"
			server_stop
			continue
		fi
		cmd=("$BENCH/loadgen")
		[[ -n $CLI_CPU ]] && cmd=(taskset -c "$CLI_CPU" "${cmd[@]}")
		"${cmd[@]}" --name "$s" --workload s --ports "$SRV_PORTS" --sub "$SRV_SUB" --path "$SRV_PATH" \
			--pub "$SRV_PUB" --pub-port "$SRV_PUB_PORT" --pub-path "$SRV_PUB_PATH" --pids "$SRV_PIDS" \
			--conns "$CONNS" --channels 1 --prefix s --rates "$RATES" --duration "$DUR" --payload 64 \
			2>> "$RUN_DIR/loadgen.log" | sed -u "s/^{/{\"round\":$round,/" >> "$RESULTS" \
			|| log "loadgen exited with $?"
		server_stop
	done
done
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RUN_DIR/env.txt"

report "$RESULTS" "$SERVERS"
log "raw results: $RESULTS"
