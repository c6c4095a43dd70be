/** The `conversation-events` a chat turn produces. Pure and workflow-safe. */
import type { ChatEntry } from '../../common/schemas';
import { TOPICS, cloudEvent, type CloudEvent } from '../../workflows/shared/cloudevents';
import type { ToolLogEntry } from './agent/turn';

/**
 * `conversation.updated`: the user's message (null when the reply came on its own, as when an approval
 * expired) and the reply, timed at the reply; with the agent, the tool calls since the last reply and what
 * each came to.
 */
export function conversationUpdated(
  userId: string,
  userEntry: ChatEntry | null,
  assistantEntry: ChatEntry,
  id: string,
  toolCalls?: ToolLogEntry[],
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
      ...(toolCalls ? { tool_calls: toolCalls } : {}),
    },
  });
}
