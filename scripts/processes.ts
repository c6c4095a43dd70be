/** Child processes the scripts own. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..');

/**
 * Runs one of the service's TypeScript entry points (`worker/main.ts`, `api/main.ts`, ...) in its own Node
 * process, from the repository root: the launcher, the tests and the benchmarks start processes this way.
 */
export function spawnEntry(entry: string, options: { env: NodeJS.ProcessEnv; stdio: StdioOptions; nodeArgs?: string[] }): ChildProcess {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', resolve(root, entry)], {
    cwd: root,
    env: options.env,
    stdio: options.stdio,
  });
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`; resolves once it has exited. */
export function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill('SIGTERM');
  });
}
