/**
 * A process that cannot start says why, naming the variable to fix, and exits non-zero.
 */
import { describe, expect, it } from 'vitest';
import { freePort } from '../scripts/dev-server';
import { spawnEntry } from '../scripts/processes';

function runUntilExit(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawnEntry(entry, {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, WORKER_HEALTH_PORT: '0', WORKER_METRICS_PORT: '0', API_METRICS_PORT: '0', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code) => done({ code, stderr }));
  });
}

describe('startup failures', () => {
  it.each(['api/main.ts', 'worker/main.ts'])('%s names an unreachable TEMPORAL_ADDRESS', { timeout: 30_000 }, async (entry) => {
    const address = `127.0.0.1:${await freePort()}`;
    const { code, stderr } = await runUntilExit(entry, { TEMPORAL_ADDRESS: address });
    expect(code).toBe(1);
    expect(stderr).toContain(`Cannot reach Temporal at ${address} (TEMPORAL_ADDRESS)`);
  });

  it.each([
    ['PORT', 'not-a-port'],
    ['NOTIFY_FAILURE_RATE', '2'],
    ['LOG_LEVEL', 'loud'],
    ['NOTIFY_WEBHOOK_URL', 'not a url'],
    ['PAYLOAD_ENCRYPTION_KEYS', 'k1:c2hvcnQ='],
  ])('api/main.ts refuses %s=%s naming it', { timeout: 30_000 }, async (name, value) => {
    const { code, stderr } = await runUntilExit('api/main.ts', { [name]: value });
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^Invalid configuration: ${name}: `, 'm'));
  });

  it('worker/main.ts and scripts/start.ts stop at a malformed PAYLOAD_ENCRYPTION_KEYS, naming it and not the key', { timeout: 30_000 }, async () => {
    const key = Buffer.alloc(31, 9).toString('base64');
    for (const entry of ['worker/main.ts', 'scripts/start.ts']) {
      const { code, stderr } = await runUntilExit(entry, { PAYLOAD_ENCRYPTION_KEYS: `k1:${key}` });
      expect(code, entry).toBe(1);
      expect(stderr, entry).toMatch(/^Invalid configuration: PAYLOAD_ENCRYPTION_KEYS: key "k1" is 31 bytes; AES-256 needs 32/m);
      expect(stderr, entry).not.toContain(key);
    }
  });

  it('worker/main.ts refuses settings that cannot work together, naming both', { timeout: 30_000 }, async () => {
    const { code, stderr } = await runUntilExit('worker/main.ts', { LLM_BASE_URL: 'http://127.0.0.1:1/v1' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Invalid configuration: LLM_BASE_URL: LLM_BASE_URL and LLM_MODEL go together/m);
  });
});
