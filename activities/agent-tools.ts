/**
 * The agent's tools as activities (entities/chat/agent/tools.ts defines them): each call is its own
 * activity, reaching tasks through the task entity's client. A change carries the update id the chat
 * derived from the turn and the tool call, so a retried activity, a worker killed mid-turn or a replayed
 * turn applies it once; an approved change carries the version the user saw, so it applies only to that.
 *
 * What the entity refuses (no such task, a refused transition, a version that moved on) is the tool's
 * result, for the model to read; only what a retry can fix (Temporal busy or unreachable) fails the activity.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { entityFailure } from '../clients/errors';
import { whyNotDelete } from '../workflows/shared/access-policy';
import { heartbeating } from './heartbeat';
import type { TaskEntityClient } from '../clients/task-entity';
import type { Task } from '../common/schemas';
import type { ToolArgs, ToolName } from '../entities/chat/agent/tools';

export interface ToolUser {
  user_id: string;
  /** The profile's e-mail: what "my tasks" means. */
  email: string | null;
  /** Whose rights the call acts with (recorded as `updated_by`); absent: full rights, `cli`. */
  subject?: string;
  admin?: boolean;
}

export interface AgentToolInput {
  tool: ToolName;
  args: ToolArgs[ToolName];
  user: ToolUser;
  /** Changing tools: the change's update id (chat, turn, step and call). */
  update_id?: string;
  /** An approved change applies only if the task is still at the version the user was shown. */
  expected_version?: number;
  /** create_task: the new task's id, chosen by the workflow (deterministic, so a retry names the same task). */
  new_task_id?: string;
}

export type AgentToolResult = { ok: true; content: unknown; task?: Task } | { ok: false; error: string };

/** A task a turn changed, and the version the turn left it at: what /undo works from. */
export interface TurnChange {
  task_id: string;
  kind: 'changed' | 'created' | 'deleted';
  version: number;
}

export interface UndoChangeInput {
  change: TurnChange;
  /** The update-id prefix of the turn's changes. */
  changes_by: string;
  update_id: string;
  /** Who asked for the undo. */
  updated_by?: string;
}

export interface UndoChangeResult {
  task_id: string;
  outcome: 'reverted' | 'deleted' | 'unchanged' | 'refused' | 'gone' | 'kept';
  /** One line for the reply, e.g. `task-001: assignee back to alice@example.com`. */
  line: string;
}

