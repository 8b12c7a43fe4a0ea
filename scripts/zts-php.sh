#!/usr/bin/env bash
# A thread-safe (ZTS) PHP built from Debian's own php8.2 source, and the
# extension built against it: what scripts/test.sh zts runs on.
#
#   scripts/zts-php.sh           build (or reuse) the ZTS PHP, then
#                                build-zts/modules/realtime.so against it
#   scripts/zts-php.sh --prefix  print the ZTS PHP's install prefix
#
# Debian ships no ZTS PHP. The smallest one the tests need: the CLI (phpt),
# the embed SAPI (tests/zts's thread harness) and mod_php for Apache's
# event MPM (apxs2). PHP builds one shared SAPI at a time, so it is
# configured twice; ccache makes the second compile mostly hits.
#
# The PHP goes under ${RT_ZTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/realtime},
# outside the clone, so that a fresh clone on the same machine (CI) reuses
# it: php-zts-<version>/ with bin/php, bin/php-config, lib/libphp.so
# (embed) and apache2/libphp.so (mod_php).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cache=${RT_ZTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/realtime}
# The newest source version that downloads: the main archive served 8.2.32
# here, and a security archive's newer one (if a deb-src line names it)
# may answer 404, so older candidates are tried in turn. The prefix is
# named after the version built.
srcpkg=php8.2
# What the build is made with: a cached PHP built another way is rebuilt.
# Zend's signal handling is off, as FrankenPHP builds PHP: with it, a
# request on one thread installs Zend's handlers process-wide, and an
# Apache event child then dies by the SIGTERM of a restart (re-raised
# with the default action) before its MSHUTDOWN can close its clients.
recipe="zts disable-all cli embed apxs2 disable-zend-signals"

need_src_entry() {
  ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null &&
    ! grep -qs '^deb-src ' /etc/apt/sources.list 2>/dev/null
}

# A deb-src entry for the main archive only (idempotent).
add_src_entry() {
  local f=/etc/apt/sources.list.d/realtime-src.sources sudo=()
  ((EUID == 0)) || sudo=(sudo)
  [[ -f $f ]] && return 0
  echo "zts-php: adding a deb-src entry for Debian's main archive ($f)"  >&2
  printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
    "${sudo[@]}" tee "$f" >/dev/null
  "${sudo[@]}" apt-get update -qq
}

# The source version apt would fetch, from the cached prefix when present
# (no network needed then).
version() {
  local v
  v=$(compgen -G "$cache/php-zts-*/.complete" | sort -V | tail -1 || true)
  if [[ -n $v ]]; then
    v=${v%/.complete}
    echo "${v##*/php-zts-}"
    return
  fi
  v=$(candidates | head -1)
  [[ -n $v ]] || { echo "zts-php: apt-cache showsrc $srcpkg found no source" >&2; return 1; }
  echo "${v%%-*}"
}

# Debian versions of the source, newest first.
candidates() {
  need_src_entry && add_src_entry
  apt-cache showsrc "$srcpkg" 2>/dev/null | sed -n 's/^Version: //p' | sort -Vru
}

ver=$(version)
prefix=$cache/php-zts-$ver
if [[ ${1:-} == --prefix ]]; then
  echo "$prefix"
  exit 0
fi

