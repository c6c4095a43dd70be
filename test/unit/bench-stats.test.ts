/** The benchmark's arithmetic and chart output (bench/stats.ts, bench/report.ts), without Temporal. */
import { describe, expect, it } from 'vitest';
import { barChart } from '../../bench/report';
import { closedLoop, latency, median, percentile } from '../../bench/stats';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(median([3, 1, 2])).toBe(2);
    expect(percentile([], 50)).toBeNaN();
    expect(latency([5, 1, 3])).toEqual({ n: 3, p50: 3, p90: 5, p99: 5, max: 5 });
  });

  it('keeps at most `concurrency` operations in flight and runs each once', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    const { latenciesMs } = await closedLoop(25, 4, async (i) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 2));
      seen.push(i);
      inFlight--;
    });
    expect(most).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(latenciesMs).toHaveLength(25);
  });

  it('draws one bar per value, scaled to the largest, with escaped labels', () => {
    const svg = barChart('a < b', 'ms', [
      { label: 'p50', bars: [{ name: 'ours', value: 10 }, { name: 'bare', value: 5 }] },
      { label: 'p99', bars: [{ name: 'ours', value: 20 }, { name: 'bare', value: 8 }] },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('a &lt; b');
    const heights = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(4 + 2); // four bars, two legend swatches
    const [a, b, c] = heights;
    expect(c! / a!).toBeCloseTo(2);
    expect(b! / a!).toBeCloseTo(0.5);
  });
});
