/**
 * Idempotency keys (the IETF httpapi `Idempotency-Key` draft) as an entity remembers them: the API derives a
 * fingerprint of each keyed request (method, path, body), the entity keeps key, fingerprint and first answer
 * for IDEMPOTENCY_KEY_TTL_MS, across continue-as-new. The same key with the same fingerprint gets the first
 * answer again (one request however often it is sent); with another fingerprint it is refused. Within one
 * run Temporal itself joins a resend to the request still running (the API derives the update id from key
 * and fingerprint); this store carries the answers over runs. Pure and workflow-safe.
 */
import { jsonBytes } from '../workflows/shared/json-bytes';

/** Keys are kept a day; an entity keeps at most this many answered ones, and this many bytes of their answers. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 3_600_000;
export const IDEMPOTENCY_KEYS_MAX = 100;
export const IDEMPOTENCY_MAX_BYTES = 256 * 1024;

/** What a keyed request carries into the entity. */
export interface KeyedRequest {
  key: string;
  /** The API's digest of the request (caller, method, path, body). */
  fingerprint: string;
  /** Whose key it is (the token's subject): keys of different callers never meet. */
  caller?: string;
}

export interface IdempotencyRecord<A> extends KeyedRequest {
  /** When it was first received (workflow time, ms). */
  at: number;
  /** The first answer; absent while the first request is still running. */
  answer?: A;
  /** Set (in memory only) when the first request failed: a resend waiting for it fails too. */
  failed?: string;
}

export type KeyCheck<A> = { kind: 'new' } | { kind: 'replay'; record: IdempotencyRecord<A> } | { kind: 'reused'; message: string };

/** The failure type of a key sent again with another request (the API answers 422). */
export const KEY_REUSED = 'IdempotencyKeyReused';

/** A keyed request in an update's input, if it is a well-formed one. */
export function keyedRequestOf(input: unknown): KeyedRequest | undefined {
  const value = (input as { idempotency?: Partial<KeyedRequest> } | undefined)?.idempotency;
  if (typeof value?.key !== 'string' || typeof value.fingerprint !== 'string') return undefined;
  if (value.key.length === 0 || value.key.length > 255 || value.fingerprint.length > 128) return undefined;
  const caller = typeof value.caller === 'string' && value.caller.length <= 256 ? { caller: value.caller } : {};
  return { key: value.key, fingerprint: value.fingerprint, ...caller };
}

export class IdempotencyStore<A> {
  private records: IdempotencyRecord<A>[];

  constructor(records: IdempotencyRecord<A>[] = []) {
    this.records = records.map((record) => ({ ...record }));
  }

  check(request: KeyedRequest, now: number): KeyCheck<A> {
    const record = this.find(request, now);
    if (record === undefined) return { kind: 'new' };
    if (record.fingerprint !== request.fingerprint) {
      return { kind: 'reused', message: `Idempotency-Key ${JSON.stringify(request.key)} was sent before with another request; use a new key for a new request` };
    }
    return { kind: 'replay', record };
  }

  /** Notes a request that starts running now. */
  begin(request: KeyedRequest, now: number): IdempotencyRecord<A> {
    const record: IdempotencyRecord<A> = { key: request.key, fingerprint: request.fingerprint, ...(request.caller !== undefined ? { caller: request.caller } : {}), at: now };
    this.records.push(record);
    this.prune(now);
    return record;
  }

  /** The first request's answer, for every resend to come. */
  finish(record: IdempotencyRecord<A>, answer: A, now: number): void {
    record.answer = answer;
    this.prune(now);
  }

  /** A request that did not run to an answer leaves no trace (sent again, it runs); a resend waiting for it fails. */
  fail(record: IdempotencyRecord<A>, why: string): void {
    record.failed = why;
    this.records = this.records.filter((r) => r !== record);
  }

  snapshot(now: number): IdempotencyRecord<A>[] {
    this.prune(now);
    return this.records.map((record) => ({ ...record }));
  }

  private find({ key, caller }: KeyedRequest, now: number): IdempotencyRecord<A> | undefined {
    return this.records.find((record) => record.key === key && record.caller === caller && now - record.at < IDEMPOTENCY_KEY_TTL_MS);
  }

  /** Drops expired keys, then the oldest answered ones past the count and size bounds (running ones stay). */
  private prune(now: number): void {
    this.records = this.records.filter((record) => now - record.at < IDEMPOTENCY_KEY_TTL_MS || record.answer === undefined);
    let bytes = jsonBytes(this.records);
    while ((this.records.length > IDEMPOTENCY_KEYS_MAX || bytes > IDEMPOTENCY_MAX_BYTES) && this.records.some((r) => r.answer !== undefined)) {
      const oldest = this.records.findIndex((r) => r.answer !== undefined);
      bytes -= jsonBytes(this.records[oldest]);
      this.records.splice(oldest, 1);
    }
  }
}
