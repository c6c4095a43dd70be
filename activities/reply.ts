/**
 * Chat replies from a language model (the seed's chat-service `generate_response`): an OpenAI-compatible
 * chat-completions endpoint, given the recent conversation. Returns null when no model is configured, so
 * the chat entity answers with its rules; throws when the model fails, so the entity's retry policy and
 * then its rule-based fallback take over.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ChatEntry } from '../common/schemas';
import { heartbeating } from './heartbeat';

export interface LlmSettings {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  /** Ask for a streamed answer (LLM_STREAM); the agent's model calls only (activities/model.ts). */
  stream?: boolean;
}

export interface GenerateReplyInput {
  user_id: string;
  /** The conversation so far, ending with the user's new message. */
  history: ChatEntry[];
}

export const SYSTEM_PROMPT =
  "You are a task management assistant. Help the user create, assign and track tasks. Answer briefly.";

export function createReplyActivities(llm: LlmSettings | undefined) {
  return {
    async generateReply(input: GenerateReplyInput): Promise<string | null> {
      if (llm === undefined) return null;
      const response = await heartbeating(fetch(`${llm.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(llm.apiKey ? { authorization: `Bearer ${llm.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: llm.model,
          messages: [
            { role: 'system', content: SYSTEM_PROMPT },
            ...input.history.map(({ role, content }) => ({ role, content })),
          ],
        }),
        signal: AbortSignal.any([AbortSignal.timeout(llm.timeoutMs), Context.current().cancellationSignal]),
      }));
      if (!response.ok) {
        const body = await response.text().catch(() => '');
        throw ApplicationFailure.retryable(`Model endpoint answered ${response.status}: ${body.slice(0, 200)}`, 'ModelError');
      }
      const answer = (await response.json().catch(() => undefined)) as
        | { choices?: { message?: { content?: unknown } }[] }
        | undefined;
      const content = answer?.choices?.[0]?.message?.content;
      if (typeof content !== 'string' || content.trim() === '') {
        throw ApplicationFailure.retryable('Model endpoint answered without a message', 'ModelError');
      }
      return content.trim();
    },
  };
}
