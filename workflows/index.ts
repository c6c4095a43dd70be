/**
 * Everything the worker's workflow bundle contains: the processing workflow, the project setup workflow and the entity workflows.
 * Workflow type names are the export names (`TaskProcessingWorkflow`, `TaskEntityWorkflow`), as used by
 * the Web UI and `temporal workflow start --type ...`.
 */
export { TaskProcessingWorkflow } from './task-processing';
export { TaskEntityWorkflow } from '../entities/task/workflow';
export { ChatEntityWorkflow } from '../entities/chat/workflow';
export { ProjectEntityWorkflow } from '../entities/project/workflow';
export { ProjectSetupWorkflow } from './project-setup';
