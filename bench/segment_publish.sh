#!/usr/bin/env bash
# bench/segment_publish.sh: Realtime\broadcast() from a CLI process without a
# hub (a queue worker), through the pool's named shared-memory segment
# against POST /publish, side by side (issue 13, point 6; BENCHMARKS.md (f)).
#
#   bash bench/segment_publish.sh [--workers N] [--calls N] [--http-calls N]
#                                 [--payload BYTES] [--cpu C] [--no-build]
#
# Starts php -S with N workers (default 4, so 5 hubs) on free loopback
# ports, runs one request in each so every hub runs, then
# bench/broadcast_cli.php in "remote" mode twice with the same settings:
#   - as this user (the segment's owner): broadcast() appends to the shared
#     ring and wakes the hubs (status()['publish_path'] == "segment");
#   - as nobody (setpriv), who may not open the segment: one POST /publish
#     per call over a kept-alive connection ("http"), as today.
# Nobody is subscribed: this is the cost in the publishing process. Prints
# both JSON lines and the ratio. Run as root (setpriv needs it).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/php_server.sh

WORKERS=4 CALLS=200000 HTTP_CALLS=5000 PAYLOAD=64 CPU= BUILD=1
while (($#)); do
	case $1 in
	--workers) WORKERS=$2; shift ;;
	--calls) CALLS=$2; shift ;;
	--http-calls) HTTP_CALLS=$2; shift ;;
	--payload) PAYLOAD=$2; shift ;;
	--cpu) CPU=$2; shift ;;
	--no-build) BUILD=0 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
((BUILD)) && bash scripts/build.sh >/dev/null

# Everything the other user runs must be readable by it.
tmp=$(mktemp -d)
chmod 755 "$tmp"
cp modules/realtime.so bench/broadcast_cli.php "$tmp/"
chmod 644 "$tmp/realtime.so" "$tmp/broadcast_cli.php"
cat > "$tmp/warm.php" <<'PHP'
<?php usleep(150000); echo json_encode(Realtime\status()['running']);
PHP
hub_port=$(free_port)
http_port=$(free_port)
secret=bench-segment-secret
ini=(-n -d extension="$tmp/realtime.so" -d realtime.listen=127.0.0.1:$hub_port -d realtime.secret=$secret)
server=
trap php_server_cleanup EXIT

PHP_CLI_SERVER_WORKERS=$WORKERS setsid php "${ini[@]}" -S 127.0.0.1:$http_port -t "$tmp" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$http_port/warm.php" 2>/dev/null && break
	sleep 0.1
done
# Concurrent requests until every process (the parent serves too) said its hub runs.
for _ in $(seq 20); do
	for _ in $(seq $((2 * (WORKERS + 1)))); do
		curl -fsS "http://127.0.0.1:$http_port/warm.php" >/dev/null 2>&1 &
	done
	wait $(jobs -p | grep -v "^$server\$") 2>/dev/null || true
	hubs=$(grep -c 'hub listening' "$tmp/server.log" || true)
	((hubs >= WORKERS + 1)) && break
done
echo "php -S with $WORKERS workers: $hubs hubs on 127.0.0.1:$hub_port; segment $(ls /dev/shm | grep "^realtime\.$hub_port\.")" >&2

pin=()
[[ -n $CPU ]] && pin=(taskset -c "$CPU")
seg=$("${pin[@]}" php "${ini[@]}" "$tmp/broadcast_cli.php" "$CALLS" "$PAYLOAD" remote | tail -1)
http=$("${pin[@]}" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	php "${ini[@]}" "$tmp/broadcast_cli.php" "$HTTP_CALLS" "$PAYLOAD" remote | tail -1)
echo "segment: $seg"
echo "http:    $http"
php -n -r '
	[$s, $h] = [json_decode($argv[1], true), json_decode($argv[2], true)];
	if ($s["path"] !== "segment" || $h["path"] !== "http") {
		fwrite(STDERR, "unexpected paths: {$s["path"]} / {$h["path"]}\n");
		exit(1);
	}
	printf("broadcast() from the CLI: %.2f us through the segment, %.1f us per POST /publish: %.0fx faster\n",
		$s["ns_per_call_median"] / 1000, $h["ns_per_call_median"] / 1000,
		$h["ns_per_call_median"] / $s["ns_per_call_median"]);
' "$seg" "$http"