/** The seed's get_current_time: `2026-11-23 08:15:02 UTC`. */
export const currentTime = (now = new Date()) => `${now.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** What the model reads of a task. */
const taskView = (task: Task) => ({
  task_id: task.task_id,
  title: task.title,
  description: task.description,
  status: task.status,
  assignee: task.assignee,
  deadline: task.deadline,
  priority: task.priority,
  version: task.version,
});

/** The entity said no (the tool's result), or a retry can help (the activity fails and Temporal retries). */
function refusal(err: unknown, taskId: string): AgentToolResult {
  const failure = entityFailure(err, `Task ${taskId}`);
  if (failure === undefined) throw err;
  if (failure.retryable) throw ApplicationFailure.retryable(failure.message, 'TaskEntityUnavailable');
  if (failure.kind === 'not_found') return { ok: false, error: `Task ${taskId} does not exist` };
  if (failure.kind === 'version_conflict') return { ok: false, error: `Task ${taskId} changed since it was shown to the user; nothing was changed (${failure.message})` };
  return { ok: false, error: failure.message };
}

/** The fields that differ between two states of a task, as "field back to value" phrases. */
function differences(before: Task, after: Task): string[] {
  const show = (value: string | null) => value ?? 'none';
  const parts: string[] = [];
  if (before.assignee !== after.assignee) parts.push(`assignee back to ${show(after.assignee)}`);
  if (before.status !== after.status) parts.push(`status back to ${after.status}`);
  if (before.deadline !== after.deadline) parts.push(`deadline back to ${show(after.deadline)}`);
  return parts;
}

export function createAgentToolActivities({ tasks }: { tasks: TaskEntityClient }) {
  return {
    agentTool: (input: AgentToolInput): Promise<AgentToolResult> => heartbeating(runTool(input)),

    /** The current state of the tasks a step would change, so the workflow can say what would change and ask. */
    readTasks: (input: { task_ids: string[] }): Promise<Record<string, Task | null>> =>
      heartbeating(Promise.all(input.task_ids.map(async (taskId) => [taskId, await tasks.get(taskId)] as const)).then((found) => Object.fromEntries(found))),

    undoChange: (input: UndoChangeInput): Promise<UndoChangeResult> => heartbeating(undoChange(input)),
  };

  async function runTool(input: AgentToolInput): Promise<AgentToolResult> {
    const { update_id: updateId, expected_version: expectedVersion } = input;
    const updatedBy = input.user.subject;
    switch (input.tool) {
      case 'get_current_time':
        return { ok: true, content: { utc: currentTime() } };
      case 'list_tasks': {
        const { status, assignee } = input.args as ToolArgs['list_tasks'];
        const mine = assignee?.toLowerCase() === 'me';
        if (mine && input.user.email === null) {
          return { ok: false, error: 'The user has no e-mail address in their profile, so "my tasks" is unknown; ask for it' };
        }
        const page = await tasks.list({ status, assignee: mine ? input.user.email! : assignee }, { pageSize: 20 });
        return { ok: true, content: { tasks: page.tasks.map(({ workflow_id: _, ...task }) => task), more: page.nextPageToken !== null } };
      }
      case 'get_task': {
        const { task_id } = input.args as ToolArgs['get_task'];
        const task = await tasks.get(task_id);
        return task ? { ok: true, content: taskView(task), task } : { ok: false, error: `Task ${task_id} does not exist` };
      }
      case 'create_task': {
        const { title, description, priority } = input.args as ToolArgs['create_task'];
        const taskId = input.new_task_id!;
        try {
          const task = await tasks.create(taskId, { title, description: description ?? null, priority }, { updateId, ifExists: 'reuse', updatedBy });
          return { ok: true, content: taskView(task), task };
        } catch (err) {
          return refusal(err, taskId);
        }
      }
      case 'assign_task': {
        const { task_id, assignee } = input.args as ToolArgs['assign_task'];
        return tasks.assign(task_id, assignee, { updateId, expectedVersion, updatedBy }).then(
          (task): AgentToolResult => ({ ok: true, content: taskView(task), task }),
          (err: unknown) => refusal(err, task_id),
        );
      }
      case 'update_status': {
        const { task_id, status } = input.args as ToolArgs['update_status'];
        return tasks.updateStatus(task_id, { status, expected_version: expectedVersion }, { updateId, updatedBy }).then(
          (task): AgentToolResult => ({ ok: true, content: taskView(task), task }),
          (err: unknown) => refusal(err, task_id),
        );
      }
      case 'set_deadline': {
        const { task_id, deadline_seconds } = input.args as ToolArgs['set_deadline'];
        return tasks.setDeadline(task_id, deadline_seconds, { updateId, expectedVersion, updatedBy }).then(
          (task): AgentToolResult => ({ ok: true, content: taskView(task), task }),
          (err: unknown) => refusal(err, task_id),
        );
      }
      case 'delete_task': {
        const { task_id } = input.args as ToolArgs['delete_task'];
        // The workflow refuses before asking; checked here too, where the change is made.
        const why = whyNotDelete({ subject: updatedBy ?? input.user.user_id, admin: input.user.admin ?? true });
        if (why) return { ok: false, error: `Not allowed: ${why}` };
        return tasks.delete(task_id, { updateId, expectedVersion, updatedBy }).then(
          (): AgentToolResult => ({ ok: true, content: { deleted: task_id } }),
          (err: unknown) => refusal(err, task_id),
        );
      }
    }
  }

  /** /undo, one task: puts back what the turn changed, deletes what it created; refuses where the task moved on. */
  async function undoChange({ change, changes_by, update_id, updated_by: updatedBy }: UndoChangeInput): Promise<UndoChangeResult> {
    const { task_id } = change;
    try {
      if (change.kind === 'deleted') {
        return { task_id, outcome: 'kept', line: `${task_id}: was deleted; a deletion cannot be undone` };
      }
      if (change.kind === 'created') {
        await tasks.delete(task_id, { updateId: update_id, expectedVersion: change.version, updatedBy });
        return { task_id, outcome: 'deleted', line: `${task_id}: created in that turn, deleted` };
      }
      const before = await tasks.get(task_id);
      if (before === null) return { task_id, outcome: 'gone', line: `${task_id}: no longer exists` };
      const after = await tasks.revertChanges(task_id, changes_by, { updateId: update_id, updatedBy });
      const parts = differences(before, after);
      return parts.length > 0
        ? { task_id, outcome: 'reverted', line: `${task_id}: ${parts.join(', ')}` }
        : { task_id, outcome: 'unchanged', line: `${task_id}: nothing left to revert` };
    } catch (err) {
      const failure = entityFailure(err, `Task ${task_id}`);
      if (failure === undefined || failure.retryable) throw failure?.retryable ? ApplicationFailure.retryable(failure.message, 'TaskEntityUnavailable') : err;
      if (failure.kind === 'not_found') return { task_id, outcome: 'gone', line: `${task_id}: no longer exists` };
      if (failure.kind === 'version_conflict') return { task_id, outcome: 'refused', line: `${task_id}: not reverted, it changed since (${failure.message})` };
      return { task_id, outcome: 'refused', line: `${task_id}: not reverted (${failure.message})` };
    }
  }
}
