/**
 * TaskEntityWorkflow: the TaskActor on Temporal. One long-lived run per task (`task-entity-{task_id}`)
 * that holds the task's state, applies mutations sent as updates or signals, answers `getTask`, and keeps
 * the deadline as a durable timer that marks the task `overdue`.
 *
 * Handlers are synchronous on purpose: each mutation is validated and applied within one activation, so
 * concurrent callers are serialised by the workflow itself and no mutex is needed (unlike handlers that
 * await activities, as in the safe-message-handlers sample).
 *
 * Lifecycle: a run holds a task, or events still to publish, or it ends. Deleting the task ends the run
 * at once by continuing as new into an empty run that publishes what is left (`task.deleted`) and then
 * completes, unless the task is created again there first. So a deleted task can always be created again,
 * even while Redis is away, and nothing is lost when it is.
 */
import { UNATTRIBUTED } from '../../workflows/shared/access-policy';
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import {
  AssignTaskInputRules,
  CreateTaskInputRules,
  DeleteTaskInputRules,
  HandOverTaskInputRules,
  RevertChangesInputRules,
  SetDeadlineInputRules,
  SetProjectInputRules,
  UpdateStatusInputRules,
} from '../../workflows/shared/workflow-inputs';
import { checkInput, describeFieldErrors, type InputRules } from '../../workflows/shared/input-rules';
import type { Task } from '../../common/schemas';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { ProjectIdAttribute, TaskAssigneeAttribute, TaskIdAttribute, TaskStatusAttribute } from '../../workflows/shared/search-attributes';
import { IdempotencyStore, KEY_REUSED, keyedRequestOf } from '../idempotency';
import { EventOutbox } from '../outbox';
import { SDK_CONDITION_TIMER_PATCH, sleepUnlessForThisRun } from '../timers';
import { patchesSince, type Patches } from '../../workflows/shared/patches';
import { startCallerTraceContext, type TraceCarrier } from '../../workflows/tracing-interceptors';
import { taskDeletedEvent, taskEvents, taskUpdatedEvent } from './events';
import { ProjectLane, noticeOf } from './project-lane';
import {
  assignTaskSignal,
  assignTaskUpdate,
  createTaskUpdate,
  deleteTaskUpdate,
  getTaskQuery,
  getTaskHistoryQuery,
  handOverTaskUpdate,
  revertChangesUpdate,
  setDeadlineSignal,
  setDeadlineUpdate,
  setProjectUpdate,
  unassignTaskSignal,
  unassignTaskUpdate,
  updateStatusSignal,
  updateStatusUpdate,
  type HandOverResult,
  type HandOverStep,
  type StartingUpdate,
  type TaskEntityInput,
} from './messages';
import * as rules from './state';
import { type TaskChange, UpdateLog, planRevert } from './update-log';

/**
 * Runs started before this patch completed a deleted entity after publishing its last events, stayed
 * open when they held no task, waited for a publish in flight before continuing as new, and marked a task
 * overdue whenever its timer fired. Their histories replay with that behaviour.
 */
export const TASK_ENTITY_V2_PATCH = 'task-entity-v2';
/**
 * Runs recorded before this patch did not log the deadline timer's change, so a caller's revert after the
 * deadline it set had fired was refused as if someone else had changed the task.
 */
export const OVERDUE_LOGGED_PATCH = 'overdue-belongs-to-its-deadline';
/**
 * Runs since this patch publish `task.overdue` as a local activity within the workflow task that marked the
 * task overdue (entities/outbox.ts says why); before it, as every other event, through a regular activity.
 */
export const OVERDUE_AT_ONCE_PATCH = 'overdue-published-at-once';
/**
 * Runs recorded before this patch published no event for a change that none of the seed's event types names
 * (`in_progress`, a new deadline): since, such a change publishes `task.updated`.
 */
export const UPDATED_EVENT_PATCH = 'task-updated-event';
/** Entities that started before task events existed replay without them (asked at each change). */
export const TASK_EVENTS_PATCH = 'task-events';
/**
 * Runs since this patch take the path of every patch listed below without asking them (workflows/shared/patches.ts:
 * each asked costs a marker, an upsert and a visibility write, in every run of every task), and write only the
 * search attributes a change moves (publishState).
 */
