/**
 * The client of project setups (workflows/project-setup.ts, `project-setup-{project_id}`): starts one. The
 * API's `POST /projects/process` and the agent's create_project tool use it; `GET /workflows/{id}` reads one.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ProjectSetupRequest, ProjectSetupResult } from '../common/schemas';
import { projectSetupWorkflowId } from '../workflows/shared/ids';
import { ProjectIdAttribute } from '../workflows/shared/search-attributes';
import type { ProjectSetupWorkflow } from '../workflows/project-setup';
import { EntityError, rethrowAsEntityError } from './errors';
import type { ProcessingRun } from './processing';

export const PROJECT_SETUP_WORKFLOW_TYPE = 'ProjectSetupWorkflow';

export class ProjectSetupClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** Starts setting up a project; `refused` while a setup of the same project is open. */
  async start(input: ProjectSetupRequest, { updatedBy }: { updatedBy?: string } = {}): Promise<ProcessingRun> {
    const workflowId = projectSetupWorkflowId(input.project_id);
    try {
      const handle = await this.client.workflow.start<typeof ProjectSetupWorkflow>(PROJECT_SETUP_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.taskQueue,
        args: updatedBy === undefined ? [input] : [input, { updated_by: updatedBy }],
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `Set up project ${input.project_id} with ${input.tasks.length} task(s)`,
        typedSearchAttributes: [{ key: ProjectIdAttribute, value: input.project_id }],
      });
      return { workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        throw new EntityError('refused', `Project ${input.project_id} is already being set up by workflow ${workflowId}`, { cause: err });
      }
      rethrowAsEntityError(err, `Setup of project ${input.project_id}`);
    }
  }

  /** The latest setup of the project: its status and, once completed, its result; null when there is none. */
  async status(projectId: string): Promise<{ workflowId: string; runId: string; status: string; output: ProjectSetupResult | null } | null> {
    const workflowId = projectSetupWorkflowId(projectId);
    try {
      const description = await this.client.workflow.getHandle(workflowId).describe();
      if (description.type !== PROJECT_SETUP_WORKFLOW_TYPE) return null;
      const status = description.status.name;
      const described = this.client.workflow.getHandle<typeof ProjectSetupWorkflow>(workflowId, description.runId, { followRuns: false });
      return { workflowId, runId: description.runId, status, output: status === 'COMPLETED' ? await described.result() : null };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      rethrowAsEntityError(err, `Workflow ${workflowId}`);
    }
  }
}
