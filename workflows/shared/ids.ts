/**
 * Workflow ids of the service. Each kind of workflow has its own prefix, and the ids that follow the
 * prefix come from `EntityIdSchema` (no separators outside [A-Za-z0-9._-]), so an id built for one kind
 * can never name a workflow of another kind or another entity. Workflow-safe: pure functions only.
 */
export const PROCESSING_WORKFLOW_PREFIX = 'task-workflow-';
export const TASK_ENTITY_PREFIX = 'task-entity-';
export const CHAT_ENTITY_PREFIX = 'chat-entity-';
export const PROJECT_ENTITY_PREFIX = 'project-entity-';
export const PROJECT_SETUP_PREFIX = 'project-setup-';

export const processingWorkflowId = (taskId: string): string => `${PROCESSING_WORKFLOW_PREFIX}${taskId}`;
export const taskEntityWorkflowId = (taskId: string): string => `${TASK_ENTITY_PREFIX}${taskId}`;
export const chatEntityWorkflowId = (userId: string): string => `${CHAT_ENTITY_PREFIX}${userId}`;
export const projectEntityWorkflowId = (projectId: string): string => `${PROJECT_ENTITY_PREFIX}${projectId}`;
export const projectSetupWorkflowId = (projectId: string): string => `${PROJECT_SETUP_PREFIX}${projectId}`;

/** The task id inside a processing workflow id, or undefined when the id is not one. */
export function taskIdOfProcessingWorkflow(workflowId: string): string | undefined {
  return workflowId.startsWith(PROCESSING_WORKFLOW_PREFIX)
    ? workflowId.slice(PROCESSING_WORKFLOW_PREFIX.length)
    : undefined;
}

/** A chat tool call's id in event streams: unique across turns (a model's call ids are unique within one answer only). */
export const toolCallStreamId = (turnId: string, callId: string) => `${turnId}/${callId}`;
