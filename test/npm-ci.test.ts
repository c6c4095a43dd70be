/**
 * `npm ci` installs from the committed lock in a clean folder, as the image and a fresh machine do. It
 * refuses a lock that lacks an optional dependency of some platform (the locked `@swc/core` once had no
 * macOS or Windows binary in the registry); `overrides` in package.json pins one that has them all.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');

describe('npm ci', () => {
  it('installs the committed lock into a clean folder', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'task-agent-npm-ci-'));
    try {
      for (const file of ['package.json', 'package-lock.json']) copyFileSync(join(root, file), join(dir, file));
      await promisify(execFile)('npm', ['ci', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
        cwd: dir,
        maxBuffer: 16 * 1024 * 1024,
      });
      expect(existsSync(join(dir, 'node_modules', '@temporalio', 'worker', 'package.json'))).toBe(true);
      // Every platform's native binary of the locked @swc/core is in the lock, so other machines install too.
      const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
      const swc = lock.packages['node_modules/@swc/core']!;
      const platforms = Object.keys((JSON.parse(readFileSync(join(dir, 'node_modules', '@swc', 'core', 'package.json'), 'utf8')) as { optionalDependencies: Record<string, string> }).optionalDependencies);
      expect(platforms.length).toBeGreaterThanOrEqual(10);
      for (const name of platforms) expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(swc.version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
