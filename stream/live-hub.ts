/**
 * One reader per API process of the three streams a chat's live feed is made of: the chat entities' events
 * (`conversation-events`), the task entities' events (`task-events`) and the live side channel (`chat-live`,
 * stream/live-records.ts). A blocking XREAD on its own connection follows their tips and hands every entry to
 * the feeds open in this process, which pick their user's (stream/feed.ts). Every replica reads everything,
 * so a user's tabs may be served by any replica.
 *
 * A feed that resumes (SSE `Last-Event-ID`) gives a cursor: the id it last had in each stream. What lies
 * between it and the hub's position is read with XRANGE; what comes after reaches it from the hub. The two
 * meet exactly, because the feed joins at the position the hub had handed out when it joined (one thread:
 * nothing moves in between), so nothing is missed and nothing comes twice.
 */
import type { Logger } from '../common/logger';
import { duplicateConnection, type RedisConnection } from '../common/redis';
import { streamKey } from '../events/streams';
import { TOPICS } from '../workflows/shared/cloudevents';
import { liveStreamKey } from './live-records';

export const FEED_SOURCES = ['conversations', 'tasks', 'live'] as const;
export type FeedSource = (typeof FEED_SOURCES)[number];

export interface FeedEntry {
  source: FeedSource;
  /** The Redis Stream id. */
  id: string;
  fields: Record<string, string>;
}

/** Where a reader is in each stream: the last id it has. */
export type Cursor = Record<FeedSource, string>;

/** How many entries a resumed feed reads back before it is told to start again from the history instead. */
export const RESUME_MAX_ENTRIES = 5_000;

const BLOCK_MS = 5_000;
const READ_COUNT = 500;

/** Stream ids compared as Redis orders them: milliseconds, then sequence. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

type Listener = (entry: FeedEntry) => void;

export interface Joined {
  /** Entries between the cursor given and the hub's position, oldest first; `gap`: some were trimmed away or too many. */
  backlog: FeedEntry[];
  gap: boolean;
  /** The cursor after the backlog (the hub's position when the feed joined). */
  cursor: Cursor;
  leave(): void;
}

export class LiveHub {
  private readonly keys: Record<FeedSource, string>;
  /** Its own connection: XREAD BLOCK holds one. Made when the first feed joins. */
  private reader: RedisConnection | undefined;
  private position: Cursor | undefined;
  private readonly listeners = new Set<Listener>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private started: Promise<void> | undefined;
  private waiters: { source: FeedSource; id: string; resolve: () => void }[] = [];

  constructor(
    private readonly redis: RedisConnection,
    eventKeyPrefix: string,
    private readonly logger: Logger,
  ) {
    this.keys = {
      conversations: streamKey(eventKeyPrefix, TOPICS.conversations),
      tasks: streamKey(eventKeyPrefix, TOPICS.tasks),
      live: liveStreamKey(eventKeyPrefix),
    };
  }

  /** Feeds open in this process (a gauge, and how tests see that a closed feed left nothing behind). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Starts following the streams from their current tips; resolves once it knows them. */
  start(): Promise<void> {
    this.started ??= (async () => {
      this.reader = duplicateConnection(this.redis);
      this.reader.on('error', () => undefined); // the main connection logs Redis trouble
      for (;;) {
        try {
          this.position = await this.tips();
          break;
        } catch (err) {
          if (this.stopped) return;
          this.logger.warn({ err: (err as Error).message }, 'live hub: Redis unreachable, trying again');
          await sleep(1_000);
        }
      }
      this.running = this.follow();
    })();
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reader?.disconnect();
    await this.running;
  }

  /**
   * Joins: `listener` gets every entry after the hub's position from now on. With a cursor, the entries
   * between it and that position come back as the backlog, to be sent first.
   */
  async join(from: Cursor | undefined, listener: Listener): Promise<Joined> {
    await this.start();
    const at = { ...this.position! };
    this.listeners.add(listener);
    const leave = () => this.listeners.delete(listener);
    if (from === undefined) return { backlog: [], gap: false, cursor: at, leave };
    try {
      const { entries, gap } = await this.between(from, at);
      return { backlog: entries, gap, cursor: at, leave };
    } catch (err) {
      leave();
      throw err;
    }
  }