build_php() {
  local work=$cache/src-$ver log=$cache/build-$ver.log t0=$SECONDS
  mkdir -p "$cache"
  need_src_entry && add_src_entry
  rm -rf "$work" "$prefix"
  mkdir -p "$work"
  local got='' v
  for v in $(candidates); do
    echo "zts-php: apt-get source $srcpkg=$v into $work"
    if (cd "$work" && apt-get source -qq --only-source "$srcpkg=$v" >>"$log" 2>&1); then
      got=$v
      break
    fi
    echo "zts-php: $srcpkg=$v did not download; trying an older one" >&2
    rm -rf "${work:?}"/*
  done
  [[ -n $got ]] || { tail -20 "$log" >&2; echo "zts-php: apt-get source failed" >&2; return 1; }
  if [[ ${got%%-*} != "$ver" ]]; then
    ver=${got%%-*}
    prefix=$cache/php-zts-$ver
    rm -rf "$prefix"
  fi
  local src
  src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'php8.2-*' | head -1)
  [[ -n $src && -x $src/configure ]] || { echo "zts-php: no configure in $work" >&2; return 1; }

  export CCACHE_DIR=$cache/ccache CCACHE_BASEDIR=$src
  local cc=gcc
  command -v ccache >/dev/null && cc="ccache gcc"
  # Only what the tests use: the CLI, proc_open and friends (standard),
  # pcre, json and hash (always built); no pear, no cgi, no phpdbg.
  local common=(--prefix="$prefix" --enable-zts --disable-zend-signals --disable-all --enable-cli
    --disable-cgi --disable-phpdbg --without-pear --with-config-file-path="$prefix/etc"
    --with-config-file-scan-dir="$prefix/etc/conf.d")

  cd "$src"
  echo "zts-php: configure + make for mod_php (apxs2)"
  CC=$cc CFLAGS="-O2 -g" ./configure "${common[@]}" --with-apxs2=/usr/bin/apxs >>"$log" 2>&1 ||
    { tail -30 "$log" >&2; echo "zts-php: configure (apxs2) failed; see $log" >&2; return 1; }
  make -j2 >>"$log" 2>&1 || { tail -30 "$log" >&2; echo "zts-php: make (apxs2) failed; see $log" >&2; return 1; }
  mkdir -p "$prefix/apache2"
  cp libs/libphp.so "$prefix/apache2/libphp.so"

  echo "zts-php: configure + make for the CLI and embed SAPIs"
  CC=$cc CFLAGS="-O2 -g" ./configure "${common[@]}" --enable-embed=shared >>"$log" 2>&1 ||
    { tail -30 "$log" >&2; echo "zts-php: configure (embed) failed; see $log" >&2; return 1; }
  make -j2 >>"$log" 2>&1 || { tail -30 "$log" >&2; echo "zts-php: make (embed) failed; see $log" >&2; return 1; }
  make install >>"$log" 2>&1 || { tail -30 "$log" >&2; echo "zts-php: make install failed; see $log" >&2; return 1; }
  mkdir -p "$prefix/etc/conf.d"
  fix_placeholders
  "$prefix/bin/php" -r 'exit(PHP_ZTS ? 0 : 1);' || { echo "zts-php: $prefix/bin/php is not ZTS" >&2; return 1; }
  cd "$root"
  rm -rf "$work"
  echo "$recipe" >"$prefix/.complete"
  echo "zts-php: built PHP $ver ZTS in $((SECONDS - t0)) s into $prefix"
}

# Debian's patches leave placeholders in php-config and phpize that its
# packaging fills in: without them the headers are not found.
fix_placeholders() {
  local api
  api=$(sed -n 's/^extension_dir=.*-\([0-9]\{8\}\)"$/\1/p' "$prefix/bin/php-config")
  [[ -n $api ]] || { echo "zts-php: no API number in $prefix/bin/php-config" >&2; return 1; }
  sed -i -e 's|/@DEBIAN_PHP_API@||g' -e "s|@DEBIAN_PHP_API@|$api|g" \
    "$prefix/bin/php-config" "$prefix/bin/phpize"
}

if [[ -f $prefix/.complete && $(cat "$prefix/.complete") == "$recipe" ]]; then
  echo "zts-php: reusing $prefix"
  grep -q '@DEBIAN_PHP_API@' "$prefix/bin/php-config" && fix_placeholders
else
  build_php
fi

# The extension, out of tree like build-asan/ (scripts/build.sh --asan):
# the root's configure, pointed at the ZTS PHP's php-config. build-zts/
# for the phpt suite and Apache; build-zts-tsan/ with ThreadSanitizer for
# tests/zts's harness (-O1 keeps its reports readable).
build_ext() {
  local bz=$root/$1 flags="$2" ldflags="$3" out
  mkdir -p "$bz"
  if [[ ! -f $bz/Makefile || configure -nt $bz/Makefile || $prefix/bin/php-config -nt $bz/Makefile || $(cat "$bz/.flags" 2>/dev/null) != "$flags|$ldflags|$prefix" ]]; then
    echo "zts-php: $1/ ./configure --enable-realtime ($flags)"
    (cd "$bz" && CFLAGS="$flags" LDFLAGS="$ldflags" "$root/configure" --enable-realtime \
      --with-php-config="$prefix/bin/php-config" >/dev/null) ||
      { echo "zts-php: configure failed; see $1/config.log" >&2; return 1; }
    make -C "$bz" clean >/dev/null
    echo "$flags|$ldflags|$prefix" >"$bz/.flags"
  fi
  echo "zts-php: $1/ make -j2"
  out=$(make -C "$bz" -j2 2>&1) || { printf '%s\n' "$out" | tail -40 >&2; echo "zts-php: make failed in $1/" >&2; return 1; }
  if grep -q 'warning:' <<<"$out"; then
    grep 'warning:' <<<"$out" >&2
    echo "zts-php: the build in $1/ has warnings" >&2
    return 1
  fi
  [[ -f $bz/modules/realtime.so ]] || { echo "zts-php: $1/modules/realtime.so was not produced" >&2; return 1; }
  echo "zts-php: $1/modules/realtime.so ok"
}

[[ -x configure && ! config.m4 -nt configure ]] || bash scripts/build.sh >/dev/null
build_ext build-zts "-g -O2 -Wall -Wextra" ""
build_ext build-zts-tsan "-g -O1 -fsanitize=thread -fno-omit-frame-pointer -Wall -Wextra -Wno-tsan" "-fsanitize=thread"
