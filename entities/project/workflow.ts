/**
 * ProjectEntityWorkflow: the ProjectActor of the original's extension on Temporal. One long-lived run per
 * project (`project-entity-{project_id}`) holding its name, description, owner and its tasks, with a live
 * roll-up (counts by status, overdue, next deadline, share done).
 *
 * Who belongs is the project's to say (addTasks, removeTasks, or the tasks it is created with); how each
 * member stands is the task's: every task entity tells its project after each change (`taskChanged`, sent
 * at least once by the task's project lane, entities/task/project-lane.ts), and the project keeps the newest
 * it heard. So the roll-up needs no polling, and survives restarts and continue-as-new on both sides: a
 * notice is durable in the task entity until the project has it.
 *
 * Bounded: at most PROJECT_MAX_TASKS members of four small columns each; signals from its tasks and their
 * history are cut by continuing as new when Temporal suggests it.
 *
 * Deleting a project does not delete its tasks (they are people's work, possibly assigned and running):
 * getProject answers null at once, the run detaches every member (the task's project_id is cleared, a
 * `task.updated` event tells of it) and then ends.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Project, ProjectView, TaskStatus } from '../../common/schemas';
import type { Activities } from '../../activities';
import { UNATTRIBUTED } from '../../workflows/shared/access-policy';
import { ID_PATTERN, Rules, checkInput, describeFieldErrors, type InputRules } from '../../workflows/shared/input-rules';
import { ProjectIdAttribute } from '../../workflows/shared/search-attributes';
import { EventOutbox } from '../outbox';
import { projectEvent, type ProjectEventType } from './events';
import {
  PROJECT_MAX_TASKS,
  PROJECT_TASK_IDS_PER_CALL,
  addTasksUpdate,
  createProjectUpdate,
  deleteProjectUpdate,
  getProjectQuery,
  removeTasksUpdate,
  taskChangedSignal,
  updateProjectUpdate,
  type CreateProjectInput,
  type DeleteProjectInput,
  type GetProjectInput,
  type ProjectEntityInput,
  type ProjectFailureType,
  type TaskColumns,
  type TaskNotice,
  type UpdateProjectInput,
} from './messages';
import { applyNotice, isTaskNotice, rollUp, taskPage } from './rollup';

/** Detaching a deleted project's tasks: each batch one activity, retried until the tasks take it. */
const { detachTasks } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});
const DETACH_BATCH = 100;

const CreateRules: InputRules<Omit<CreateProjectInput, 'task_ids'>> = {
  name: Rules.projectName,
  description: { ...Rules.projectDescription, nullable: true },
  owner: Rules.projectOwner,
};
const UpdateRules: InputRules<UpdateProjectInput> = {
  name: { ...Rules.projectName, optional: true },
  description: { ...Rules.projectDescription, optional: true, nullable: true },
  owner: { ...Rules.projectOwner, optional: true },
  expected_version: { ...Rules.version, optional: true },
};
const DeleteRules: InputRules<DeleteProjectInput> = { expected_version: { ...Rules.version, optional: true } };

class ProjectRuleError extends Error {
  constructor(
    message: string,
    readonly type: ProjectFailureType = 'ProjectRuleError',
  ) {
    super(message);
  }
}

function parse<T>(rules: InputRules<T>, input: unknown): T {
  const result = checkInput(rules, input ?? {});
  if (!result.success) throw new ProjectRuleError(`Invalid input: ${describeFieldErrors(result.errors)}`);
  return result.data;
}

/** A list of task ids, each one an entity id, at most PROJECT_TASK_IDS_PER_CALL. */
function taskIds(value: unknown, field = 'task_ids'): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ProjectRuleError(`Invalid input: ${field}: must be a list of task ids`);
  if (value.length > PROJECT_TASK_IDS_PER_CALL) throw new ProjectRuleError(`Invalid input: ${field}: must name at most ${PROJECT_TASK_IDS_PER_CALL} tasks`);
  value.forEach((id, i) => {
    if (typeof id !== 'string' || id.length > Rules.entityId.maxLength || !ID_PATTERN.test(id)) {
      throw new ProjectRuleError(`Invalid input: ${field}.${i}: ${Rules.entityId.pattern.message}, at most ${Rules.entityId.maxLength} characters`);
    }
  });
  return [...new Set(value as string[])];
}

