/** The API's per-entity update lanes (api/entity-updates.ts), without Temporal. */
import { describe, expect, it } from 'vitest';
import { EntityUpdateQueue } from '../../api/entity-updates';
import { ApiError } from '../../api/errors';

/** A send that finishes when the test says so, recording when it started. */
function controllable(started: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return { send: () => (started.push(name), done.then(() => name)), finish };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('entity update queue', () => {
  it('keeps at most `concurrency` in flight per entity and admits the rest in arrival order', async () => {
    const queue = new EntityUpdateQueue(2, 100);
    const started: string[] = [];
    const sends = ['a', 'b', 'c', 'd', 'e'].map((n) => controllable(started, n));
    const results = sends.map((s, i) => queue.run('entity-1', s.send).then((r) => (expect(r).toBe('abcde'[i]), r)));
    await tick();
    expect(started).toEqual(['a', 'b']);
    sends[1]!.finish();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    sends[0]!.finish();
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    for (const s of sends) s.finish();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(queue.size).toBe(0);
  });

  it('does not make one entity wait for another', async () => {
    const queue = new EntityUpdateQueue(1, 100);
    const started: string[] = [];
    const busy = controllable(started, 'x1');
    void queue.run('x', busy.send);
    const other = controllable(started, 'y1');
    void queue.run('y', other.send);
    await tick();
    expect(started).toEqual(['x1', 'y1']);
    busy.finish();
    other.finish();
  });

  it('answers 429 once the waiting line is full, and a failed send frees its slot', async () => {
    const queue = new EntityUpdateQueue(1, 1);
    const started: string[] = [];
    const first = controllable(started, 'first');
    const running = queue.run('e', first.send);
    const waiting = queue.run('e', async () => 'second');
    const refused = await queue.run('e', async () => 'third').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toBe(429);
    // What the metrics read (task_agent_entity_updates_*): one in flight, one waiting, one turned away.
    expect(queue.stats()).toEqual({ inFlight: 1, waiting: 1, deepestLane: 1, rejected: 1 });
    first.finish();
    expect(await running).toBe('first');
    expect(await waiting).toBe('second');
    await expect(queue.run('e', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await queue.run('e', async () => 'after')).toBe('after');
    expect(queue.size).toBe(0);
    expect(queue.stats()).toEqual({ inFlight: 0, waiting: 0, deepestLane: 0, rejected: 1 });
  });
});
