/** A redis-server of the test's own (append-only file on), so a test can stop and restart Redis without touching the shared one. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../scripts/dev-server';
import { afterAll, beforeAll } from 'vitest';
import { Harness, eventually, type HarnessOptions } from './harness';

export class PrivateRedis {
  private server?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'task-agent-redis-')));
    await redis.resume();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port and data, once it answers. */
  async resume(): Promise<void> {
    this.server = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--save', ''], {
      stdio: 'ignore',
    });
    const probe = new Redis(this.port, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    await eventually(() => probe.connect().then(() => true, () => false), (ok) => ok, { timeoutMs: 10_000 });
    probe.disconnect();
  }

  /** Stops the server; its append-only file keeps what it had. */
  async stop(): Promise<void> {
    const server = this.server!;
    if (server.exitCode !== null || server.signalCode !== null) return;
    server.kill('SIGTERM'); // redis-server writes its append-only file before exiting
    await new Promise((r) => server.once('exit', r));
  }

  async close(): Promise<void> {
    this.server?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A harness whose Redis is a PrivateRedis of its own, for the tests of the file or describe block this is
 * called in: started before them, closed after. Read `ctx.h` and `ctx.redisServer` inside the tests.
 */
export function withPrivateRedis(options: HarnessOptions = {}): { h: Harness; redisServer: PrivateRedis } {
  const ctx = {} as { h: Harness; redisServer: PrivateRedis };
  beforeAll(async () => {
    ctx.redisServer = await PrivateRedis.start();
    ctx.h = await Harness.start({ ...options, env: { ...options.env, REDIS_URL: ctx.redisServer.url } });
    ctx.h.redis.on('error', () => undefined); // the tests stop this Redis on purpose
  });
  afterAll(async () => {
    await ctx.h?.close().catch(() => undefined);
    await ctx.redisServer?.close();
  });
  return ctx;
}
