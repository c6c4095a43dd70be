/**
 * ETags of tasks: the entity's version, as a strong validator (`"3"`). `If-Match` makes a status update
 * conditional (412 when stale); `If-None-Match` on a read answers 304 when nothing changed.
 */
import type { Task } from '../common/schemas';
import { ApiError } from './errors';

export const etagOf = (task: Pick<Task, 'version'>) => `"${task.version}"`;

/** The version an If-Match header asks for: undefined when absent or `*` (any version will do). */
export function expectedVersion(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(ifMatch);
  if (!match) {
    throw new ApiError(422, 'If-Match must be an ETag from this API, e.g. "3"', [
      { field: 'if-match', message: 'must be a quoted version such as "3", or *' },
    ]);
  }
  return Number(match[1]);
}

export function matchesIfNoneMatch(ifNoneMatch: string | undefined, task: Pick<Task, 'version'>): boolean {
  if (ifNoneMatch === undefined) return false;
  const etag = etagOf(task);
  return ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag || tag.trim() === '*');
}
