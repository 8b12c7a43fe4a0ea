#!/usr/bin/env bash
# Check that the PECL tarball installs and loads:
#   scripts/package.sh -> pecl install ./realtime-0.1.0.tgz
#   -> php -n -d extension=realtime -m lists realtime -> pecl uninstall.
#
# pecl keeps its registry in a throwaway config (builds in /tmp/pear/temp),
# but the built realtime.so always lands in PHP's extension dir
# (php-config --extension-dir): pecl installs where `make install` puts it
# and ignores ext_dir. So this needs write access there (root in CI). An
# existing realtime.so there is saved and put back afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.1.0
ext_dir=$(php-config --extension-dir)
so=$ext_dir/realtime.so

[[ -w $ext_dir ]] || { echo "pecl-install-test: $ext_dir is not writable (run as root)" >&2; exit 1; }

tmp=$(mktemp -d)
rc=$tmp/pearrc
installed=0
cleanup() {
  if ((installed)); then
    pecl -c "$rc" uninstall realtime >/dev/null || echo "pecl-install-test: pecl uninstall failed" >&2
  fi
  if [[ -f $tmp/realtime.so.saved ]]; then
    cp -p "$tmp/realtime.so.saved" "$so"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

[[ ! -f $so ]] || cp -p "$so" "$tmp/realtime.so.saved"

bash scripts/package.sh

pecl config-create "$tmp/root" "$rc" >/dev/null

echo "pecl-install-test: pecl install ./realtime-$VERSION.tgz"
if ! pecl -c "$rc" install -f "./realtime-$VERSION.tgz" </dev/null >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"
  echo "pecl-install-test: pecl install failed" >&2
  exit 1
fi
installed=1

if php -n -d extension=realtime -m | grep -qx realtime; then
  echo "pecl-install-test: ok, php -n -d extension=realtime -m lists realtime"
else
  php -n -d extension=realtime -m >&2 || true
  echo "pecl-install-test: realtime is not loaded from $so" >&2
  exit 1
fi
