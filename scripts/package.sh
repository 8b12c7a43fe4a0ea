#!/usr/bin/env bash
# Write package.xml (PECL package 2.0) and build realtime-$VERSION.tgz.
#
#   scripts/package.sh          write package.xml, run `pecl package`
#   scripts/package.sh --check  exit 1 if package.xml does not list exactly
#                               the files (and roles) it would list now
#
# Files come from git (tracked plus untracked-but-not-ignored), filtered to
# what a PECL source release needs.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

VERSION=0.1.0
STABILITY=alpha

# "role path" lines, sorted by path
list_files() {
  git ls-files --cached --others --exclude-standard | sort -u | while IFS= read -r f; do
    [[ -f $f ]] || continue
    if [[ $f =~ ^config\.(m4|w32)$ || $f =~ ^([^/]+|(ext|hub|broker|stubs)/.+)\.[ch]$ || $f =~ ^stubs/[^/]+\.php$ ]]; then
      echo "src $f"
    elif [[ $f =~ ^tests/phpt/[^/]+\.(phpt|inc)$ ]]; then
      echo "test $f"
    elif [[ $f =~ ^(README\.md|SECURITY\.md|LICENSE|docs/[^/]+\.md)$ ]]; then
      echo "doc $f"
    fi
  done
}

# the same lines, read back from package.xml
listed_files() {
  sed -nE 's|^ *<file name="([^"]+)" role="([a-z]+)" */>$|\2 \1|p' package.xml
}

# Writes package.xml; keeps the old one (and its date) if only the date differs.
write_package_xml() {
  local files new=package.xml.new
  files=$(list_files)
  [[ -n $files ]] || { echo "package: no files to package" >&2; exit 1; }
  {
    cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<package version="2.0" xmlns="http://pear.php.net/dtd/package-2.0" xmlns:tasks="http://pear.php.net/dtd/tasks-1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://pear.php.net/dtd/tasks-1.0 http://pear.php.net/dtd/tasks-1.0.xsd http://pear.php.net/dtd/package-2.0 http://pear.php.net/dtd/package-2.0.xsd">
 <name>realtime</name>
 <channel>pecl.php.net</channel>
 <summary>WebSocket hub embedded in each PHP worker process</summary>
 <description>realtime embeds a libuv WebSocket hub in each PHP worker process, so PHP code can push messages to browsers over channels, fanned out across workers and hosts through a broker.</description>
 <lead>
  <name>realtime developers</name>
  <user>realtime</user>
  <email>dev@realtime.local</email>
  <active>yes</active>
 </lead>
 <date>$(date -u +%Y-%m-%d)</date>
 <version>
  <release>$VERSION</release>
  <api>$VERSION</api>
 </version>
 <stability>
  <release>$STABILITY</release>
  <api>$STABILITY</api>
 </stability>
 <license uri="https://opensource.org/licenses/MIT">MIT</license>
 <notes>First release.</notes>
 <contents>
  <dir name="/">
EOF
    while read -r role f; do
      echo "   <file name=\"$f\" role=\"$role\"/>"
    done <<<"$files"
    cat <<EOF
  </dir>
 </contents>
 <dependencies>
  <required>
   <php>
    <min>8.2.0</min>
   </php>
   <pearinstaller>
    <min>1.10.0</min>
   </pearinstaller>
  </required>
 </dependencies>
 <providesextension>realtime</providesextension>
 <extsrcrelease/>
</package>
EOF
  } >"$new"
  if [[ -f package.xml ]] && cmp -s <(grep -v '<date>' package.xml) <(grep -v '<date>' "$new"); then
    rm -f "$new"
  else
    mv "$new" package.xml
    echo "package: wrote package.xml"
  fi
}

case "${1:-}" in
  --check)
    [[ -f package.xml ]] || { echo "package.xml is missing: run scripts/package.sh" >&2; exit 1; }
    if ! diff -u --label package.xml --label "files now" <(listed_files | sort) <(list_files | sort) >&2; then
      echo "package.xml is stale: run scripts/package.sh" >&2
      exit 1
    fi
    echo "package: package.xml is up to date"
    ;;
  "")
    write_package_xml
    rm -f "realtime-$VERSION.tgz"
    pecl package package.xml
    [[ -f realtime-$VERSION.tgz ]] || { echo "package: pecl package produced no realtime-$VERSION.tgz" >&2; exit 1; }
    ;;
  *)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
