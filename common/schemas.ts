/**
 * One zod schema per shape. The API validates requests with these and the OpenAPI document is generated
 * from them. The constraints and messages of every field a workflow accepts come from
 * workflows/shared/input-rules.ts, which the workflows check their inputs with (zod stays out of workflow code).
 */
import { z } from 'zod';
import {
  MESSAGES,
  PROJECT_SETUP_MAX_TASKS,
  Rules,
  TASK_STATUSES,
  text,
  type BooleanRule,
  type EnumRule,
  type IntegerRule,
  type TextRule,
} from '../workflows/shared/input-rules';

/** Type errors say "is required" when the field is missing. */
const typeError = (message: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? MESSAGES.required : message),
});

/** The zod rendering of a text rule: same checks, same order, same messages as checkInput. */
export function textSchema(rule: TextRule) {
  let schema = z
    .string(typeError(MESSAGES.string))
    .max(rule.maxLength, MESSAGES.maxLength(rule.maxLength))
    .regex(rule.pattern.regex, rule.pattern.message);
  if (rule.trim) schema = schema.trim();
  if (rule.nonEmpty) {
    // min(1) after trim() shows in the OpenAPI document as minLength; untrimmed text needs a refinement.
    schema = rule.trim ? schema.min(1, MESSAGES.empty) : schema.refine((v) => v.trim().length > 0, MESSAGES.empty);
  }
  return schema;
}

export function integerSchema(rule: IntegerRule) {
  const schema = z
    .number(typeError(MESSAGES.number))
    .int(rule.wholeMessage ?? MESSAGES.wholeNumber)
    .min(rule.min, MESSAGES.min(rule.min));
  return rule.max === undefined ? schema : schema.max(rule.max, rule.maxMessage ?? MESSAGES.max(rule.max));
}

export function enumSchema<const V extends readonly [string, ...string[]]>(rule: EnumRule & { values: V }) {
  return z.enum(rule.values, typeError(MESSAGES.oneOf(rule.values)));
}

export function booleanSchema(_rule: BooleanRule) {
  return z.boolean(typeError(MESSAGES.boolean));
}

/** Objects refuse anything but a JSON object, with one message. */
const object = <S extends z.ZodRawShape>(shape: S) => z.object(shape, { error: MESSAGES.object });

/** An object that refuses unknown fields (checkInput's `strict`); fieldErrors names each one. */
const strictObject = <S extends z.ZodRawShape>(shape: S) => z.strictObject(shape, { error: MESSAGES.object });

export const EntityIdSchema = textSchema(Rules.entityId);
export const TaskIdSchema = EntityIdSchema.meta({ description: 'Task id', example: 'task-001' });

export const AssigneeSchema = textSchema(Rules.assignee).meta({
  description: 'Who the task is assigned to, usually an e-mail address',
  example: 'alice@example.com',
});

export const DeadlineSecondsSchema = integerSchema(Rules.deadlineSeconds).meta({
  description: 'Seconds from now until the task is due',
  example: 3600,
});

export const ProjectIdSchema = EntityIdSchema.meta({ description: 'Project id', example: 'website-relaunch' });

export const TaskStatusSchema = enumSchema({ kind: 'enum', values: TASK_STATUSES }).meta({ description: 'Task status', example: 'assigned' });
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

/** Statuses a caller may set; `overdue` is only ever set by the deadline timer. */
export const SettableTaskStatusSchema = enumSchema(Rules.settableStatus);
export type SettableTaskStatus = z.infer<typeof SettableTaskStatusSchema>;

// ---------------------------------------------------------------------------------------------
// TaskProcessingWorkflow
// ---------------------------------------------------------------------------------------------

/** Body of `POST /tasks/process` and the input of `TaskProcessingWorkflow`: the seed's JSON, exactly. */
export const ProcessTaskRequestSchema = object({
  task_id: TaskIdSchema,
  // Lengths below 5 / 10 characters are not rejected here: the workflow's validate step answers them
  // with status "rejected", as in the seed. Only shapes and hard limits are checked at the edge.
  title: textSchema(Rules.title).meta({ example: 'Review PR #42' }),
  description: textSchema(Rules.description).meta({ example: 'Review the authentication refactoring pull request' }),
  assignee: AssigneeSchema,
  deadline_seconds: DeadlineSecondsSchema.default(3600),
  project_id: ProjectIdSchema.optional().meta({ description: 'Process the task as part of this project (which must exist; you must be its owner or an admin)' }),
}).meta({ id: 'ProcessTaskRequest' });
export type ProcessTaskRequest = z.infer<typeof ProcessTaskRequestSchema>;