export const TASK_ENTITY_V3_PATCH = 'task-entity-v3';
const PATCHES_BEFORE_V3 = [
  TASK_ENTITY_V2_PATCH,
  SDK_CONDITION_TIMER_PATCH,
  TASK_EVENTS_PATCH,
  OVERDUE_LOGGED_PATCH,
  OVERDUE_AT_ONCE_PATCH,
  UPDATED_EVENT_PATCH,
];
/**
 * Runs since this patch, started by a creating update-with-start (`starting_update` in their input), create the
 * task from that input as the run starts and publish its events at once (applyStartingUpdate says why that is
 * safe); the update itself then finds its change applied. Stands for task-entity-v3 and what that stood for, so a
 * new run still asks one patch. A run without it (a replica with the code before took its first workflow task)
 * ignores the field and applies the update when it comes, as before.
 */
export const TASK_ENTITY_V4_PATCH = 'task-entity-v4';
const askPatches = () =>
  patchesSince(TASK_ENTITY_V4_PATCH, [TASK_ENTITY_V3_PATCH, ...PATCHES_BEFORE_V3], () => patchesSince(TASK_ENTITY_V3_PATCH, PATCHES_BEFORE_V3));
/*
 * Projects came without a patch: a task joins one only by input that runs recorded before did not take
 * (`project_id`, `setProject`), and without a project the entity issues the same commands as before (the
 * project lane stays empty, no ProjectId attribute is written).
 */

const MUTATION_UPDATES = [createTaskUpdate, assignTaskUpdate, unassignTaskUpdate, updateStatusUpdate, setDeadlineUpdate, revertChangesUpdate, setProjectUpdate] as const;
const MUTATION_SIGNALS = [assignTaskSignal, unassignTaskSignal, updateStatusSignal, setDeadlineSignal] as const;
type MutationName = (typeof MUTATION_UPDATES)[number]['name'];
// Every signal is one of the mutations (a misspelt or unhandled name does not compile).
type SignalName = (typeof MUTATION_SIGNALS)[number]['name'] & MutationName;

function parse<T>(inputRules: InputRules<T>, input: unknown): T {
  const result = checkInput(inputRules, input);
  if (!result.success) throw new rules.TaskRuleError(`Invalid input: ${describeFieldErrors(result.errors)}`);
  return result.data;
}

function existing(task: Task | null, taskId: string): Task {
  if (task === null) throw new rules.TaskRuleError(`Task ${taskId} does not exist`, 'TaskNotFound');
  return task;
}

/**
 * A refused mutation becomes a non-retryable ApplicationFailure: the caller sees why, and the entity runs on
 * (any other error thrown from an update handler would fail the workflow task and retry it forever).
 */
/**
 * A change records who made it (`updated_by` in the input, see Attributed), `cli` when it names nobody; the
 * change that creates the task records its author too (`created_by`: who wrote its title and description).
 */
function attributed(before: Task | null, next: Task, input: unknown): Task {
  if (next === before) return next;
  const by = (input as { updated_by?: unknown } | undefined)?.updated_by;
  const who = typeof by === 'string' && by.trim() !== '' && by.length <= 256 ? by : UNATTRIBUTED;
  return before === null ? { ...next, created_by: who, updated_by: who } : { ...next, updated_by: who };
}

function asRefusal<T>(mutate: () => T): T {
  try {
    return mutate();
  } catch (err) {
    if (err instanceof rules.TaskRuleError) throw ApplicationFailure.nonRetryable(err.message, err.type);
    throw err;
  }
}

interface ApplyOptions {
  publish?: boolean;
  /** The time of the change (default: the workflow task's). */
  now?: number;
  /** Its events are published within this workflow task (entities/outbox.ts). */
  atOnce?: boolean;
  /** The trace its events join (default: the current one, the update's or the run's). */
  traceContext?: TraceCarrier;
}

