# Sourced by run.sh: start and stop the servers under test.
#   server_start NAME INSTANCES MAX_OUTBOUND   sets SRV_PORTS (comma list),
#     SRV_PIDS (comma list of every process of the server), SRV_SUB, SRV_PATH,
#     SRV_PUB, SRV_PUB_PORT, SRV_PUB_PATH (the load generator's options)
#   server_stop                                stops what server_start started
#   redis_start / redis_stop                   a private redis-server for the
#     hub's Redis broker: sets REDIS_PORT and REDIS_PID. While HUB_REDIS_PORT
#     is set, server_start hub puts every hub on the Redis broker there (one
#     app: realtime.redis_prefix HUB_REDIS_PREFIX), publishing goes to the
#     first hub's php -S, and SRV_AUX_PIDS names redis-server.
# Every process is started with setsid in its own process group, recorded
# in $RUN_DIR/pgids, and killed by group id (also by run.sh's EXIT trap).
# Needs: RUN_DIR, ROOT, BENCH, HUB_SO, SRV_CPU (taskset list or empty).

SRV_GROUPS=()
HUB_SECRET=bench-secret # authorizes POST /publish from a CLI without a hub, (f)

srv__spawn() { # log-file command...
	local log=$1; shift
	if [[ -n ${SRV_CPU:-} ]]; then
		setsid taskset -c "$SRV_CPU" "$@" >>"$log" 2>&1 < /dev/null &
	else
		setsid "$@" >>"$log" 2>&1 < /dev/null &
	fi
	local pid=$!
	SRV_GROUPS+=("$pid")
	echo "$pid" >> "$RUN_DIR/pgids"
	SRV_LAST_PID=$pid
}

srv__wait_http() { # url [seconds]
	local url=$1 limit=${2:-15} i
	for ((i = 0; i < limit * 10; i++)); do
		if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "server did not answer $url" >&2
	return 1
}

