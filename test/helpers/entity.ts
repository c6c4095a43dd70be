/** Direct access to a task entity, as a CLI user or another service would have it. */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { TaskEntityClient } from '../../clients/task-entity';
import { taskEntityWorkflowId } from '../../workflows/shared/ids';
import type { Task } from '../../common/schemas';
import { createTaskUpdate, getTaskQuery, type TaskEntityInput } from '../../entities/task/messages';
import { TaskEntityWorkflow } from '../../entities/task/workflow';
import type { Harness } from './harness';

/** Starts a task entity and creates its task in one update-with-start. */
export async function createEntity(h: Harness, taskId: string, input: Partial<TaskEntityInput> = {}): Promise<Task> {
  return h.client.workflow.executeUpdateWithStart(createTaskUpdate, {
    args: [{ title: 'Review PR #42', description: 'Review the authentication refactoring pull request' }],
    startWorkflowOperation: new WithStartWorkflowOperation(TaskEntityWorkflow, {
      workflowId: taskEntityWorkflowId(taskId),
      taskQueue: h.config.TASK_QUEUE,
      args: [{ task_id: taskId, ...input }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

export const entity = (h: Harness, taskId: string) => h.client.workflow.getHandle(taskEntityWorkflowId(taskId));

export const readTask = async (h: Harness, taskId: string) => (await entity(h, taskId).query(getTaskQuery)) as Task;

/** The entity's client, as the API and the activities use it (it sends again what did not apply). */
export const taskClient = (h: Harness) => new TaskEntityClient(h.client, h.config.TASK_QUEUE);
