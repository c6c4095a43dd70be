/**
 * The client of processing runs (workflows/task-processing.ts, `task-workflow-{task_id}`): starts one, and
 * reads one's status and result. The API's processing and workflow routes use it.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { processingWorkflowId } from '../workflows/shared/ids';
import type { ProcessTaskRequest, TaskProcessingResult } from '../common/schemas';
import { ProjectIdAttribute, TaskAssigneeAttribute, TaskIdAttribute } from '../workflows/shared/search-attributes';
import type { TaskProcessingWorkflow } from '../workflows/task-processing';
import { EntityError, rethrowAsEntityError } from './errors';

export const TASK_PROCESSING_WORKFLOW_TYPE = 'TaskProcessingWorkflow';

export interface ProcessingRun {
  workflowId: string;
  runId: string;
}

export interface ProcessingStatus extends ProcessingRun {
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, CANCELED, TERMINATED, ... */
  status: string;
  /** The result once the run has completed, else null. */
  output: TaskProcessingResult | null;
}

export class ProcessingClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Starts processing a task; `refused` while a run for the task is open (one at a time per task). */
  async start(input: ProcessTaskRequest, { updatedBy }: { updatedBy?: string } = {}): Promise<ProcessingRun> {
    const workflowId = processingWorkflowId(input.task_id);
    try {
      const handle = await this.client.workflow.start<typeof TaskProcessingWorkflow>(TASK_PROCESSING_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.taskQueue,
        args: updatedBy === undefined ? [input] : [input, { updated_by: updatedBy }],
        // Only one processing run per task at a time; a closed run may be followed by a new one.
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `Process task ${input.task_id} for ${input.assignee}`,
        typedSearchAttributes: [
          { key: TaskIdAttribute, value: input.task_id },
          { key: TaskAssigneeAttribute, value: input.assignee },
          ...(input.project_id !== undefined ? [{ key: ProjectIdAttribute, value: input.project_id }] : []),
        ],
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new EntityError('refused', `Task ${input.task_id} is already being processed by workflow ${workflowId}`, { cause: err });
      }
      rethrowAsEntityError(err, `Processing of ${input.task_id}`);
    }
  }

  /**
   * The latest run of `workflowId`, or null when there is none or it is not a processing run. The result is
   * the described run's: a run started since neither stands in for it nor is waited for.
   */
  status(workflowId: string): Promise<ProcessingStatus | null> {
    return runStatus<TaskProcessingResult>(this.client, workflowId, TASK_PROCESSING_WORKFLOW_TYPE);
  }
}

/**
 * The latest run of `workflowId` when it is of `type`: its status and, once completed, its result (the
 * described run's: a run started since neither stands in for it nor is waited for); null otherwise.
 */
export async function runStatus<R>(client: Client, workflowId: string, type: string): Promise<(ProcessingRun & { status: string; output: R | null }) | null> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    if (description.type !== type) return null;
    const status = description.status.name;
    const described = client.workflow.getHandle(workflowId, description.runId, { followRuns: false });
    return { workflowId, runId: description.runId, status, output: status === 'COMPLETED' ? ((await described.result()) as R) : null };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    rethrowAsEntityError(err, `Workflow ${workflowId}`);
  }
}
