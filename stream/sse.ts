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

export interface Frame {
  chunk?: UiChunk;
  /** The resume point after this frame (set on the last frame of an entry). */
  id?: string;
  /** Raw `data:` text instead of a chunk (the closing `[DONE]`). */
  raw?: string;
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

  send(frames: Frame[]): void {
    if (this.ended || frames.length === 0) return;
    this.queue.push(...frames);
    // Cut rather than hold without bound; the client's reconnect resumes from the last id it got.
    if (this.queue.length > QUEUE_MAX) this.end();
    this.wake?.();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake?.();
  }

  /** Writes queued frames and heartbeats until the stream ends; then closes it. */
  async pump(heartbeatMs: number): Promise<void> {
    const ping = setInterval(() => {
      this.queue.push({ raw: undefined });
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
        if (frame.chunk === undefined && frame.raw === undefined) await this.sse.write(': ping\n\n');
        else await this.sse.writeSSE({ data: frame.raw ?? JSON.stringify(frame.chunk), ...(frame.id ? { id: frame.id } : {}) });
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
    for (const [name, value] of Object.entries(UI_MESSAGE_STREAM_HEADERS)) c.header(name, value);
    return streamSSE(
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
  }

  /** Ends every stream (the process is stopping; clients reconnect elsewhere) and the hub. */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.byUser.values()].flatMap((set) => [...set]);
    for (const stream of all) stream.end();
    await Promise.all(all.map((stream) => stream.closed));
    await this.hub.stop();
  }
}