const attribution = (input: unknown): string => {
  const by = (input as { updated_by?: unknown } | undefined)?.updated_by;
  return typeof by === 'string' && by.trim() !== '' && by.length <= 256 ? by : UNATTRIBUTED;
};

function asRefusal<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ProjectRuleError) throw ApplicationFailure.nonRetryable(err.message, err.type);
    throw err;
  }
}

class ProjectEntity {
  project: Project | null;
  readonly members: Map<string, TaskColumns | null>;
  /** Set once deleted: the members still to detach (carried over until done). */
  detaching: string[] | undefined;
  readonly outbox: EventOutbox;
  private lastNoticeAt: number | null;
  /** When each member that has not reported yet joined. */
  private readonly joined: Map<string, number>;

  constructor(private readonly input: ProjectEntityInput) {
    this.project = input.project ?? null;
    this.members = new Map(input.tasks ?? []);
    this.joined = new Map(input.joined ?? []);
    this.lastNoticeAt = input.last_notice_at ?? null;
    this.detaching = input.detaching;
    this.outbox = new EventOutbox(input.outbox, { stopMidPublish: true });
  }

  get projectId(): string {
    return this.input.project_id;
  }

  private existing(): Project {
    if (this.project === null || this.detaching !== undefined) throw new ProjectRuleError(`Project ${this.projectId} does not exist`, 'ProjectNotFound');
    return this.project;
  }

  /** Updates are refused while the run wants to continue as new: the client sends them again, into the next run. */
  refuseWhenClosing(): void {
    if (this.shouldContinueAsNew()) throw new ProjectRuleError(`Project entity ${this.projectId} is continuing as new: send again`, 'EntityClosing');
  }

  private requireVersion(project: Project, expected: number | undefined): void {
    if (expected !== undefined && expected !== project.version) {
      throw new ProjectRuleError(`Project ${project.project_id} is at version ${project.version}, not ${expected}`, 'VersionConflict');
    }
  }

  private emit(type: ProjectEventType, project: Project, taskIds?: string[]): void {
    this.outbox.add(projectEvent(type, project, new Date().toISOString(), uuid4(), taskIds));
  }

  /** Put-if-absent: the same project again (name, description, owner) changes nothing but adding the task ids it names. */
  create(input: unknown, apply: boolean): Project {
    if (this.detaching !== undefined) {
      throw new ProjectRuleError(`Project ${this.projectId} is being deleted (its tasks are being detached); create it again once it is gone`);
    }
    const { name, description, owner } = parse(CreateRules, input);
    const ids = taskIds((input as { task_ids?: unknown }).task_ids);
    if (this.project !== null) {
      const p = this.project;
      if (p.name !== name || p.description !== description || p.owner !== owner) {
        throw new ProjectRuleError(`Project ${this.projectId} already exists with a different name, description or owner`);
      }
      return this.add(ids, input, apply);
    }
    this.checkRoom(ids.filter((id) => !this.members.has(id)).length);
    if (!apply) return this.project!;
    const now = new Date().toISOString();
    const by = attribution(input);
    this.project = { project_id: this.projectId, name, description, owner, created_at: now, updated_at: now, version: 1, created_by: by, updated_by: by };
    for (const id of ids) if (!this.members.has(id)) this.join(id);
    this.emit('project.created', this.project, ids.length > 0 ? ids : undefined);
    upsertSearchAttributes([{ key: ProjectIdAttribute, value: this.projectId }]);
    log.info(`Project ${this.projectId}: created`, { project_id: this.projectId, tasks: ids.length });
    this.showState();
    return this.project;
  }

