/**
 * The agent's tools, each once: what the model is told (name, description, a JSON-schema function built
 * from the same field rules the workflow checks the arguments with), whether it changes tasks, and what
 * the Web UI shows on its activity. Workflow-safe: no runtime imports beyond the field rules.
 */
import { Rules, TASK_STATUSES, checkInput, describeFieldErrors, type FieldRule, type InputRules } from '../../../workflows/shared/input-rules';
import type { SettableTaskStatus, TaskStatus } from '../../../common/schemas';

export interface ListTasksArgs {
  status?: TaskStatus;
  /** An e-mail address, or "me" for the user's own (their profile's e-mail). */
  assignee?: string;
}
export interface TaskIdArgs {
  task_id: string;
}
export interface CreateTaskArgs {
  title: string;
  description?: string;
  assignee?: string;
  deadline_seconds?: number;
  priority?: number;
  project_id?: string;
}
export interface AssignTaskArgs {
  task_id: string;
  assignee: string;
}
export interface UpdateStatusArgs {
  task_id: string;
  status: SettableTaskStatus;
}
export interface SetDeadlineArgs {
  task_id: string;
  deadline_seconds: number;
}

export interface ProjectIdArgs {
  project_id: string;
}
export interface CreateProjectArgs {
  project_id: string;
  name: string;
  description?: string;
}
export interface AddTaskToProjectArgs {
  project_id: string;
  task_id: string;
}

/** Each tool's arguments, by name. */
export interface ToolArgs {
  list_tasks: ListTasksArgs;
  get_task: TaskIdArgs;
  create_task: CreateTaskArgs;
  assign_task: AssignTaskArgs;
  update_status: UpdateStatusArgs;
  set_deadline: SetDeadlineArgs;
  delete_task: TaskIdArgs;
  get_current_time: Record<string, never>;
  list_projects: Record<string, never>;
  get_project: ProjectIdArgs;
  create_project: CreateProjectArgs;
  add_task_to_project: AddTaskToProjectArgs;
}
export type ToolName = keyof ToolArgs;

interface ToolDefinition<N extends ToolName> {
  description: string;
  rules: InputRules<ToolArgs[N]>;
  /** What each argument means, for the model. */
  fields: { [K in keyof Required<ToolArgs[N]>]: string };
  /** Whether it changes tasks: then it carries an update id, may need approval, and is undone by /undo. */
  changes: boolean;
  /** What the Web UI shows on the tool's activity, e.g. `assign_task task-001 → bob@example.com`. */
  summary(args: ToolArgs[N]): string;
  /**
   * For a changing tool, what MCP clients are told of it (mcp/tools.ts): `destructive`, it overwrites or removes
   * what is there (false: it only adds); `idempotent`, the same call again changes nothing more; `openWorld`,
   * it reaches outside the task store (the assignee is notified).
   */
  hints?: { destructive: boolean; idempotent: boolean; openWorld?: boolean };
  /** A change of a project, not of a task's fields: /undo does not revert it (a task moved into a project stays there). */
  project?: true;
}

const taskId: FieldRule = Rules.entityId;
const title: FieldRule = { ...Rules.title, trim: true, nonEmpty: true };