  /**
   * Resolves once the hub has handed out everything `source` held when this was called (at most `timeoutMs`
   * later): a streamed turn's last text is sent before its end.
   */
  async caughtUp(source: FeedSource, timeoutMs = 1_000): Promise<void> {
    await this.start();
    const [last] = await this.redis.xrevrange(this.keys[source], '+', '-', 'COUNT', 1);
    const id = last?.[0];
    if (id === undefined || compareIds(this.position![source], id) >= 0) return;
    await new Promise<void>((resolve) => {
      const waiter = { source, id, resolve: () => {} };
      const timer = setTimeout(() => waiter.resolve(), timeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  private async tips(): Promise<Cursor> {
    const last = await Promise.all(FEED_SOURCES.map((source) => this.redis.xrevrange(this.keys[source], '+', '-', 'COUNT', 1)));
    return Object.fromEntries(FEED_SOURCES.map((source, i) => [source, last[i]![0]?.[0] ?? '0-0'])) as Cursor;
  }

  /** The entries after `from` up to `to` in each stream, merged in id order. */
  private async between(from: Cursor, to: Cursor): Promise<{ entries: FeedEntry[]; gap: boolean }> {
    let gap = false;
    const all: FeedEntry[] = [];
    for (const source of FEED_SOURCES) {
      if (compareIds(from[source], to[source]) >= 0) continue;
      const [oldest] = await this.redis.xrange(this.keys[source], '-', '+', 'COUNT', 1);
      // Older than what the stream still holds: whatever lay in between was trimmed.
      if (oldest && compareIds(from[source], oldest[0]) < 0 && from[source] !== '0-0') gap = true;
      const rows = await this.redis.xrange(this.keys[source], `(${from[source]}`, to[source], 'COUNT', RESUME_MAX_ENTRIES + 1);
      if (rows.length > RESUME_MAX_ENTRIES) gap = true;
      for (const [id, fields] of rows.slice(0, RESUME_MAX_ENTRIES)) all.push({ source, id, fields: pairs(fields) });
    }
    return { entries: all.sort((a, b) => compareIds(a.id, b.id)), gap };
  }

  private async follow(): Promise<void> {
    let failing = false;
    while (!this.stopped) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        const position = this.position!;
        reply = (await this.reader!.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ...FEED_SOURCES.map((s) => this.keys[s]),
          ...FEED_SOURCES.map((s) => position[s]),
        )) as [string, [string, string[]][]][] | null;
        if (failing) this.logger.info('live hub: reading again');
        failing = false;
      } catch (err) {
        if (this.stopped) return;
        if (!failing) this.logger.warn({ err: (err as Error).message }, 'live hub: reading failed; trying again every second');
        failing = true;
        await sleep(1_000);
        continue;
      }
      if (reply === null) continue;
      const entries: FeedEntry[] = [];
      const next = { ...this.position! };
      for (const [key, rows] of reply) {
        const source = FEED_SOURCES.find((s) => this.keys[s] === key);
        if (source === undefined) continue;
        for (const [id, fields] of rows) entries.push({ source, id, fields: pairs(fields) });
        if (rows.length > 0) next[source] = rows.at(-1)![0];
      }
      entries.sort((a, b) => compareIds(a.id, b.id));
      // The position moves with the hand-out, in one go: a feed joining now gets the rest from the hub.
      this.position = next;
      const reached = this.waiters.filter((w) => compareIds(next[w.source], w.id) >= 0);
      this.waiters = this.waiters.filter((w) => !reached.includes(w));
      for (const entry of entries) {
        for (const listener of this.listeners) {
          try {
            listener(entry);
          } catch (err) {
            this.logger.error({ err: (err as Error).message }, 'live hub: a feed failed on an entry');
          }
        }
      }
      for (const waiter of reached) waiter.resolve();
    }
  }
}

function pairs(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A cursor as an SSE event id: the three stream ids, `_`-separated, in FEED_SOURCES order. */
export const formatCursor = (cursor: Cursor): string => FEED_SOURCES.map((s) => cursor[s]).join('_');

/** The cursor an SSE `Last-Event-ID` names; undefined when it is not one of ours. */
export function parseCursor(value: string): Cursor | undefined {
  const parts = value.trim().split('_');
  if (parts.length !== FEED_SOURCES.length || !parts.every((p) => /^\d{1,15}-\d{1,15}$/.test(p))) return undefined;
  return Object.fromEntries(FEED_SOURCES.map((s, i) => [s, parts[i]])) as Cursor;
}
