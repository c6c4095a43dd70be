/**
 * ProjectSetupWorkflow (`project-setup-{project_id}`): the original's "workflow that creates a project with 3
 * initial tasks", with saga compensation. Started by `POST /projects/process` or
 * `temporal workflow start --type ProjectSetupWorkflow`.
 *
 *   check that the project and the task ids are new -> create the project with the tasks as members
 *   -> one child TaskProcessingWorkflow per task (in parallel; each validates, creates, assigns, sets the
 *   deadline and notifies, compensating its own task when a step fails)
 *   -> when a child does not complete: delete the tasks the children created and the project.
 *
 * Only new ids are taken, so the compensation deletes nothing that was there before; it deletes a task only
 * as its child created it (its `created_at`), so a task created again meanwhile stays. A cancelled setup
 * cancels its children (they compensate), then compensates too.
 */
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ParentClosePolicy,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ProjectSetupRequest, ProjectSetupResult, TaskProcessingResult } from '../common/schemas';
import { UNATTRIBUTED } from './shared/access-policy';
import { processingWorkflowId } from './shared/ids';
import { PROJECT_SETUP_MAX_TASKS, Rules, checkInput, describeFieldErrors, type FieldError, type InputRules } from './shared/input-rules';
import { ProjectIdAttribute, TaskAssigneeAttribute, TaskIdAttribute } from './shared/search-attributes';
import { ProcessTaskRequestRules } from './shared/workflow-inputs';
import { Compensations, rootCauseMessage } from './saga';
import type { TaskProcessingWorkflow, ProcessingOptions } from './task-processing';

const SetupRules: InputRules<Omit<ProjectSetupRequest, 'tasks'>> = {
  project_id: Rules.entityId,
  name: Rules.projectName,
  description: { ...Rules.projectDescription, nullable: true, optional: true },
  owner: { ...Rules.projectOwner, optional: true },
};

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: ['ProjectRefused', 'ProjectNotFound'] },
});
/** Compensations must land: they retry longer. */
const compensationSteps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10, nonRetryableErrorTypes: ['ProjectRefused'] },
});

/** The input as the workflow checks it (the API checked it already; a CLI start has not). */
function checked(raw: ProjectSetupRequest): ProjectSetupRequest {
  const top = checkInput(SetupRules, raw);
  const errors: FieldError[] = top.success ? [] : [...top.errors];
  const tasks = (raw as { tasks?: unknown })?.tasks ?? [];
  if (!Array.isArray(tasks)) errors.push({ field: 'tasks', message: 'must be a list of tasks' });
  else if (tasks.length > PROJECT_SETUP_MAX_TASKS) errors.push({ field: 'tasks', message: `must hold at most ${PROJECT_SETUP_MAX_TASKS} tasks` });
  const parsed: ProjectSetupRequest['tasks'] = [];
  if (Array.isArray(tasks)) {
    tasks.forEach((task: unknown, i) => {
      const result = checkInput({ ...ProcessTaskRequestRules, project_id: { ...Rules.entityId, optional: true } }, task);
      if (!result.success) errors.push(...result.errors.map((e) => ({ field: `tasks.${i}.${e.field}`, message: e.message })));
      else if (parsed.some((t) => t.task_id === result.data.task_id)) errors.push({ field: `tasks.${i}.task_id`, message: 'names a task listed before' });
      else parsed.push(result.data as ProjectSetupRequest['tasks'][number]);
    });
  }
  if (errors.length > 0 || !top.success) throw ApplicationFailure.nonRetryable(`Invalid input: ${describeFieldErrors(errors)}`, 'InvalidInput');
  return { ...top.data, description: top.data.description ?? null, tasks: parsed };
}