export const TOOLS: { [N in ToolName]: ToolDefinition<N> } = {
  list_tasks: {
    description: 'List open tasks, optionally by status and by assignee. For the user\'s own tasks ("my tasks") pass assignee "me".',
    rules: { status: { kind: 'enum', values: TASK_STATUSES, optional: true }, assignee: { ...Rules.assignee, optional: true } },
    fields: { status: 'Only tasks in this status', assignee: 'Only tasks assigned to this e-mail address; "me" for the user' },
    changes: false,
    summary: (a) => ['list_tasks', a.status && `status=${a.status}`, a.assignee && `assignee=${a.assignee}`].filter(Boolean).join(' '),
  },
  get_task: {
    description: 'Read one task: title, description, status, assignee, deadline, version.',
    rules: { task_id: taskId },
    fields: { task_id: 'The task id, e.g. task-001' },
    changes: false,
    summary: (a) => `get_task ${a.task_id}`,
  },
  create_task: {
    description:
      'Create a task. With an assignee it is processed: assigned, given a deadline and the assignee notified (title at least 5 and description at least 10 characters).',
    rules: {
      title,
      description: { ...Rules.description, optional: true },
      assignee: { ...Rules.assignee, optional: true },
      deadline_seconds: { ...Rules.deadlineSeconds, optional: true },
      priority: { ...Rules.priority, optional: true },
      project_id: { ...Rules.entityId, optional: true },
    },
    fields: {
      title: 'Short title',
      description: 'What is to be done',
      assignee: 'E-mail address of who will do it',
      deadline_seconds: 'Seconds from now until it is due (default 3600, with an assignee)',
      priority: '1 (lowest) to 5 (highest), default 1',
      project_id: 'Create it in this project (the user must own the project)',
    },
    changes: true,
    summary: (a) => `create_task "${a.title}"${a.assignee ? ` → ${a.assignee}` : ''}${a.project_id ? ` in ${a.project_id}` : ''}`,
    // Each call makes a new task (an MCP client may pass an idempotency key: docs/mcp.md).
    hints: { destructive: false, idempotent: false, openWorld: true },
  },
  assign_task: {
    description: 'Assign a task to someone (an e-mail address). Reassigning a task that someone else has asks the user first.',
    rules: { task_id: taskId, assignee: Rules.assignee },
    fields: { task_id: 'The task id', assignee: 'E-mail address of the new assignee' },
    changes: true,
    summary: (a) => `assign_task ${a.task_id} → ${a.assignee}`,
    hints: { destructive: true, idempotent: true },
  },
  update_status: {
    description: 'Change the status of a task: pending, assigned, in_progress or completed.',
    rules: { task_id: taskId, status: Rules.settableStatus },
    fields: { task_id: 'The task id', status: 'The new status' },
    changes: true,
    summary: (a) => `update_status ${a.task_id} → ${a.status}`,
    hints: { destructive: true, idempotent: true },
  },
  set_deadline: {
    description: 'Set when a task is due, in seconds from now, replacing any earlier deadline.',
    rules: { task_id: taskId, deadline_seconds: Rules.deadlineSeconds },
    fields: { task_id: 'The task id', deadline_seconds: 'Seconds from now until it is due' },
    changes: true,
    summary: (a) => `set_deadline ${a.task_id} → ${a.deadline_seconds}s`,
    // Seconds from now: the same call later sets a later deadline.
    hints: { destructive: true, idempotent: false },
  },
  delete_task: {
    description: 'Delete a task. Always asks the user first.',
    rules: { task_id: taskId },
    fields: { task_id: 'The task id' },
    changes: true,
    summary: (a) => `delete_task ${a.task_id}`,
    hints: { destructive: true, idempotent: true },
  },
  get_current_time: {
    description: 'The current date and time (UTC).',
    rules: {},
    fields: {},
    changes: false,
    summary: () => 'get_current_time',
  },
  list_projects: {
    description: 'List the projects (their ids).',
    rules: {},
    fields: {},
    changes: false,
    summary: () => 'list_projects',
  },
  get_project: {
    description:
      'How a project is doing: its name, owner, and roll-up of its tasks (how many, by status, overdue, the next deadline, the share done), with its first 20 tasks.',
    rules: { project_id: Rules.entityId },
    fields: { project_id: 'The project id, e.g. website-relaunch' },
    changes: false,
    summary: (a) => `get_project ${a.project_id}`,
  },
  create_project: {
    description: 'Create a project (a collection of tasks), owned by the user. Add tasks with create_task (project_id) or add_task_to_project.',
    rules: { project_id: Rules.entityId, name: Rules.projectName, description: { ...Rules.projectDescription, optional: true } },
    fields: { project_id: 'A new id: letters, digits, ".", "_" and "-"', name: 'Its name', description: 'What it is for' },
    changes: true,
    project: true,
    summary: (a) => `create_project ${a.project_id} "${a.name}"`,
    // The same project again changes nothing.
    hints: { destructive: false, idempotent: true },
  },
  add_task_to_project: {
    description: 'Put an existing task into a project (out of any project it was in). The user must own the project.',
    rules: { project_id: Rules.entityId, task_id: taskId },
    fields: { project_id: 'The project id', task_id: 'The task id' },
    changes: true,
    project: true,
    summary: (a) => `add_task_to_project ${a.task_id} → ${a.project_id}`,
    hints: { destructive: false, idempotent: true },
  },
};

