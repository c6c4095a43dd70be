/**
 * The client of project setups (workflows/project-setup.ts, `project-setup-{project_id}`): starts one. The
 * API's `POST /projects/process` and the agent's create_project tool use it; `GET /workflows/{id}` reads one.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { ProjectSetupRequest, ProjectSetupResult } from '../common/schemas';
import { projectSetupWorkflowId } from '../workflows/shared/ids';
import { ProjectIdAttribute } from '../workflows/shared/search-attributes';
import type { ProjectSetupWorkflow } from '../workflows/project-setup';
import { EntityError, rethrowAsEntityError } from './errors';
import { runStatus, type ProcessingRun } from './processing';

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
  status(projectId: string) {
    return runStatus<ProjectSetupResult>(this.client, projectSetupWorkflowId(projectId), PROJECT_SETUP_WORKFLOW_TYPE);
  }
}
