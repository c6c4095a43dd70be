/**
 * The rules of each workflow input: `FooRules` here checks what `FooSchema` in common/schemas.ts checks,
 * field by field, with the rules of input-rules.ts (test/unit/input-rules.test.ts proves they agree).
 * Apart from input-rules.ts so that common/schemas.ts can build its zod schemas from the rules while the
 * input types here come from those schemas, without an import cycle.
 */
import type {
  AssignTaskInput,
  ChatMessageRequest,
  CreateTaskInput,
  DeleteTaskInput,
  HandOverTaskInput,
  ProcessTaskRequest,
  ApprovalDecisionInput,
  RevertChangesInput,
  SetProjectInput,
  SetDeadlineInput,
  UpdateStatusInput,
  UserProfileInput,
} from '../../common/schemas';
import { Rules, type FieldRule, type InputRules } from './input-rules';

/** TaskProcessingWorkflow's input (the body of `POST /tasks/process`). */
export const ProcessTaskRequestRules: InputRules<ProcessTaskRequest> = {
  task_id: Rules.entityId,
  title: Rules.title,
  description: Rules.description,
  assignee: Rules.assignee,
  deadline_seconds: { ...Rules.deadlineSeconds, default: 3600 },
  project_id: { ...Rules.entityId, optional: true },
};

/** The task entity's update and signal arguments. */
export const CreateTaskInputRules: InputRules<CreateTaskInput> = {
  title: Rules.title,
  description: { ...Rules.description, nullable: true },
  priority: { ...Rules.priority, optional: true },
  project_id: { ...Rules.entityId, optional: true },
};
const expectedVersion: FieldRule = { ...Rules.version, optional: true };
export const AssignTaskInputRules: InputRules<AssignTaskInput> = { assignee: Rules.assignee, expected_version: expectedVersion };
const expectedCreatedAt: FieldRule = { ...Rules.createdAt, optional: true };
export const UpdateStatusInputRules: InputRules<UpdateStatusInput> = {
  status: Rules.settableStatus,
  expected_version: expectedVersion,
  expected_created_at: expectedCreatedAt,
};
export const SetDeadlineInputRules: InputRules<SetDeadlineInput> = { deadline_seconds: Rules.deadlineSeconds, expected_version: expectedVersion };
export const DeleteTaskInputRules: InputRules<DeleteTaskInput> = { expected_version: expectedVersion, expected_created_at: expectedCreatedAt };
export const RevertChangesInputRules: InputRules<RevertChangesInput> = { changes_by: Rules.updateIdPrefix };
export const HandOverTaskInputRules: InputRules<HandOverTaskInput> = {
  title: Rules.title,
  description: Rules.description,
  assignee: Rules.assignee,
  deadline_seconds: Rules.deadlineSeconds,
  create_update_id: Rules.updateId,
  assign_update_id: Rules.updateId,
  deadline_update_id: Rules.updateId,
  project_id: { ...Rules.entityId, optional: true },
};
export const SetProjectInputRules: InputRules<SetProjectInput> = {
  project_id: { ...Rules.entityId, nullable: true },
  expected_project_id: { ...Rules.entityId, optional: true, nullable: true },
};

/** The chat entity's `processMessage` argument (the body of `POST /chat/{user_id}`). */
export const ChatMessageRequestRules: InputRules<ChatMessageRequest> = { content: Rules.chatContent };

/** `setProfile` (the body of `PUT /chat/{user_id}/profile`; checked strictly: unknown fields are refused). */
export const UserProfileInputRules: InputRules<UserProfileInput> = {
  name: { ...Rules.profileName, optional: true, nullable: true },
  email: { ...Rules.email, optional: true, nullable: true },
  preferred_style: { ...Rules.preferredStyle, optional: true, nullable: true },
  summary: { ...Rules.profileSummary, optional: true, nullable: true },
};

/** `decideApproval` (the approval id from the path of `POST /chat/{user_id}/approvals/{approval_id}`, and its body). */
export const ApprovalDecisionInputRules: InputRules<ApprovalDecisionInput> = {
  approval_id: Rules.entityId,
  approved: Rules.approved,
};
