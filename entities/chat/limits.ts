/**
 * What one chat holds at most, so that a run always fits what Temporal carries: a payload (an activity's
 * result, an update's answer, the input of a continue-as-new) may be at most 2 MB. The bounds below, with
 * the idempotency keys' (entities/idempotency.ts) and the 10 exchanges of history, keep the state a chat
 * carries into its next run near 1 MB in the worst case (test/chat-bounds.test.ts measures it); docs/agent.md
 * lists them for users. Pure constants: workflow code and activities share them.
 */

/** A model's text answer is cut here (a user's message may be as long: CHAT_CONTENT_MAX_LENGTH). */
export const MODEL_REPLY_MAX_CHARS = 4_000;
/** Tool calls one model answer may ask for; the ones past this are answered "not run". */
export const MODEL_TOOL_CALLS_MAX = 8;
/** The arguments of one tool call (create_task's description may be 5,000 characters). */
export const TOOL_ARGUMENTS_MAX_CHARS = 6_000;
/**
 * A waiting turn's own messages (tool calls and results) are shortened, oldest first, past this many
 * characters (the model is shown at most TURN_BUDGET_CHARS of them anyway).
 */
export const TURN_MESSAGES_MAX_CHARS = 48_000;
/** The tool steps one `conversation.updated` event lists; more are counted, not listed. */
export const EVENT_TOOL_CALLS_MAX = 50;
/**
 * Events waiting for Redis. Past either bound the chat takes no new message (503 with Retry-After) until
 * Redis has taken some: an event is never dropped, and a long outage cannot grow a run without end.
 */
export const OUTBOX_MAX_EVENTS = 200;
export const OUTBOX_MAX_BYTES = 320 * 1024;
/** An assistant's entry (a model's text, or a reply the agent composes: approvals asked, what undo did) is cut here. */
export const REPLY_MAX_CHARS = 8_000;

/** `text` cut to `max` characters, saying so. */
export const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}… (cut at ${max} characters)` : text);
