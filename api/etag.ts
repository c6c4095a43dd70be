/**
 * ETags of tasks: the entity's version and the task's incarnation (when it was created), as a strong
 * validator (`"3-mgx2k9ab"`), so a task deleted and created again under the same id never matches an ETag of
 * the one before. `If-Match` makes a status update or a delete conditional (412 when stale); `If-None-Match`
 * on a read answers 304 when nothing changed.
 */
import type { Task } from '../common/schemas';
import { ApiError } from './errors';

/** The incarnation part: the creation time, in milliseconds, base 36. */
const incarnationOf = (task: Pick<Task, 'created_at'>) => Date.parse(task.created_at).toString(36);

export const etagOf = (task: Pick<Task, 'version' | 'created_at'>) => `"${task.version}-${incarnationOf(task)}"`;

/** What an If-Match asks for: the version, and the creation time of the task it was read from. */
export interface Precondition {
  version: number;
  created_at: string;
}

/**
 * The precondition an If-Match header asks for: undefined when absent or `*` (any version will do). An
 * entity tag of another shape (a weak one, or an ETag from before incarnations were in it) can never be the
 * current one: 412 at once.
 */
export function expectedVersion(ifMatch: string | undefined): Precondition | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const tag = /^\s*(W\/)?"([\x21\x23-\x7E]*)"\s*$/.exec(ifMatch);
  if (!tag) {
    throw new ApiError(422, 'If-Match must be an ETag from this API, e.g. "3-mgx2k9ab"', [
      { field: 'if-match', message: 'must be a quoted ETag such as "3-mgx2k9ab", or *' },
    ]);
  }
  const ours = tag[1] === undefined ? /^(\d{1,15})-([0-9a-z]{1,12})$/.exec(tag[2]!) : null;
  const createdMs = ours ? parseInt(ours[2]!, 36) : NaN;
  if (!ours || !Number.isFinite(createdMs) || createdMs > 8.64e15 || Number(ours[1]) < 1) {
    throw new ApiError(412, `Precondition failed: ${ifMatch.trim()} is not an ETag of this task as it is now`);
  }
  return { version: Number(ours[1]), created_at: new Date(createdMs).toISOString() };
}

export function matchesIfNoneMatch(ifNoneMatch: string | undefined, task: Pick<Task, 'version' | 'created_at'>): boolean {
  if (ifNoneMatch === undefined) return false;
  const etag = etagOf(task);
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*');
}
