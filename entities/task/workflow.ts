/**
 * TaskEntityWorkflow: the TaskActor on Temporal. One long-lived run per task (`task-entity-{task_id}`)
 * that holds the task's state, applies mutations sent as updates or signals, answers `getTask`, and keeps
 * the deadline as a durable timer that marks the task `overdue`.
 *
 * Handlers are synchronous on purpose: each mutation is validated and applied within one activation, so
 * concurrent callers are serialised by the workflow itself and no mutex is needed (unlike handlers that
 * await activities, as in the safe-message-handlers sample).
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  AssignTaskInputRules,
  CreateTaskInputRules,
  SetDeadlineInputRules,
  UpdateStatusInputRules,
  checkInput,
  describeFieldErrors,
  type InputRules,
} from '../../common/input-rules';
import type { Task } from '../../common/schemas';
import { TaskAssigneeAttribute, TaskIdAttribute, TaskStatusAttribute } from '../../common/search-attributes';
import { EventOutbox } from '../../workflows/outbox';
import { sleepUnless } from '../../workflows/timers';
import { taskDeletedEvent, taskEvents } from './events';
import {
  assignTaskSignal,
  assignTaskUpdate,
  createTaskUpdate,
  deleteTaskUpdate,
  getTaskQuery,
  setDeadlineSignal,
  setDeadlineUpdate,
  unassignTaskSignal,
  unassignTaskUpdate,
  updateStatusSignal,
  updateStatusUpdate,
  type TaskEntityInput,
} from './messages';
import * as rules from './state';

/** How many applied update ids are remembered for de-duplication (carried across continue-as-new). */
const APPLIED_UPDATE_IDS_KEPT = 500;

/** A mutation: parse the raw message input, then apply the task's rules. Throws TaskRuleError when refused. */
type Mutation = (task: Task | null, input: unknown, now: number) => Task;

function parse<T>(inputRules: InputRules<T>, input: unknown): T {
  const result = checkInput(inputRules, input);
  if (!result.success) throw new rules.TaskRuleError(`Invalid input: ${describeFieldErrors(result.errors)}`);
  return result.data;
}

function existing(task: Task | null, taskId: string): Task {
  if (task === null) throw new rules.TaskRuleError(`Task ${taskId} does not exist`, 'TaskNotFound');
  return task;
}

function mutations(taskId: string): Record<string, Mutation> {
  return {
    createTask: (task, input, now) => rules.createTask(taskId, task, parse(CreateTaskInputRules, input), now),
    assignTask: (task, input, now) =>
      rules.assignTask(existing(task, taskId), parse(AssignTaskInputRules, input).assignee, now),
    unassignTask: (task, _input, now) => rules.unassignTask(existing(task, taskId), now),
    updateStatus: (task, input, now) => {
      const { status, expected_version } = parse(UpdateStatusInputRules, input);
      return rules.updateStatus(existing(task, taskId), status, now, expected_version);
    },
    setDeadline: (task, input, now) =>
      rules.setDeadline(existing(task, taskId), parse(SetDeadlineInputRules, input).deadline_seconds, now),
  };
}

/**
 * A refused mutation becomes a non-retryable ApplicationFailure: the caller sees why, and the entity runs on
 * (any other error thrown from an update handler would fail the workflow task and retry it forever).
 */
function asRefusal<T>(mutate: () => T): T {
  try {
    return mutate();
  } catch (err) {
    if (err instanceof rules.TaskRuleError) throw ApplicationFailure.nonRetryable(err.message, err.type);
    throw err;
  }
}

class TaskEntity {
  task: Task | null;
  deleted = false;
  private readonly appliedUpdateIds: string[];
  private readonly mutations: Record<string, Mutation>;
  readonly outbox: EventOutbox;

  constructor(private readonly input: TaskEntityInput) {
    this.task = input.task ?? null;
    this.outbox = new EventOutbox(input.outbox);
    this.appliedUpdateIds = [...(input.applied_update_ids ?? [])];
    this.mutations = mutations(input.task_id);
  }

  /** Update validator: refuses without writing anything to history. */
  validate(name: string, input: unknown): void {
    if (this.isDuplicateUpdate()) return;
    asRefusal(() => this.mutations[name]!(this.task, input, Date.now()));
  }

  /** Update handler: returns the new state. */
  applyUpdate(name: string, input: unknown): Task {
    const updateId = currentUpdateInfo()?.id;
    if (this.isDuplicateUpdate()) return this.task!;
    this.commit(asRefusal(() => this.mutations[name]!(this.task, input, Date.now())));
    if (updateId !== undefined) this.rememberUpdate(updateId);
    return this.task!;
  }

  /** Signal handler: nobody waits for an answer, so a refusal is logged. */
  applySignal(name: string, input: unknown): void {
    try {
      this.commit(this.mutations[name]!(this.task, input, Date.now()));
    } catch (err) {
      if (!(err instanceof rules.TaskRuleError)) throw err;
      log.warn(`Signal ${name} refused: ${err.message}`, { task_id: this.input.task_id });
    }
  }