class TaskEntity {
  task: Task | null;
  /** False while replaying a run recorded before TASK_ENTITY_V2_PATCH. */
  readonly current: boolean;
  /** Set by deleteTask: this run takes nothing more and ends. */
  deleted = false;
  readonly outbox: EventOutbox;
  /** What the task's project has still to hear. */
  readonly projectLane: ProjectLane;
  private readonly log: UpdateLog;
  private readonly taskId: string;
  /** The update that set the current deadline, if an update did (see fireDeadline). */
  private deadlineSetBy: string | undefined;
  /** Keyed creations (POST /tasks with an Idempotency-Key): a resend gets the first answer. */
  private readonly keys: IdempotencyStore<Task>;
  /** Write only the search attributes a change moves (runs since TASK_ENTITY_V3_PATCH; see publishState). */
  readonly writesOnlyChanges: boolean;

  constructor(
    private readonly input: TaskEntityInput,
    private readonly patches: Patches,
  ) {
    this.current = patches.has(TASK_ENTITY_V2_PATCH);
    this.taskId = input.task_id;
    this.task = input.task ?? null;
    this.outbox = new EventOutbox(input.outbox, { stopMidPublish: this.current });
    this.projectLane = new ProjectLane(input.project_lane);
    this.log = new UpdateLog(input.applied_updates, input.applied_update_ids, input.reverted_prefixes);
    this.deadlineSetBy = input.deadline_set_by;
    this.keys = new IdempotencyStore(input.idempotency_keys);
    this.writesOnlyChanges = patches.has(TASK_ENTITY_V3_PATCH);
  }

  /**
   * The creating update this run was started with, applied as the run starts from the start's input (runs since
   * TASK_ENTITY_V4_PATCH), with its events published at once, within this first workflow task, instead of by an
   * activity and the second workflow task that takes its result.
   *
   * Publishing before the workflow task is recorded is safe here because the change does not depend on the task:
   * the server recorded the input with the start, so every attempt of this workflow task (the first one's worker
   * may die after the publish) makes the same change with the same event ids (the run's random stream, seeded
   * by the run) and the same times (the run's start), and the publish script drops the repeat. Applied from an
   * update instead, a worker dying there, with the update's caller, left a run without a task that ended, and
   * the caller's retry made the task again in a new run under new event ids (entities/outbox.ts).
   *
   * The update, delivered in the same workflow task, then finds its change applied and answers with the task, as
   * a retried update does. A start the rules refuse changes nothing here: the update's validator refuses it the
   * same way.
   */
  applyStartingUpdate({ name, update_id, input }: StartingUpdate): void {
    // The start's recorded time (`runStartTime` is the time of the workflow task, which a retry moves): a run
    // started with its creating update is the first of its chain, so this is when the server took the request.
    // Its events join the trace of the start's caller, as an update's join the update's (the run's own span,
    // current here, ends only with the run).
    const at = { now: workflowInfo().startTime.getTime(), atOnce: true, traceContext: startCallerTraceContext() };
    try {
      if (name === 'handOverTask') this.handOver(input, at);
      else this.apply('createTask', input, update_id, at);
    } catch (err) {
      if (!(err instanceof rules.TaskRuleError) && !(err instanceof ApplicationFailure)) throw err;
    }
  }

  /** A keyed creation seen before: its first answer; another request under its key is refused. */
  private resent(name: MutationName, input: unknown): Task | undefined {
    const request = name === 'createTask' ? keyedRequestOf(input) : undefined;
    if (request === undefined) return undefined;
    const check = this.keys.check(request, Date.now());
    if (check.kind === 'reused') throw new rules.TaskRuleError(check.message, KEY_REUSED);
    return check.kind === 'replay' ? check.record.answer : undefined;
  }

