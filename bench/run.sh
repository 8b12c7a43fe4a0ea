#!/usr/bin/env bash
# bench/run.sh: the fan-out comparison of our hub against nchan, Node ws and
# uWebSockets.js, same workloads, same client (bench/loadgen), one machine.
# Writes BENCHMARKS.md (full run) and keeps every raw number under
# bench/results/<date>/.
#
#   bench/run.sh            full sizes (about 30 minutes with 3 repeats)
#   bench/run.sh --quick    small sizes, a smoke test (under 3 minutes); the
#                           report goes to bench/results/<date>-quick/ unless --out
# Options: --servers hub,nchan,ws,uws  --workloads a,b,c,d,e,f,g,p  --no-build
#          --no-pin (do not pin server to CPU 0 and clients to CPU 1)  --out FILE
#          --hub-so FILE: measure this build of the extension (no build)
#          --repeats N: run (a)'s and (b)'s rate sweeps N times per server
#            (default 3, 1 with --quick), in rounds interleaved across the
#            servers (round 1: every server once, then round 2, ...), so that
#            drifting load on the machine falls on every server alike; each
#            result row carries "round":k and report.py uses the medians.
#
# System changes (as root): net.core.somaxconn and net.ipv4.tcp_max_syn_backlog
# are raised to 8192 when lower (not restored); net.ipv4.tcp_wmem's maximum is
# 64 KiB during workload (e) only (restored). ulimit -n is
# raised to the hard limit (20000 here) for this script and its children.
# The ephemeral port range is left alone: clients bind 127.0.0.2-9 with
# IP_BIND_ADDRESS_NO_PORT, so each (source, server port) pair has its own
# 28k ports.
set -euo pipefail
# The braces make bash read the whole script before running any of it, so
# editing run.sh during a run cannot derail the run.
{

QUICK=0 BUILD=1 PIN=1 OUT= REPEATS= HUB_SO_GIVEN=
SERVERS=hub,nchan,ws,uws
WORKLOADS=a,b,c,d,e,f,g,p
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--no-build) BUILD=0 ;;
	--no-pin) PIN=0 ;;
	--servers) SERVERS=$2; shift ;;
	--workloads) WORKLOADS=$2; shift ;;
	--out) OUT=$2; shift ;;
	--repeats) REPEATS=$2; shift ;;
	--hub-so) HUB_SO_GIVEN=$2; BUILD=0; shift ;;
	-h|--help) sed -n '2,25p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
if [[ -z $REPEATS ]]; then
	if ((QUICK)); then REPEATS=1; else REPEATS=3; fi
