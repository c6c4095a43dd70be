/**
 * The chat entity's messages (the ChatActor's methods). CLI:
 *   temporal workflow update execute --workflow-id chat-entity-user-alice --name processMessage --input '{"content":"help"}'
 *   temporal workflow query --workflow-id chat-entity-user-alice --name getHistory
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ChatEntry, ChatMessageRequest } from '../../common/schemas';
import type { CloudEvent } from '../../events/cloudevents';

export const processMessageUpdate = defineUpdate<ChatEntry, [ChatMessageRequest]>('processMessage');
export const clearHistoryUpdate = defineUpdate<void, []>('clearHistory');
export const clearHistorySignal = defineSignal<[]>('clearHistory');
export const getHistoryQuery = defineQuery<ChatEntry[]>('getHistory');

export interface ChatEntityInput {
  user_id: string;
  history?: ChatEntry[];
  /** Messages processed since the history was last cleared (the history itself keeps only the last 10). */
  message_count?: number;
  /** Events not yet published, carried over by continue-as-new. */
  outbox?: CloudEvent[];
  /** Continue-as-new once history has this many events (default: when Temporal suggests it). */
  history_limit?: number;
}
