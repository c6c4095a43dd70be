/**
 * Worker crash under load, the CI form: 200 processing runs and 200 entity mutations in flight, the worker
 * SIGKILLed twice at seeded random moments and replaced; exactly-once accounting in crash-soak.ts.
 * The long form is `npm run soak`.
 */
import { describe, expect, inject, it } from 'vitest';
import { runCrashSoak } from './crash-soak';

describe('worker crash under load', () => {
  it('200 runs and 200 mutations, worker SIGKILLed twice: each run completes once, each mutation applies once, nothing missing', { timeout: 240_000 }, async () => {
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 100_000);
    const report = await runCrashSoak({
      temporalAddress: inject('temporalAddress'),
      redisUrl: inject('redisUrl'),
      workflowBundlePath: inject('workflowBundlePath'),
      workflows: 200,
      entities: 20,
      mutationsPerEntity: 10,
      kills: 2,
      windowMs: 12_000,
      seed,
      log: (line) => console.log(`crash soak: ${line}`),
    });
    expect(report.violations).toEqual([]);
    expect(report.killsAt).toHaveLength(2);
    // Both kills struck while work was in flight.
    for (const kill of report.killsAt) expect(kill.inFlight).toBeGreaterThan(0);
    expect(report.processing.completed).toBe(200);
    expect(report.mutations.applied).toBe(200);
  });
});
