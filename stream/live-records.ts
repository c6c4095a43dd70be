/**
 * The live side channel of a chat: what happens inside a turn before the chat entity records it (the model's
 * text as it comes, each tool call starting and ending, the user's message as it is sent). Written to one
 * Redis Stream (`{prefix}stream:chat-live`, beside the event streams, same hash slot on a cluster) by the
 * activities and the API; read by every API replica's live hub (stream/live-hub.ts).
 *
 * Best effort by design: the durable record of a turn is the entity's history and its `conversation.updated`
 * event, which every stream ends with; a record lost while Redis is away only means a reply shows up whole
 * instead of word by word. So publishing never fails or slows the caller beyond a short bound.
 */
import type { RedisConnection } from '../common/redis';

export const LIVE_TOPIC = 'chat-live';
export const liveStreamKey = (eventKeyPrefix: string) => `${eventKeyPrefix}stream:${LIVE_TOPIC}`;

/** Which turn a record belongs to, and which request started it (the `POST /chat` that streams it). */
export interface LiveTurn {
  user_id: string;
  turn_id: string;
  /** The id the API gave the request that started the turn; absent for turns not started through it. */
  ref?: string;
}

export type LiveRecord =
  /** The user's message as the API sends it to the entity (other tabs show it before the reply). */
  | { kind: 'user-message'; user_id: string; ref: string; content: string; timestamp: string }
  /** That message was refused (the chat busy, a reused key): tabs that show it take it back. */
  | { kind: 'user-message-refused'; user_id: string; ref: string; reason: string }
  /** Text of the model's answer: step `step` of the turn, the `attempt`-th try of that model call. */
  | (LiveTurn & { kind: 'text'; step: number; attempt: number; delta: string; /** Where the delta starts in this attempt's text. */ offset?: number })
  /** A tool call starts (after any approval it needed). */
  | (LiveTurn & { kind: 'tool-start'; call_id: string; tool: string; input: unknown; summary: string })
  /** A tool call ended: its result, or why it failed. */
  | (LiveTurn & { kind: 'tool-end'; call_id: string; ok: boolean; output?: unknown; error?: string });

export interface LivePublisherOptions {
  eventKeyPrefix: string;
  /** Approximate cap on the stream's length (XADD MAXLEN ~): it holds minutes of every chat, not a record. */
  maxLength: number;
  /** How long `flush` waits for Redis before giving up on what is still in flight. */
  flushTimeoutMs?: number;
}

/**
 * Sends records in order without waiting for each (the model's next chunk is not held up by Redis); `flush`
 * waits, briefly, for what was sent, so a turn's text is in the stream before the turn's reply is recorded.
 */
export class LivePublisher {
  private inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: LivePublisherOptions,
  ) {}

  publish(record: LiveRecord): void {
    const sent = this.redis
      .xadd(liveStreamKey(this.options.eventKeyPrefix), 'MAXLEN', '~', String(this.options.maxLength), '*', 'user', record.user_id, 'record', JSON.stringify(record))
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  async flush(): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.flushTimeoutMs ?? 1_000))),
    ]);
    clearTimeout(timer);
  }
}
