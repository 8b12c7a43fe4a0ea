// Headless Chromium for the browser tests: Debian's chromium (scripts/deps.sh
// installs it), driven by playwright-core, in a throwaway profile.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

/**
 * Starts Chromium; resolves with { context, close() }. No skip without a
 * browser: a machine without it fails here, saying what to install.
 * `options` go to launchPersistentContext (a viewport, say).
 */
export async function launchChromium(options = {}) {
  assert.ok(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install chromium (scripts/deps.sh), or set CHROMIUM_BIN`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'realtime-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
      ...options,
    });
  } catch (e) {
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
