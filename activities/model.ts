/**
 * One call to the language model: an OpenAI-compatible `POST {LLM_BASE_URL}/chat/completions` with the
 * agent's tools (function calling), as the OpenAI API documents it. Answers with text, or with the tool
 * calls the model wants (several in one answer run in parallel).
 *
 * Streamed (`stream: true`, unless LLM_STREAM is false): the activity heartbeats as chunks arrive and sends
 * the text on the live side channel (stream/live-records.ts), tagged with its turn, step and attempt, so a
 * client drops the partial text of an attempt that failed. The result is still the whole message: the
 * durable record stays in the chat entity. An endpoint that answers a streamed request with plain JSON is
 * read as before.
 *
 * Failures say whether a retry can help, and Temporal's retry policy does the rest: timeouts, network
 * errors and 5xx are retried with backoff, a 429 after its Retry-After, a 401/403 or another 4xx is not
 * (the request or the credentials are wrong, and will be next time).
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { MODEL_REPLY_MAX_CHARS, MODEL_TOOL_CALLS_MAX, TOOL_ARGUMENTS_MAX_CHARS, cut } from '../entities/chat/limits';
import type { LivePublisher, LiveTurn } from '../stream/live-records';
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
  /** Where the text goes as it comes (the turn and its model step); absent: nowhere but the result. */
  live?: LiveTurn & { step: number };
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

type AskedToolCall = { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
interface CompletionMessage {
  content?: unknown;
  tool_calls?: AskedToolCall[];
}
interface CompletionAnswer {
  choices?: { message?: CompletionMessage }[];
}
/** One chunk of a streamed answer: `choices[0].delta`, tool calls in pieces by `index`. */
interface CompletionChunk {
  choices?: { delta?: { content?: unknown; tool_calls?: { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }[] } }[];
}

const unreachable = (err: unknown) =>
  ApplicationFailure.retryable(`Model endpoint unreachable: ${err instanceof Error ? err.message : String(err)}`, MODEL_FAILURES.unavailable);

/** The `data:` payloads of a server-sent event stream, as they arrive. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data !== '') yield data;
    }
  }
}

/**
 * Reads a streamed answer into the message it adds up to, sending each piece of text on as it comes.
 * Tool calls arrive in pieces keyed by `index` (id and name first, the arguments in fragments).
 */
async function readStreamedAnswer(body: ReadableStream<Uint8Array>, onText: (delta: string, offset: number) => void): Promise<CompletionMessage> {
  let content = '';
  const calls: { id?: string; name?: string; arguments: string }[] = [];
  // An answer is whole once the model says why it stopped (`finish_reason`) or sends `[DONE]`; a stream that
  // just ends was cut (the connection dropped), and what came is not the answer.
  let whole = false;
  for await (const data of sseData(body)) {
    if (data === '[DONE]') {
      whole = true;
      break;
    }
    let chunk: CompletionChunk;
    try {
      chunk = JSON.parse(data) as CompletionChunk;
    } catch {
      throw ApplicationFailure.retryable(`Model stream sent a chunk that is not JSON: ${data.slice(0, 100)}`, MODEL_FAILURES.malformed);
    }
    Context.current().heartbeat();
    const choice = (chunk.choices?.[0] ?? {}) as { delta?: NonNullable<NonNullable<CompletionChunk['choices']>[number]['delta']>; finish_reason?: unknown };
    if (typeof choice.finish_reason === 'string') whole = true;
    const delta = choice.delta;
    // Text past the reply's limit is not kept (the result is cut to it, as a whole answer is) nor sent on.
    if (typeof delta?.content === 'string' && delta.content !== '' && content.length <= MODEL_REPLY_MAX_CHARS) {
      const piece = delta.content.slice(0, MODEL_REPLY_MAX_CHARS + 1 - content.length);
      onText(piece, content.length);
      content += piece;
    }
    for (const piece of delta?.tool_calls ?? []) {
      // Pieces are keyed by `index`; without one, a piece with a new id starts a call and one without goes on the last.
      const index =
        typeof piece.index === 'number' && piece.index >= 0 && piece.index < 1_000
          ? piece.index
          : typeof piece.id === 'string' && piece.id !== calls.at(-1)?.id
            ? calls.length
            : Math.max(0, calls.length - 1);
      const call = (calls[index] ??= { arguments: '' });
      if (typeof piece.id === 'string') call.id = piece.id;
      // The name comes whole with the call's first piece (some providers repeat it: it is not appended).
      if (typeof piece.function?.name === 'string' && piece.function.name !== '') call.name ??= piece.function.name;
      if (typeof piece.function?.arguments === 'string') call.arguments += piece.function.arguments;
    }
  }
  if (!whole) throw ApplicationFailure.retryable('Model stream ended before the answer did (no finish_reason, no [DONE])', MODEL_FAILURES.unavailable);
  return {
    content,
    tool_calls: calls.filter(Boolean).map((call) => ({ id: call.id, function: { name: call.name, arguments: call.arguments } })),
  };
}

export interface ModelActivityDeps {
  llm: LlmSettings | undefined;
  /** Where streamed text goes (absent: the text is only in the result). */
  live?: LivePublisher;
}

export function createModelActivities({ llm, live }: ModelActivityDeps) {
  return {
    async callModel(input: CallModelInput): Promise<ModelAnswer> {
      if (llm === undefined) throw ApplicationFailure.nonRetryable('No model is configured (LLM_BASE_URL, LLM_MODEL)', MODEL_FAILURES.notConfigured);
      const stream = llm.stream !== false;
      const signal = AbortSignal.any([AbortSignal.timeout(llm.timeoutMs), Context.current().cancellationSignal]);
      const response = await heartbeating(
        fetch(`${llm.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(llm.apiKey ? { authorization: `Bearer ${llm.apiKey}` } : {}) },
          body: JSON.stringify({ model: llm.model, messages: input.messages, tools: input.tools, ...(stream ? { stream: true } : {}) }),
          signal,
        }),
      ).catch((err: unknown) => {
        throw unreachable(err);
      });
      if (!response.ok) throw failureFor(response.status, await response.text().catch(() => ''), response.headers.get('retry-after'));

      let message: CompletionMessage | undefined;
      if (stream && response.body && (response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const attempt = Context.current().info.attempt;
        const target = input.live;
        const onText = target && live ? (delta: string, offset: number) => live.publish({ kind: 'text', ...target, attempt, delta, offset }) : () => undefined;
        // Heartbeats on a timer too: a model may think for a while before its first chunk, or pause between them.
        message = await heartbeating(readStreamedAnswer(response.body, onText)).catch((err: unknown) => {
          throw err instanceof ApplicationFailure ? err : unreachable(err);
        });
        // The text is in the stream before the turn records its reply (briefly: the stream is best effort).
        await live?.flush();
      } else {
        message = ((await response.json().catch(() => undefined)) as CompletionAnswer | undefined)?.choices?.[0]?.message;
      }
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
