/**
 * A server-sent events client for tests, over fetch (so it sends a bearer token, as the web page does):
 * every frame as it arrives, with its `id:` and parsed `data:`, comments too; waits for a frame with a
 * deadline; closes by aborting, as a browser tab that goes away.
 */
export interface SseFrame {
  id?: string;
  /** The `data:` text; `chunk` is it parsed, unless it was `[DONE]`. */
  data?: string;
  chunk?: { type: string } & Record<string, unknown>;
  comment?: string;
  /** performance.now() when it arrived. */
  at: number;
}

export class SseClient {
  readonly frames: SseFrame[] = [];
  status = 0;
  headers = new Headers();
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  ended = false;
  /** Resolves when the response ends (or is aborted). */
  readonly done: Promise<void>;
  private opened!: () => void;
  /** Resolves once the response status and headers are in. */
  readonly ready: Promise<void>;

  constructor(url: string, init: RequestInit = {}) {
    this.ready = new Promise((resolve) => (this.opened = resolve));
    this.done = this.run(url, init).finally(() => {
      this.ended = true;
      this.opened();
      this.notify();
    });
  }

  /** The chunks received (frames with JSON data), in order. */
  get chunks() {
    return this.frames.flatMap((f) => (f.chunk ? [f.chunk] : []));
  }

  /** The last event id received (what a browser's EventSource would send as Last-Event-ID). */
  get lastEventId(): string | undefined {
    return [...this.frames].reverse().find((f) => f.id !== undefined)?.id;
  }

  /** Waits for a frame that satisfies `accept`, looking at those received so far first. */
  async waitFor(accept: (frame: SseFrame) => boolean, timeoutMs = 20_000, what = 'a frame'): Promise<SseFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(accept);
      if (found) return found;
      if (this.ended) throw new Error(`stream ended without ${what}; got ${JSON.stringify(this.chunks.map((c) => c.type))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.chunks.map((c) => c.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for a chunk of this type (and matching `where`). */
  chunk(type: string, where: (chunk: Record<string, unknown>) => boolean = () => true, timeoutMs?: number) {
    return this.waitFor((f) => f.chunk?.type === type && where(f.chunk), timeoutMs, `a ${type} chunk`).then((f) => f.chunk!);
  }

  close(): void {
    this.controller.abort();
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private async run(url: string, init: RequestInit) {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: this.controller.signal });
    } catch {
      return;
    }
    this.status = response.status;
    this.headers = response.headers;
    this.opened();
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const bytes of response.body) {
        buffer += decoder.decode(bytes as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.frames.push(parseFrame(block));
          this.notify();
        }
      }
    } catch {
      // aborted
    }
  }
}

function parseFrame(block: string): SseFrame {
  const frame: SseFrame = { at: performance.now() };
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('id:')) frame.id = line.slice(3).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  if (data.length > 0) {
    frame.data = data.join('\n');
    if (frame.data !== '[DONE]') frame.chunk = JSON.parse(frame.data) as SseFrame['chunk'];
  }
  return frame;
}