  update(input: unknown, apply: boolean): Project {
    const current = this.existing();
    const { expected_version, ...fields } = parse(UpdateRules, input);
    this.requireVersion(current, expected_version);
    const changed = Object.entries(fields).filter(([key, value]) => value !== undefined && current[key as keyof Project] !== value);
    if (!apply || changed.length === 0) return current;
    this.project = { ...current, ...Object.fromEntries(changed), updated_at: new Date().toISOString(), version: current.version + 1, updated_by: attribution(input) };
    this.emit('project.updated', this.project);
    this.showState();
    return this.project;
  }

  private checkRoom(adding: number): void {
    if (this.members.size + adding > PROJECT_MAX_TASKS) {
      throw new ProjectRuleError(`Project ${this.projectId} has ${this.members.size} tasks; ${adding} more would pass the limit of ${PROJECT_MAX_TASKS}`);
    }
  }

  /** Adds members (already members: nothing changes). Their columns follow when the tasks tell. */
  add(ids: string[], input: unknown, apply: boolean): Project {
    const project = this.existing();
    const fresh = ids.filter((id) => !this.members.has(id));
    this.checkRoom(fresh.length);
    if (!apply || fresh.length === 0) return project;
    for (const id of fresh) this.join(id);
    this.emit('project.tasks_added', { ...project, updated_by: attribution(input) }, fresh);
    this.showState();
    return project;
  }

  private join(taskId: string): void {
    this.members.set(taskId, null);
    this.joined.set(taskId, Date.now());
  }

  remove(ids: string[], input: unknown, apply: boolean): Project {
    const project = this.existing();
    const members = ids.filter((id) => this.members.has(id));
    if (!apply || members.length === 0) return project;
    for (const id of members) {
      this.members.delete(id);
      this.joined.delete(id);
    }
    this.emit('project.tasks_removed', { ...project, updated_by: attribution(input) }, members);
    this.showState();
    return project;
  }

  delete(input: unknown, apply: boolean): void {
    const project = this.existing();
    this.requireVersion(project, parse(DeleteRules, input).expected_version);
    if (!apply) return;
    this.emit('project.deleted', { ...project, updated_by: attribution(input) });
    this.detaching = [...this.members.keys()];
    this.members.clear();
    this.joined.clear();
    this.project = null;
    // Out of listings at once; the run lives on only to detach its tasks.
    upsertSearchAttributes([{ key: ProjectIdAttribute, value: null }]);
    log.info(`Project ${project.project_id}: deleted; detaching ${this.detaching.length} tasks`, { project_id: project.project_id });
    setCurrentDetails(`Deleted; detaching ${this.detaching.length} tasks`);
  }

  /** A task told how it stands; applied when newer than what the project holds. Never fails. */
  taskChanged(notice: TaskNotice): void {
    if (this.project === null || this.detaching !== undefined) return;
    // A signal is anyone's to send who reaches the namespace: what is not a notice is logged, never applied.
    if (!isTaskNotice(notice)) {
      log.warn('Malformed taskChanged notice ignored', { project_id: this.projectId });
      return;
    }
    const outcome = applyNotice(this.members, notice, this.joined);
    if (outcome === 'applied' || outcome === 'left') {
      this.lastNoticeAt = Date.now();
      this.showState();
    }
  }

  view({ tasks_offset, tasks_limit, status }: GetProjectInput = {}): ProjectView | null {
    if (this.project === null || this.detaching !== undefined) return null;
    const offset = Number.isSafeInteger(tasks_offset) && tasks_offset! >= 0 ? tasks_offset! : 0;
    const limit = Number.isSafeInteger(tasks_limit) && tasks_limit! >= 0 ? Math.min(tasks_limit!, 1000) : 100;
    const page = taskPage(this.members, { offset, limit, status: status as TaskStatus | undefined });
    return { ...this.project, rollup: rollUp(this.members, this.lastNoticeAt), tasks: page.tasks, next_tasks_offset: page.next };
  }