export async function ProjectSetupWorkflow(rawInput: ProjectSetupRequest, options: ProcessingOptions = {}): Promise<ProjectSetupResult> {
  const input = checked(rawInput);
  const { project_id } = input;
  const by = typeof options?.updated_by === 'string' ? { updated_by: options.updated_by } : {};
  const owner = input.owner ?? options?.updated_by ?? UNATTRIBUTED;
  const taskIds = input.tasks.map((t) => t.task_id);
  if (workflowInfo().typedSearchAttributes.get(ProjectIdAttribute) !== project_id) upsertSearchAttributes([{ key: ProjectIdAttribute, value: project_id }]);

  setCurrentDetails(`Step 1/3: checking that project ${project_id} and its ${taskIds.length} task ids are new`);
  const [projectTaken, taken] = await Promise.all([steps.projectExists({ project_id }), steps.existingTasks({ task_ids: taskIds })]);
  if (projectTaken || taken.length > 0) {
    const why = projectTaken ? `project ${project_id} already exists` : `tasks already exist: ${taken.join(', ')}`;
    setCurrentDetails(`Rejected: ${why}`);
    return { project_id, status: 'rejected', message: `Setup refused: ${why}`, tasks: [] };
  }

  const compensations = new Compensations();
  let results: TaskProcessingResult[] = [];
  try {
    // Registered first: the creation may land even when its call fails.
    compensations.add('deleteProject', () => compensationSteps.deleteProject.executeWithOptions({ summary: `Compensation: delete project ${project_id}` }, [{ project_id, ...by }]));
    setCurrentDetails(`Step 2/3: creating project ${project_id}`);
    await steps.createProject.executeWithOptions({ summary: `Create project ${project_id} with ${taskIds.length} task(s)` }, [
      { project_id, name: input.name, description: input.description, owner, task_ids: taskIds, ...by },
    ]);
    // Only tasks whose run started are this setup's: a run that could not start (another run of the same task
    // id was open) left someone else's task, which the compensation must not delete.
    const started = new Set<string>();
    compensations.add('deleteCreatedTasks', () => deleteCreatedTasks([...started], by));

    setCurrentDetails(`Step 3/3: processing ${taskIds.length} task(s)`);
    const settled = await Promise.allSettled(input.tasks.map((task) => processChild({ ...task, project_id }, by, () => started.add(task.task_id))));
    results = settled.map((outcome, i) =>
      outcome.status === 'fulfilled' ? outcome.value : { task_id: taskIds[i]!, status: 'failed' as const, message: rootCauseMessage(outcome.reason) },
    );
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('Workflow cancelled');
    const failed = results.filter((r) => r.status !== 'completed');
    if (failed.length === 0) {
      const message = `Project ${project_id} set up with ${results.length} task(s)`;
      setCurrentDetails(message);
      return { project_id, status: 'completed', message, tasks: results };
    }
    throw ApplicationFailure.nonRetryable(failed.map((r) => `${r.task_id}: ${r.message}`).join('; '), 'SetupTaskFailed');
  } catch (err) {
    const reason = rootCauseMessage(err);
    log.warn(`Project setup failed, compensating: ${reason}`, { project_id });
    setCurrentDetails(`Failed, compensating: ${reason}`);
    const failed = await compensations.runAll();
    if (isCancellation(err) || CancellationScope.current().consideredCancelled) throw new CancelledFailure('Workflow cancelled; compensated');
    const message =
      failed.length === 0
        ? `Project setup failed, compensation applied: ${reason}`
        : `Project setup failed; compensation failed (${failed.map((f) => `${f.name}: ${rootCauseMessage(f.error)}`).join('; ')}): ${reason}`;
    setCurrentDetails(message);
    return { project_id, status: 'failed', message, tasks: results };
  }
}

/** One task's TaskProcessingWorkflow, as a child: cancelled (and so compensating) when the setup is. */
async function processChild(task: ProjectSetupRequest['tasks'][number] & { project_id: string }, by: ProcessingOptions, onStarted: () => void): Promise<TaskProcessingResult> {
  const child = await startChild<typeof TaskProcessingWorkflow>('TaskProcessingWorkflow', {
    workflowId: processingWorkflowId(task.task_id),
    args: by.updated_by === undefined ? [task] : [task, by],
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    staticSummary: `Process task ${task.task_id} for ${task.assignee} in project ${task.project_id}`,
    typedSearchAttributes: [
      { key: TaskIdAttribute, value: task.task_id },
      { key: TaskAssigneeAttribute, value: task.assignee },
      { key: ProjectIdAttribute, value: task.project_id },
    ],
  });
  onStarted();
  return child.result();
}

/** Deletes each task the setup's children created, as they created it; a task that never came to be needs nothing. */
async function deleteCreatedTasks(taskIds: string[], by: ProcessingOptions): Promise<void> {
  if (taskIds.length === 0) return;
  const created = await compensationSteps.taskCreationTimes.executeWithOptions({ summary: 'Compensation: find the tasks created' }, [{ task_ids: taskIds }]);
  await Promise.all(
    Object.entries(created).map(([task_id, created_at]) =>
      compensationSteps.deleteCreatedTask.executeWithOptions({ summary: `Compensation: delete task ${task_id}` }, [{ task_id, created_at, ...by }]),
    ),
  );
}
