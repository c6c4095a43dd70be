/**
 * Custom search attributes, so the Temporal Web UI's filter box (and `temporal workflow list --query`)
 * can find tasks by id, status, assignee and project. The dev server registers them at start (scripts/dev-server.ts
 * reads this list); a production cluster registers them once with `temporal operator search-attribute create`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TaskIdAttribute = defineSearchAttributeKey('TaskId', SearchAttributeType.KEYWORD);
export const TaskStatusAttribute = defineSearchAttributeKey('TaskStatus', SearchAttributeType.KEYWORD);
export const TaskAssigneeAttribute = defineSearchAttributeKey('TaskAssignee', SearchAttributeType.KEYWORD);
/** On a project's entity and on each of its tasks' entities: `ProjectId = 'website-relaunch'` finds them all. */
export const ProjectIdAttribute = defineSearchAttributeKey('ProjectId', SearchAttributeType.KEYWORD);

/** Name -> type as the `temporal` CLI spells it (`--search-attribute TaskId=Keyword`). */
export const CUSTOM_SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = {
  [TaskIdAttribute.name]: 'Keyword',
  [TaskStatusAttribute.name]: 'Keyword',
  [TaskAssigneeAttribute.name]: 'Keyword',
  [ProjectIdAttribute.name]: 'Keyword',
};