const RunIdSchema = z.string().meta({ description: 'The Temporal run: `temporal workflow show --workflow-id ... --run-id ...`', example: '0199a3c2-5e0b-7f4e-9d21-6f1a2b3c4d5e' });
const UiUrlSchema = z.string().meta({
  description: "The run's page in the Temporal Web UI (TEMPORAL_UI_URL)",
  example: 'http://localhost:8233/namespaces/default/workflows/task-workflow-task-001/0199a3c2-5e0b-7f4e-9d21-6f1a2b3c4d5e/history',
});

export const ProcessTaskAcceptedSchema = z
  .object({
    workflow_id: z.string().meta({ example: 'task-workflow-task-001' }),
    run_id: RunIdSchema,
    status: z.literal('started'),
    ui_url: UiUrlSchema,
  })
  .meta({ id: 'ProcessTaskAccepted' });

export const PROCESSING_OUTCOMES = ['completed', 'rejected', 'failed'] as const;
export const TaskProcessingResultSchema = z
  .object({
    task_id: z.string(),
    status: z.enum(PROCESSING_OUTCOMES),
    message: z.string(),
  })
  .meta({ id: 'TaskProcessingResult' });
export type TaskProcessingResult = z.infer<typeof TaskProcessingResultSchema>;

export const WorkflowStatusSchema = z
  .object({
    workflow_id: z.string(),
    run_id: RunIdSchema,
    status: z.string().meta({ description: 'Temporal execution status', example: 'COMPLETED' }),
    output: TaskProcessingResultSchema.nullable().meta({ description: 'The result once the run has completed' }),
    ui_url: UiUrlSchema,
  })
  .meta({ id: 'WorkflowStatus' });

// ---------------------------------------------------------------------------------------------
// Task entity
// ---------------------------------------------------------------------------------------------

export const PrioritySchema = integerSchema(Rules.priority).meta({ description: '1 (lowest) to 5 (highest)', example: 2 });

