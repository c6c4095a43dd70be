/**
 * Finds Debian's Chromium for the browser tests, installing it with apt-get when it is missing and this
 * process may (root on a Debian-like machine). The browser a test tool would download cannot be fetched
 * here, so the system package is used through playwright-core's `executablePath`.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

function found(): string | undefined {
  return CANDIDATES.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function ensureChromium(log: (message: string) => void = console.error): string {
  const existing = process.env.CHROMIUM_PATH ?? found();
  if (existing) return existing;
  if (process.getuid?.() !== 0) {
    throw new Error('Chromium is not installed. Install Debian\'s "chromium" package (apt-get install chromium) or set CHROMIUM_PATH.');
  }
  log('Installing Chromium with apt-get (once per machine)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Test files run in parallel and may each install: apt-get waits for the other's lock rather than failing.
  const wait = ['-o', 'DPkg::Lock::Timeout=600'];
  execFileSync('apt-get', [...wait, 'update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', [...wait, 'install', '-y', '-qq', 'chromium'], { stdio: 'ignore', env });
  const installed = found();
  if (!installed) throw new Error('apt-get install chromium finished but no chromium binary was found');
  return installed;
}

/** Flags for a headless Chromium on a machine with no outside network (see the env notes). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
