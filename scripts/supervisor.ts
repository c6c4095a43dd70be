/**
 * Keeps one of the service's processes running for `npm start`, as a Kubernetes Deployment keeps its pods:
 * a process that dies is started again after a backoff (1 s, doubling to 30 s; back to 1 s once a run has
 * lasted a minute), and each death and restart is said. `stop()` ends it for good (Ctrl-C).
 */
import type { ChildProcess } from 'node:child_process';
import { spawnEntry, stopProcess } from './processes';

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** A run this long counts as healthy: the next death starts the backoff over. */
const HEALTHY_RUN_MS = 60_000;

export interface SupervisedOptions {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  say: (message: string) => void;
  /** How long a stopping process gets before SIGKILL. */
  stopGraceMs: number;
}

export class Supervised {
  private child?: ChildProcess;
  private stopped = false;
  private backoffMs = FIRST_BACKOFF_MS;
  private retry?: NodeJS.Timeout;
  private restarts = 0;

  constructor(private readonly options: SupervisedOptions) {}

  start(): void {
    const { name, entry, env, say } = this.options;
    const startedAt = Date.now();
    const child = spawnEntry(entry, { env, stdio: 'inherit' });
    this.child = child;
    say(`${name} started (pid ${child.pid})`);
    child.once('exit', (code, signal) => {
      if (this.stopped) return;
      if (Date.now() - startedAt >= HEALTHY_RUN_MS) this.backoffMs = FIRST_BACKOFF_MS;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      this.restarts++;
      say(`${name} exited (${signal ?? `code ${code}`}); starting it again in ${delay / 1000}s (restart ${this.restarts})`);
      this.retry = setTimeout(() => this.start(), delay);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    if (this.child) await stopProcess(this.child, this.options.stopGraceMs);
  }
}
