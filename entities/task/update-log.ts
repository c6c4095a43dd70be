/**
 * The task entity's memory of the updates it applied: by id, so a retried caller never applies a change
 * twice (Temporal de-duplicates update ids within a run only), and with what each change replaced, so the
 * changes one caller made can be reverted later (a processing run's compensation, a chat turn's undo).
 * Carried across continue-as-new. Pure and workflow-safe.
 */
import type { Task } from '../../common/schemas';

/** The fields a revert puts back. */
export type RevertibleFields = Pick<Task, 'assignee' | 'status' | 'deadline'>;

export interface AppliedUpdate {
  id: string;
  /** The task's version before and after the update; equal when it changed nothing. */
  from: number;
  to: number;
  /** The fields before the update; null for the update that created the task. */
  before: RevertibleFields | null;
  /** Set once a revert has put these fields back. */
  reverted?: true;
  /** When and by whom (the task's `updated_at`/`updated_by` after it); absent in entries from before they were kept. */
  at?: string;
  by?: string;
  /** The fields after the update (absent in older entries: the next entry's `before`, or the task, tells). */
  after?: RevertibleFields;
}

/** One change of a task as its history shows it: the fields it changed, from and to. */
export interface TaskChange {
  version: number;
  at: string | null;
  by: string | null;
  /** `created` for the update that made the task. */
  kind: 'created' | 'changed';
  changes: { field: keyof RevertibleFields; from: string | null; to: string | null }[];
  /** Put back since, by a compensation or an undo. */
  reverted: boolean;
}

/** How many applied updates are remembered (carried across continue-as-new). */
export const APPLIED_UPDATES_KEPT = 500;
/** How many reverted callers are remembered, so a late change of theirs is refused. */
const REVERTED_PREFIXES_KEPT = 100;

export const revertibleFields = (task: Task): RevertibleFields => ({ assignee: task.assignee, status: task.status, deadline: task.deadline });

export class UpdateLog {
  private readonly entries: AppliedUpdate[];
  private readonly reverted: string[];

  /** `legacyIds`: ids carried by runs from before the log kept versions; they still de-duplicate. */
  constructor(entries: AppliedUpdate[] = [], legacyIds: string[] = [], revertedPrefixes: string[] = []) {
    this.entries = [...legacyIds.map((id) => ({ id, from: 0, to: 0, before: null })), ...entries].slice(-APPLIED_UPDATES_KEPT);
    this.reverted = [...revertedPrefixes];
  }

  has(id: string): boolean {
    return this.entries.some((entry) => entry.id === id);
  }

  record(id: string, before: Task | null, after: Task): void {
    this.entries.push({
      id,
      from: before?.version ?? 0,
      to: after.version,
      before: before && revertibleFields(before),
      at: after.updated_at,
      ...(after.updated_by !== undefined ? { by: after.updated_by } : {}),
      after: revertibleFields(after),
    });
    if (this.entries.length > APPLIED_UPDATES_KEPT) this.entries.shift();
  }

  /** Whether `id` belongs to a caller whose changes were reverted (a late retry of theirs must not apply). */
  isReverted(id: string): boolean {
    return this.reverted.some((prefix) => id.startsWith(prefix));
  }

  /** The changes made by updates whose ids start with `prefix`, not yet reverted, oldest first. */
  changesBy(prefix: string): AppliedUpdate[] {
    return this.entries.filter((e) => e.id.startsWith(prefix) && !e.reverted && e.to !== e.from).sort((a, b) => a.from - b.from);
  }

  markReverted(prefix: string): void {
    for (const entry of this.changesBy(prefix)) entry.reverted = true;
    if (!this.reverted.includes(prefix)) this.reverted.push(prefix);
    if (this.reverted.length > REVERTED_PREFIXES_KEPT) this.reverted.shift();
  }

  /** Keeps the ids (a late retry is still recognised) but no longer any change to revert: the task is gone. */
  forgetChanges(): void {
    for (const entry of this.entries) Object.assign(entry, { from: 0, to: 0, before: null });
  }

  /**
   * The task's changes that this log still holds (the last APPLIED_UPDATES_KEPT updates), newest first. An
   * entry without its `after` (kept before it was recorded) takes it from the next change's `before`, or the task.
   */
  history(task: Task): TaskChange[] {
    const changed = this.entries.filter((e) => e.to !== e.from).sort((a, b) => a.to - b.to);
    return changed
      .map((entry, i): TaskChange => {
        const after = entry.after ?? changed[i + 1]?.before ?? revertibleFields(task);
        const fields = (['assignee', 'status', 'deadline'] as const).filter((f) => entry.before === null || entry.before[f] !== after[f]);
        return {
          version: entry.to,
          at: entry.at ?? null,
          by: entry.by ?? null,
          kind: entry.before === null ? 'created' : 'changed',
          changes: fields.map((field) => ({ field, from: entry.before?.[field] ?? null, to: after[field] })),
          reverted: entry.reverted === true,
        };
      })
      .reverse();
  }

  snapshot(): { applied_updates: AppliedUpdate[]; reverted_prefixes: string[] } {
    return { applied_updates: this.entries.map((e) => ({ ...e })), reverted_prefixes: [...this.reverted] };
  }
}

/**
 * What reverting `changes` (one caller's, oldest first) puts back: the fields before the first of them
 * that changed an existing task (a creation is not undone: the task stays, as the seed leaves it). Refused
 * when anyone else changed the task in between or after, since putting the fields back would undo that too.
 */
export function planRevert(task: Task, changes: AppliedUpdate[]): { kind: 'nothing' } | { kind: 'revert'; to: RevertibleFields } | { kind: 'refused'; reason: string } {
  if (changes.length === 0) return { kind: 'nothing' };
  const unbroken = changes.every((change, i) => i === 0 || change.from === changes[i - 1]!.to) && changes.at(-1)!.to === task.version;
  if (!unbroken) {
    return { kind: 'refused', reason: `Task ${task.task_id} changed after the changes to revert (now version ${task.version}); nothing reverted` };
  }
  const first = changes.find((change) => change.before !== null);
  return first ? { kind: 'revert', to: first.before! } : { kind: 'nothing' };
}
