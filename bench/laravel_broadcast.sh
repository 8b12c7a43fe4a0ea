#!/usr/bin/env bash
# bench/laravel_broadcast.sh: a Laravel event broadcast through the realtime
# driver (integrations/laravel: Realtime\broadcast() in the process) against
# the request the pusher driver makes for it (a signed POST to the hub's
# Pusher HTTP API), from a CLI process of the app, as a queue worker sends
# queued events (issue 17; BENCHMARKS.md "Laravel: the realtime driver").
#
#   bash bench/laravel_broadcast.sh [runs, default 3] [calls, default 20000]
#
# Debian's php-laravel-framework (8.83) runs tests/e2e/laravel-app, copied
# to a temp dir with the driver installed as tests/e2e/lib/laravel.mjs does.
# php -S with 2 workers serves the app's hub port (the realtime driver's
# broadcast() goes through their shared segment; the HTTP API is one of
# their hubs). Nobody is subscribed: this is the cost in the sending process.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/php_server.sh
RUNS=${1:-3}
CALLS=${2:-20000}
HTTP_CALLS=$((CALLS / 10))
EXT=${REALTIME_EXTENSION:-$PWD/modules/realtime.so}
[[ -f $EXT ]] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
[[ -f /usr/share/php/Illuminate/autoload.php ]] || { echo "needs php-laravel-framework (scripts/deps.sh)" >&2; exit 1; }

tmp=$(mktemp -d)
app=$tmp/app
cp -r tests/e2e/laravel-app "$app"
mkdir -p "$app/vendor/realtime" "$app/vendor/composer"
mv "$app/vendor-autoload.php" "$app/vendor/autoload.php"
ln -s "$PWD/integrations/laravel" "$app/vendor/realtime/laravel"
php -n -r 'echo json_encode(["packages" => [json_decode(file_get_contents($argv[1]), true)]]);' \
	integrations/laravel/composer.json > "$app/vendor/composer/installed.json"
: > "$app/database/database.sqlite"

hub_port=$(free_port)
http_port=$(free_port)
app_id=4242 key=bench-key secret=bench-app-secret-0123456789
cat > "$tmp/php.ini" <<INI
extension=$EXT
extension=ctype
extension=mbstring
extension=intl
extension=tokenizer
extension=pdo
extension=pdo_sqlite
realtime.listen=127.0.0.1:$hub_port
realtime.secret=bench-secret-0123456789abcdef
realtime.app_id=$app_id
realtime.app_key=$key
realtime.app_secret=$secret
realtime.allow_anonymous=1
realtime.log=$tmp/hub.log
INI
server=
trap php_server_cleanup EXIT
PHP_INI_SCAN_DIR= PHP_CLI_SERVER_WORKERS=2 setsid php -c "$tmp/php.ini" -S 127.0.0.1:$http_port -t "$app/public" >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$http_port/" 2>/dev/null && grep -q 'hub listening' "$tmp/hub.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'hub listening' "$tmp/hub.log" || { echo "no hub started:" >&2; cat "$tmp/server.log" "$tmp/hub.log" >&2; exit 1; }

results=()
for ((i = 1; i <= RUNS; i++)); do
	line=$(PHP_INI_SCAN_DIR= php -c "$tmp/php.ini" bench/laravel_broadcast.php "$app" "$CALLS" "$HTTP_CALLS" \
		"$hub_port" "$app_id" "$key" "$secret")
	echo "$line" >&2
	results+=("$line")
done
python3 - "${results[@]}" <<'PY'
import json, sys
runs = [json.loads(a) for a in sys.argv[1:]]
print(f"php-laravel-framework 8.83, CLI process (publish path: {runs[0]['publish_path']}), "
      f"{runs[0]['calls']} events per run ({runs[0]['http_calls']} over HTTP), µs per event:\n")
print("| run | `Realtime\\broadcast()` alone | realtime driver: `broadcast()` | pusher driver's request: signed POST to the Pusher HTTP API | ratio, POST / driver | `event()` of a ShouldBroadcastNow event, realtime driver | the same with the POST instead (estimate) | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for i, r in enumerate(runs, 1):
    pusher_event = r['event_us'] - r['driver_us'] + r['http_us']
    print(f"| {i} | {r['raw_us']:.2f} | {r['driver_us']:.2f} | {r['http_us']:.2f} | {r['http_us'] / r['driver_us']:.0f}x "
          f"| {r['event_us']:.2f} | {pusher_event:.2f} | {pusher_event / r['event_us']:.0f}x |")
PY