export const TaskSchema = z
  .object({
    task_id: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    priority: PrioritySchema,
    status: TaskStatusSchema,
    assignee: z.string().nullable(),
    deadline: z.iso.datetime().nullable().meta({ description: 'When the task is due (UTC), or null' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    version: z.number().int().meta({ description: 'Increases by one with every change' }),
    project_id: z.string().optional().meta({ description: 'The project the task belongs to, if any', example: 'website-relaunch' }),
    created_by: z
      .string()
      .optional()
      .meta({ description: 'Who created the task, and so wrote its title and description (as `updated_by`); absent for tasks created before it was recorded', example: 'user-bob' }),
    updated_by: z
      .string()
      .optional()
      .meta({ description: 'Who made the last change: a token subject, `api` (the service credential or an open API), `cli` (straight to the entity)', example: 'user-alice' }),
  })
  .meta({ id: 'Task' });
export type Task = z.infer<typeof TaskSchema>;

export const CreateTaskInputSchema = object({
  title: textSchema(Rules.title),
  description: textSchema(Rules.description).nullable(),
  priority: PrioritySchema.optional(),
  project_id: ProjectIdSchema.optional(),
});
export type CreateTaskInput = z.infer<typeof CreateTaskInputSchema>;

/** Apply only if the task is still at this version (the API's If-Match; the agent's approved preview). */
const ExpectedVersionSchema = integerSchema(Rules.version).optional();

export const AssignTaskInputSchema = object({ assignee: AssigneeSchema, expected_version: ExpectedVersionSchema });
export type AssignTaskInput = z.infer<typeof AssignTaskInputSchema>;

/** Apply only to the task created at this time (the incarnation an ETag names: not one deleted and created again since). */
const ExpectedCreatedAtSchema = textSchema(Rules.createdAt).optional();

export const UpdateStatusInputSchema = object({
  status: SettableTaskStatusSchema,
  expected_version: ExpectedVersionSchema,
  expected_created_at: ExpectedCreatedAtSchema,
});
export type UpdateStatusInput = z.infer<typeof UpdateStatusInputSchema>;

export const SetDeadlineInputSchema = object({ deadline_seconds: DeadlineSecondsSchema, expected_version: ExpectedVersionSchema });
export type SetDeadlineInput = z.infer<typeof SetDeadlineInputSchema>;

/** `deleteTask`'s optional argument. */
export const DeleteTaskInputSchema = object({ expected_version: ExpectedVersionSchema, expected_created_at: ExpectedCreatedAtSchema });
export type DeleteTaskInput = z.infer<typeof DeleteTaskInputSchema>;

/** `setProject`: the task joins a project (or, with null, leaves its project); only if it is in `expected_project_id` when given. */
export const SetProjectInputSchema = object({
  project_id: ProjectIdSchema.nullable(),
  expected_project_id: ProjectIdSchema.nullable().optional(),
});
export type SetProjectInput = z.infer<typeof SetProjectInputSchema>;

/**
 * `revertChanges`: put back what the updates whose ids start with `changes_by` changed (a processing run's
 * compensation, a chat turn's undo), unless the task changed after them.
 */
export const RevertChangesInputSchema = object({
  changes_by: textSchema(Rules.updateIdPrefix).meta({ example: 'task-workflow-task-001/0196.../change/' }),
});
export type RevertChangesInput = z.infer<typeof RevertChangesInputSchema>;

/**
 * `handOverTask`: a processing run's three changes in one update: create the task (as `createTask`: the same
 * task again changes nothing), assign it, set its deadline; each logged under its own update id.
 */
export const HandOverTaskInputSchema = object({
  title: textSchema(Rules.title),
  description: textSchema(Rules.description),
  assignee: AssigneeSchema,
  deadline_seconds: DeadlineSecondsSchema,
  create_update_id: textSchema(Rules.updateId),
  assign_update_id: textSchema(Rules.updateId),
  deadline_update_id: textSchema(Rules.updateId),
  project_id: ProjectIdSchema.optional(),
});
export type HandOverTaskInput = z.infer<typeof HandOverTaskInputSchema>;

// ---------------------------------------------------------------------------------------------
// Task CRUD and listing (the seed's task API)
// ---------------------------------------------------------------------------------------------

/** Body of `POST /tasks`: the service picks the id. */
export const CreateTaskRequestSchema = object({
  title: textSchema({ ...Rules.title, trim: true, nonEmpty: true }).meta({ example: 'Learn Dapr building blocks' }),
  description: textSchema(Rules.description).nullable().default(null),
  priority: PrioritySchema.default(1),
}).meta({ id: 'CreateTaskRequest' });

/** `PUT /tasks/{task_id}/status`: the status in the JSON body, or in `?status=` as the seed sent it. */
export const UpdateStatusRequestSchema = object({ status: SettableTaskStatusSchema }).meta({ id: 'UpdateStatusRequest' });

/** A page of a visibility listing: its size and the token of the page before's answer. */
const PAGE_QUERY = {
  page_size: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  page_token: z
    .string()
    .max(4096, 'is too long')
    .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be a token from next_page_token')
    .optional(),
};

export const TaskListQuerySchema = z.object({
  status: TaskStatusSchema.optional(),
  // Any printable text: clients/visibility-query.ts quotes it for the visibility query.
  assignee: textSchema(text(254)).min(1, MESSAGES.empty).optional(),
  ...PAGE_QUERY,
});

export const TaskSummarySchema = z
  .object({
    task_id: z.string(),
    status: TaskStatusSchema.nullable(),
    assignee: z.string().nullable(),
    workflow_id: z.string(),
  })
  .meta({ id: 'TaskSummary' });
export type TaskSummary = z.infer<typeof TaskSummarySchema>;

export const TaskHistorySchema = z
  .object({
    task_id: z.string(),
    changes: z.array(
      z.object({
        version: z.number().int().meta({ description: 'The version the change made' }),
        at: z.iso.datetime().nullable().meta({ description: 'When (null for changes recorded before the time was kept)' }),
        by: z.string().nullable().meta({ description: 'Who (`updated_by`)', example: 'user-alice' }),
        kind: z.enum(['created', 'changed']),
        changes: z.array(z.object({ field: z.enum(['assignee', 'status', 'deadline']), from: z.string().nullable(), to: z.string().nullable() })),
        reverted: z.boolean().meta({ description: 'Put back since, by a compensation or an undo' }),
      }),
    ),
  })
  .meta({ id: 'TaskHistory' });

export const TaskListSchema = z
  .object({
    tasks: z.array(TaskSummarySchema),
    next_page_token: z.string().nullable().meta({ description: 'Pass as page_token for the next page; null on the last' }),
  })
  .meta({ id: 'TaskList' });

// ---------------------------------------------------------------------------------------------
// Projects (entities/project/): a collection of tasks with a live roll-up
// ---------------------------------------------------------------------------------------------

const ProjectNameSchema = textSchema(Rules.projectName).meta({ example: 'Website relaunch' });
const ProjectDescriptionSchema = textSchema(Rules.projectDescription).nullable().meta({ example: 'New site live by March' });
const ProjectOwnerSchema = textSchema(Rules.projectOwner).meta({
  description: "Who the project belongs to (a user id or e-mail address); they and admins change it. Default: the caller's `sub`",
  example: 'user-alice',
});

export const ProjectSchema = z
  .object({
    project_id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    owner: z.string(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    version: z.number().int().meta({ description: 'Increases by one with every change of the fields above (not with its tasks)' }),
    created_by: z.string().optional(),
    updated_by: z.string().optional(),
  })
  .meta({ id: 'Project' });
export type Project = z.infer<typeof ProjectSchema>;

export const ProjectRollupSchema = z
  .object({
    tasks: z.number().int().meta({ description: 'How many tasks the project has' }),
    by_status: z.object({ pending: z.number().int(), assigned: z.number().int(), in_progress: z.number().int(), completed: z.number().int(), overdue: z.number().int() }),
    unreported: z.number().int().meta({ description: 'Tasks that have not told the project how they stand yet (just added, or being created)' }),
    overdue: z.number().int().meta({ description: 'Tasks past their deadline and not completed' }),
    next_deadline: z.iso.datetime().nullable().meta({ description: 'The earliest deadline of a task still open and not overdue' }),
    done_share: z.number().meta({ description: 'Completed tasks / all tasks, 0 to 1 (0 for a project without tasks)', example: 0.25 }),
    as_of: z.iso.datetime().nullable().meta({ description: 'When the project last heard from one of its tasks' }),
  })
  .meta({ id: 'ProjectRollup' });
export type ProjectRollup = z.infer<typeof ProjectRollupSchema>;

export const ProjectTaskRowSchema = z
  .object({
    task_id: z.string(),
    status: TaskStatusSchema.nullable().meta({ description: 'null until the task has told the project' }),
    deadline: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ProjectTaskRow' });
export type ProjectTaskRow = z.infer<typeof ProjectTaskRowSchema>;

export const ProjectViewSchema = ProjectSchema.extend({
  rollup: ProjectRollupSchema,
  tasks: z.array(ProjectTaskRowSchema).meta({ description: 'A page of its tasks, in the order they joined (tasks_offset, tasks_limit)' }),
  next_tasks_offset: z.number().int().nullable().meta({ description: 'Pass as tasks_offset for the next page of tasks; null on the last' }),
}).meta({ id: 'ProjectView' });
export type ProjectView = z.infer<typeof ProjectViewSchema>;

/** One of the tasks a project setup creates: the body of `POST /tasks/process`, without the project. */
export const ProjectSetupTaskSchema = object({
  task_id: TaskIdSchema,
  title: textSchema(Rules.title).meta({ example: 'Draft the sitemap' }),
  description: textSchema(Rules.description).meta({ example: 'List every page the new site keeps' }),
  assignee: AssigneeSchema,
  deadline_seconds: DeadlineSecondsSchema.default(3600),
}).meta({ id: 'ProjectSetupTask' });


/** Body of `POST /projects/process` and the input of `ProjectSetupWorkflow`. */
export const ProjectSetupRequestSchema = object({
  project_id: ProjectIdSchema,
  name: ProjectNameSchema,
  description: ProjectDescriptionSchema.default(null),
  owner: ProjectOwnerSchema.optional(),
  tasks: z
    .array(ProjectSetupTaskSchema, typeError('must be a list of tasks'))
    .max(PROJECT_SETUP_MAX_TASKS, `must hold at most ${PROJECT_SETUP_MAX_TASKS} tasks`)
    .default([])
    .meta({ description: 'The initial tasks, each processed by a child TaskProcessingWorkflow (the texts\' example has 3)' }),
}).meta({ id: 'ProjectSetupRequest' });
export type ProjectSetupRequest = z.infer<typeof ProjectSetupRequestSchema>;

export const ProjectSetupAcceptedSchema = z
  .object({
    workflow_id: z.string().meta({ example: 'project-setup-website-relaunch' }),
    run_id: RunIdSchema,
    project_id: z.string(),
    status: z.literal('started'),
    ui_url: UiUrlSchema,
  })
  .meta({ id: 'ProjectSetupAccepted' });

export const ProjectSetupResultSchema = z
  .object({
    project_id: z.string(),
    status: z.enum(PROCESSING_OUTCOMES),
    message: z.string(),
    tasks: z.array(TaskProcessingResultSchema),
  })
  .meta({ id: 'ProjectSetupResult' });
export type ProjectSetupResult = z.infer<typeof ProjectSetupResultSchema>;

export const ProjectSetupStatusSchema = z
  .object({
    workflow_id: z.string(),
    run_id: RunIdSchema,
    status: z.string().meta({ description: 'Temporal execution status', example: 'COMPLETED' }),
    output: ProjectSetupResultSchema.nullable().meta({ description: 'The result once the setup has completed' }),
    ui_url: UiUrlSchema,
  })
  .meta({ id: 'ProjectSetupStatus' });

/** `PATCH /projects/{project_id}`: the fields to change (conditional on If-Match when given). */
export const UpdateProjectRequestSchema = strictObject({
  name: ProjectNameSchema.optional(),
  description: ProjectDescriptionSchema.optional(),
  owner: ProjectOwnerSchema.optional(),
}).meta({ id: 'UpdateProjectRequest' });

/** `POST /projects/{project_id}/tasks`: existing tasks to add. */
export const AddProjectTasksRequestSchema = object({
  task_ids: z.array(TaskIdSchema, typeError('must be a list of task ids')).min(1, 'must name at least one task').max(100, 'must name at most 100 tasks'),
}).meta({ id: 'AddProjectTasksRequest' });

export const ProjectQuerySchema = z.object({
  tasks_offset: z.coerce.number().int('must be a whole number').min(0, 'must be at least 0').default(0),
  tasks_limit: z.coerce.number().int('must be a whole number').min(0, 'must be at least 0').max(1000, 'must be at most 1000').default(100),
  status: TaskStatusSchema.optional().meta({ description: 'Only tasks with this status in `tasks` (the roll-up counts all)' }),
});

export const ProjectListQuerySchema = z.object(PAGE_QUERY);

export const ProjectListSchema = z
  .object({
    projects: z.array(z.object({ project_id: z.string(), workflow_id: z.string() })),
    next_page_token: z.string().nullable().meta({ description: 'Pass as page_token for the next page; null on the last' }),
  })
  .meta({ id: 'ProjectList' });

// ---------------------------------------------------------------------------------------------
// Chat entity
// ---------------------------------------------------------------------------------------------

export const UserIdSchema = EntityIdSchema.meta({ description: 'User id', example: 'user-alice' });

export const ChatMessageRequestSchema = object({
  content: textSchema(Rules.chatContent).meta({ example: 'What tasks do I have?' }),
}).meta({ id: 'ChatMessageRequest' });
export type ChatMessageRequest = z.infer<typeof ChatMessageRequestSchema>;

export const ChatEntrySchema = z
  .object({
    role: z.enum(['user', 'assistant']),
    content: z.string(),
    timestamp: z.iso.datetime(),
  })
  .meta({ id: 'ChatEntry' });
export type ChatEntry = z.infer<typeof ChatEntrySchema>;

export const ChatHistorySchema = z
  .object({ user_id: z.string(), messages: z.array(ChatEntrySchema) })
  .meta({ id: 'ChatHistory' });

/** The body of `PUT /chat/{user_id}/profile`: what the agent knows of the user (seed 003's memory). */
export const UserProfileInputSchema = strictObject({
  name: textSchema(Rules.profileName).nullable().optional().meta({ example: 'Alice' }),
  email: textSchema(Rules.email)
    .nullable()
    .optional()
    .meta({ description: "How to reach the user. With a token that carries a verified e-mail it must be that one; it grants nothing either way", example: 'alice@example.com' }),
  preferred_style: textSchema(Rules.preferredStyle).nullable().optional().meta({ example: 'brief and formal' }),
  summary: textSchema(Rules.profileSummary).nullable().optional().meta({ example: 'Alice leads the backend team.' }),
}).meta({ id: 'UserProfileInput' });
export type UserProfileInput = z.infer<typeof UserProfileInputSchema>;

export const UserProfileSchema = z
  .object({
    name: z.string().nullable(),
    email: z.string().nullable(),
    preferred_style: z.string().nullable(),
    summary: z.string().nullable(),
  })
  .meta({ id: 'UserProfile' });
export type UserProfile = z.infer<typeof UserProfileSchema>;

/** The profile as the API shows it: whether its e-mail is the one the caller's token vouches for. */
export const UserProfileViewSchema = UserProfileSchema.extend({
  email_verified: z.boolean().meta({
    description: "Whether `email` is the address the caller's token vouches for (its `email` claim). The profile's e-mail grants nothing: whose tasks are the user's comes from the token",
  }),
}).meta({ id: 'UserProfileView' });
export type UserProfileView = z.infer<typeof UserProfileViewSchema>;

/** The body of `POST /chat/{user_id}/approvals/{approval_id}`. */
export const ApprovalDecisionRequestSchema = object({ approved: booleanSchema(Rules.approved) }).meta({ id: 'ApprovalDecision' });
/** `decideApproval`'s argument: the decision and the approval it is for. */
export const ApprovalDecisionInputSchema = object({ approval_id: EntityIdSchema, approved: booleanSchema(Rules.approved) });
export type ApprovalDecisionInput = z.infer<typeof ApprovalDecisionInputSchema>;

/** A change the agent wants to make and waits for the user's approval of. */
export const ApprovalSchema = z
  .object({
    approval_id: z.string().meta({ example: 'ap-3f2c9a1b' }),
    tool: z.string().meta({ example: 'delete_task' }),
    arguments: z.record(z.string(), z.unknown()).meta({ example: { task_id: 'task-001' } }),
    summary: z.string().meta({ description: 'Exactly what would change', example: 'task-001: deleted ("Review PR #42", assigned to alice@example.com)' }),
    expires_at: z.iso.datetime().meta({ description: 'When it is denied if nobody decides' }),
    tool_call_id: z
      .string()
      .optional()
      .meta({ description: "The tool call that waits, as event streams name it (`{turn_id}/{call id}`)", example: 'turn-0d9e…/call_1' }),
  })
  .meta({ id: 'Approval' });
export type Approval = z.infer<typeof ApprovalSchema>;
export const ApprovalListSchema = z.object({ approvals: z.array(ApprovalSchema) }).meta({ id: 'ApprovalList' });

// ---------------------------------------------------------------------------------------------
// Codec endpoint: Temporal's remote codec protocol (payloads as protobuf JSON: bytes in base64)
// ---------------------------------------------------------------------------------------------

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const CodecPayloadListSchema = z.array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })).max(10_000);
export const CodecPayloadsSchema = z.object({ payloads: CodecPayloadListSchema }).meta({ id: 'CodecPayloads' });
export type CodecPayloads = z.infer<typeof CodecPayloadsSchema>;
/**
 * What a codec client sends. Protobuf JSON leaves out empty lists, so the temporal CLI sends `{}` for a call
 * without arguments (a query, a signal, an update): no `payloads` is none.
 */
export const CodecRequestSchema = z.object({ payloads: CodecPayloadListSchema.default([]) }).meta({ id: 'CodecRequest' });

// ---------------------------------------------------------------------------------------------
// Errors: one shape everywhere
// ---------------------------------------------------------------------------------------------

export const FieldErrorSchema = z.object({
  field: z.string().meta({ description: 'Dotted path of the offending field, or "body"', example: 'deadline_seconds' }),
  message: z.string(),
});
export type FieldError = z.infer<typeof FieldErrorSchema>;

export const ErrorResponseSchema = z
  .object({
    detail: z.string().meta({ example: 'Task not found' }),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

/** zod issues -> the field list of an error response (an unknown field is named, as checkInput names it). */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: MESSAGES.unknownField }))
      : [{ field: issue.path.length > 0 ? issue.path.join('.') : 'body', message: issue.message }],
  );
}
