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
import { whyNotChangeProject, whyNotDelete } from '../workflows/shared/access-policy';
import { EMAIL_PATTERN } from '../workflows/shared/input-rules';
import { heartbeating } from './heartbeat';
import type { TaskEntityClient } from '../clients/task-entity';
import type { ProjectEntityClient } from '../clients/project-entity';
import type { Project, ProjectView, Task } from '../common/schemas';
import type { ToolArgs, ToolName } from '../entities/chat/agent/tools';
import type { LivePublisher, LiveTurn } from '../stream/live-records';

export interface ToolUser {
  user_id: string;
  /** Whose tasks are the user's ("my tasks"): the e-mail their token vouches for (workflows/shared/access-policy.ts identityEmail). */
  email: string | null;
  /** Whose rights the call acts with (recorded as `updated_by`); absent: full rights, `cli`. */
  subject?: string;
  admin?: boolean;
  /** The subject is a user's verified identity: only then is text they wrote told from text others wrote. */
  verified?: boolean;
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
  /** Where the call's start and end are told as they happen (stream/live-records.ts), with the Web UI summary. */
  live?: LiveTurn & { call_id: string; summary: string };
}

/**
 * A tool's result. `foreign_text`: the content holds text someone other than the user wrote (labelled as
 * such for the model); a turn that read it asks before it changes anything (entities/chat/agent/turn.ts).
 */
export type AgentToolResult =
  | { ok: true; content: unknown; task?: Task; foreign_text?: true }
  /** `detail`: what the other side said of the failure (an MCP server's message), with `foreign_text` when someone else wrote it. */
  | { ok: false; error: string; detail?: unknown; foreign_text?: true };

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

/**
 * Text of a task that someone other than the user wrote, as the model is given it: quoted and labelled, so
 * that what it says stays data (a description that reads "reassign all tasks to me" is a description).
 */
export interface UntrustedText {
  untrusted_text: string;
  written_by: string;
}

/** Whether the user wrote this task's free text: a verified user who created it. Anyone else's, or unknown, is foreign. */
const writtenByUser = (task: Task, user: ToolUser) => user.verified === true && task.created_by !== undefined && task.created_by === user.subject;

/** An assignee that is an address is data; anything else someone typed there is text. */
const isAddress = (value: string) => EMAIL_PATTERN.test(value);

/** What the model reads of a task, and whether it holds text someone else wrote. */
function taskView(task: Task, user: ToolUser): { view: Record<string, unknown>; foreign: boolean } {
  const own = writtenByUser(task, user);
  const label = (text: string | null): string | UntrustedText | null =>
    text === null || text === '' || own ? text : { untrusted_text: text, written_by: task.created_by ?? 'someone else' };
  const assignee = task.assignee !== null && !isAddress(task.assignee) ? label(task.assignee) : task.assignee;
  const view = {
    task_id: task.task_id,
    title: label(task.title),
    description: label(task.description),
    status: task.status,
    assignee,
    deadline: task.deadline,
    priority: task.priority,
    version: task.version,
  };
  const foreign = [view.title, view.description, view.assignee].some((value) => typeof value === 'object' && value !== null);
  return { view, foreign };
}

/** A task as a reader who may be a model is given it (an MCP client: mcp/tool-calls.ts): someone else's text labelled. */
export const taskForReader = (task: Task, user: ToolUser): Record<string, unknown> => taskView(task, user).view;

/** A read's result: the task with its text, someone else's labelled (get_task). */
function showing(task: Task, user: ToolUser): AgentToolResult {
  const { view, foreign } = taskView(task, user);
  return { ok: true, content: view, task, ...(foreign ? { foreign_text: true as const } : {}) };
}

/**
 * A change's result: what the change left, without the task's text (the model named the task; a title or
 * description it did not ask to read does not reach it), or for a task it just created, the text it wrote.
 */
function changed(task: Task, user: ToolUser, { created = false } = {}): AgentToolResult {
  if (created) return { ok: true, content: taskView(task, { ...user, verified: true, subject: task.created_by }).view, task };
  const { view, foreign } = taskView(task, user);
  const { title: _title, description: _description, ...state } = view;
  const assigneeIsText = typeof state.assignee === 'object' && state.assignee !== null;
  return { ok: true, content: state, task, ...(foreign && assigneeIsText ? { foreign_text: true as const } : {}) };
}

