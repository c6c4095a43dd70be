/**
 * The default access policy on tasks, as pure functions: the API applies it to its callers and the agent's
 * tools to the chat's user, so the agent cannot do what its user may not. Each answers undefined when
 * allowed, or why not (a 403's detail, a tool's result).
 *
 *   - everyone signed in reads and lists tasks, creates and processes them (assigning, setting deadlines);
 *   - a status change needs the task assigned to the caller's e-mail, as their token vouches for it;
 *   - deleting a task needs the admin right;
 *   - admins (scope `admin`, the API_TOKEN service, an open API) may do everything.
 *
 * Who a user is comes only from their verified token: the chat profile's e-mail is a preference the user
 * types, and grants nothing.
 */
import type { Task } from '../../common/schemas';

export interface Actor {
  /** Recorded as the task's `updated_by`: the token's `sub`, `api` for the service credential or an open API. */
  subject: string;
  admin: boolean;
  /**
   * The caller's e-mail as their token vouches for it (the `email` claim, unless `email_verified` is false):
   * whose tasks are theirs. Absent: none (no assignee rights).
   */
  email?: string;
  /**
   * The identity is a user's token. The API's service credential and an open API have none (they are admins
   * and say nobody's name), and neither do older actors of admins: for them the chat profile's e-mail
   * says which tasks are "mine" (see identityEmail).
   */
  user?: boolean;
}

/** Who changed a task when no caller says so: an update sent straight to the entity (the temporal CLI). */
export const UNATTRIBUTED = 'cli';

export function whyNotDelete(actor: Actor): string | undefined {
  return actor.admin ? undefined : 'deleting a task needs the admin right';
}

/** Whether `actor` speaks for a user with a verified identity (older actors of users are the non-admin ones). */
export const isUser = (actor: Actor | undefined): actor is Actor => actor !== undefined && (actor.user === true || !actor.admin);

/**
 * The e-mail whose tasks are "mine" for this actor: a user's verified one (or none), never what they typed.
 * Without a user's identity (the temporal CLI, the service credential, an open API: all with full rights) the
 * chat profile's e-mail stands in, as nothing else names anyone there.
 */
export function identityEmail(actor: Actor | undefined, profileEmail: string | null): string | null {
  if (isUser(actor)) return actor.email ?? null;
  return profileEmail;
}

/** Whether two addresses name the same mailbox as far as this service tells them apart (case-blind). */
export const sameEmail = (a: string | null | undefined, b: string | null | undefined) => !!a && !!b && a.toLowerCase() === b.toLowerCase();

export function whyNotChangeStatus(actor: Actor, task: Pick<Task, 'task_id' | 'assignee'>): string | undefined {
  if (actor.admin) return undefined;
  if (!actor.email) return `changing the status of ${task.task_id} needs a verified e-mail in your token (the \`email\` claim) that is its assignee`;
  if (!sameEmail(task.assignee, actor.email)) {
    return `only the assignee (${task.assignee ?? 'nobody'}) or an admin may change the status of ${task.task_id}`;
  }
  return undefined;
}

/**
 * Projects: everyone signed in reads and lists them and sets one up (owned by themselves: their `sub`, or the
 * e-mail their token vouches for); changing one, its tasks, or deleting it needs its owner or an admin.
 */
export function isProjectOwner(actor: Actor, owner: string): boolean {
  return owner === actor.subject || sameEmail(owner, actor.email);
}

export function whyNotChangeProject(actor: Actor, project: { project_id: string; owner: string }): string | undefined {
  if (actor.admin || isProjectOwner(actor, project.owner)) return undefined;
  return `only the owner of project ${project.project_id} (${project.owner}) or an admin may change it`;
}

export function whyNotOwn(actor: Actor, owner: string): string | undefined {
  if (actor.admin || isProjectOwner(actor, owner)) return undefined;
  return `you may set up projects owned by yourself (${actor.subject}) only; an admin may name another owner`;
}
