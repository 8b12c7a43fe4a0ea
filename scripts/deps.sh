#!/usr/bin/env bash
# Install what building and testing `realtime` needs on Debian 12.
# Idempotent: prints nothing and touches no network when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

# build-essential (compiler), git (package.sh) and valgrind (make -C
# tests/unit valgrind) are not in a bare Debian image either. chromium runs
# the pusher-js browser test (playwright-core drives it; no browser download);
# llvm gives llvm-symbolizer for readable sanitizer reports (scripts/asan.sh);
# clang and its runtime (libFuzzer) build tests/fuzz.
# php-laravel-framework (8.83, autoloaded from /usr/share/php/Illuminate/autoload.php)
# and php8.2-sqlite3 (the queue's database driver) run laravel.test.mjs.
# php-symfony-mercure (0.6.3; pulls php-symfony-http-client and its contracts,
# php-symfony-web-link, php-psr-link; autoloaded from
# /usr/share/php/Symfony/Component/Mercure/autoload.php) runs mercure.test.mjs.
# prometheus: metrics-prometheus.test.mjs runs the binary with its own config
# on a free port (the system service, if the package starts one, is unused).
# dpkg-dev (apt-get source), apache2-dev (apxs) and ccache: scripts/zts-php.sh
# builds a thread-safe PHP from Debian's source for scripts/test.sh zts.
packages=(
  build-essential git
  php8.2-dev php8.2-cli php8.2-fpm php-pear php-parser
  libuv1-dev libwslay-dev libhiredis-dev libhttp-parser-dev libjansson-dev
  libcurl4-openssl-dev libssl-dev pkg-config
  nginx redis-server apache2 libapache2-mod-php8.2 libnginx-mod-nchan
  valgrind chromium llvm
  clang libclang-rt-14-dev
  php-laravel-framework php8.2-sqlite3
  php-symfony-mercure
  prometheus
  dpkg-dev apache2-dev ccache
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -qq)
  ((EUID == 0)) || apt=(sudo "${apt[@]}")
  "${apt[@]}" update
  "${apt[@]}" install "${missing[@]}" >/dev/null
fi

# Node is not installed from apt (Debian 12 ships 18; the e2e suite wants 20).
if ! command -v node >/dev/null; then
  echo "deps: warning: node not found; the e2e suite needs Node 20 + npm" >&2
  exit 0
fi

e2e=tests/e2e
stamp=$e2e/node_modules/.deps-stamp
if [[ -f $e2e/package-lock.json ]] && [[ ! -e $stamp || $e2e/package-lock.json -nt $stamp ]]; then
  echo "deps: npm ci in $e2e"
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  mkdir -p "$e2e/node_modules"
  touch "$stamp"
fi
