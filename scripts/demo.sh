#!/usr/bin/env bash
# Chat demo: installs what the build needs, builds the extension, and serves
# demo/ with PHP's built-in web server. The realtime hub starts inside that
# PHP process on the first page load.
#
#   DEMO_HTTP     host:port for the page          (default 0.0.0.0:8000)
#   DEMO_WS       host:port for the WebSocket hub (default 127.0.0.1:6001)
#   DEMO_ORIGINS  space-separated browser origins allowed to connect
#                 (default http://localhost:PORT http://127.0.0.1:PORT)
#   DEMO_NO_BUILD 1: skip installing and building; use modules/realtime.so as it is
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_HTTP=${DEMO_HTTP:-0.0.0.0:8000}
DEMO_WS=${DEMO_WS:-127.0.0.1:6001}

if [[ ${DEMO_NO_BUILD:-0} != 1 ]]; then
  bash scripts/deps.sh
  bash scripts/build.sh
fi

http_host=${DEMO_HTTP%:*}
http_port=${DEMO_HTTP##*:}
case $http_host in
  0.0.0.0 | 127.0.0.1 | localhost | '[::]' | '[::1]' | '') browse_host=localhost ;;
  *) browse_host=$http_host ;;
esac

# The page (port $http_port) and the hub ($DEMO_WS) are different origins, so
# the hub must be told which page origins may open WebSockets.
origins="http://localhost:$http_port http://127.0.0.1:$http_port"
[[ $browse_host == localhost ]] || origins+=" http://$browse_host:$http_port"
DEMO_ORIGINS=${DEMO_ORIGINS:-$origins}

# Who may connect: only holders of a token that token.php signs for a
# logged-in user. The signing secret is new on every run, so tokens from an
# earlier run stop working (pages fetch a new one when they reconnect). It
# shows in the process list: fine for a demo, not for production, where it
# belongs in php.ini.
secret=$(php -r 'echo bin2hex(random_bytes(16));')

# Logins are PHP sessions (files); keep them in a directory of our own.
sessions=${TMPDIR:-/tmp}/realtime-demo-sessions-$(id -u)
mkdir -p "$sessions"
chmod 700 "$sessions"

echo
echo "Open http://$browse_host:$http_port in two tabs and log in with two names"
echo "(WebSocket hub on $DEMO_WS, allowed origins: $DEMO_ORIGINS; Ctrl-C stops)"
echo

exec php -n \
  -d extension="$PWD/modules/realtime.so" \
  -d realtime.listen="$DEMO_WS" \
  -d realtime.allowed_origins="$DEMO_ORIGINS" \
  -d realtime.secret="$secret" \
  -d realtime.client_events=1 \
  -d realtime.history=presence-chat:100:86400 \
  -d session.save_path="$sessions" \
  -S "$DEMO_HTTP" -t demo
