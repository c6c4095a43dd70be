/**
 * The chat's event stream (GET /chat/{user}/events) over fetch, since EventSource cannot send a bearer
 * token. Reconnects by itself with the last event id it got (Last-Event-ID), so a dropped connection goes
 * on where it stopped: nothing missed, nothing twice.
 */
import { authHeaders, type Session } from './api';

export type Chunk = { type: string } & Record<string, any>;
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'refused';

export interface EventStream {
  close(): void;
  /** Drops the connection as a network failure would (the tests use it; it reconnects). */
  drop(): void;
}

export function openEventStream(session: Session, onChunk: (chunk: Chunk) => void, onState: (state: StreamState, detail?: string) => void): EventStream {
  let lastEventId: string | undefined;
  let controller: AbortController | undefined;
  let closed = false;
  let failures = 0;

  async function connect(): Promise<void> {
    while (!closed) {
      controller = new AbortController();
      onState(lastEventId === undefined && failures === 0 ? 'connecting' : 'reconnecting');
      try {
        const response = await fetch(`/chat/${encodeURIComponent(session.userId)}/events`, {
          headers: { ...authHeaders(session), accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403 || response.status === 422) {
          const problem = (await response.json().catch(() => ({}))) as { detail?: string };
          if (response.status === 422) lastEventId = undefined;
          else {
            onState('refused', problem.detail);
            return;
          }
        } else if (response.ok && response.body) {
          await read(response.body);
        }
      } catch (err) {
        // Dropped, aborted or unreachable: try again below. (A failure of the page's own is worth a look.)
        if (!controller.signal.aborted) console.warn('event stream:', err instanceof Error ? err.message : err);
      } finally {
        // Whatever ended the reading, the connection goes: a browser allows only a few per host.
        controller.abort();
      }
      if (closed) return;
      failures++;
      onState('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** Math.min(failures - 1, 4), 8_000)));
    }
  }

  async function read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let data = '';
        let id: string | undefined;
        for (const line of block.split('\n')) {
          if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
          else if (line.startsWith('id:')) id = line.slice(3).trim();
        }
        if (data === '' || data === '[DONE]') {
          // A heartbeat may carry the stream's resume point, with no event.
          if (id !== undefined) lastEventId = id;
          continue;
        }
        const chunk = JSON.parse(data) as Chunk;
        if (chunk.type === 'data-connected') {
          failures = 0;
          onState('live');
        }
        onChunk(chunk);
        // Taken once the chunk is handled: a reconnect resumes after what the page has shown.
        if (id !== undefined) lastEventId = id;
      }
    }
  }

  void connect();
  return {
    close() {
      closed = true;
      controller?.abort();
    },
    drop() {
      controller?.abort();
    },
  };
}
