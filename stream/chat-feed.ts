/**
 * The two streams of a chat, as the routes serve them (api/routes/chat-stream.ts, api/routes/chat.ts):
 *   - the feed (`GET /chat/{user_id}/events`): everything in the chat as it happens, resumable;
 *   - one streamed turn (`POST /chat/{user_id}` with `Accept: text/event-stream`): one UI message, from
 *     the message sent to the recorded reply.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { ChatEntityClient } from '../clients/chat-entity';
import type { Approval, ChatEntry, ChatMessageRequest } from '../common/schemas';
import { failureAnswer } from '../api/errors';
import { approvalRequests, approvalsChunk, FeedTranslator, wholeText, type UiChunk, type Viewer } from './feed';
import { formatCursor, type Cursor, type FeedEntry } from './live-hub';
import type { LivePublisher } from './live-records';
import type { FeedRegistry, FeedStream, Frame } from './sse';

const frames = (chunks: UiChunk[], id?: string): Frame[] => chunks.map((chunk, i) => ({ chunk, ...(id && i === chunks.length - 1 ? { id } : {}) }));

/**
 * The feed of `viewer`'s chat from `from` (a Last-Event-ID) or from now. Each entry's last frame carries the
 * cursor after it, so a client that reconnects with it misses nothing and gets nothing twice. The first
 * frame, `data-connected`, carries the starting cursor: the client is subscribed once it has it.
 */
export function serveFeed(c: Context, registry: FeedRegistry, viewer: Viewer, from: Cursor | undefined): Response {
  return registry.serve(c, viewer.user_id, async (stream) => {
    const translator = new FeedTranslator(viewer);
    let cursor: Cursor | undefined;
    let ready = false;
    const pending: FeedEntry[] = [];
    const deliver = (entry: FeedEntry) => {
      cursor = { ...cursor!, [entry.source]: entry.id };
      const chunks = translator.translate(entry);
      if (chunks.length > 0) stream.send(frames(chunks, formatCursor(cursor)));
    };
    const joined = await registry.hub.join(from, (entry) => (ready ? deliver(entry) : pending.push(entry)));
    if (joined.gap) {
      // Too far back (trimmed away, or more than a reconnect should replay): start again from the history.
      cursor = joined.cursor;
      stream.send(frames([{ type: 'data-reset', data: { reason: 'The stream no longer holds everything since Last-Event-ID; reload the history' } }], formatCursor(cursor)));
    } else {
      cursor = from ?? joined.cursor;
      stream.send(frames([{ type: 'data-connected', data: { resumed: from !== undefined } }], formatCursor(cursor)));
      for (const entry of joined.backlog) deliver(entry);
    }
    for (const entry of pending) deliver(entry);
    pending.length = 0;
    ready = true;
    return joined.leave;
  });
}

export interface StreamedTurnDeps {
  registry: FeedRegistry;
  chats: ChatEntityClient;
  live: LivePublisher;
  /** Sends through the entity's update lane (api/entity-updates.ts). */
  send: (streamRef: string) => Promise<ChatEntry>;
}

/**
 * One turn as a UI message stream: text as the model writes it, tool steps as they run, the approvals the
 * turn waits for, the recorded reply (`data-entry`), `finish`, `[DONE]`. A failure after the stream opened
 * (the entity busy, an Idempotency-Key used for another message) is an `error` chunk, as the AI SDK has it.
 */
export function serveStreamedTurn(c: Context, deps: StreamedTurnDeps, viewer: Viewer, message: ChatMessageRequest): Response {
  const ref = randomUUID();
  return deps.registry.serve(c, viewer.user_id, async (stream: FeedStream) => {
    const translator = new FeedTranslator(viewer, ref);
    const joined = await deps.registry.hub.join(undefined, (entry) => stream.send(frames(translator.translate(entry))));
    stream.send(frames([{ type: 'start', messageId: ref, messageMetadata: { stream_ref: ref } }]));
    // Other tabs show the message before its reply (best effort; the reply's event carries it too).
    deps.live.publish({ kind: 'user-message', user_id: viewer.user_id, ref, content: message.content, timestamp: new Date().toISOString() });
    void deps
      .send(ref)
      .then(
        async (reply) => {
          // Everything the turn sent on the side channel is out before its end.
          await deps.registry.hub.caughtUp('live').catch(() => undefined);
          const approvals: Approval[] = await deps.chats.approvals(viewer.user_id).catch(() => []);
          const streamed = translator.textSent;
          const closing: UiChunk[] = [...translator.closeTexts()];
          if (!streamed) closing.push(...wholeText(`${ref}:reply`, reply.content));
          closing.push(...approvalRequests(approvals), approvalsChunk(approvals));
          closing.push({ type: 'data-entry', id: ref, data: { stream_ref: ref, assistant_message: reply } });
          closing.push({ type: 'finish' });
          stream.send(frames(closing));
        },
        (err: unknown) => stream.send(frames([{ type: 'error', errorText: errorText(err) }, { type: 'finish' }])),
      )
      .finally(() => {
        stream.send([{ raw: '[DONE]' }]);
        stream.end();
      });
    return joined.leave;
  });
}

/** What a failed turn tells the client: the status and words the JSON answer would have had. */
function errorText(err: unknown): string {
  const answer = failureAnswer(err);
  return answer ? `${answer.status}: ${answer.detail}` : '500: Internal server error';
}
