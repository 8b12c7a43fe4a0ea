#!/usr/bin/env bash
# Regenerate stubs/realtime_arginfo.h from stubs/realtime.stub.php, offline.
#
# PHP 8.2's build/gen_stub.php downloads PHP-Parser 4.15.1 into
# <its own dir>/PHP-Parser-4.15.1 and autoloads PhpParser\X from
# <that dir>/lib/PhpParser/X.php. We run a copy of gen_stub.php from a temp
# dir in which PHP-Parser-4.15.1/lib/PhpParser is a symlink to Debian's
# php-parser package (/usr/share/php/PhpParser). Debian 12 ships php-parser
# 4.15.x, API-compatible with 4.15.1. (php-parser 5.x would not work: it
# renamed and removed classes gen_stub.php uses; 4.x is required.)
#
#   scripts/gen-arginfo.sh          regenerate stubs/realtime_arginfo.h
#   scripts/gen-arginfo.sh --check  exit 1 if the committed file is stale
set -euo pipefail
cd "$(dirname "$0")/.."

stub=stubs/realtime.stub.php
arginfo=stubs/realtime_arginfo.h
php_api=$(php-config --extension-dir | xargs basename)
gen_stub=${GEN_STUB:-/usr/lib/php/$php_api/build/gen_stub.php}
parser_src=${PHP_PARSER_DIR:-/usr/share/php/PhpParser}

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

[[ -f $stub ]] || { echo "gen-arginfo: $stub not found" >&2; exit 1; }
[[ -f $gen_stub ]] || { echo "gen-arginfo: $gen_stub not found (install php8.2-dev)" >&2; exit 1; }
[[ -f $parser_src/Parser.php ]] || { echo "gen-arginfo: $parser_src not found (install php-parser)" >&2; exit 1; }

# shellcheck disable=SC2016 # a literal $version in gen_stub.php
version=$(sed -n 's/^ *\$version = "\([0-9.]*\)";/\1/p' "$gen_stub" | head -n1)
[[ -n $version ]] || { echo "gen-arginfo: cannot find PHP-Parser version in $gen_stub" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$gen_stub" "$tmp/gen_stub.php"
mkdir -p "$tmp/PHP-Parser-$version/lib"
ln -s "$parser_src" "$tmp/PHP-Parser-$version/lib/PhpParser"

if ((check)); then
  mkdir "$tmp/stubs"
  cp "$stub" "$tmp/stubs/"
  php "$tmp/gen_stub.php" -f "$tmp/stubs/$(basename "$stub")" >/dev/null
  if ! diff -u "$arginfo" "$tmp/stubs/$(basename "$arginfo")" >&2; then
    echo "$arginfo is stale: run scripts/gen-arginfo.sh" >&2
    exit 1
  fi
  echo "gen-arginfo: $arginfo is up to date"
else
  php "$tmp/gen_stub.php" -f "$stub"
fi