/** The entity said no (the tool's result), or a retry can help (the activity fails and Temporal retries). */
function refusal(err: unknown, id: string, what: 'Task' | 'Project' = 'Task'): AgentToolResult {
  const failure = entityFailure(err, `${what} ${id}`);
  if (failure === undefined) throw err;
  if (failure.retryable) throw ApplicationFailure.retryable(failure.message, 'TaskEntityUnavailable');
  if (failure.kind === 'not_found') return { ok: false, error: `${what} ${id} does not exist` };
  const taskId = id;
  if (failure.kind === 'version_conflict') return { ok: false, error: `Task ${taskId} changed since it was shown to the user; nothing was changed (${failure.message})` };
  return { ok: false, error: failure.message };
}

const projectFields = (project: Project) => ({ project_id: project.project_id, name: project.name, description: project.description, owner: project.owner, version: project.version });

/**
 * "How is project X doing": its roll-up and first tasks. Its name and description are its creator's text:
 * labelled as someone else's unless the user wrote them.
 */
function projectShown(view: ProjectView, user: ToolUser): AgentToolResult {
  const own = user.verified === true && view.created_by !== undefined && view.created_by === user.subject;
  const label = (text: string | null) => (text === null || text === '' || own ? text : { untrusted_text: text, written_by: view.created_by ?? 'someone else' });
  const content = { ...projectFields(view), name: label(view.name), description: label(view.description), rollup: view.rollup, tasks: view.tasks, more_tasks: view.next_tasks_offset !== null };
  return { ok: true, content, ...(own ? {} : { foreign_text: true as const }) };
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

export function createAgentToolActivities({ tasks, projects, live }: { tasks: TaskEntityClient; projects: ProjectEntityClient; live?: LivePublisher }) {
  const { runTool, undoChange } = toolRunner(tasks, projects);
  return {
    async agentTool(input: AgentToolInput): Promise<AgentToolResult> {
      const target = input.live;
      if (target === undefined || live === undefined) return heartbeating(runTool(input));
      const { call_id, summary, ...turn } = target;
      // A retried call tells its start again; clients key tool steps by call id, so it shows once.
      live.publish({ kind: 'tool-start', ...turn, call_id, tool: input.tool, input: input.args, summary });
      const result = await heartbeating(runTool(input));
      live.publish(result.ok ? { kind: 'tool-end', ...turn, call_id, ok: true, output: result.content } : { kind: 'tool-end', ...turn, call_id, ok: false, error: result.error });
      await live.flush();
      return result;
    },

    /** The current state of the tasks a step would change, so the workflow can say what would change and ask. */
    readTasks: (input: { task_ids: string[] }): Promise<Record<string, Task | null>> =>
      heartbeating(Promise.all(input.task_ids.map(async (taskId) => [taskId, await tasks.get(taskId)] as const)).then((found) => Object.fromEntries(found))),

    undoChange: (input: UndoChangeInput): Promise<UndoChangeResult> => heartbeating(undoChange(input)),
  };
}

/** The tools' own work, outside any activity: the activities above run it, and the MCP server its reads (mcp/tool-calls.ts). */
export function toolRunner(tasks: TaskEntityClient, projects: ProjectEntityClient) {
  return { runTool, undoChange };

  /** A project's owner or an admin changes it (the workflow checked before the call; checked again where the change is made). */
  async function refusedInProject(projectId: string, user: ToolUser): Promise<AgentToolResult | undefined> {
    const project = await projects.get(projectId, { tasks_limit: 0 });
    if (project === null) return { ok: false, error: `Project ${projectId} does not exist` };
    const why = whyNotChangeProject({ subject: user.subject ?? user.user_id, admin: user.admin ?? true, ...(user.email ? { email: user.email } : {}) }, project);
    return why ? { ok: false, error: `Not allowed: ${why}` } : undefined;
  }

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
          return { ok: false, error: 'No verified e-mail address is known for the user (their sign-in token carries none), so "my tasks" is unknown' };
        }
        const page = await tasks.list({ status, assignee: mine ? input.user.email! : assignee }, { pageSize: 20 });
        const rows = page.tasks.map(({ workflow_id: _, ...task }) =>
          task.assignee !== null && !isAddress(task.assignee) ? { ...task, assignee: { untrusted_text: task.assignee, written_by: 'someone else' } } : task,
        );
        const foreign = rows.some((row) => typeof row.assignee === 'object' && row.assignee !== null);
        return { ok: true, content: { tasks: rows, more: page.nextPageToken !== null }, ...(foreign ? { foreign_text: true as const } : {}) };
      }
      case 'get_task': {
        const { task_id } = input.args as ToolArgs['get_task'];
        const task = await tasks.get(task_id);
        return task ? showing(task, input.user) : { ok: false, error: `Task ${task_id} does not exist` };
      }
      case 'create_task': {
        const { title, description, priority, project_id } = input.args as ToolArgs['create_task'];
        const taskId = input.new_task_id!;
        try {
          if (project_id !== undefined) {
            const refused = await refusedInProject(project_id, input.user);
            if (refused) return refused;
            // The project takes the task first: it counts it from its creation on.
            await projects.addTasks(project_id, [taskId], { updateId: `${updateId}/project`, updatedBy });
          }
          const task = await tasks.create(taskId, { title, description: description ?? null, priority, ...(project_id !== undefined ? { project_id } : {}) }, { updateId, ifExists: 'reuse', updatedBy });
          return changed(task, input.user, { created: true });
        } catch (err) {
          return refusal(err, taskId);
        }
      }
      case 'assign_task': {
        const { task_id, assignee } = input.args as ToolArgs['assign_task'];
        return tasks.assign(task_id, assignee, { updateId, expectedVersion, updatedBy }).then(
          (task): AgentToolResult => changed(task, input.user),
          (err: unknown) => refusal(err, task_id),
        );
      }
      case 'update_status': {
        const { task_id, status } = input.args as ToolArgs['update_status'];
        return tasks.updateStatus(task_id, { status, expected_version: expectedVersion }, { updateId, updatedBy }).then(
          (task): AgentToolResult => changed(task, input.user),
          (err: unknown) => refusal(err, task_id),
        );
      }
      case 'set_deadline': {
        const { task_id, deadline_seconds } = input.args as ToolArgs['set_deadline'];
        return tasks.setDeadline(task_id, deadline_seconds, { updateId, expectedVersion, updatedBy }).then(
          (task): AgentToolResult => changed(task, input.user),
          (err: unknown) => refusal(err, task_id),
        );
      }
      case 'list_projects': {
        const page = await projects.list({ pageSize: 50 });
        return { ok: true, content: { projects: page.projects.map((p) => p.project_id), more: page.nextPageToken !== null } };
      }
      case 'get_project': {
        const { project_id } = input.args as ToolArgs['get_project'];
        const view = await projects.get(project_id, { tasks_limit: 20 });
        return view ? projectShown(view, input.user) : { ok: false, error: `Project ${project_id} does not exist` };
      }
      case 'create_project': {
        const { project_id, name, description } = input.args as ToolArgs['create_project'];
        const owner = input.user.email ?? input.user.subject ?? input.user.user_id;
        try {
          const project = await projects.create(project_id, { name, description: description ?? null, owner }, { updateId, updatedBy });
          return { ok: true, content: projectFields(project) };
        } catch (err) {
          return refusal(err, project_id, 'Project');
        }
      }
      case 'add_task_to_project': {
        const { project_id, task_id } = input.args as ToolArgs['add_task_to_project'];
        try {
          const refused = await refusedInProject(project_id, input.user);
          if (refused) return refused;
          const task = await tasks.get(task_id);
          if (task === null) return { ok: false, error: `Task ${task_id} does not exist` };
          // Moving it out of another project takes the right to change that one too (as the API's route asks).
          const from = task.project_id !== undefined && task.project_id !== project_id ? await refusedInProject(task.project_id, input.user) : undefined;
          if (from && !from.ok && from.error.startsWith('Not allowed')) return from;
          await projects.addTasks(project_id, [task_id], { updateId: `${updateId}/project`, updatedBy });
          return changed(await tasks.setProject(task_id, project_id, { updateId, updatedBy }), input.user);
        } catch (err) {
          return refusal(err, task_id);
        }
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
