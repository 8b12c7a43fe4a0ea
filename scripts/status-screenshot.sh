#!/usr/bin/env bash
# Regenerates docs/status.png, the README's screenshot of GET /status: runs
# the status page test of tests/e2e/metrics.test.mjs (php-fpm + nginx, 4
# workers, headless Chromium), which keeps its screenshot there.
# Needs a built extension (bash scripts/build.sh) and scripts/deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
REALTIME_SCREENSHOT="$PWD/docs/status.png" \
	node --test --test-name-pattern='headless Chromium' tests/e2e/metrics.test.mjs
echo "wrote docs/status.png"
