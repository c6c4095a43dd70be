/**
 * The benchmark's system: its own dev server (SQLite WAL), the service's worker and API as child
 * processes, a baseline worker for bare Temporal, and CPU/RSS readings of each from /proc.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { spawnEntry, stopProcess } from '../scripts/processes';
const CLOCK_TICKS_PER_SECOND = 100;

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** JSON log lines the process printed (the worker's 'worker started' carries its settings). */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Starts `entry` (a TypeScript file under the repo) with `env` and Node flags, collecting its JSON log lines. */
export function startProcess(name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = []): ServiceProcess {
  const child = spawnEntry(entry, {
    nodeArgs,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', WORKER_METRICS_PORT: '0', WORKER_HEALTH_PORT: '0', API_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      // Keep what the report needs; request logs would grow without bound.
      if (entry.msg !== 'request' && logs.length < 1_000) logs.push(entry);
    } catch {
      // not a JSON line
    }
  });
  return { name, child, logs, stop: () => stopProcess(child, 15_000) };
}

/** Waits until the process has logged a line with message `msg`. */
export async function logged(p: ServiceProcess, msg: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = p.logs.find((l) => l.msg === msg);
    if (line) return line;
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode} before logging "${msg}"`);
    if (Date.now() > deadline) throw new Error(`${p.name} did not log "${msg}" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ProcessReading {
  cpuSeconds: number;
  rssMiB: number;
  peakRssMiB: number;
}

/** CPU time used so far, current and peak resident memory of a process (Linux /proc). */
export function readProcess(pid: number): ProcessReading {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND, rssMiB: kib('VmRSS') / 1024, peakRssMiB: kib('VmHWM') / 1024 };
}

/** Resets a process's peak RSS (VmHWM) so the next reading is the peak of what follows; false where not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds each process used while `work` ran (what the server spends on one side of a comparison). */
export async function cpuDuring<T>(processes: ServiceProcess[], work: () => Promise<T>): Promise<{ result: T; cpuSeconds: Record<string, number> }> {
  const before = new Map(processes.map((p) => [p.name, readProcess(p.child.pid!).cpuSeconds]));
  const result = await work();
  const cpuSeconds = Object.fromEntries(processes.map((p) => [p.name, readProcess(p.child.pid!).cpuSeconds - before.get(p.name)!]));
  return { result, cpuSeconds };
}

/** CPU and peak memory of each process over one scenario. */
export class Usage {
  private readonly start = new Map<string, ProcessReading>();

  constructor(private readonly processes: ServiceProcess[]) {
    for (const p of processes) {
      resetPeak(p.child.pid!);
      this.start.set(p.name, readProcess(p.child.pid!));
    }
  }

  finish(wallSeconds: number): Record<string, { cpuSeconds: number; cpuPercent: number; peakRssMiB: number; rssMiB: number }> {
    const out: Record<string, { cpuSeconds: number; cpuPercent: number; peakRssMiB: number; rssMiB: number }> = {};
    for (const p of this.processes) {
      const now = readProcess(p.child.pid!);
      const cpu = now.cpuSeconds - this.start.get(p.name)!.cpuSeconds;
      out[p.name] = {
        cpuSeconds: Math.round(cpu * 100) / 100,
        cpuPercent: Math.round((cpu / wallSeconds) * 1000) / 10,
        peakRssMiB: Math.round(now.peakRssMiB),
        rssMiB: Math.round(now.rssMiB),
      };
    }
    return out;
  }
}