srv__port_free() { # port
	! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# First port p >= base such that p..p+n-1 are free.
srv__pick_ports() { # base n
	local p=$1 n=$2 k ok
	while :; do
		ok=1
		for ((k = 0; k < n; k++)); do
			srv__port_free $((p + k)) || { ok=0; break; }
		done
		((ok)) && { echo "$p"; return; }
		p=$((p + n + 1))
	done
}

srv__join() { local IFS=,; echo "$*"; }

server_start() { # name instances max_outbound
	local name=$1 n=$2 maxout=$3 base hbase i ports=() pids=()
	SRV_GROUPS=()
	SRV_AUX_PIDS=
	case $name in
	hub|hub-sse|hub-mercure)
		base=$(srv__pick_ports 17100 "$n")
		hbase=$(srv__pick_ports 18100 "$n")
		local broker=()
		if [[ -n ${HUB_REDIS_PORT:-} ]]; then
			broker=(-d realtime.broker=redis -d realtime.redis_address=127.0.0.1:$HUB_REDIS_PORT
				-d realtime.redis_prefix="${HUB_REDIS_PREFIX:-bench:}")
			SRV_AUX_PIDS=$REDIS_PID
		fi
		for ((i = 0; i < n; i++)); do
			srv__spawn "$RUN_DIR/hub-$i.log" php -n -d extension="$HUB_SO" \
				-d realtime.listen=127.0.0.1:$((base + i)) -d realtime.allow_anonymous=1 \
				-d realtime.secret="$HUB_SECRET" \
				-d realtime.max_connections=200000 -d realtime.max_outbound="$maxout" \
				-d realtime.max_handshakes=200000 \
				"${broker[@]}" -S 127.0.0.1:$((hbase + i)) -t "$BENCH/app"
			pids+=("$SRV_LAST_PID")
			ports+=($((base + i)))
		done
		for ((i = 0; i < n; i++)); do
			# the hub starts with the first PHP request of its process
			srv__wait_http "http://127.0.0.1:$((hbase + i))/index.php" || return 1
			srv__wait_http "http://127.0.0.1:$((base + i))/health" || return 1
		done
		SRV_SUB=json SRV_PATH=/ws SRV_PUB=query SRV_PUB_PORT=$hbase SRV_PUB_PATH=/pub.php
		# The same hub's event streams: native SSE, and Mercure subscribers
		# (anonymous: realtime.allow_anonymous=1) of the channel as a topic.
		if [[ $name == hub-sse ]]; then
			SRV_SUB=sse SRV_PATH='/ws/sse?channels=%s'
		elif [[ $name == hub-mercure ]]; then
			SRV_SUB=sse-open SRV_PATH='/.well-known/mercure?topic=%s'
		fi
		;;
	nchan|nchan-sse)
		base=$(srv__pick_ports 17200 1)
		local dir="$RUN_DIR/nchan-$base"
		mkdir -p "$dir/body"
		sed -e "s#@PREFIX@#$dir#g" -e "s#@PORT@#$base#g" -e "s#@WORKERS@#$n#g" \
			"$BENCH/peers/nchan.conf.in" > "$dir/nchan.conf"
		srv__spawn "$RUN_DIR/nchan.log" nginx -p "$dir" -c "$dir/nchan.conf"
		srv__wait_http "http://127.0.0.1:$base/health" || return 1
		sleep 0.3
		pids=("$SRV_LAST_PID" $(pgrep -P "$SRV_LAST_PID"))
		ports=("$base")
		SRV_SUB=url SRV_PATH=/sub/%s SRV_PUB=nchan SRV_PUB_PORT=$base SRV_PUB_PATH=/pub/
		if [[ $name == nchan-sse ]]; then
			SRV_SUB=sse-open SRV_PATH=/es/%s
		fi
		;;
	ws|uws)
		local off=17300
		[[ $name == uws ]] && off=17400
		base=$(srv__pick_ports "$off" "$n")
		for ((i = 0; i < n; i++)); do
			srv__spawn "$RUN_DIR/$name-$i.log" env MAX_OUTBOUND="$maxout" \
				node "$BENCH/peers/${name}_server.js" $((base + i))
			pids+=("$SRV_LAST_PID")
			ports+=($((base + i)))
		done
		for ((i = 0; i < n; i++)); do
			srv__wait_http "http://127.0.0.1:$((base + i))/health" || return 1
		done
		SRV_SUB=json SRV_PATH=/ws SRV_PUB=query SRV_PUB_PORT=$base SRV_PUB_PATH=/pub
		;;
	*)
		echo "unknown server $name" >&2
		return 1
		;;
	esac
	SRV_PORTS=$(srv__join "${ports[@]}")
	SRV_PIDS=$(srv__join "${pids[@]}")
}

server_stop() {
	local g
	for g in "${SRV_GROUPS[@]}"; do
		kill -TERM -- "-$g" 2>/dev/null || true
	done
	for g in "${SRV_GROUPS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 -- "-$g" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL -- "-$g" 2>/dev/null || true
	done
	SRV_GROUPS=()
	# a hub server's shared memory segment outlives it by design (docs/deployment.md)
	local p
	for p in ${SRV_PORTS//,/ }; do
		rm -f /dev/shm/realtime."$p".*
	done
}

REDIS_PORT= REDIS_PID= REDIS_GROUP=
redis_start() { # a redis-server on a free loopback port, on the servers' CPU
	REDIS_PORT=$(srv__pick_ports 16400 1)
	local keep=("${SRV_GROUPS[@]}") i
	srv__spawn "$RUN_DIR/redis.log" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 \
		--save '' --appendonly no
	REDIS_PID=$SRV_LAST_PID REDIS_GROUP=$SRV_LAST_PID
	SRV_GROUPS=("${keep[@]}") # server_stop leaves it alone
	for ((i = 0; i < 100; i++)); do
		[[ $(redis-cli -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]] && return 0
		sleep 0.1
	done
	echo "redis-server did not answer on port $REDIS_PORT" >&2
	return 1
}

redis_stop() {
	[[ -n $REDIS_GROUP ]] || return 0
	kill -TERM -- "-$REDIS_GROUP" 2>/dev/null || true
	for _ in $(seq 30); do
		kill -0 -- "-$REDIS_GROUP" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$REDIS_GROUP" 2>/dev/null || true
	REDIS_PORT= REDIS_PID= REDIS_GROUP=
}