  /** The Web UI's one line: where the project stands. */
  private showState(): void {
    if (this.project === null) return;
    const { tasks, by_status, overdue } = rollUp(this.members, null);
    setCurrentDetails(`${this.project.name}: ${tasks} tasks, ${by_status.completed} completed, ${overdue} overdue`);
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    if (info.continueAsNewSuggested) return true;
    return this.input.history_limit !== undefined && info.historyLength >= this.input.history_limit;
  }

  /** Deleted, its tasks detached and its events out: the run ends. */
  isDone(): boolean {
    return this.detaching !== undefined && this.detaching.length === 0 && this.outbox.isEmpty;
  }

  /** Holds no project and has nothing left to do. */
  isVacant(): boolean {
    return this.project === null && this.detaching === undefined && this.outbox.isEmpty;
  }

  snapshot(): ProjectEntityInput {
    return {
      project_id: this.projectId,
      project: this.project,
      tasks: [...this.members.entries()],
      ...(this.joined.size > 0 ? { joined: [...this.joined.entries()] } : {}),
      ...(this.lastNoticeAt !== null ? { last_notice_at: this.lastNoticeAt } : {}),
      outbox: this.outbox.snapshot(),
      ...(this.detaching !== undefined ? { detaching: this.detaching } : {}),
      ...(this.input.history_limit !== undefined ? { history_limit: this.input.history_limit } : {}),
    };
  }
}

export async function ProjectEntityWorkflow(input: ProjectEntityInput): Promise<void> {
  const entity = new ProjectEntity(input);
  // Each update: the validator runs the change without applying it (refusals leave no trace in history).
  const handle = <I>(change: (input: I, apply: boolean) => unknown) => ({
    handler: (arg: I) => asRefusal(() => change(arg, true)),
    validator: (arg: I) =>
      asRefusal(() => {
        entity.refuseWhenClosing();
        change(arg, false);
      }),
  });
  const create = handle((arg: unknown, apply) => entity.create(arg, apply));
  setHandler(createProjectUpdate, (arg) => create.handler(arg) as Project, { validator: create.validator });
  const update = handle((arg: unknown, apply) => entity.update(arg, apply));
  setHandler(updateProjectUpdate, (arg) => update.handler(arg) as Project, { validator: update.validator });
  const add = handle((arg: { task_ids?: unknown }, apply) => entity.add(taskIds(arg?.task_ids), arg, apply));
  setHandler(addTasksUpdate, (arg) => add.handler(arg) as Project, { validator: add.validator });
  const remove = handle((arg: { task_ids?: unknown }, apply) => entity.remove(taskIds(arg?.task_ids), arg, apply));
  setHandler(removeTasksUpdate, (arg) => remove.handler(arg) as Project, { validator: remove.validator });
  const del = handle((arg: unknown, apply) => entity.delete(arg, apply));
  setHandler(deleteProjectUpdate, (arg) => void del.handler(arg), { validator: del.validator });
  setHandler(taskChangedSignal, (notice) => entity.taskChanged(notice));
  setHandler(getProjectQuery, (arg) => entity.view(arg));

  const finished = () => entity.shouldContinueAsNew() || entity.isVacant() || entity.isDone();
  const detachLoop = async () => {
    for (;;) {
      await condition(() => (entity.detaching?.length ?? 0) > 0 || finished());
      if (entity.shouldContinueAsNew() || entity.detaching === undefined || entity.detaching.length === 0) return;
      const batch = entity.detaching.slice(0, DETACH_BATCH);
      await detachTasks.executeWithOptions({ summary: `Detach ${batch.length} task(s)` }, [{ project_id: entity.projectId, task_ids: batch }]);
      entity.detaching.splice(0, batch.length);
      setCurrentDetails(`Deleted; detaching ${entity.detaching.length} tasks`);
    }
  };
  await Promise.all([detachLoop(), entity.outbox.run(finished)]);
  await condition(allHandlersFinished);
  if (entity.isVacant() || entity.isDone()) return;
  await continueAsNew<typeof ProjectEntityWorkflow>(entity.snapshot());
}
