/**
 * A scripted language model that speaks the OpenAI chat-completions protocol (`POST /v1/chat/completions`,
 * `tools`, `tool_calls`, `tool` role messages, parallel calls in one answer), as the OpenAI API documents
 * it, whole or streamed (`stream: true`: `chat.completion.chunk` server-sent events, tool calls in pieces by
 * `index`, then `[DONE]`). The test decides each answer, and for a streamed one its pieces and pauses; every
 * request is recorded, with when its first and last chunk went out.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ModelMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ModelRequest {
  model: string;
  stream?: boolean;
  messages: ModelMessage[];
  tools?: { type: 'function'; function: { name: string; description?: string; parameters: unknown } }[];
  headers: IncomingHttpHeaders;
  /** A streamed answer: when (performance.now() of this process) its first and last text chunk were written. */
  firstChunkAt?: number;
  lastChunkAt?: number;
}

/** How a streamed answer is sent: its text in these pieces (default: word by word), with pauses; or cut short. */
export interface StreamScript {
  chunks?: string[];
  /** Pause before each chunk after the first. */
  pauseMs?: number;
  /** Pause before the first chunk. */
  firstPauseMs?: number;
  /** Drop the connection after this many chunks (a model call that fails midway). */
  failAfter?: number;
}

/** What the model answers: text, tool calls (several are parallel calls), or an HTTP error. */
export type ModelAnswer =
  | { text: string; delayMs?: number; stream?: StreamScript }
  | { toolCalls: { name: string; arguments: unknown; id?: string }[]; text?: string; delayMs?: number; stream?: StreamScript }
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number };

export interface ModelServer {
  /** Base URL for LLM_BASE_URL (ends in /v1). */
  url: string;
  requests: ModelRequest[];
  /** Decides each answer; replace it at any time. */
  respond: (request: ModelRequest) => ModelAnswer | Promise<ModelAnswer>;
  close(): void;
}

/** The text of the last user message of a request. */
export const lastUserMessage = (request: ModelRequest) => request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';

export async function startModelServer(respond: ModelServer['respond'] = () => ({ text: 'OK' })): Promise<ModelServer> {
  let calls = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const request = { ...(JSON.parse(body) as Omit<ModelRequest, 'headers'>), headers: req.headers };
      model.requests.push(request);
      const answer = await model.respond(request);
      if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
      if ('status' in answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body ?? { error: { message: `status ${answer.status}` } }));
        return;
      }
      calls++;
      const toolCalls =
        'toolCalls' in answer
          ? answer.toolCalls.map((call, i) => ({
              id: call.id ?? `call_${calls}_${i}`,
              type: 'function' as const,
              function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments) },
            }))
          : undefined;
      if (request.stream === true) {
        await streamAnswer(res, request, `chatcmpl-${calls}`, answer.text ?? null, toolCalls, answer.stream ?? {});
        return;
      }
      const message = { role: 'assistant', content: answer.text ?? null, ...(toolCalls ? { tool_calls: toolCalls } : {}) };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${calls}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: request.model,
          choices: [{ index: 0, message, finish_reason: toolCalls ? 'tool_calls' : 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const model: ModelServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests: [],
    respond,
    close: () => server.close(),
  };
  return model;
}

const pause = (ms: number | undefined) => (ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** Words with the space before them, so the pieces add up to the text. */
const words = (text: string) => text.match(/\s*\S+/g) ?? [text];

async function streamAnswer(
  res: import('node:http').ServerResponse,
  request: ModelRequest,
  id: string,
  text: string | null,
  toolCalls: { id: string; function: { name: string; arguments: string } }[] | undefined,
  script: StreamScript,
): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (delta: object, finish: string | null = null) =>
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: request.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
  send({ role: 'assistant', content: '' });
  const pieces = text === null ? [] : (script.chunks ?? words(text));
  for (const [i, piece] of pieces.entries()) {
    await pause(i === 0 ? script.firstPauseMs : script.pauseMs);
    if (script.failAfter !== undefined && i >= script.failAfter) {
      await pause(100); // what was written reaches the client before the connection drops
      res.destroy();
      return;
    }
    send({ content: piece });
    request.firstChunkAt ??= performance.now();
    request.lastChunkAt = performance.now();
  }
  for (const [index, call] of (toolCalls ?? []).entries()) {
    const half = Math.ceil(call.function.arguments.length / 2);
    send({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] });
    send({ tool_calls: [{ index, function: { arguments: call.function.arguments.slice(0, half) } }] });
    send({ tool_calls: [{ index, function: { arguments: call.function.arguments.slice(half) } }] });
  }
  send({}, toolCalls ? 'tool_calls' : 'stop');
  res.end('data: [DONE]\n\n');
}

/**
 * Answers in order, one per request (an answer may depend on the request); past the script, a text that
 * says so, which a test asserting on replies will notice.
 */
export function scripted(...answers: (ModelAnswer | ((request: ModelRequest) => ModelAnswer))[]): ModelServer['respond'] {
  return (request) => {
    const next = answers.shift();
    if (next === undefined) return { text: 'The script has no more answers.' };
    return typeof next === 'function' ? next(request) : next;
  };
}

/**
 * A script for one conversation: only requests whose messages contain `marker` (a message of the test's own)
 * take its answers; any other call (a retry of an earlier test's turn on the same model) is answered without
 * using them up.
 */
export function scriptedFor(marker: string, ...answers: Parameters<typeof scripted>): ModelServer['respond'] {
  const script = scripted(...answers);
  return (request) => (JSON.stringify(request.messages).includes(marker) ? script(request) : { text: 'Not part of this script.' });
}

/** The `tool` messages of a request (what the agent sent back for each tool call), in order. */
export const toolMessages = (request: ModelRequest) => request.messages.filter((m) => m.role === 'tool');
