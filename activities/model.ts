/**
 * One call to the language model: an OpenAI-compatible `POST {LLM_BASE_URL}/chat/completions` with the
 * agent's tools (function calling), as the OpenAI API documents it. Answers with text, or with the tool
 * calls the model wants (several in one answer run in parallel).
 *
 * Failures say whether a retry can help, and Temporal's retry policy does the rest: timeouts, network
 * errors and 5xx are retried with backoff, a 429 after its Retry-After, a 401/403 or another 4xx is not
 * (the request or the credentials are wrong, and will be next time).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { MODEL_REPLY_MAX_CHARS, MODEL_TOOL_CALLS_MAX, TOOL_ARGUMENTS_MAX_CHARS, cut } from '../entities/chat/limits';
import { heartbeating } from './heartbeat';
import type { LlmSettings } from './reply';

export interface ModelToolCall {
  id: string;
  name: string;
  /** The arguments as the model wrote them: a JSON string, not necessarily valid; empty when too long. */
  arguments: string;
  /** Set when the arguments were longer than TOOL_ARGUMENTS_MAX_CHARS: their length (they are not kept). */
  arguments_too_long?: number;
}

/** A message of the conversation sent to the model (the chat-completions format). */
export type ModelMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface CallModelInput {
  messages: ModelMessage[];
  tools: object[];
}

export interface ModelAnswer {
  content: string | null;
  tool_calls: ModelToolCall[];
  /** Tool calls past MODEL_TOOL_CALLS_MAX, left out of the answer. */
  tool_calls_dropped?: number;
}

/** Failure types, for logs and for the workflow's retry policy. */
export const MODEL_FAILURES = {
  unavailable: 'ModelUnavailable',
  rateLimited: 'ModelRateLimited',
  rejected: 'ModelRequestRejected',
  authRejected: 'ModelAuthRejected',
  malformed: 'ModelMalformedAnswer',
  notConfigured: 'ModelNotConfigured',
} as const;

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function failureFor(status: number, body: string, retryAfter: string | null): ApplicationFailure {
  const message = `Model endpoint answered ${status}: ${body.slice(0, 300)}`;
  if (status === 429) {
    const delay = retryAfterMs(retryAfter);
    return ApplicationFailure.create({ message, type: MODEL_FAILURES.rateLimited, ...(delay !== undefined ? { nextRetryDelay: delay } : {}) });
  }
  if (status === 401 || status === 403) return ApplicationFailure.nonRetryable(message, MODEL_FAILURES.authRejected);
  if (status === 408 || status >= 500) return ApplicationFailure.retryable(message, MODEL_FAILURES.unavailable);
  return ApplicationFailure.nonRetryable(message, MODEL_FAILURES.rejected);
}

interface CompletionAnswer {
  choices?: { message?: { content?: unknown; tool_calls?: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }[] } }[];
}

export function createModelActivities(llm: LlmSettings | undefined) {
  return {
    async callModel(input: CallModelInput): Promise<ModelAnswer> {
      if (llm === undefined) throw ApplicationFailure.nonRetryable('No model is configured (LLM_BASE_URL, LLM_MODEL)', MODEL_FAILURES.notConfigured);
      const response = await heartbeating(
        fetch(`${llm.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(llm.apiKey ? { authorization: `Bearer ${llm.apiKey}` } : {}) },
          body: JSON.stringify({ model: llm.model, messages: input.messages, tools: input.tools }),
          signal: AbortSignal.any([AbortSignal.timeout(llm.timeoutMs), Context.current().cancellationSignal]),
        }),
      ).catch((err: unknown) => {
        throw ApplicationFailure.retryable(`Model endpoint unreachable: ${err instanceof Error ? err.message : String(err)}`, MODEL_FAILURES.unavailable);
      });
      if (!response.ok) throw failureFor(response.status, await response.text().catch(() => ''), response.headers.get('retry-after'));

      const answer = (await response.json().catch(() => undefined)) as CompletionAnswer | undefined;
      const message = answer?.choices?.[0]?.message;
      // Bounded here, where the answer becomes a payload (chat limits, entities/chat/limits.ts).
      const asked = message?.tool_calls ?? [];
      const toolCalls = asked.slice(0, MODEL_TOOL_CALLS_MAX).map((call, i): ModelToolCall => {
        const id = typeof call.id === 'string' && call.id !== '' ? call.id.slice(0, 100) : `call_${i}`;
        const name = typeof call.function?.name === 'string' ? call.function.name.slice(0, 100) : '';
        const args = typeof call.function?.arguments === 'string' ? call.function.arguments : JSON.stringify(call.function?.arguments ?? {});
        return args.length > TOOL_ARGUMENTS_MAX_CHARS ? { id, name, arguments: '', arguments_too_long: args.length } : { id, name, arguments: args };
      });
      const text = typeof message?.content === 'string' && message.content.trim() !== '' ? message.content.trim() : null;
      if (text === null && toolCalls.length === 0) throw ApplicationFailure.retryable('Model answered with neither text nor tool calls', MODEL_FAILURES.malformed);
      const content = text === null ? null : cut(text, MODEL_REPLY_MAX_CHARS);
      const dropped = asked.length - toolCalls.length;
      return { content, tool_calls: toolCalls, ...(dropped > 0 ? { tool_calls_dropped: dropped } : {}) };
    },
  };
}
