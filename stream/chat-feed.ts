/**
 * The two streams of a chat, as the routes serve them (api/routes/chat-stream.ts, api/routes/chat.ts):
 *   - the feed (`GET /chat/{user_id}/events`): everything in the chat as it happens, resumable;
 *   - one streamed turn (`POST /chat/{user_id}` with `Accept: text/event-stream`): one UI message, from
 *     the message sent to the recorded reply.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { ChatEntityClient } from '../clients/chat-entity';
import type { Approval, ChatEntry } from '../common/schemas';
import { failureAnswer } from '../api/errors';
import { approvalRequests, approvalsChunk, FeedTranslator, type UiChunk, type Viewer } from './feed';
import { compareIds, formatCursor, type Cursor, type FeedEntry } from './live-hub';
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
      // A cursor from another replica may be ahead of this one's hub: what it already had is not sent again.
      if (compareIds(entry.id, cursor![entry.source]) <= 0) return;
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
    stream.idForPing = () => formatCursor(cursor!);
    return joined.leave;
  });
}

export interface StreamedTurnDeps {
  registry: FeedRegistry;
  chats: ChatEntityClient;
  /** Sends the message, its live records tagged with `streamRef` (api/routes/chat.ts). */
  send: (streamRef: string) => Promise<ChatEntry>;
}

/**
 * One turn as a UI message stream: text as the model writes it, tool steps as they run, the approvals the
 * turn waits for, the recorded reply (`data-entry`), `finish`, `[DONE]`. A failure after the stream opened
 * (the entity busy, an Idempotency-Key used for another message) is an `error` chunk, as the AI SDK has it.
 */
export function serveStreamedTurn(c: Context, deps: StreamedTurnDeps, viewer: Viewer): Response {
  const ref = randomUUID();
  return deps.registry.serve(c, viewer.user_id, async (stream: FeedStream) => {
    const translator = new FeedTranslator(viewer, ref);
    const joined = await deps.registry.hub.join(undefined, (entry) => stream.send(frames(translator.translate(entry))));
    stream.send(frames([{ type: 'start', messageId: ref, messageMetadata: { stream_ref: ref } }]));
    void deps
      .send(ref)
      .then(
        async (reply) => {
          // Everything the turn sent on the side channel is out before its end.
          await deps.registry.hub.caughtUp('live').catch(() => undefined);
          const approvals: Approval[] = await deps.chats.approvals(viewer.user_id).catch(() => []);
          const closing: UiChunk[] = translator.settleText(undefined, reply.content, `${ref}:reply`);
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
