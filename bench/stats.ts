/** Small statistics for the benchmarks: percentiles, medians, latency sampling, rates. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (values: number[]) => percentile(values, 50);

export interface Latency {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function latency(samplesMs: number[]): Latency {
  return {
    n: samplesMs.length,
    p50: round(percentile(samplesMs, 50)),
    p90: round(percentile(samplesMs, 90)),
    p99: round(percentile(samplesMs, 99)),
    max: round(Math.max(...samplesMs)),
  };
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs `op(i)` for i in [0, n) one after another; the latency of each call. */
export async function sequential(n: number, op: (i: number) => Promise<unknown>): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    samples.push(performance.now() - t0);
  }
  return latency(samples);
}

/** Runs `op(i)` for i in [0, total) with at most `concurrency` at once; returns each call's latency in ms and the wall time. */
export async function closedLoop(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<{ latenciesMs: number[]; wallMs: number }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  return { latenciesMs, wallMs: performance.now() - started };
}
