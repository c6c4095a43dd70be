/**
 * One zod schema per shape. The API validates requests with these, the OpenAPI document is generated
 * from them, and the workflows parse their inputs with them (so `temporal workflow start` input gets the
 * same checks as `POST /tasks/process`). This module is imported by workflow code: keep it pure.
 */
import { z } from 'zod';

/**
 * Ids become parts of Temporal workflow ids (`task-entity-{task_id}`), so they are restricted to a small,
 * documented alphabet: letters, digits, `.`, `_`, `-`, starting with a letter or digit. No `/`, spaces,
 * control characters or unicode, so no id can spell another entity's or another type's workflow id.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const ID_MAX_LENGTH = 64;

export const EntityIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(ID_MAX_LENGTH, `must be at most ${ID_MAX_LENGTH} characters`)
  .regex(ID_PATTERN, 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit');

export const TaskIdSchema = EntityIdSchema.meta({ description: 'Task id', example: 'task-001' });

/** Printable text: no control characters other than newline and tab. */
const text = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u0008\u000B-\u001F\u007F]*$/, 'must not contain control characters');

export const AssigneeSchema = text(254)
  .trim()
  .min(1, 'must not be empty')
  .meta({ description: 'Who the task is assigned to, usually an e-mail address', example: 'alice@example.com' });

export const DEADLINE_SECONDS_MAX = 366 * 24 * 3600;
export const DeadlineSecondsSchema = z
  .number({ error: 'must be a number' })
  .int('must be a whole number of seconds')
  .min(1, 'must be at least 1')
  .max(DEADLINE_SECONDS_MAX, `must be at most ${DEADLINE_SECONDS_MAX} (366 days)`)
  .meta({ description: 'Seconds from now until the task is due', example: 3600 });

export const TASK_STATUSES = ['pending', 'assigned', 'in_progress', 'completed', 'overdue'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES).meta({ description: 'Task status', example: 'assigned' });
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

/** Statuses a caller may set; `overdue` is only ever set by the deadline timer. */
export const SettableTaskStatusSchema = z.enum(['pending', 'assigned', 'in_progress', 'completed']);
export type SettableTaskStatus = z.infer<typeof SettableTaskStatusSchema>;

// ---------------------------------------------------------------------------------------------
// TaskProcessingWorkflow
// ---------------------------------------------------------------------------------------------

/** Body of `POST /tasks/process` and the input of `TaskProcessingWorkflow`: the seed's JSON, exactly. */
export const ProcessTaskRequestSchema = z
  .object({
    task_id: TaskIdSchema,
    // Lengths below 5 / 10 characters are not rejected here: the workflow's validate step answers them
    // with status "rejected", as in the seed. Only shapes and hard limits are checked at the edge.
    title: text(200).meta({ example: 'Review PR #42' }),
    description: text(5000).meta({ example: 'Review the authentication refactoring pull request' }),
    assignee: AssigneeSchema,
    deadline_seconds: DeadlineSecondsSchema.default(3600),
  })
  .meta({ id: 'ProcessTaskRequest' });
export type ProcessTaskRequest = z.infer<typeof ProcessTaskRequestSchema>;

export const ProcessTaskAcceptedSchema = z
  .object({
    workflow_id: z.string().meta({ example: 'task-workflow-task-001' }),
    status: z.literal('started'),
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
    status: z.string().meta({ description: 'Temporal execution status', example: 'COMPLETED' }),
    output: TaskProcessingResultSchema.nullable().meta({ description: 'The result once the run has completed' }),
  })
  .meta({ id: 'WorkflowStatus' });

// ---------------------------------------------------------------------------------------------
// Task entity
// ---------------------------------------------------------------------------------------------

export const PrioritySchema = z
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(5, 'must be at most 5')
  .meta({ description: '1 (lowest) to 5 (highest)', example: 2 });

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
  })
  .meta({ id: 'Task' });
export type Task = z.infer<typeof TaskSchema>;

export const CreateTaskInputSchema = z.object({
  title: text(200),
  description: text(5000).nullable(),
  priority: PrioritySchema.optional(),
});
export type CreateTaskInput = z.infer<typeof CreateTaskInputSchema>;

export const AssignTaskInputSchema = z.object({ assignee: AssigneeSchema });
export type AssignTaskInput = z.infer<typeof AssignTaskInputSchema>;

export const UpdateStatusInputSchema = z.object({
  status: SettableTaskStatusSchema,
  /** Apply only if the task is still at this version (the API's If-Match). */
  expected_version: z.number().int().min(1).optional(),
});
export type UpdateStatusInput = z.infer<typeof UpdateStatusInputSchema>;

export const SetDeadlineInputSchema = z.object({ deadline_seconds: DeadlineSecondsSchema });
export type SetDeadlineInput = z.infer<typeof SetDeadlineInputSchema>;

// ---------------------------------------------------------------------------------------------
// Task CRUD and listing (the seed's task API)
// ---------------------------------------------------------------------------------------------

/** Body of `POST /tasks`: the service picks the id. */
export const CreateTaskRequestSchema = z
  .object({
    title: text(200).trim().min(1, 'must not be empty').meta({ example: 'Learn Dapr building blocks' }),
    description: text(5000).nullable().default(null),
    priority: PrioritySchema.default(1),
  })
  .meta({ id: 'CreateTaskRequest' });

/** `PUT /tasks/{task_id}/status`: the status in the JSON body, or in `?status=` as the seed sent it. */
export const UpdateStatusRequestSchema = z.object({ status: SettableTaskStatusSchema }).meta({ id: 'UpdateStatusRequest' });

export const TaskListQuerySchema = z.object({
  status: TaskStatusSchema.optional(),
  // Quotes and backslashes are refused: the value goes into a visibility query.
  assignee: text(254)
    .min(1, 'must not be empty')
    .regex(/^[^"'\\]*$/, 'must not contain quotes or backslashes')
    .optional(),
  page_size: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  page_token: z
    .string()
    .max(4096, 'is too long')
    .regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be a token from next_page_token')
    .optional(),
});

export const TaskSummarySchema = z
  .object({
    task_id: z.string(),
    status: TaskStatusSchema.nullable(),
    assignee: z.string().nullable(),
    workflow_id: z.string(),
  })
  .meta({ id: 'TaskSummary' });

export const TaskListSchema = z
  .object({
    tasks: z.array(TaskSummarySchema),
    next_page_token: z.string().nullable().meta({ description: 'Pass as page_token for the next page; null on the last' }),
  })
  .meta({ id: 'TaskList' });

// ---------------------------------------------------------------------------------------------
// Chat entity
// ---------------------------------------------------------------------------------------------

export const UserIdSchema = EntityIdSchema.meta({ description: 'User id', example: 'user-alice' });

export const CHAT_CONTENT_MAX_LENGTH = 4000;
export const ChatMessageRequestSchema = z
  .object({
    content: text(CHAT_CONTENT_MAX_LENGTH)
      .refine((v) => v.trim().length > 0, 'must not be empty')
      .meta({ example: 'What tasks do I have?' }),
  })
  .meta({ id: 'ChatMessageRequest' });
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

/** zod issues -> the field list of an error response. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : 'body',
    message: issue.message,
  }));
}

/** One line naming every bad field, for workflow failures and logs. */
export function describeFieldErrors(error: z.ZodError): string {
  return fieldErrors(error)
    .map((e) => `${e.field}: ${e.message}`)
    .join('; ');
}