  /** The mutations by update name: parse the input, apply the task's rules. Throws TaskRuleError when refused. */
  private mutate(name: MutationName, input: unknown, now: number): Task {
    const task = this.task;
    switch (name) {
      case 'createTask':
        return rules.createTask(this.taskId, task, parse(CreateTaskInputRules, input), now);
      case 'assignTask': {
        const { assignee, expected_version } = parse(AssignTaskInputRules, input);
        return rules.assignTask(existing(task, this.taskId), assignee, now, expected_version);
      }
      case 'unassignTask':
        return rules.unassignTask(existing(task, this.taskId), now);
      case 'updateStatus': {
        const { status, expected_version, expected_created_at } = parse(UpdateStatusInputRules, input);
        return rules.updateStatus(existing(task, this.taskId), status, now, expected_version, expected_created_at);
      }
      case 'setDeadline': {
        const { deadline_seconds, expected_version } = parse(SetDeadlineInputRules, input);
        return rules.setDeadline(existing(task, this.taskId), deadline_seconds, now, expected_version);
      }
      case 'setProject': {
        const { project_id, expected_project_id } = parse(SetProjectInputRules, input);
        return rules.setProject(existing(task, this.taskId), project_id, now, expected_project_id);
      }
      case 'revertChanges': {
        const current = existing(task, this.taskId);
        const plan = planRevert(current, this.log.changesBy(parse(RevertChangesInputRules, input).changes_by));
        if (plan.kind === 'refused') throw new rules.TaskRuleError(plan.reason, 'VersionConflict');
        return plan.kind === 'revert' ? rules.revert(current, plan.to, now) : current;
      }
    }
  }

  /**
   * Why this run takes no update at all now, if it does not. Once it should continue as new it takes none
   * (so under constant traffic its history stays bounded): they are refused as EntityClosing, which the
   * entity's client sends again, and they land in the next run.
   */
  private refuseWhenClosed(name: MutationName, updateId: string | undefined): void {
    if (this.deleted) {
      if (name === 'createTask') {
        throw new rules.TaskRuleError(`Task ${this.taskId} was just deleted; its entity is starting afresh: send again`, 'EntityClosing');
      }
      throw new rules.TaskRuleError(`Task ${this.taskId} does not exist`, 'TaskNotFound');
    }
    if (this.shouldContinueAsNew()) {
      throw new rules.TaskRuleError(`Task entity ${this.taskId} is continuing as new: send again`, 'EntityClosing');
    }
    if (updateId !== undefined) this.refuseReverted(name, updateId);
  }

  /** A change whose caller's changes were reverted meanwhile (a late call of a compensated run) is refused. */
  private refuseReverted(name: MutationName, updateId: string): void {
    if (name !== 'revertChanges' && this.log.isReverted(updateId)) {
      throw new rules.TaskRuleError(`Update ${updateId} belongs to changes that were reverted`);
    }
  }

  /** Update validator: refuses without writing anything to history. */
  validate(name: MutationName, input: unknown): void {
    const updateId = currentUpdateInfo()?.id;
    // A keyed resend first: after continue-as-new its update id is still in the log, but its answer is the first one.
    if (asRefusal(() => this.resent(name, input))) return;
    if (this.isDuplicate(updateId)) return;
    asRefusal(() => {
      this.refuseWhenClosed(name, updateId);
      this.mutate(name, input, Date.now());
    });
  }

  /** Update handler: returns the new state. A repeated update id returns the state without applying again. */
  update(name: MutationName, input: unknown): Task {
    const first = asRefusal(() => this.resent(name, input));
    if (first) return first;
    return asRefusal(() => this.apply(name, input, currentUpdateInfo()?.id));
  }

  /** One change under its update id (applied once per id); throws TaskRuleError when the rules refuse it. */
  private apply(name: MutationName, input: unknown, updateId: string | undefined, { publish = true, now = Date.now(), ...events }: ApplyOptions = {}): Task {
    if (this.isDuplicate(updateId)) return this.task!;
    const before = this.task;
    const next = attributed(before, this.mutate(name, input, now), input);
    // Joining the project it is in already: tell it again (the project may have taken it back after removing it).
    if (name === 'setProject' && next === before && next.project_id !== undefined) this.projectLane.tell(noticeOf(next, next.project_id, false, now));
    const keyed = name === 'createTask' ? keyedRequestOf(input) : undefined;
    if (keyed) this.keys.finish(this.keys.begin(keyed, now), next, now);
    this.commit(next, { publish, ...events });
    if (updateId !== undefined) this.log.record(updateId, before, next);
    if (name === 'revertChanges') this.log.markReverted(parse(RevertChangesInputRules, input).changes_by);
    if (before?.deadline !== next.deadline) this.deadlineSetBy = name === 'setDeadline' ? updateId : undefined;
    return next;
  }