fi
[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --repeats wants a whole number >= 1" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
STAMP=$(date +%Y%m%d-%H%M%S)
RUN_DIR=$BENCH/results/$STAMP$( ((QUICK)) && echo -quick || true)
mkdir -p "$RUN_DIR"
: > "$RUN_DIR/pgids"
RESULTS=$RUN_DIR/results.jsonl
: > "$RESULTS"
T_START=$(date +%s)

log() { echo "[run.sh $(date +%T)] $*" >&2; }

# Every process group this run started dies with it.
WMEM_SAVED=
cleanup() {
	local g
	if [[ -n $WMEM_SAVED ]]; then
		sysctl -qw net.ipv4.tcp_wmem="$WMEM_SAVED" 2>/dev/null || true
	fi
	[[ -f $RUN_DIR/pgids ]] || return 0
	while read -r g; do
		[[ -n $g ]] && kill -TERM -- "-$g" 2>/dev/null || true
	done < "$RUN_DIR/pgids"
	sleep 0.5
	while read -r g; do
		[[ -n $g ]] && kill -KILL -- "-$g" 2>/dev/null || true
	done < "$RUN_DIR/pgids"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

want() { [[ ,$2, == *,$1,* ]]; }

# ---- limits and sysctls ----
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "open files limit: $(ulimit -n) (hard $(ulimit -Hn))"
for kv in net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192; do
	k=${kv%=*} v=${kv#*=}
	cur=$(sysctl -n "$k" 2>/dev/null || echo 0)
	if ((cur < v)); then
		sysctl -qw "$k=$v" 2>/dev/null && log "sysctl $k: $cur -> $v" || log "sysctl $k stays $cur"
	fi
done
{
	for k in net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.ip_local_port_range \
		net.ipv4.tcp_wmem net.ipv4.tcp_rmem; do
		echo "$k = $(sysctl -n "$k" 2>/dev/null | tr '\t' ' ')"
	done
	echo "ulimit -n = $(ulimit -n)"
} > "$RUN_DIR/sysctl.txt"

# ---- tools (Debian packages and npm only) ----
missing=()
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
command -v nginx >/dev/null || missing+=(nginx)
[[ -f /usr/lib/nginx/modules/ngx_nchan_module.so ]] || missing+=(libnginx-mod-nchan)
[[ -f /usr/include/uv.h ]] || missing+=(libuv1-dev)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v python3 >/dev/null || missing+=(python3)
command -v gcc >/dev/null || missing+=(gcc make)
if want g "$WORKLOADS"; then
	command -v redis-server >/dev/null || missing+=(redis-server)
fi
if ((${#missing[@]})); then
	log "installing from Debian: ${missing[*]}"
	apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ ! -d $BENCH/peers/node_modules/ws || ! -d $BENCH/peers/node_modules/uWebSockets.js ]]; then
	log "npm ci in bench/peers"
	(cd "$BENCH/peers" && npm ci --no-audit --no-fund >/dev/null 2>&1)
fi

# ---- build ----
BUILD_STATUS=skipped
if ((BUILD)); then
	if (cd "$ROOT" && bash scripts/build.sh) > "$RUN_DIR/build.log" 2>&1; then
		BUILD_STATUS=ok
	else
		BUILD_STATUS=failed
		log "scripts/build.sh failed (see $RUN_DIR/build.log); using the existing modules/realtime.so"
	fi
fi
if [[ -n $HUB_SO_GIVEN ]]; then
	[[ -f $HUB_SO_GIVEN ]] || { log "no $HUB_SO_GIVEN"; exit 1; }
	cp "$HUB_SO_GIVEN" "$RUN_DIR/realtime.so"
else
	[[ -f $ROOT/modules/realtime.so ]] || { log "no modules/realtime.so"; exit 1; }
	# A private copy: a rebuild during the run must not change what is measured.
	cp "$ROOT/modules/realtime.so" "$RUN_DIR/realtime.so"
fi
HUB_SO=$RUN_DIR/realtime.so
make -C "$BENCH" >"$RUN_DIR/make.log" 2>&1 || { log "make -C bench failed"; cat "$RUN_DIR/make.log" >&2; exit 1; }

{
	echo "quick=$QUICK"
	echo "repeats=$REPEATS"
	echo "pin=$PIN"
	echo "build=$BUILD_STATUS"
	echo "git_commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)"
	echo "git_dirty_files=$(git -C "$ROOT" status --porcelain 2>/dev/null | awk '{print $NF}' | grep -vc '^bench/' || true)"
	echo "so_sha256=$(sha256sum "$HUB_SO" | cut -c1-16)"
	echo "so_mtime=$(date -r "${HUB_SO_GIVEN:-$ROOT/modules/realtime.so}" '+%Y-%m-%d %H:%M:%S')"
	echo "started=$(date '+%Y-%m-%d %H:%M:%S %Z')"
	echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$RUN_DIR/env.txt"

SRV_CPU= CLI_CPU=
if ((PIN)) && (($(nproc) >= 2)); then
	SRV_CPU=0 CLI_CPU=1
fi
# shellcheck source=servers.sh
source "$BENCH/servers.sh"

ROUND= # set during (a)'s and (b)'s rounds: their rows get "round":ROUND
lg() { # loadgen arguments...; JSON lines go to results.jsonl
	local cmd=("$BENCH/loadgen")
	[[ -n $CLI_CPU ]] && cmd=(taskset -c "$CLI_CPU" "${cmd[@]}")
	if [[ -n $ROUND ]]; then
		"${cmd[@]}" "$@" 2>> "$RUN_DIR/loadgen.log" | sed -u "s/^{/{\"round\":$ROUND,/" >> "$RESULTS" \
			|| log "loadgen exited with $?"
	else
		"${cmd[@]}" "$@" >> "$RESULTS" 2>> "$RUN_DIR/loadgen.log" || log "loadgen exited with $?"
	fi
}

note() { # a JSON line of our own
	echo "$1" >> "$RESULTS"
}

# run_one WORKLOAD SERVER INSTANCES MAX_OUTBOUND [loadgen args...]
run_one() {
	local wl=$1 name=$2 n=$3 maxout=$4
	shift 4
	log "workload $wl on $name ($n process(es))${ROUND:+, round $ROUND of $REPEATS}: $*"
	if ! server_start "$name" "$n" "$maxout"; then
		note "{${ROUND:+\"round\":$ROUND,}\"server\":\"$name\",\"workload\":\"$wl\",\"error\":\"server did not start\"}"
		server_stop
		return 0
	fi
	# php -S serves its HTTP requests with select(), which cannot see a
	# descriptor of 1024 or more; the hub moves its clients' sockets above
	# 1024, so the publish requests get through with any number of clients.
	local aux=()
	[[ -n $SRV_AUX_PIDS ]] && aux=(--aux-pids "$SRV_AUX_PIDS" --aux-name redis)
	lg --name "$name" --workload "$wl" --ports "$SRV_PORTS" --sub "$SRV_SUB" --path "$SRV_PATH" \
		--pub "$SRV_PUB" --pub-port "$SRV_PUB_PORT" --pub-path "$SRV_PUB_PATH" \
		--pids "$SRV_PIDS" "${aux[@]}" "$@"
	server_stop
}

# ---- sizes ----
MB=1048576
if ((QUICK)); then
	A_CONNS=2000 A_RATES=10,50 A_DUR=2
	B_CONNS=2000 B_CH=200 B_RATES=10 B_DUR=2
	C_CONNS=500 C_RATE=2 C_DUR=2
	D_SETS=("5000 1 2")
	E_CONNS=2000 E_RATE=20 E_DUR=5 E_CONTROL=0 E_PAYLOAD=4096
	F_N=100000 F_REMOTE_N=500 FLOOR_PAIRS=2000
	G_CONNS=2000 G_RATES=10,50 G_DUR=2
else
	A_CONNS=10000 A_RATES=2,5,10,20,40 A_DUR=8
	B_CONNS=10000 B_CH=1000 B_RATES=2,5,10,20 B_DUR=8
	C_CONNS=1000 C_RATE=1 C_DUR=10
	D_SETS=("10000 1 5" "100000 6 10")
	E_CONNS=10000 E_RATE=10 E_DUR=20 E_CONTROL=1 E_PAYLOAD=4096
	F_N=1000000 F_REMOTE_N=5000 FLOOR_PAIRS=8000
	G_CONNS=10000 G_RATES=5,20,40 G_DUR=8 # G_RATES: rates of A_RATES, for the comparison
fi
IFS=, read -r -a SERVER_LIST <<< "$SERVERS"

# ---- floor: the kernel cost of one send ----
if want floor "$WORKLOADS,floor"; then # always
	log "floor: one send to one loopback socket"
	fl=("$BENCH/floor" --pairs $FLOOR_PAIRS --size 110)
	[[ -n $SRV_CPU ]] && fl=(taskset -c "$SRV_CPU" "${fl[@]}")
	for r in "" --reader; do
		line=$("${fl[@]}" $r 2>>"$RUN_DIR/floor.log") || line=
		[[ -n $line ]] && note "{\"workload\":\"floor\",${line#\{}"
	done
	# the wake-up a lone broadcast() pays: a datagram to a thread asleep in epoll
	fw=("$BENCH/floor" --wake)
	[[ -n $SRV_CPU ]] && fw=(taskset -c "$SRV_CPU" "${fw[@]}")
	line=$("${fw[@]}" 2>>"$RUN_DIR/floor.log") || line=
	[[ -n $line ]] && note "{\"workload\":\"floor\",${line#\{}"
fi

# ---- (a) 10k subscribers on one channel, rate sweep ----
# (a) and (b): REPEATS rounds, each running every server's sweep once, so
# that the machine's drifting load falls on all servers alike.
if want a "$WORKLOADS"; then
	for ((ROUND = 1; ROUND <= REPEATS; ROUND++)); do
		for s in "${SERVER_LIST[@]}"; do
			run_one a "$s" 1 $MB --conns $A_CONNS --channels 1 --prefix a --rates $A_RATES \
				--duration $A_DUR --payload 64
		done
	done
	ROUND=
fi

# ---- p: where the CPU of a low-rate fan-out goes (perf, when installed) ----
# (a) at its lowest rate once more, for the hub and uWebSockets.js, with
# `perf record` attached to the server once the clients are subscribed. Not
# part of any measured figure (sampling costs the server a little CPU).
if want p "$WORKLOADS" && command -v perf >/dev/null; then
	for s in "${SERVER_LIST[@]}"; do
		[[ $s == hub || $s == uws ]] || continue
		log "profile: perf record on $s, (a) at ${A_RATES%%,*}/s"
		server_start "$s" 1 $MB || { server_stop; continue; }
		pdata=$RUN_DIR/perf-$s.data
		lg --name "$s" --workload p --ports "$SRV_PORTS" --sub "$SRV_SUB" --path "$SRV_PATH" \
			--pub "$SRV_PUB" --pub-port "$SRV_PUB_PORT" --pub-path "$SRV_PUB_PATH" --pids "$SRV_PIDS" \
			--conns $A_CONNS --channels 1 --prefix p --rates "${A_RATES%%,*}" --duration $A_DUR \
			--payload 64 --settle 1 --after-connect \
			"perf record -q -F 999 -e cpu-clock -g -p $SRV_PIDS -o $pdata -- sleep $((A_DUR + 1)) >/dev/null 2>&1 &"
		for _ in $(seq 50); do # perf writes its file as it exits
			pgrep -f "perf record .* -o $pdata" >/dev/null || break
			sleep 0.2
		done
		server_stop
		if [[ -s $pdata ]]; then
			perf report -i "$pdata" --children --sort sym --stdio -g none > "$RUN_DIR/profile-$s-children.txt" 2>/dev/null || true
			perf report -i "$pdata" --no-children --sort dso --stdio -g none > "$RUN_DIR/profile-$s-dso.txt" 2>/dev/null || true
			rm -f "$pdata"
		fi
	done
fi

# ---- (b) 10k clients over 1k channels: each op publishes once to every channel ----
if want b "$WORKLOADS"; then
	for ((ROUND = 1; ROUND <= REPEATS; ROUND++)); do
		for s in "${SERVER_LIST[@]}"; do
			run_one b "$s" 1 $MB --conns $B_CONNS --channels $B_CH --prefix b --rates $B_RATES \
				--duration $B_DUR --payload 64
		done
	done
	ROUND=
fi

# ---- (c) bursts: 100 messages back to back to 1k subscribers ----
if want c "$WORKLOADS"; then
	for s in "${SERVER_LIST[@]}"; do
		run_one c "$s" 1 $MB --conns $C_CONNS --channels 1 --prefix c --count 100 \
			--rates $C_RATE --duration $C_DUR --payload 64
	done
fi

# ---- (d) idle connections: memory ----
if want d "$WORKLOADS"; then
	for set in "${D_SETS[@]}"; do
		read -r conns procs hold <<< "$set"
		for s in "${SERVER_LIST[@]}"; do
			run_one d "$s" "$procs" $MB --variant "${conns}x${procs}" --conns "$conns" \
				--channels 1000 --prefix i --hold "$hold" --settle 2 --connect-timeout 240
		done
	done
fi

# ---- (e) 1% slow consumers that stop reading ----
# Loopback send buffers autotune up to tcp_wmem's maximum (4 MiB here), so a
# client that stops reading would make the kernel, not the server, hold
# megabytes: no server would ever see backpressure within the run. For this
# workload only the maximum is 64 KiB (restored afterwards, and on exit).
if want e "$WORKLOADS"; then
	WMEM_SAVED=$(sysctl -n net.ipv4.tcp_wmem | tr '\t' ' ')
	if sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536" 2>/dev/null; then
		log "sysctl net.ipv4.tcp_wmem: $WMEM_SAVED -> 4096 16384 65536 for workload e"
		echo "net.ipv4.tcp_wmem during (e) = 4096 16384 65536" >> "$RUN_DIR/sysctl.txt"
	else
		WMEM_SAVED=
		echo "net.ipv4.tcp_wmem during (e) = unchanged (sysctl failed)" >> "$RUN_DIR/sysctl.txt"
	fi
	for s in "${SERVER_LIST[@]}"; do
		if ((E_CONTROL)); then
			run_one e "$s" 1 $((256 * 1024)) --variant control --conns $E_CONNS --channels 1 \
				--prefix e --rates $E_RATE --duration $E_DUR --payload $E_PAYLOAD
		fi
		run_one e "$s" 1 $((256 * 1024)) --variant slow --conns $E_CONNS --channels 1 --prefix e \
			--rates $E_RATE --duration $E_DUR --payload $E_PAYLOAD --slow-every 100 --slow-rcvbuf 4096
	done
	if [[ -n $WMEM_SAVED ]]; then
		sysctl -qw net.ipv4.tcp_wmem="$WMEM_SAVED" && WMEM_SAVED=
	fi
fi

# ---- (f) Realtime\broadcast() calls per second from PHP ----
f_requests() { # query label: 200 requests of pub.php?count=1&QUERY, one row "<label>" (mean and median ns)
	local query=$1 label=$2 tot_calls=0 tot_ns=0 i body ns all=() med woke=0 batched=0 v
	for i in $(seq 200); do
		body=$(curl -fsS -X POST --data-binary "TS0:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
			"http://127.0.0.1:$SRV_PUB_PORT/pub.php?p=nobody&n=1&count=1$query" 2>/dev/null) || continue
		ns=$(sed -n 's/.*"ns":\([0-9]*\).*/\1/p' <<< "$body")
		[[ -n $ns ]] && { tot_calls=$((tot_calls + 1)); tot_ns=$((tot_ns + ns)); all+=("$ns"); }
		# how each broadcast() woke the other hubs
		v=$(sed -n 's/.*"woke":\([0-9]*\).*/\1/p' <<< "$body"); woke=$((woke + ${v:-0}))
		v=$(sed -n 's/.*"batched":\([0-9]*\).*/\1/p' <<< "$body"); batched=$((batched + ${v:-0}))
	done
	med=$( ((${#all[@]})) && printf '%s\n' "${all[@]}" | sort -n | awk '{v[NR]=$1} END{print NR ? v[int((NR+1)/2)] : 0}' || echo 0)
	note "{\"server\":\"hub\",\"workload\":\"f\",\"variant\":\"$label\",\"resp\":{\"calls\":$tot_calls,\"ns\":$tot_ns,\"median_ns\":$med,\"woke\":$woke,\"batched\":$batched}}"
}
f_single() { # variant: 200 requests of one broadcast() each (the first call of a request)
	f_requests "" "$1"
	# the reference: the same requests with json_encode() of the payload, the
	# work broadcast() starts with, in its place: the cold start of a
	# request's first PHP function call, without broadcast()
	f_requests "&ref=1" "${1/request/ref}"
	# the same kind of request, timing two more lone calls in it (bench/app/lone.php)
	local lone=() i body
	for i in $(seq 100); do
		body=$(curl -fsS "http://127.0.0.1:$SRV_PUB_PORT/lone.php" 2>/dev/null) || continue
		[[ $body == \{* ]] && lone+=("$body")
	done
	note "{\"server\":\"hub\",\"workload\":\"f\",\"variant\":\"lone${1#request-single}\",\"samples\":[$(IFS=,; echo "${lone[*]}")]}"
}
if want f "$WORKLOADS" && want hub "$SERVERS"; then
	log "workload f: broadcast() in a request and from the CLI"
	if server_start hub 1 $MB; then
		for i in 1 2 3; do
			body=$(curl -fsS -X POST --data-binary "TS0:$(printf 'x%.0s' {1..60})" \
				"http://127.0.0.1:$SRV_PUB_PORT/pub.php?p=nobody&n=1&count=$F_N" 2>/dev/null) || body=null
			note "{\"server\":\"hub\",\"workload\":\"f\",\"variant\":\"request-loop\",\"run\":$i,\"resp\":$body}"
		done
		f_single request-single
		# a CLI process without a hub (a queue worker): POST /publish per call
		# (realtime.shm_user=nobody: it looks for a segment of nobody's, finds
		# the server's, and posts, as a script of another user does), then the
		# same through the server's shared memory segment
		for variant in cli-remote cli-segment; do
			cmd=(php -n -d extension="$HUB_SO" -d realtime.listen="127.0.0.1:${SRV_PORTS%%,*}"
				-d realtime.secret="$HUB_SECRET")
			if [[ $variant == cli-remote ]]; then
				cmd+=(-d realtime.shm_user=nobody "$BENCH/broadcast_cli.php" "$F_REMOTE_N" 64 remote)
			else
				cmd+=("$BENCH/broadcast_cli.php" "$F_N" 64 remote)
			fi
			[[ -n $CLI_CPU ]] && cmd=(taskset -c "$CLI_CPU" "${cmd[@]}")
			line=$(timeout 120 "${cmd[@]}" 2>>"$RUN_DIR/cli.log" | tail -1) || line=
			if [[ $line == \{* ]]; then
				note "{\"server\":\"hub\",\"workload\":\"f\",\"variant\":\"$variant\",${line#\{}"
			else
				note "{\"server\":\"hub\",\"workload\":\"f\",\"variant\":\"$variant\",\"error\":\"see cli.log\"}"
			fi
		done
		server_stop
	fi
	# the same, php -S not pinned: its PHP thread and hub thread may run on
	# different CPUs, so a wake-up between them, when there is one, crosses CPUs
	if [[ -n $SRV_CPU ]]; then
		saved_cpu=$SRV_CPU SRV_CPU=
		if server_start hub 1 $MB; then
			f_single request-single-unpinned
			server_stop
		fi
		SRV_CPU=$saved_cpu
	fi
	cli_port=$(srv__pick_ports 17900 1)
	for pin in pinned unpinned; do
		cmd=(php -n -d extension="$HUB_SO" -d realtime.listen=127.0.0.1:$cli_port
			-d realtime.allow_anonymous=1 "$BENCH/broadcast_cli.php" "$F_N" 64)
		[[ $pin == pinned && -n $SRV_CPU ]] && cmd=(taskset -c "$SRV_CPU" "${cmd[@]}")
		[[ $pin == pinned && -z $SRV_CPU ]] && continue
		line=$(timeout 120 "${cmd[@]}" 2>>"$RUN_DIR/cli.log" | tail -1) || line=
		if [[ $line == \{* ]]; then
			note "{\"server\":\"hub\",\"workload\":\"f\",\"variant\":\"cli-$pin\",${line#\{}"
		else
			note "{\"server\":\"hub\",\"workload\":\"f\",\"variant\":\"cli-$pin\",\"error\":\"see cli.log\"}"
		fi
	done
fi

# ---- (g) the Redis broker path ----
# (a)'s fan-out (one channel, G_CONNS subscribers) with the hubs on
# realtime.broker=redis and a private redis-server (no persistence) on the
# servers' CPU: one hub, then two php -S hubs sharing the Redis with the
# subscribers split between them (client g connects to hub g % 2) and the
# publish requests going to the first. redis-server's CPU is sampled apart.
if want g "$WORKLOADS" && want hub "$SERVERS"; then
	if command -v redis-server >/dev/null && redis_start; then
		log "redis-server on 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)"
		# its CPU when nobody uses it (its timers): the baseline of what (g) reports
		sched_ns() { cat /proc/"$REDIS_PID"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
		r0=$(sched_ns); sleep 3; r1=$(sched_ns)
		note "{\"workload\":\"g\",\"variant\":\"redis-idle\",\"seconds\":3,\"cpu_s\":$(awk -v a="$r0" -v b="$r1" 'BEGIN {printf "%.6f", (b - a) / 1e9}')}"
		for variant in redis-1hub redis-2hubs; do
			hubs=${variant//[^0-9]/}
			HUB_REDIS_PORT=$REDIS_PORT HUB_REDIS_PREFIX="bench-$variant:"
			run_one g hub "$hubs" $MB --variant "$variant" --conns $G_CONNS --channels 1 \
				--prefix g --rates $G_RATES --duration $G_DUR --payload 64
		done
		# broadcast() through Redis on an idle server: the PUBLISH round trip alone
		HUB_REDIS_PORT=$REDIS_PORT HUB_REDIS_PREFIX="bench-idle:"
		if server_start hub 1 $MB; then
			body=$(curl -fsS -X POST --data-binary "TS0:$(printf 'x%.0s' {1..60})" \
				"http://127.0.0.1:$SRV_PUB_PORT/pub.php?p=nobody&n=1&count=2000" 2>/dev/null) || body=null
			note "{\"server\":\"hub\",\"workload\":\"g\",\"variant\":\"redis-broadcast-idle\",\"resp\":$body}"
		fi
		server_stop
		HUB_REDIS_PORT= HUB_REDIS_PREFIX=
		redis-cli -p "$REDIS_PORT" info commandstats > "$RUN_DIR/redis-commandstats.txt" 2>&1 || true
		redis_stop
		echo "redis_version=$(redis-server --version | sed 's/^Redis server //')" >> "$RUN_DIR/env.txt"
	else
		log "workload g: no redis-server (apt-get install redis-server)"
		note '{"workload":"g","server":"hub","error":"redis-server is not installed or did not start"}'
		redis_stop
	fi
fi

echo "finished=$(date '+%Y-%m-%d %H:%M:%S %Z')" >> "$RUN_DIR/env.txt"
echo "elapsed_s=$(($(date +%s) - T_START))" >> "$RUN_DIR/env.txt"
echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$RUN_DIR/env.txt"

# ---- report ----
if [[ -z $OUT ]]; then
	if ((QUICK)); then OUT=$RUN_DIR/BENCHMARKS.md; else OUT=$ROOT/BENCHMARKS.md; fi
fi
python3 "$BENCH/report.py" --run-dir "$RUN_DIR" --out "$OUT"
log "report: $OUT (raw results: $RUN_DIR) in $(($(date +%s) - T_START)) s"
exit 0
}
