/** The `conversation-events` a chat turn produces. Pure and workflow-safe. */
import type { Approval, ChatEntry } from '../../common/schemas';
import { TOPICS, cloudEvent, type CloudEvent } from '../../workflows/shared/cloudevents';
import type { ToolLogEntry, TurnState } from './agent/turn';
import { EVENT_TOOL_CALLS_MAX, cut } from './limits';

/**
 * `conversation.updated`: the user's message (null when the reply came on its own, as when an approval
 * expired) and the reply, timed at the reply; with the agent, the tool calls since the last reply and what
 * each came to (at most EVENT_TOOL_CALLS_MAX, each argument list at most ARGUMENTS_SHOWN characters: an
 * event is a notice, the entity holds the record). `after` says which turn the reply belongs to (the live
 * records of stream/live-records.ts carry the same turn id) and what still waits for the user's approval
 * once it is sent: the whole list, so a client that shows it drops what was decided or expired.
 */
export function conversationUpdated(
  userId: string,
  userEntry: ChatEntry | null,
  assistantEntry: ChatEntry,
  id: string,
  toolCalls?: ToolLogEntry[],
  after?: { turn?: Pick<TurnState, 'turn_id' | 'ref'>; approvals: Approval[] },
): CloudEvent {
  return cloudEvent({
    id,
    source: `/task-agent/chat-entity-${userId}`,
    type: 'conversation.updated',
    topic: TOPICS.conversations,
    time: assistantEntry.timestamp,
    data: {
      user_id: userId,
      user_message: userEntry,
      assistant_message: assistantEntry,
      timestamp: assistantEntry.timestamp,
      ...(toolCalls ? { tool_calls: toolCalls.slice(0, EVENT_TOOL_CALLS_MAX).map(shown) } : {}),
      ...(toolCalls && toolCalls.length > EVENT_TOOL_CALLS_MAX ? { tool_calls_not_listed: toolCalls.length - EVENT_TOOL_CALLS_MAX } : {}),
      ...(after?.turn ? { turn_id: after.turn.turn_id, ...(after.turn.ref ? { stream_ref: after.turn.ref } : {}) } : {}),
      ...(after ? { approvals_waiting: after.approvals.slice(0, EVENT_TOOL_CALLS_MAX) } : {}),
    },
  });
}

const ARGUMENTS_SHOWN = 1_000;

function shown(entry: ToolLogEntry): ToolLogEntry {
  const args = JSON.stringify(entry.arguments ?? null);
  return args.length <= ARGUMENTS_SHOWN ? entry : { ...entry, arguments: cut(args, ARGUMENTS_SHOWN) };
}