  validateHandOver(input: unknown): void {
    asRefusal(() => {
      const { create_update_id } = parse(HandOverTaskInputRules, input);
      if (this.isDuplicate(create_update_id)) return;
      this.refuseWhenClosed('createTask', undefined);
    });
  }

  /**
   * `handOverTask`: create, assign and set the deadline, each under its own update id, in one activation (one
   * workflow task, one batch of events, the search attributes written once). Stops at a step the rules refuse.
   */
  handOver(input: unknown, at: Omit<ApplyOptions, 'publish'> = {}): HandOverResult {
    const { title, description, assignee, deadline_seconds, create_update_id, assign_update_id, deadline_update_id, project_id } = asRefusal(() =>
      parse(HandOverTaskInputRules, input),
    );
    const by = (input as { updated_by?: unknown }).updated_by;
    const attribution = typeof by === 'string' ? { updated_by: by } : {};
    const steps: [HandOverStep, unknown, string][] = [
      ['createTask', { title, description, ...(project_id !== undefined ? { project_id } : {}), ...attribution }, create_update_id],
      ['assignTask', { assignee, ...attribution }, assign_update_id],
      ['setDeadline', { deadline_seconds, ...attribution }, deadline_update_id],
    ];
    try {
      for (const [name, stepInput, updateId] of steps) {
        try {
          if (name !== 'createTask') this.refuseReverted(name, updateId);
          this.apply(name, stepInput, updateId, { ...at, publish: false });
        } catch (err) {
          if (!(err instanceof rules.TaskRuleError)) throw err;
          // Refused before there was a task: the update fails, as createTask would.
          if (this.task === null) throw ApplicationFailure.nonRetryable(err.message, err.type);
          return { task: this.task, refused: { step: name, message: err.message, type: err.type } };
        }
      }
    } finally {
      if (this.task !== null) publishState(this.task, { onlyChanges: this.writesOnlyChanges });
    }
    return { task: this.task! };
  }

  /** Signal handler: nobody waits for an answer, so a refusal is logged. */
  signal(name: SignalName, input: unknown): void {
    try {
      if (this.deleted) throw new rules.TaskRuleError(`Task ${this.taskId} does not exist`, 'TaskNotFound');
      const before = this.task;
      this.commit(attributed(before, this.mutate(name, input, Date.now()), input));
      if (before?.deadline !== this.task?.deadline) this.deadlineSetBy = undefined;
    } catch (err) {
      if (!(err instanceof rules.TaskRuleError)) throw err;
      log.warn(`Signal ${name} refused: ${err.message}`, { task_id: this.taskId });
    }
  }

  validateDelete(input: unknown): void {
    asRefusal(() => {
      const task = existing(this.deleted ? null : this.task, this.taskId);
      const { expected_version, expected_created_at } = parse(DeleteTaskInputRules, input ?? {});
      rules.requireVersion(task, expected_version, expected_created_at);
      if (this.shouldContinueAsNew()) throw new rules.TaskRuleError(`Task entity ${this.taskId} is continuing as new: send again`, 'EntityClosing');
    });
  }

  /** The task goes: its `task.deleted` event is queued and the run ends (see the lifecycle above). */
  delete(input: unknown): void {
    const task = asRefusal(() => {
      const current = existing(this.task, this.taskId);
      const { expected_version, expected_created_at } = parse(DeleteTaskInputRules, input ?? {});
      rules.requireVersion(current, expected_version, expected_created_at);
      return current;
    });
    if (this.patches.has(TASK_EVENTS_PATCH)) this.outbox.add(taskDeletedEvent(task, new Date().toISOString(), uuid4));
    if (task.project_id !== undefined) this.projectLane.tell(noticeOf(task, task.project_id, true, Date.now()));
    this.task = null;
    this.deleted = true;
    if (this.current) {
      // The empty run that follows is not a task: out of listings, and no revert may reach a new task
      // created there through the versions of this one.
      upsertSearchAttributes([
        { key: TaskStatusAttribute, value: null },
        { key: TaskAssigneeAttribute, value: null },
        ...(task.project_id !== undefined ? [{ key: ProjectIdAttribute, value: null }] : []),
      ]);
      this.log.forgetChanges();
    }
    log.info(`Task ${task.task_id}: deleted`, { task_id: task.task_id });
    setCurrentDetails(`${task.title}: deleted`);
  }