  /** Validator and handler of deleteTask: the task goes, its events are published, the run then completes. */
  validateDelete(): void {
    asRefusal(() => existing(this.task, this.input.task_id));
  }

  delete(): void {
    const task = asRefusal(() => existing(this.task, this.input.task_id));
    if (patched('task-events')) this.outbox.add(taskDeletedEvent(task, new Date().toISOString(), uuid4));
    this.task = null;
    this.deleted = true;
    log.info(`Task ${task.task_id}: deleted`, { task_id: task.task_id });
    setCurrentDetails(`${task.title}: deleted`);
  }

  fireDeadline(): void {
    log.info('Deadline reached', { task_id: this.input.task_id });
    this.commit(rules.markOverdue(this.task!, Date.now()));
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    if (info.continueAsNewSuggested) return true;
    return this.input.history_limit !== undefined && info.historyLength >= this.input.history_limit;
  }

  snapshot(): TaskEntityInput {
    return {
      task_id: this.input.task_id,
      task: this.task,
      applied_update_ids: this.appliedUpdateIds,
      outbox: this.outbox.snapshot(),
      history_limit: this.input.history_limit,
    };
  }

  private isDuplicateUpdate(): boolean {
    const updateId = currentUpdateInfo()?.id;
    return updateId !== undefined && this.appliedUpdateIds.includes(updateId) && this.task !== null;
  }

  private rememberUpdate(updateId: string): void {
    this.appliedUpdateIds.push(updateId);
    if (this.appliedUpdateIds.length > APPLIED_UPDATE_IDS_KEPT) this.appliedUpdateIds.shift();
  }

  private commit(next: Task): void {
    if (next === this.task) return;
    // Entities that started before task events existed replay without them.
    if (patched('task-events')) for (const event of taskEvents(this.task, next, uuid4)) this.outbox.add(event);
    this.task = next;
    log.info(`Task ${next.task_id}: ${next.status}`, { task_id: next.task_id, status: next.status, version: next.version });
    publishState(next);
  }
}

/** What the Web UI shows: searchable attributes and a one-line "where it stands". */
function publishState(task: Task): void {
  upsertSearchAttributes([
    { key: TaskIdAttribute, value: task.task_id },
    { key: TaskStatusAttribute, value: task.status },
    { key: TaskAssigneeAttribute, value: task.assignee },
  ]);
  const parts = [`${task.title}: ${task.status}`];
  if (task.assignee !== null) parts.push(`assigned to ${task.assignee}`);
  if (task.deadline !== null) parts.push(`due ${task.deadline}`);
  setCurrentDetails(parts.join(', '));
}

export async function TaskEntityWorkflow(input: TaskEntityInput): Promise<void> {
  const entity = new TaskEntity(input);

  const register = (name: string) => ({
    validator: (arg?: unknown) => entity.validate(name, arg),
  });
  setHandler(createTaskUpdate, (arg) => entity.applyUpdate('createTask', arg), register('createTask'));
  setHandler(assignTaskUpdate, (arg) => entity.applyUpdate('assignTask', arg), register('assignTask'));
  setHandler(unassignTaskUpdate, () => entity.applyUpdate('unassignTask', undefined), register('unassignTask'));
  setHandler(updateStatusUpdate, (arg) => entity.applyUpdate('updateStatus', arg), register('updateStatus'));
  setHandler(setDeadlineUpdate, (arg) => entity.applyUpdate('setDeadline', arg), register('setDeadline'));
  setHandler(assignTaskSignal, (arg) => entity.applySignal('assignTask', arg));
  setHandler(unassignTaskSignal, () => entity.applySignal('unassignTask', undefined));
  setHandler(updateStatusSignal, (arg) => entity.applySignal('updateStatus', arg));
  setHandler(setDeadlineSignal, (arg) => entity.applySignal('setDeadline', arg));
  setHandler(deleteTaskUpdate, () => entity.delete(), { validator: () => entity.validateDelete() });
  setHandler(getTaskQuery, () => entity.task);

  if (entity.task !== null) publishState(entity.task);

  // The deadline timer: a durable timer, replaced whenever the deadline changes (the updatable-timer
  // pattern); it survives worker and server restarts.
  const finished = () => entity.deleted || entity.shouldContinueAsNew();
  const deadlineLoop = async () => {
    while (!finished()) {
      const due = rules.pendingDeadline(entity.task);
      const changed = () => rules.pendingDeadline(entity.task) !== due || finished();
      if (due === null) {
        await condition(changed);
        continue;
      }
      const remaining = due - Date.now();
      if (remaining > 0 && !(await sleepUnless(remaining, changed, `Deadline ${entity.task!.deadline}`))) continue;
      entity.fireDeadline();
    }
  };
  await Promise.all([deadlineLoop(), entity.outbox.run(finished)]);

  if (entity.deleted) {
    // A deleted task's last events still go out before the run completes.
    await entity.outbox.flush();
    await condition(allHandlersFinished);
    return;
  }
  // Let in-flight handlers finish so no update is lost, then carry the state (and so the deadline) over.
  await condition(allHandlersFinished);
  await continueAsNew<typeof TaskEntityWorkflow>(entity.snapshot());
}
