/**
 * What the entities' clients derive from an Idempotency-Key (entities/idempotency.ts keeps the keys): the
 * update id of a keyed request, and the id of a task created by one.
 */
import { createHash } from 'node:crypto';
import type { KeyedRequest } from '../entities/idempotency';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The update id of a keyed request: the same key and request give the same id, so a resend while the first
 * is still running joins it (Temporal answers both from the one update), and after it the server answers from
 * its record; another request under the same key gets another id, and the entity refuses it.
 */
export const keyedUpdateId = ({ key, fingerprint, caller = '' }: KeyedRequest): string => `idempotency-${sha256(`${caller}\n${key}\n${fingerprint}`)}`;

/** The id of the task a keyed `POST /tasks` creates: one per caller and key, shaped like the random ones. */
export function keyedTaskId(subject: string, key: string): string {
  const hex = sha256(`${subject}\n${key}`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