  /**
   * The deadline timer fired. Going overdue is the doing of the update that set the deadline: it is logged
   * under that update's id (with a suffix), so a revert of that caller's changes (a processing run's
   * compensation, a turn's undo) puts it back too, instead of being refused as someone else's change.
   */
  fireDeadline(): void {
    const task = this.task!;
    const next = this.current ? rules.markOverdue(task, Date.now()) : rules.markOverdueUnchecked(task, Date.now());
    if (next === task) return;
    log.info('Deadline reached', { task_id: this.taskId });
    this.commit(next, { atOnce: this.current && this.patches.has(OVERDUE_AT_ONCE_PATCH) });
    if (this.deadlineSetBy !== undefined && this.patches.has(OVERDUE_LOGGED_PATCH)) this.log.record(`${this.deadlineSetBy}/deadline-reached`, task, next);
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    if (info.continueAsNewSuggested) return true;
    return this.input.history_limit !== undefined && info.historyLength >= this.input.history_limit;
  }

  /** Holds no task and has nothing left to publish: the run has no reason to go on. */
  isVacant(): boolean {
    return this.current && !this.deleted && this.task === null && this.outbox.isEmpty && this.projectLane.isEmpty;
  }

  /** The task's changes, newest first; null when there is no task. */
  history(): TaskChange[] | null {
    return this.task === null || this.deleted ? null : this.log.history(this.task);
  }

  snapshot(): TaskEntityInput {
    return {
      task_id: this.taskId,
      task: this.task,
      ...this.log.snapshot(),
      outbox: this.outbox.snapshot(),
      ...(this.projectLane.isEmpty ? {} : { project_lane: this.projectLane.snapshot() }),
      history_limit: this.input.history_limit,
      ...(this.deadlineSetBy !== undefined ? { deadline_set_by: this.deadlineSetBy } : {}),
      ...this.keySnapshot(),
    };
  }

  private keySnapshot(): Pick<TaskEntityInput, 'idempotency_keys'> {
    const keys = this.keys.snapshot(Date.now());
    return keys.length > 0 ? { idempotency_keys: keys } : {};
  }

  private isDuplicate(updateId: string | undefined): boolean {
    return updateId !== undefined && this.task !== null && !this.deleted && this.log.has(updateId);
  }

  private commit(next: Task, { publish = true, atOnce = false, traceContext }: Omit<ApplyOptions, 'now'> = {}): void {
    if (next === this.task) return;
    if (this.patches.has(TASK_EVENTS_PATCH)) {
      const events = taskEvents(this.task, next, uuid4);
      // A hand-over's steps (publish: false) are one change, told by its created and assigned events.
      if (events.length === 0 && this.task !== null && publish && this.patches.has(UPDATED_EVENT_PATCH)) events.push(taskUpdatedEvent(this.task, next, uuid4));
      for (const event of events) this.outbox.add(event, { atOnce, traceContext });
    }
    const before = this.task;
    this.projectLane.tellChange(before, next);
    this.task = next;
    log.info(`Task ${next.task_id}: ${next.status}`, { task_id: next.task_id, status: next.status, version: next.version });
    if (publish) publishState(next, { before, onlyChanges: this.writesOnlyChanges });
  }
}

/**
 * What the Web UI shows: searchable attributes and a one-line "where it stands". ProjectId only for a task
 * that is or was in a project (`before`: the state it changed from), so a task without one writes what it always did.
 * `onlyChanges` (runs since TASK_ENTITY_V3_PATCH): write only the attributes whose value the run does not have
 * already. Each upsert is a visibility write on the server; a change that moves none of them (a deadline, a
 * title), a run continued as new (it keeps them) and the start of a run whose first update set them write none.
 */
