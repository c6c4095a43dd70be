/**
 * The one client of chat entities (entities/chat/workflow.ts): one per user, started by the first message
 * (update-with-start). A message refused because the entity is continuing as new is sent again, and lands
 * in the next run; callers see answers or EntityError kinds, never Temporal's errors.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import type { Actor } from '../workflows/shared/access-policy';
import type { Approval, ChatEntry, ChatMessageRequest, UserProfile, UserProfileInput } from '../common/schemas';
import {
  CHAT_ENTITY_WORKFLOW_TYPE,
  EMPTY_PROFILE,
  clearHistoryUpdate,
  decideApprovalUpdate,
  getApprovalsQuery,
  getHistoryQuery,
  getProfileQuery,
  processMessageUpdate,
  runToolUpdate,
  setProfileUpdate,
  undoLastTurnUpdate,
  type ChatEntityWorkflowSignature,
  type ChatReply,
} from '../entities/chat/messages';
import type { KeyedRequest } from '../entities/idempotency';
import { EntityError, entityFailure, rethrowAsEntityError, retryUntilApplied } from './errors';
import { keyedUpdateId } from './idempotency';

/** How long a read waits for the entity's worker before it counts as unavailable. */
const READ_TIMEOUT_MS = 5_000;
/**
 * How long a message is sent again while it does not apply (the entity continuing as new first finishes the
 * messages it accepted, and with a model each may take a few model calls).
 */
const NOT_APPLIED_RETRY_MS = 120_000;

/** The entry alone, as the HTTP API answers and the history keeps it (a reply may carry its calls' reports). */
const entryOf = ({ role, content, timestamp }: ChatReply): ChatEntry => ({ role, content, timestamp });

export class ChatEntityClient {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /**
   * Sends a message and answers with the assistant's entry; the first message starts the user's entity.
   * With `keyed` (an Idempotency-Key) the message is answered once, however often it is sent (see keyedUpdateId).
   * `streamRef` tags the turn's live records, for a request that streams them (stream/chat-feed.ts).
   */
  send(userId: string, message: ChatMessageRequest, actor?: Actor, keyed?: KeyedRequest, streamRef?: string): Promise<ChatEntry> {
    const input = { ...message, ...(actor ? { actor } : {}), ...(keyed ? { idempotency: keyed } : {}), ...(streamRef ? { stream_ref: streamRef } : {}) };
    return this.call(
      userId,
      (updateId) => this.client.workflow.executeUpdateWithStart(processMessageUpdate, { args: [input], updateId, startWorkflowOperation: this.start(userId) }),
      keyed,
    ).then(entryOf);
  }

  /**
   * Runs one of the agent's tools for the user, as their slash command would (mcp/server.ts); answers with the
   * reply and the call's report (done, failed, or waiting for an approval). Arguments the tool does not take
   * answer `invalid`.
   */
  runTool(userId: string, tool: string, args: Record<string, unknown>, actor?: Actor, keyed?: KeyedRequest, via = 'MCP'): Promise<ChatReply> {
    const input = { tool, arguments: args, via, ...(actor ? { actor } : {}), ...(keyed ? { idempotency: keyed } : {}) };
    return this.call(
      userId,
      (updateId) => this.client.workflow.executeUpdateWithStart(runToolUpdate, { args: [input], updateId, startWorkflowOperation: this.start(userId) }),
      keyed,
    );
  }

  /** Approves or denies a change the agent waits for; answers with the assistant's follow-up. `not_found` for no such approval. */
  decide(userId: string, approvalId: string, approved: boolean, keyed?: KeyedRequest): Promise<ChatEntry> {
    return this.decideWithReports(userId, approvalId, approved, keyed).then(entryOf);
  }

  /** decide, with the reports of the calls the decision ran (a tool asked for through runTool). */
  decideWithReports(userId: string, approvalId: string, approved: boolean, keyed?: KeyedRequest): Promise<ChatReply> {
    const input = { approval_id: approvalId, approved, ...(keyed ? { idempotency: keyed } : {}) };
    return this.call(userId, (updateId) => this.handle(userId).executeUpdate(decideApprovalUpdate, { args: [input], updateId }), keyed);
  }

  /** Reverts the task changes of the user's last turn that made any; answers with what it reverted. */
  undo(userId: string, actor?: Actor, keyed?: KeyedRequest): Promise<ChatEntry> {
    const input = { ...(actor ? { actor } : {}), ...(keyed ? { idempotency: keyed } : {}) };
    return this.call(
      userId,
      (updateId) => this.client.workflow.executeUpdateWithStart(undoLastTurnUpdate, { args: [input], updateId, startWorkflowOperation: this.start(userId) }),
      keyed,
    ).then(entryOf);
  }

  /** Replaces what the agent knows of the user; starts the user's entity when needed. */
  setProfile(userId: string, profile: UserProfileInput): Promise<UserProfile> {
    return this.call(userId, (updateId) =>
      this.client.workflow.executeUpdateWithStart(setProfileUpdate, { args: [profile], updateId, startWorkflowOperation: this.start(userId) }),
    );
  }

  /** The kept history, oldest first; empty for a user who never wrote. */
  history(userId: string): Promise<ChatEntry[]> {
    return this.read(userId, getHistoryQuery, []);
  }

  /** The changes waiting for the user's approval. */
  approvals(userId: string): Promise<Approval[]> {
    return this.read(userId, getApprovalsQuery, []);
  }

  profile(userId: string): Promise<UserProfile> {
    return this.read(userId, getProfileQuery, EMPTY_PROFILE);
  }

  private start(userId: string) {
    return new WithStartWorkflowOperation<ChatEntityWorkflowSignature>(CHAT_ENTITY_WORKFLOW_TYPE, {
      workflowId: chatEntityWorkflowId(userId),
      taskQueue: this.taskQueue,
      args: [{ user_id: userId }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Chat with ${userId}`,
    });
  }

  /** A query, bounded in time; `ifNew` for a user who never wrote. */
  private async read<T>(userId: string, query: QueryDefinition<T, []>, ifNew: T): Promise<T> {
    try {
      return await this.client.withDeadline(Date.now() + READ_TIMEOUT_MS, () => this.handle(userId).query(query));
    } catch (err) {
      const failure = entityFailure(err, `Chat ${userId}`);
      if (failure?.kind === 'not_found') return ifNew;
      throw failure ?? err;
    }
  }

  /** Forgets the conversation; nothing to do for a user who never wrote. */
  async clear(userId: string): Promise<void> {
    await this.call(userId, (updateId) => this.handle(userId).executeUpdate(clearHistoryUpdate, { updateId })).catch((err: unknown) => {
      if (!(err instanceof EntityError && err.kind === 'not_found')) throw err;
    });
  }

  /** Sends one update, again while it does not apply, always with the same update id; fails with EntityError kinds. */
  private call<T>(userId: string, send: (updateId: string) => Promise<T>, keyed?: KeyedRequest): Promise<T> {
    const updateId = keyed ? keyedUpdateId(keyed) : randomUUID();
    const attempt = async () => {
      try {
        return await send(updateId);
      } catch (err) {
        rethrowAsEntityError(err, `Chat ${userId}`);
      }
    };
    return retryUntilApplied(attempt, `Chat ${userId}`, NOT_APPLIED_RETRY_MS);
  }

  private handle(userId: string): WorkflowHandle<ChatEntityWorkflowSignature> {
    return this.client.workflow.getHandle(chatEntityWorkflowId(userId));
  }
}

