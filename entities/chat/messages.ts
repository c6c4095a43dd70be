/**
 * The chat entity's messages (the ChatActor's methods, and the agent's). CLI:
 *   temporal workflow update execute --workflow-id chat-entity-user-alice --name processMessage --input '{"content":"help"}'
 *   temporal workflow query --workflow-id chat-entity-user-alice --name getApprovals
 *   temporal workflow update execute --workflow-id chat-entity-user-alice --name decideApproval --input '{"approval_id":"ap-1a2b3c4d","approved":true}'
 *
 * Importable from anywhere: names and shapes only (clients/chat-entity.ts sends them, workflow.ts handles them).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { TurnChange } from '../../activities/agent-tools';
import type { Actor } from '../../workflows/shared/access-policy';
import type { Approval, ApprovalDecisionInput, ChatEntry, ChatMessageRequest, UserProfile, UserProfileInput } from '../../common/schemas';
import type { CloudEvent } from '../../workflows/shared/cloudevents';
import type { CallReport, TurnState } from './agent/turn';
import type { IdempotencyRecord, KeyedRequest } from '../idempotency';

export const CHAT_ENTITY_WORKFLOW_TYPE = 'ChatEntityWorkflow';

/**
 * A message, with the rights of whoever sent it (the API's caller): the agent's tools act with them. A
 * message without `actor` (the temporal CLI, runs from before) acts with full rights, as Temporal access has.
 */
export type ChatMessageInput = ChatMessageRequest & { actor?: Actor; /** The API's id of a streamed request: the turn's live records carry it. */ stream_ref?: string } & Keyed;
export const processMessageUpdate = defineUpdate<ChatEntry, [ChatMessageInput], 'processMessage'>('processMessage');
/** A reply, with what became of the tool calls it answers for (runTool and decisions: their callers read them; the history keeps the entry alone). */
export type ChatReply = ChatEntry & { calls?: CallReport[] };
/** Approves or denies a change the agent waits for; answers with the assistant's follow-up. */
export const decideApprovalUpdate = defineUpdate<ChatReply, [ApprovalDecisionInput & Keyed], 'decideApproval'>('decideApproval');
/**
 * One of the agent's tools, asked for by the user directly (an MCP client, mcp/server.ts): run as a command
 * would be, with the same rights, approvals and /undo, and recorded in the conversation. `via` names the
 * client in the history (`[MCP] assign_task task-001 → bob@example.com`).
 */
export interface ToolRunInput extends Keyed {
  tool: string;
  arguments: Record<string, unknown>;
  actor?: Actor;
  via?: string;
}
export const runToolUpdate = defineUpdate<ChatReply, [ToolRunInput], 'runTool'>('runTool');
/** Who asks for the undo (the CLI sends no input: full rights). */
export interface UndoInput extends Keyed {
  actor?: Actor;
}
/** A request sent with an Idempotency-Key: it is answered once (entities/idempotency.ts). */
export interface Keyed {
  idempotency?: KeyedRequest;
}
/** Reverts the task changes of the user's last turn that changed tasks; answers with what it reverted. */
export const undoLastTurnUpdate = defineUpdate<ChatEntry, [UndoInput | undefined], 'undoLastTurn'>('undoLastTurn');
/** Replaces what the agent knows of the user (fields left out become unknown). */
export const setProfileUpdate = defineUpdate<UserProfile, [UserProfileInput], 'setProfile'>('setProfile');
export const clearHistoryUpdate = defineUpdate<void, [], 'clearHistory'>('clearHistory');
export const clearHistorySignal = defineSignal<[], 'clearHistory'>('clearHistory');
export const getHistoryQuery = defineQuery<ChatEntry[], [], 'getHistory'>('getHistory');
export const getApprovalsQuery = defineQuery<Approval[], [], 'getApprovals'>('getApprovals');
export const getProfileQuery = defineQuery<UserProfile, [], 'getProfile'>('getProfile');

/** A turn's changes, kept for /undo. */
export interface UndoableTurn {
  turn_id: string;
  /** The update-id prefix of its changes. */
  changes_by: string;
  /** The user's message that started it. */
  message: string;
  changes: TurnChange[];
}

export interface ChatEntityInput {
  user_id: string;
  history?: ChatEntry[];
  /** Messages processed since the history was last cleared (the history itself keeps only the last 10). */
  message_count?: number;
  /** Events not yet published, carried over by continue-as-new. */
  outbox?: CloudEvent[];
  /** Continue-as-new once history has this many events (default: when Temporal suggests it). */
  history_limit?: number;
  profile?: UserProfile;
  /** A turn waiting for the user's approvals. */
  pending_turn?: TurnState;
  /** The last turn that changed tasks. */
  last_changes?: UndoableTurn;
  /** Idempotency keys of the last day, with their first answers. */
  idempotency_keys?: IdempotencyRecord<ChatEntry>[];
  /** The message whose turn last read text someone else wrote (see the entity's foreignTextAt). */
  foreign_text_at?: number;
}

/** The workflow's signature, so clients type their calls without importing the workflow module (test/unit/layout.test.ts checks it is workflow.ts's). */
export type ChatEntityWorkflowSignature = (input: ChatEntityInput) => Promise<void>;

export const EMPTY_PROFILE: UserProfile = { name: null, email: null, preferred_style: null, summary: null };