function publishState(task: Task, { before, onlyChanges = false }: { before?: Task | null; onlyChanges?: boolean } = {}): void {
  const inProject = task.project_id !== undefined || before?.project_id !== undefined;
  const attributes: SearchAttributeUpdatePair[] = [
    { key: TaskIdAttribute, value: task.task_id },
    { key: TaskStatusAttribute, value: task.status },
    { key: TaskAssigneeAttribute, value: task.assignee },
    ...(inProject ? [{ key: ProjectIdAttribute, value: task.project_id ?? null }] : []),
  ];
  const current = workflowInfo().typedSearchAttributes;
  const changed = onlyChanges ? attributes.filter(({ key, value }) => (current.get(key) ?? null) !== value) : attributes;
  if (changed.length > 0) upsertSearchAttributes(changed);
  const parts = [`${task.title}: ${task.status}`];
  if (task.assignee !== null) parts.push(`assigned to ${task.assignee}`);
  if (task.deadline !== null) parts.push(`due ${task.deadline}`);
  if (task.project_id !== undefined) parts.push(`in project ${task.project_id}`);
  setCurrentDetails(parts.join(', '));
}

/**
 * The run's starting update, when its input names one as the entity client writes it. Anything else (a start by
 * hand, from the CLI) is ignored rather than trusted: the update itself still comes, and applies as any update.
 */
function startingUpdateOf(input: TaskEntityInput): StartingUpdate | undefined {
  const starting: unknown = input.starting_update;
  if (typeof starting !== 'object' || starting === null) return undefined;
  const { name, update_id } = starting as Record<string, unknown>;
  if ((name !== 'createTask' && name !== 'handOverTask') || typeof update_id !== 'string' || update_id === '') return undefined;
  return starting as StartingUpdate;
}

export async function TaskEntityWorkflow(input: TaskEntityInput): Promise<void> {
  const patches = askPatches();
  const entity = new TaskEntity(input, patches);
  const sleepUnless = sleepUnlessForThisRun(patches);
  // Before the handlers are set: the SDK hands an update that came with the start to its handler as it is set.
  const starting = patches.has(TASK_ENTITY_V4_PATCH) ? startingUpdateOf(input) : undefined;
  if (starting !== undefined) entity.applyStartingUpdate(starting);

  for (const definition of MUTATION_UPDATES) {
    const name: MutationName = definition.name;
    setHandler(definition as typeof assignTaskUpdate, (arg) => entity.update(name, arg), {
      validator: (arg) => entity.validate(name, arg),
    });
  }
  for (const definition of MUTATION_SIGNALS) {
    const name: SignalName = definition.name;
    setHandler(definition as typeof assignTaskSignal, (arg) => entity.signal(name, arg));
  }
  setHandler(deleteTaskUpdate, (arg) => entity.delete(arg), { validator: (arg) => entity.validateDelete(arg) });
  setHandler(handOverTaskUpdate, (arg) => entity.handOver(arg), { validator: (arg) => entity.validateHandOver(arg) });
  setHandler(getTaskQuery, () => entity.task);
  setHandler(getTaskHistoryQuery, () => entity.history());

  if (starting === undefined && entity.task !== null) publishState(entity.task, { onlyChanges: entity.writesOnlyChanges });
  else if (input.outbox?.length) setCurrentDetails(`Deleted; publishing its last events`);

  // The deadline timer: a durable timer, replaced whenever the deadline changes (the updatable-timer
  // pattern); it survives worker and server restarts.
  const finished = () => entity.deleted || entity.shouldContinueAsNew() || entity.isVacant();
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
  await Promise.all([deadlineLoop(), entity.outbox.run(finished), entity.projectLane.run(finished)]);

  if (entity.deleted && !entity.current) {
    // Runs recorded before the patch published their last events and completed.
    await entity.outbox.flush();
    await condition(allHandlersFinished);
    return;
  }
  // Let in-flight handlers finish so no update is lost, then carry the state (and so the deadline) over.
  await condition(allHandlersFinished);
  if (entity.isVacant()) return;
  await continueAsNew<typeof TaskEntityWorkflow>(entity.snapshot());
}
