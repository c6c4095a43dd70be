/** The seed's rule-based replies and history cap, as pure functions. Workflow-safe. */
import type { ChatEntry } from '../../common/schemas';

/** The last 10 exchanges (20 entries) are kept. */
export const MAX_EXCHANGES = 10;

/**
 * The seed's three rules, word for word. `messageNumber` counts this message (1 for the first), which is
 * what the seed's Test 3 prints ("You have 1 messages" for a first message).
 */
export function ruleReply(content: string, messageNumber: number): string {
  const text = content.toLowerCase();
  if (text.includes('task')) return `I can help with tasks. You have ${messageNumber} messages in our conversation.`;
  if (text.includes('help')) return "I'm your task management assistant. Ask me about creating, assigning, or tracking tasks.";
  return `Understood. I'm tracking our conversation (message #${messageNumber}).`;
}

export function capHistory(history: ChatEntry[]): ChatEntry[] {
  return history.length > MAX_EXCHANGES * 2 ? history.slice(-MAX_EXCHANGES * 2) : history;
}
