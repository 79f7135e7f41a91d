import { execFileSync } from 'node:child_process';
import type { Browser } from 'playwright-core';

/**
 * Headless Chromium (Debian's, installed by scripts/install-chromium.sh when it can be), or
 * undefined with a warning naming `what` is skipped, where it cannot be had.
 */
export async function launchChromium(what: string, extraArgs: string[] = []): Promise<Browser | undefined> {
  let executablePath: string;
  try {
    executablePath = execFileSync('bash', ['scripts/install-chromium.sh'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  } catch {
    console.warn(`${what} skipped: Chromium cannot be installed on this machine (scripts/install-chromium.sh)`);
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
