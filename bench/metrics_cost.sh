#!/usr/bin/env bash
# bench/metrics_cost.sh: what the /metrics counters cost the fan-out.
# The counters have no off switch (each is a per-hub number its loop thread
# writes with a plain load and store), so "metrics off" is the build of the
# commit before they were added: this script builds that revision in a
# temporary git worktree, then runs workload (a) (10k subscribers on one
# channel, rate sweep; bench/run.sh) against both builds in alternating
# rounds, and prints the server's CPU microseconds per delivery at each
# rate, median over the rounds, for both.
#
#   bench/metrics_cost.sh                 3 rounds, full sizes of (a)
#   bench/metrics_cost.sh --quick         1 round, bench/run.sh --quick sizes
#   bench/metrics_cost.sh --base REV --rounds N
# REV defaults to the parent of the commit that added the counters.
set -euo pipefail
{
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE= ROUNDS=3 QUICK=
while (($#)); do
	case $1 in
	--base) BASE=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--quick) QUICK=--quick; ROUNDS=1 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "metrics_cost.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "metrics_cost.sh: --rounds wants a whole number >= 1" >&2; exit 2; }
if [[ -z $BASE ]]; then
	added=$(git -C "$ROOT" log --format=%H -1 --grep='^metrics: sessions by protocol and transport')
	[[ -n $added ]] || { echo "metrics_cost.sh: cannot find the commit that added the counters; give --base" >&2; exit 2; }
	BASE=$added^
fi
BASE_SHA=$(git -C "$ROOT" rev-parse --verify "$BASE^{commit}")

TMP=$(mktemp -d /tmp/rt-metrics-cost.XXXXXX)
cleanup() {
	git -C "$ROOT" worktree remove --force "$TMP/base" 2>/dev/null || true
}
trap cleanup EXIT
log() { echo "[metrics_cost.sh $(date +%T)] $*" >&2; }

log "building the base ($BASE_SHA) in a temporary worktree"
git -C "$ROOT" worktree add -q --detach "$TMP/base" "$BASE_SHA"
(cd "$TMP/base" && bash scripts/build.sh) > "$TMP/base-build.log" 2>&1 \
	|| { log "base build failed: $TMP/base-build.log"; exit 1; }
cp "$TMP/base/modules/realtime.so" "$TMP/off.so"
log "building this tree"
(cd "$ROOT" && bash scripts/build.sh) > "$TMP/head-build.log" 2>&1 \
	|| { log "build failed: $TMP/head-build.log"; exit 1; }
cp "$ROOT/modules/realtime.so" "$TMP/on.so"

: > "$TMP/results.jsonl"
for ((r = 1; r <= ROUNDS; r++)); do
	for which in off on; do
		log "round $r/$ROUNDS: counters $which"
		bash "$ROOT/bench/run.sh" $QUICK --servers hub --workloads a --repeats 1 \
			--hub-so "$TMP/$which.so" --out "$TMP/$which-$r.md" 2> "$TMP/$which-$r.log" \
			|| { log "bench/run.sh failed: $TMP/$which-$r.log"; exit 1; }
		dir=$(sed -n 's/.*raw results: \(.*\)) in [0-9]* s$/\1/p' "$TMP/$which-$r.log" | tail -1)
		[[ -f $dir/results.jsonl ]] || { log "no results.jsonl in $TMP/$which-$r.log"; exit 1; }
		python3 - "$dir/results.jsonl" "$which" "$r" >> "$TMP/results.jsonl" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    row = json.loads(line)
    if "rate" in row and "cpu_us_per_delivery" in row:
        print(json.dumps({"build": sys.argv[2], "round": int(sys.argv[3]), "rate": row["rate"],
                          "cpu": row["cpu_us_per_delivery"]}))
EOF
	done
done

python3 - "$TMP/results.jsonl" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rates = sorted({r["rate"] for r in rows})
print("workload (a): server CPU µs per delivery, median over rounds")
print(f"{'msg/s':>8} {'counters off':>14} {'counters on':>13} {'change':>8}")
for rate in rates:
    med = {b: statistics.median([r["cpu"] for r in rows if r["rate"] == rate and r["build"] == b] or [float("nan")])
           for b in ("off", "on")}
    change = (med["on"] / med["off"] - 1) * 100 if med["off"] else float("nan")
    print(f"{rate:>8} {med['off']:>14.3f} {med['on']:>13.3f} {change:>7.1f}%")
EOF
log "raw: $TMP"
}
