/**
 * A deliberately incompatible TaskProcessingWorkflow (it skips the validate step), used to show that the
 * replay test catches non-deterministic changes.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';

const { createTask } = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds' });

export async function TaskProcessingWorkflow(input: { task_id: string; title: string; description: string }) {
  await createTask(input);
  return { task_id: input.task_id, status: 'completed', message: '' };
}
