#!/usr/bin/env bash
# Chat demo: installs what the build needs, builds the extension, and serves
# demo/ with PHP's built-in web server. The realtime hub starts inside that
# PHP process on the first page load.
#
#   DEMO_HTTP     host:port for the page          (default 0.0.0.0:8000)
#   DEMO_WS       host:port for the WebSocket hub (default 127.0.0.1:6001)
#   DEMO_ORIGINS  space-separated browser origins allowed to connect
#                 (default http://localhost:PORT http://127.0.0.1:PORT)
set -euo pipefail
cd "$(dirname "$0")/.."

DEMO_HTTP=${DEMO_HTTP:-0.0.0.0:8000}
DEMO_WS=${DEMO_WS:-127.0.0.1:6001}

bash scripts/deps.sh
bash scripts/build.sh

http_host=${DEMO_HTTP%:*}
http_port=${DEMO_HTTP##*:}
case $http_host in
  0.0.0.0 | 127.0.0.1 | localhost | '[::]' | '[::1]' | '') browse_host=localhost ;;
  *) browse_host=$http_host ;;
esac

# The page (port $http_port) and the hub ($DEMO_WS) are different origins, so
# the hub must be told which page origins may open WebSockets. The demo has
# no logins: anyone who can load the page may connect.
origins="http://localhost:$http_port http://127.0.0.1:$http_port"
[[ $browse_host == localhost ]] || origins+=" http://$browse_host:$http_port"
DEMO_ORIGINS=${DEMO_ORIGINS:-$origins}

echo
echo "Open http://$browse_host:$http_port in two tabs"
echo "(WebSocket hub on $DEMO_WS, allowed origins: $DEMO_ORIGINS; Ctrl-C stops)"
echo

exec php -n \
  -d extension="$PWD/modules/realtime.so" \
  -d realtime.listen="$DEMO_WS" \
  -d realtime.allowed_origins="$DEMO_ORIGINS" \
  -d realtime.allow_anonymous=1 \
  -S "$DEMO_HTTP" -t demo
