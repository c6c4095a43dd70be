/** The task's rules, as pure functions (no Temporal). */
import { describe, expect, it } from 'vitest';
import * as rules from '../../entities/task/state';

const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const created = rules.createTask('t1', null, { title: 'Review PR #42', description: 'Review the refactoring' }, t0);
const assigned = rules.assignTask(created, 'alice@example.com', t0 + 1);

describe('task rules', () => {
  it('creates a pending task with no assignee or deadline, version 1', () => {
    expect(created).toEqual({
      task_id: 't1',
      title: 'Review PR #42',
      description: 'Review the refactoring',
      priority: 1,
      status: 'pending',
      assignee: null,
      deadline: null,
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      version: 1,
    });
  });

  it('treats creating the same task again as a no-op and a different one as a conflict', () => {
    expect(rules.createTask('t1', assigned, { title: 'Review PR #42', description: 'Review the refactoring' }, t0 + 5)).toBe(assigned);
    expect(() => rules.createTask('t1', assigned, { title: 'Other', description: 'Review the refactoring' }, t0)).toThrow(
      'Task t1 already exists with a different title, description or priority',
    );
  });

  it('assigns, unassigns back to pending, and bumps the version on each change', () => {
    expect(assigned).toMatchObject({ status: 'assigned', assignee: 'alice@example.com', version: 2 });
    expect(rules.unassignTask(assigned, t0 + 2)).toMatchObject({ status: 'pending', assignee: null, version: 3 });
    // Unassigning an unassigned pending task changes nothing.
    expect(rules.unassignTask(created, t0 + 2)).toBe(created);
  });

  it('marks a task overdue only once its deadline has passed (a deadline moved as the old timer fired stays)', () => {
    const due = rules.setDeadline(assigned, 60, t0 + 2);
    expect(rules.markOverdue(due, t0 + 2 + 60_000)).toMatchObject({ status: 'overdue' });
    // The timer of an earlier deadline fires in the activation that moved the deadline: not due yet.
    expect(rules.markOverdue(due, t0 + 30_000)).toBe(due);
  });

  it('refuses impossible transitions with a reason', () => {
    const completed = rules.updateStatus(assigned, 'completed', t0 + 3);
    expect(() => rules.assignTask(completed, 'bob', t0)).toThrow('Cannot assign: task t1 is completed');
    expect(() => rules.updateStatus(completed, 'pending', t0)).toThrow('task t1 is completed');
    expect(() => rules.setDeadline(completed, 60, t0)).toThrow('Cannot set a deadline: task t1 is completed');
    expect(() => rules.updateStatus(created, 'in_progress', t0)).toThrow('task t1 has no assignee');
    expect(rules.updateStatus(completed, 'completed', t0 + 9)).toBe(completed);
  });

  it('keeps the deadline timer only while the task can still become overdue', () => {
    const due = rules.setDeadline(assigned, 60, t0 + 10);
    expect(due.deadline).toBe('2026-01-01T00:01:00.010Z');
    expect(rules.pendingDeadline(due)).toBe(t0 + 60_010);
    const overdue = rules.markOverdue(due, t0 + 60_010);
    expect(overdue.status).toBe('overdue');
    expect(rules.pendingDeadline(overdue)).toBeNull();
    expect(rules.pendingDeadline(rules.updateStatus(due, 'completed', t0 + 11))).toBeNull();
    // The timer firing on a completed task changes nothing.
    const completed = rules.updateStatus(due, 'completed', t0 + 11);
    expect(rules.markOverdue(completed, t0 + 60_010)).toBe(completed);
  });

  it('puts an overdue task back in play when a new deadline is set, and keeps it overdue on reassignment', () => {
    const overdue = rules.markOverdue(rules.setDeadline(assigned, 1, t0), t0 + 1000);
    expect(rules.assignTask(overdue, 'bob', t0 + 2000).status).toBe('overdue');
    expect(rules.setDeadline(overdue, 60, t0 + 2000)).toMatchObject({ status: 'assigned', deadline: '2026-01-01T00:01:02.000Z' });
  });

  it('applies a status change only at the expected version', () => {
    expect(rules.updateStatus(assigned, 'in_progress', t0 + 5, 2)).toMatchObject({ status: 'in_progress', version: 3 });
    expect(() => rules.updateStatus(assigned, 'in_progress', t0 + 5, 1)).toThrow(
      expect.objectContaining({ type: 'VersionConflict', message: 'Task t1 is at version 2, not 1' }),
    );
  });
});
