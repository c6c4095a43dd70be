/**
 * Serving feeds as server-sent events: the open streams of this process (bounded per user and in all), a
 * `: ping` comment every STREAM_HEARTBEAT_SECONDS so proxies keep them open, a queue per stream that is
 * cut (the client resumes with Last-Event-ID) rather than grown without end when a client reads too
 * slowly, and a clean end, with nothing left subscribed, when the client goes away or the process stops.
 */
import type { Context } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { ApiError } from '../api/errors';
import type { Config } from '../common/config';
import type { Logger } from '../common/logger';
import type { UiChunk } from './feed';
import type { LiveHub } from './live-hub';

/** The AI SDK's UI message stream headers (its clients check the last one). */
export const UI_MESSAGE_STREAM_HEADERS = {
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  'x-vercel-ai-ui-message-stream': 'v1',
} as const;

/** Frames a slow client may have waiting before its stream is cut. */
const QUEUE_MAX = 10_000;
/** How long a closing process lets its streams write what they have queued. */
const CLOSE_GRACE_MS = 1_000;

export interface Frame {
  chunk?: UiChunk;
  /** The resume point after this frame (set on the last frame of an entry). */
  id?: string;
  /** Raw `data:` text instead of a chunk (the closing `[DONE]`). */
  raw?: string;
  /** A heartbeat comment (with `id`, when the stream has a resume point to tell). */
  ping?: true;
}

/** One open stream: frames are queued at once and written in order. */
export class FeedStream {
  private readonly queue: Frame[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(private readonly sse: SSEStreamingApi) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    sse.onAbort(() => this.end());
  }

  get open(): boolean {
    return !this.ended;
  }

  /** The resume point a heartbeat carries (a feed's cursor), so an idle reader's Last-Event-ID keeps up. */
  idForPing: (() => string | undefined) | undefined;

  send(frames: Frame[]): void {
    if (this.ended || frames.length === 0) return;
    this.queue.push(...frames);
    // Cut rather than hold without bound; the client's reconnect resumes from the last id it got.
    if (this.queue.length > QUEUE_MAX) this.end({ cut: true });
    this.wake?.();
  }

  /**
   * Ends the stream once what is queued is written; `cut`: now, dropping the rest (a client that does not
   * read would otherwise hold a write, and the process's shutdown, forever).
   */
  end({ cut = false } = {}): void {
    if (cut) {
      this.queue.length = 0;
      this.sse.abort();
    }
    if (this.ended) return;
    this.ended = true;
    this.wake?.();
  }

  /** Writes queued frames and heartbeats until the stream ends; then closes it. */
  async pump(heartbeatMs: number): Promise<void> {
    const ping = setInterval(() => {
      // The resume point now: everything it covers is queued before this frame.
      const id = this.idForPing?.();
      this.queue.push({ ping: true, ...(id ? { id } : {}) });
      this.wake?.();
    }, heartbeatMs);
    try {
      while (!this.ended || this.queue.length > 0) {
        if (this.queue.length === 0) {
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
          continue;
        }
        const frame = this.queue.shift()!;
        if (this.sse.aborted || this.sse.closed) break;
        if (frame.ping) {
          // An id with no data moves the reader's Last-Event-ID without an event (the SSE spec's dispatch).
          await this.sse.write(`${frame.id ? `id: ${frame.id}\n` : ''}: ping\n\n`);
        } else await this.sse.writeSSE({ data: frame.raw ?? JSON.stringify(frame.chunk), ...(frame.id ? { id: frame.id } : {}) });
      }
    } finally {
      clearInterval(ping);
      this.ended = true;
      this.resolveClosed();
    }
  }
}

/** The feeds this process serves, counted per user; refuses past STREAM_MAX_PER_USER and STREAM_MAX_CONNECTIONS. */
export class FeedRegistry {
  private readonly byUser = new Map<string, Set<FeedStream>>();
  private total = 0;
  private closing = false;

  constructor(
    readonly hub: LiveHub,
    private readonly config: Pick<Config, 'STREAM_HEARTBEAT_SECONDS' | 'STREAM_MAX_PER_USER' | 'STREAM_MAX_CONNECTIONS'>,
    private readonly logger: Logger,
  ) {}

  /** Open streams now (the `task_agent_open_streams` gauge). */
  get open(): number {
    return this.total;
  }

  /** Checks the limits before anything is sent (so a refusal is a plain JSON answer). */
  admit(userId: string): void {
    if (this.closing) throw new ApiError(503, 'The API is shutting down; connect again', undefined, 1);
    if (this.total >= this.config.STREAM_MAX_CONNECTIONS) {
      throw new ApiError(503, `This API process serves ${this.config.STREAM_MAX_CONNECTIONS} streams already; try again`, undefined, 5);
    }
    if ((this.byUser.get(userId)?.size ?? 0) >= this.config.STREAM_MAX_PER_USER) {
      throw new ApiError(429, `${userId} has ${this.config.STREAM_MAX_PER_USER} streams open already; close one first`, undefined, 5);
    }
  }

  /**
   * Serves one stream: `run` gets it once it is open and counted, and sets up what feeds it; `cleanup` runs
   * however it ends (the client gone, the process stopping, `run` ending it).
   */
  serve(c: Context, userId: string, run: (stream: FeedStream) => Promise<() => void>): Response {
    this.admit(userId);
    const response = streamSSE(
      c,
      async (sse) => {
        const stream = new FeedStream(sse);
        const mine = this.byUser.get(userId) ?? new Set();
        this.byUser.set(userId, mine.add(stream));
        this.total++;
        let cleanup: (() => void) | undefined;
        try {
          const pumping = stream.pump(this.config.STREAM_HEARTBEAT_SECONDS * 1000);
          cleanup = await run(stream).catch((err: unknown) => {
            this.logger.warn({ err: (err as Error).message, userId }, 'stream: could not start');
            stream.send([{ chunk: { type: 'error', errorText: 'The stream could not start; connect again' } }]);
            stream.end();
            return undefined;
          });
          await pumping;
        } finally {
          cleanup?.();
          mine.delete(stream);
          if (mine.size === 0) this.byUser.delete(userId);
          this.total--;
        }
      },
      async (err) => this.logger.warn({ err: err.message, userId }, 'stream: ended by an error'),
    );
    // After streamSSE, which sets its own Cache-Control.
    for (const [name, value] of Object.entries(UI_MESSAGE_STREAM_HEADERS)) response.headers.set(name, value);
    return response;
  }

  /** Ends every stream (the process is stopping; clients reconnect elsewhere) and the hub. */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.byUser.values()].flatMap((set) => [...set]);
    for (const stream of all) stream.end();
    // What is queued gets a moment to go out; a client that does not read is cut.
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all(all.map((stream) => stream.closed));
    const late = await Promise.race([drained.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), CLOSE_GRACE_MS)))]);
    clearTimeout(timer);
    if (late) for (const stream of all) stream.end({ cut: true });
    await drained;
    await this.hub.stop();
  }
}
