/**
 * Recorded histories (test/replay/histories, from `npm run record-histories`) replay against the current
 * workflow code. A change that would break workflows already running in production fails here.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';
import { dataConverterFor } from '../common/payload-encryption';
import { workflowSpanSinks } from '../worker/create-worker';

const dir = join(__dirname, 'replay', 'histories');
const historiesIn = (folder: string) =>
  readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ workflowId: file.replace(/\.json$/, ''), history: JSON.parse(readFileSync(join(folder, file), 'utf8')) }));
const histories = historiesIn(dir);
/** The notifications app's runs (notifications/workflows.ts), replayed against its own bundle. */
const appHistories = historiesIn(join(dir, 'notifications'));

async function replayErrors(options: ReplayWorkerOptions, only?: (id: string) => boolean, from = histories) {
  const errors: Record<string, string> = {};
  const selected = from.filter((h) => !only || only(h.workflowId));
  // The bundle's tracing interceptors call their span sink; replay never exports, but the sink must exist.
  for await (const result of Worker.runReplayHistories({ sinks: workflowSpanSinks(), ...options }, selected)) {
    if (result.error) errors[result.workflowId] = String(result.error);
  }
  return { replayed: selected.length, errors };
}

describe('replay of recorded histories', () => {
  it('replays every recorded history against the current workflows', async () => {
    const { replayed, errors } = await replayErrors({ workflowBundle: { codePath: inject('workflowBundlePath') } });
    expect(replayed).toBe(histories.length);
    expect(replayed).toBeGreaterThanOrEqual(18);
    expect(errors).toEqual({});
  });

  it('replays them as well with payload encryption turned on (histories from before it pass through the codec)', async () => {
    const { replayed, errors } = await replayErrors({
      workflowBundle: { codePath: inject('workflowBundlePath') },
      dataConverter: dataConverterFor([{ id: 'k1', key: randomBytes(32) }]),
    });
    expect(replayed).toBe(histories.length);
    expect(errors).toEqual({});
  });

  it("replays the notifications app's recorded runs against its bundle, those from before its handler made the first attempt included", async () => {
    const { replayed, errors } = await replayErrors({ workflowBundle: { codePath: inject('notificationsBundlePath') } }, undefined, appHistories);
    expect(replayed).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual({});
  });

  it('replays a run told of a first attempt whose first task a replica with the code before took (a rolling deploy: no patch marker)', async () => {
    // What such a replica records: the run's input names the attempt, its commands are those of the code before.
    const before = appHistories.find((h) => h.workflowId === 'notification-run-retried')!;
    const history = structuredClone(before.history) as { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { data: string }[] } } }[] };
    const payload = history.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(input.attempts_made).toBeUndefined();
    payload.data = Buffer.from(JSON.stringify({ ...input, attempts_made: 1 })).toString('base64');
    const { errors } = await replayErrors({ workflowBundle: { codePath: inject('notificationsBundlePath') } }, undefined, [{ workflowId: 'told-without-marker', history }]);
    expect(errors).toEqual({});
  });

  it('fails for a workflow whose commands changed (so the check above can fail)', async () => {
    const { errors } = await replayErrors(
      { workflowsPath: require.resolve('./workflows/reordered-processing.ts') },
      (id) => id === 'processing-completed',
    );
    expect(errors['processing-completed']).toMatch(/[Nn]ondeterminism|DeterminismViolation/);
  });
});
