/**
 * At-least-once consumer of the topics (the seed's `handle_conversation_event`): reads with a consumer
 * group, hands each event to the handler, acknowledges it only after the handler returned, and reclaims
 * entries that another consumer of the group took but never acknowledged (it died) once they have been
 * idle for `claimIdleMs`. Handlers may see an event twice; the CloudEvent id is the key to de-duplicate on.
 */
import { hostname } from 'node:os';
import type { Config } from '../common/config';
import type { Logger } from '../common/logger';
import { duplicateConnection, eventKeyPrefix, logRedisErrors, type RedisConnection } from '../common/redis';
import { CloudEventSchema } from './cloudevent-schema';
import { TOPICS, type CloudEvent, type Topic } from '../workflows/shared/cloudevents';
import { logEvent } from './handler';
import { streamKey } from './streams';
import { consumeWithTrace, markFailed } from './trace-context';

export interface SubscriberOptions {
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  redis: RedisConnection;
  prefix: string;
  topics: Topic[];
  group: string;
  consumer: string;
  handler: (event: CloudEvent) => Promise<void> | void;
  logger: Logger;
  /** Entries pending this long on another consumer are taken over. */
  claimIdleMs?: number;
  blockMs?: number;
}

export interface TopicCounters {
  received: number;
  acknowledged: number;
  reclaimed: number;
  failed: number;
  malformed: number;
}

type StreamEntry = [id: string, fields: string[]];

export class EventSubscriber {
  readonly counters: Record<string, TopicCounters> = {};
  private running = false;
  private loop?: Promise<void>;
  private readonly claimIdleMs: number;
  private readonly blockMs: number;

  constructor(private readonly options: SubscriberOptions) {
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
    this.blockMs = options.blockMs ?? 2_000;
    for (const topic of options.topics) {
      this.counters[topic] = { received: 0, acknowledged: 0, reclaimed: 0, failed: 0, malformed: 0 };
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops reading (within blockMs), waits for the event in hand to be handled, closes the connection. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.options.redis.disconnect();
  }

  private async run(): Promise<void> {
    const { redis, logger } = this.options;
    let groupsReady = false;
    let lastClaim = 0;
    // Entries this consumer read but did not acknowledge (say Redis went away between XREADGROUP and
    // XACK) are re-read first, at start and after every error: one pass per stream from these cursors,
    // then new entries only (null). An entry whose handler failed stays pending for reclaim instead.
    const fromStart = () => this.options.topics.map(() => '0');
    let ownPending: string[] | null = fromStart();
    while (this.running) {
      try {
        if (!groupsReady) {
          await this.createGroups();
          groupsReady = true;
        }
        if (Date.now() - lastClaim >= Math.min(this.claimIdleMs, 10_000)) {
          lastClaim = Date.now();
          await this.reclaim();
        }
        const keys = this.options.topics.map((t) => streamKey(this.options.prefix, t));
        const { group, consumer } = this.options;
        const cursors = ownPending;
        const batches = (await (cursors
          ? redis.xreadgroup('GROUP', group, consumer, 'COUNT', 100, 'STREAMS', ...keys, ...cursors)
          : redis.xreadgroup('GROUP', group, consumer, 'COUNT', 100, 'BLOCK', this.blockMs, 'STREAMS', ...keys, ...keys.map(() => '>')))) as
          | [string, StreamEntry[]][]
          | null;
        let backlogLeft = false;
        for (const [key, entries] of batches ?? []) {
          for (const entry of entries) await this.deliver(this.topicOf(key), entry, false);
          if (cursors && entries.length > 0) {
            cursors[keys.indexOf(key)] = entries.at(-1)![0];
            backlogLeft = true;
          }
        }
        if (cursors && !backlogLeft) ownPending = null;
      } catch (err) {
        if (!this.running) break;
        ownPending = fromStart();
        logger.warn({ err: (err as Error).message }, 'event subscriber: Redis error, retrying');
        groupsReady = groupsReady && !String(err).includes('NOGROUP');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async createGroups(): Promise<void> {
    for (const topic of this.options.topics) {
      try {
        // '0': a new group starts from the beginning of the stream, so events published before the first
        // subscriber ever started are delivered too.
        await this.options.redis.xgroup('CREATE', streamKey(this.options.prefix, topic), this.options.group, '0', 'MKSTREAM');
      } catch (err) {
        if (!String(err).includes('BUSYGROUP')) throw err;
      }
    }
  }

  private async reclaim(): Promise<void> {
    for (const topic of this.options.topics) {
      let cursor = '0-0';
      do {
        const [next, entries] = (await this.options.redis.xautoclaim(
          streamKey(this.options.prefix, topic), this.options.group, this.options.consumer,
          this.claimIdleMs, cursor, 'COUNT', 100,
        )) as [string, StreamEntry[], string[]];
        for (const entry of entries) await this.deliver(topic, entry, true);
        cursor = next;
      } while (cursor !== '0-0' && this.running);
    }
  }

  private async deliver(topic: Topic, [entryId, fields]: StreamEntry, reclaimed: boolean): Promise<void> {
    const counters = this.counters[topic]!;
    counters.received++;
    if (reclaimed) counters.reclaimed++;
    const key = streamKey(this.options.prefix, topic);
    const raw = fields[fields.indexOf('event') + 1];
    const parsed = CloudEventSchema.safeParse(raw === undefined ? undefined : safeJson(raw));
    if (!parsed.success) {
      // A malformed entry can never be handled: acknowledge it so it does not come back forever.
      counters.malformed++;
      this.options.logger.error({ topic, entryId }, 'event subscriber: malformed entry acknowledged and skipped');
      await this.options.redis.xack(key, this.options.group, entryId);
      return;
    }
    const event = parsed.data as CloudEvent;
    // Handled and acknowledged within a span that joins the trace the event came from.
    await consumeWithTrace(event, key, async () => {
      try {
        await this.options.handler(event);
      } catch (err) {
        // Not acknowledged: it stays pending and is redelivered by a later reclaim.
        counters.failed++;
        markFailed(err);
        this.options.logger.warn({ topic, eventId: event.id, err: (err as Error).message }, 'event handler failed');
        return;
      }
      await this.options.redis.xack(key, this.options.group, entryId);
      counters.acknowledged++;
    });
  }

  private topicOf(key: string): Topic {
    return this.options.topics.find((t) => streamKey(this.options.prefix, t) === key)!;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API process's subscriber to every topic, as configured; undefined when EVENT_SUBSCRIBER=off. */
export function subscriberFromConfig(config: Config, redis: RedisConnection, logger: Logger): EventSubscriber | undefined {
  if (config.EVENT_SUBSCRIBER === 'off') return undefined;
  return new EventSubscriber({
    redis: logRedisErrors(duplicateConnection(redis), logger.child({ component: 'events' })),
    prefix: eventKeyPrefix(config),
    topics: [TOPICS.conversations, TOPICS.tasks, TOPICS.projects],
    group: config.EVENT_CONSUMER_GROUP,
    consumer: `${hostname()}-${process.pid}`,
    handler: logEvent(logger.child({ component: 'events' })),
    logger,
  });
}