export const isToolName = (name: string): name is ToolName => Object.prototype.hasOwnProperty.call(TOOLS, name);

/** The `tools` of a chat-completions request: each tool as a JSON-schema function. */
export function toolSchemas(): { type: 'function'; function: { name: string; description: string; parameters: object } }[] {
  return (Object.keys(TOOLS) as ToolName[]).map((name) => {
    const tool = TOOLS[name] as ToolDefinition<ToolName>;
    const rules = tool.rules as Record<string, FieldRule>;
    const fields = tool.fields as Record<string, string>;
    return {
      type: 'function',
      function: {
        name,
        description: tool.description,
        parameters: {
          type: 'object',
          properties: Object.fromEntries(Object.entries(rules).map(([field, rule]) => [field, { ...jsonSchemaOf(rule), description: fields[field] }])),
          required: Object.entries(rules)
            .filter(([, rule]) => !rule.optional && rule.default === undefined)
            .map(([field]) => field),
          additionalProperties: false,
        },
      },
    };
  });
}

function jsonSchemaOf(rule: FieldRule): object {
  switch (rule.kind) {
    case 'text':
      return { type: 'string', maxLength: rule.maxLength };
    case 'integer':
      return { type: 'integer', minimum: rule.min, ...(rule.max !== undefined ? { maximum: rule.max } : {}) };
    case 'enum':
      return { type: 'string', enum: [...rule.values] };
    case 'boolean':
      return { type: 'boolean' };
  }
}

/** A call the model asked for, checked: the tool and its arguments, or why it cannot run. */
export type CheckedCall = { ok: true; tool: ToolName; args: ToolArgs[ToolName] } | { ok: false; error: string };

/** Checks a tool call as the model sent it (a name and a JSON string of arguments). */
export function checkCall(name: string, rawArguments: string): CheckedCall {
  if (!isToolName(name)) return { ok: false, error: `There is no tool named ${JSON.stringify(name)}; the tools are: ${Object.keys(TOOLS).join(', ')}` };
  let parsed: unknown;
  try {
    parsed = rawArguments.trim() === '' ? {} : JSON.parse(rawArguments);
  } catch {
    return { ok: false, error: `The arguments of ${name} are not valid JSON: ${rawArguments.slice(0, 200)}` };
  }
  const checked = checkInput(TOOLS[name].rules as InputRules<ToolArgs[ToolName]>, parsed);
  if (!checked.success) return { ok: false, error: `Invalid arguments for ${name}: ${describeFieldErrors(checked.errors)}` };
  return { ok: true, tool: name, args: checked.data };
}

/** The project a call acts in, if any: the user must be allowed to change it (checked before the call runs). */
export function projectOf(tool: ToolName, args: ToolArgs[ToolName]): string | undefined {
  if (tool === 'add_task_to_project') return (args as AddTaskToProjectArgs).project_id;
  if (tool === 'create_task') return (args as CreateTaskArgs).project_id;
  return undefined;
}

/** The task a changing call is about; undefined for create_task (a new task) and reading tools. */
export function taskOf(tool: ToolName, args: ToolArgs[ToolName]): string | undefined {
  return TOOLS[tool].changes && 'task_id' in args ? (args as TaskIdArgs).task_id : undefined;
}
