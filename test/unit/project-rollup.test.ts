/**
 * A project's members and roll-up (entities/project/rollup.ts): a task's notices apply newest-wins by
 * (created_at, version, a departure last), so repeats and late ones change nothing, in any order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskColumns, TaskNotice } from '../../entities/project/messages';
import { applyNotice, isNewer, isTaskNotice, rollUp, taskPage } from '../../entities/project/rollup';
import { TASK_STATUSES } from '../../workflows/shared/input-rules';

const notice = (task_id: string, version: number, status: TaskColumns[0] = 'assigned', createdAt = 1_000, deadline: number | null = null, left = false): TaskNotice => ({
  project_id: 'p',
  task_id,
  created_at: createdAt,
  version,
  columns: left ? null : [status, deadline, createdAt, version],
});

describe('project roll-up', () => {
  it('counts by status, overdue, the next open deadline and the share done; unreported tasks apart', () => {
    const members = new Map<string, TaskColumns | null>([
      ['a', ['completed', 10, 1, 3]],
      ['b', ['assigned', 500, 1, 2]],
      ['c', ['overdue', 100, 1, 4]],
      ['d', ['in_progress', 300, 1, 2]],
      ['e', null],
    ]);
    expect(rollUp(members, 42)).toEqual({
      tasks: 5,
      by_status: { pending: 0, assigned: 1, in_progress: 1, completed: 1, overdue: 1 },
      unreported: 1,
      overdue: 1,
      next_deadline: new Date(300).toISOString(),
      done_share: 0.2,
      as_of: new Date(42).toISOString(),
    });
    expect(rollUp(new Map(), null)).toMatchObject({ tasks: 0, done_share: 0, next_deadline: null, as_of: null });
  });

  it('applies a notice only when newer; a departure removes the member; a stranger changes nothing', () => {
    const members = new Map<string, TaskColumns | null>([['a', null]]);
    expect(applyNotice(members, notice('a', 3))).toBe('applied');
    expect(applyNotice(members, notice('a', 2, 'completed'))).toBe('stale');
    expect(applyNotice(members, notice('a', 3, 'completed'))).toBe('stale');
    expect(members.get('a')![0]).toBe('assigned');
    expect(applyNotice(members, notice('x', 9))).toBe('not_a_member');
    expect(members.has('x')).toBe(false);
    // The task deleted and created again under its id is newer whatever its version.
    expect(applyNotice(members, notice('a', 1, 'pending', 2_000))).toBe('applied');
    // Leaving at the same version is newer than the columns of that version.
    expect(applyNotice(members, notice('a', 1, 'pending', 2_000, null, true))).toBe('left');
    expect(members.size).toBe(0);
  });

  it('ends at the newest notice of each task whatever order and repeats its changes arrive in', () => {
    const status = fc.constantFrom(...TASK_STATUSES);
    const changes = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 3 }), status), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(changes, fc.array(fc.nat({ max: 200 }), { maxLength: 60 }), (raw, picks) => {
        // A task's (created_at, version) names one state: the same key always carries the same columns.
        const byKey = new Map(raw.map(([id, v, c, s]) => [`${id}/${c}/${v}`, notice(id, v, s, c * 1_000)]));
        const notices = [...byKey.values()];
        const arriving = [...notices, ...picks.map((i) => notices[i % notices.length]!)].sort((x, y) => (picks[notices.indexOf(x)] ?? 0) - (picks[notices.indexOf(y)] ?? 0));
        const members = new Map<string, TaskColumns | null>([['a', null], ['b', null], ['c', null]]);
        for (const n of arriving) applyNotice(members, n);
        for (const id of ['a', 'b', 'c']) {
          const mine = notices.filter((n) => n.task_id === id);
          const newest = mine.reduce<TaskNotice | undefined>((best, n) => (best === undefined || isNewer(best.columns, n) ? n : best), undefined);
          expect(members.get(id)).toEqual(newest?.columns ?? null);
        }
      }),
    );
  });

  it('keeps a member that joined again when the departure of its earlier membership arrives late', () => {
    const members = new Map<string, TaskColumns | null>([['t', null]]);
    const joined = new Map([['t', 5_000]]);
    // Left at 4,000 (before it was added back at 5,000), told only now: stale.
    expect(applyNotice(members, { ...notice('t', 6, 'assigned', 1_000, null, true), at: 4_000 }, joined)).toBe('stale');
    expect(members.has('t')).toBe(true);
    // So is how it stood before (a late or resent notice of the earlier membership): it would clear the join.
    expect(applyNotice(members, { ...notice('t', 6, 'completed'), at: 4_500 }, joined)).toBe('stale');
    expect(members.get('t')).toBeNull();
    // Its notice after joining applies; a departure after joining removes it.
    expect(applyNotice(members, { ...notice('t', 7), at: 5_100 }, joined)).toBe('applied');
    expect(applyNotice(members, { ...notice('t', 8, 'assigned', 1_000, null, true), at: 6_000 }, joined)).toBe('left');
  });

  it('takes only well-formed notices (a signal is anyone with access to the namespace)', () => {
    expect(isTaskNotice(notice('a', 1))).toBe(true);
    expect(isTaskNotice(notice('a', 1, 'pending', 1, null, true))).toBe(true);
    for (const junk of [null, 'x', {}, { ...notice('a', 1), columns: 'x' }, { ...notice('a', 1), columns: ['done', null, 1, 1] }, { ...notice('a', 1), columns: ['pending', 'soon', 1, 1] }, { ...notice('a', 1), version: '2' }, { ...notice('a', 1), at: 'now' }]) {
      expect(isTaskNotice(junk), JSON.stringify(junk)).toBe(false);
    }
  });

  it('pages the members in the order they joined, by status too', () => {
    const members = new Map<string, TaskColumns | null>(Array.from({ length: 5 }, (_, i) => [`t${i}`, [i % 2 ? 'completed' : 'pending', null, 1, 1]]));
    expect(taskPage(members, { offset: 0, limit: 2 })).toEqual({ tasks: [{ task_id: 't0', status: 'pending', deadline: null }, { task_id: 't1', status: 'completed', deadline: null }], next: 2 });
    expect(taskPage(members, { offset: 4, limit: 2 }).next).toBeNull();
    expect(taskPage(members, { offset: 0, limit: 10, status: 'completed' }).tasks.map((t) => t.task_id)).toEqual(['t1', 't3']);
  });
});
