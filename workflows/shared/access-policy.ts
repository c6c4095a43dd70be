/**
 * The default access policy on tasks, as pure functions: the API applies it to its callers and the agent's
 * tools to the chat's user, so the agent cannot do what its user may not. Each answers undefined when
 * allowed, or why not (a 403's detail, a tool's result).
 *
 *   - everyone signed in reads and lists tasks, creates and processes them (assigning, setting deadlines);
 *   - a status change needs the task assigned to the caller's profile email;
 *   - deleting a task needs the admin right;
 *   - admins (scope `admin`, the API_TOKEN service, an open API) may do everything.
 */
import type { Task } from '../../common/schemas';

export interface Actor {
  /** Recorded as the task's `updated_by`: the token's `sub`, `api` for the service credential or an open API. */
  subject: string;
  admin: boolean;
  /** The user's profile email (their chat profile): whose tasks they may move along. */
  email?: string;
}

/** Who changed a task when no caller says so: an update sent straight to the entity (the temporal CLI). */
export const UNATTRIBUTED = 'cli';

export function whyNotDelete(actor: Actor): string | undefined {
  return actor.admin ? undefined : 'deleting a task needs the admin right';
}

export function whyNotChangeStatus(actor: Actor, task: Pick<Task, 'task_id' | 'assignee'>): string | undefined {
  if (actor.admin) return undefined;
  if (!actor.email) return `changing the status of ${task.task_id} needs your profile email (PUT /chat/${actor.subject}/profile) to be its assignee`;
  if (task.assignee?.toLowerCase() !== actor.email.toLowerCase()) {
    return `only the assignee (${task.assignee ?? 'nobody'}) or an admin may change the status of ${task.task_id}`;
  }
  return undefined;
}
