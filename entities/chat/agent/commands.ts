/**
 * Slash commands: the agent's tools, answered deterministically, with or without a model. Everything else
 * goes to the model, or (without one) to the seed's three rule replies. Pure and workflow-safe.
 */
import type { ToolArgs, ToolName } from './tools';

export type Command =
  | { kind: 'tool'; tool: ToolName; arguments: string }
  | { kind: 'undo' }
  | { kind: 'help' }
  | { kind: 'decide'; approval_id: string; approved: boolean }
  | { kind: 'unknown'; text: string };

export const HELP = [
  'Commands:',
  '/tasks [mine] [status]  list open tasks (status: pending, assigned, in_progress, completed, overdue)',
  '/task <id>  show a task',
  '/assign <id> <assignee>  assign a task (reassigning someone else\'s asks you first)',
  '/status <id> <status>  change a task\'s status',
  '/deadline <id> <seconds>  set when a task is due',
  '/delete <id>  delete a task (asks you first)',
  '/projects  list projects',
  '/project <id>  how a project is doing: its tasks by status, overdue, next deadline, share done',
  '/newproject <id> <name>  create a project',
  '/addtask <project id> <task id>  put a task into a project',
  '/approve <approval_id>, /deny <approval_id>  decide on a change waiting for you',
  '/undo  revert the task changes of your last turn that changed tasks',
  '/help  this list',
].join('\n');

const args = <N extends ToolName>(tool: N, value: Partial<Record<keyof ToolArgs[N], unknown>>): Command => ({
  kind: 'tool',
  tool,
  arguments: JSON.stringify(value),
});

/** Commands that came with projects: before them these were unknown commands (see CHAT_PROJECT_COMMANDS_PATCH). */
export const PROJECT_COMMANDS = ['/projects', '/project', '/newproject', '/addtask'];

/** The command in a message, or undefined when the message is not one (it does not start with "/"). */
export function parseCommand(content: string): Command | undefined {
  const text = content.trim();
  if (!text.startsWith('/')) return undefined;
  const [name = '', ...rest] = text.split(/\s+/);
  const seconds = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : value);
  switch (name.toLowerCase()) {
    case '/tasks':
      // `/tasks mine` (or `/tasks mine assigned`): the user's own.
      if (rest[0] === 'mine' || rest[0] === 'me') return args('list_tasks', { assignee: 'me', ...(rest[1] ? { status: rest[1] } : {}) });
      return args('list_tasks', rest[0] ? { status: rest[0] } : {});
    case '/task':
      return args('get_task', { task_id: rest[0] });
    case '/assign':
      return args('assign_task', { task_id: rest[0], assignee: rest.slice(1).join(' ') || undefined });
    case '/status':
      return args('update_status', { task_id: rest[0], status: rest[1] });
    case '/deadline':
      return args('set_deadline', { task_id: rest[0], deadline_seconds: seconds(rest[1]) });
    case '/delete':
      return args('delete_task', { task_id: rest[0] });
    case '/projects':
      return args('list_projects', {});
    case '/project':
      return args('get_project', { project_id: rest[0] });
    case '/newproject':
      return args('create_project', { project_id: rest[0], name: rest.slice(1).join(' ') || undefined });
    case '/addtask':
      return args('add_task_to_project', { project_id: rest[0], task_id: rest[1] });
    case '/undo':
      return { kind: 'undo' };
    case '/help':
      return { kind: 'help' };
    case '/approve':
    case '/deny':
      return { kind: 'decide', approval_id: rest[0] ?? '', approved: name.toLowerCase() === '/approve' };
    default:
      return { kind: 'unknown', text: name };
  }
}
