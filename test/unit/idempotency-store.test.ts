/** The idempotency keys an entity keeps (entities/idempotency.ts): per caller, a day, bounded; a failed first request. */
import { describe, expect, it } from 'vitest';
import { IDEMPOTENCY_KEYS_MAX, IDEMPOTENCY_KEY_TTL_MS, IdempotencyStore, keyedRequestOf } from '../../entities/idempotency';

const request = (key: string, fingerprint = 'fp', caller?: string) => ({ key, fingerprint, ...(caller ? { caller } : {}) });

describe('IdempotencyStore', () => {
  it('answers a resend from the first answer, refuses another request under the key, per caller', () => {
    const store = new IdempotencyStore<string>();
    expect(store.check(request('k', 'a', 'alice'), 0)).toEqual({ kind: 'new' });
    store.finish(store.begin(request('k', 'a', 'alice'), 0), 'first', 0);
    expect(store.check(request('k', 'a', 'alice'), 10)).toMatchObject({ kind: 'replay', record: { answer: 'first' } });
    expect(store.check(request('k', 'b', 'alice'), 10)).toMatchObject({ kind: 'reused' });
    // Another caller's key is another key.
    expect(store.check(request('k', 'b', 'root'), 10)).toEqual({ kind: 'new' });
  });

  it('forgets keys after a day, and the oldest answered ones past the bound', () => {
    const store = new IdempotencyStore<string>();
    store.finish(store.begin(request('old'), 0), 'x', 0);
    expect(store.check(request('old', 'other'), IDEMPOTENCY_KEY_TTL_MS + 1)).toEqual({ kind: 'new' });
    for (let i = 0; i < IDEMPOTENCY_KEYS_MAX + 5; i++) store.finish(store.begin(request(`k${i}`), 1000 + i), 'a'.repeat(10), 1000 + i);
    const kept = store.snapshot(2000);
    expect(kept).toHaveLength(IDEMPOTENCY_KEYS_MAX);
    expect(kept[0]!.key).toBe('k5');
  });

  it('leaves no trace of a first request that failed, and tells a resend waiting for it', () => {
    const store = new IdempotencyStore<string>();
    const record = store.begin(request('k'), 0);
    const waiting = store.check(request('k'), 1);
    store.fail(record, 'boom');
    expect(waiting).toMatchObject({ kind: 'replay', record: { failed: 'boom' } });
    expect(store.check(request('k'), 2)).toEqual({ kind: 'new' });
  });

  it('reads a keyed request from an update input, ignoring malformed ones', () => {
    expect(keyedRequestOf({ idempotency: { key: 'k', fingerprint: 'f', caller: 'alice' } })).toEqual({ key: 'k', fingerprint: 'f', caller: 'alice' });
    expect(keyedRequestOf({ idempotency: { key: '', fingerprint: 'f' } })).toBeUndefined();
    expect(keyedRequestOf({ idempotency: { key: 'k' } })).toBeUndefined();
    expect(keyedRequestOf({ content: 'hi' })).toBeUndefined();
  });
});
