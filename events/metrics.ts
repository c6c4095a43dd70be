/**
 * The event pipeline as Prometheus sees it, read from Redis at each scrape: every topic's stream length, and
 * for every consumer group on it (ours and any other), entries delivered but not acknowledged, entries not
 * yet delivered (lag) and the age of the oldest unacknowledged entry. A stuck or slow consumer shows as a
 * growing age long before anything is lost.
 */
import { Gauge, type Registry } from 'prom-client';
import { TOPICS } from '../workflows/shared/cloudevents';
import { streamKey } from './streams';
import type { RedisConnection } from '../common/redis';

/** A scrape must answer even with Redis away: what Redis does not give in this time is left out. */
const SCRAPE_TIMEOUT_MS = 1_000;

interface GroupReading {
  topic: string;
  group: string;
  pending: number;
  lag: number | null;
  oldestPendingAgeSeconds: number;
}

export function registerEventMetrics(registry: Registry, redis: RedisConnection, prefix: string): void {
  let reading: Promise<{ lengths: Record<string, number>; groups: GroupReading[] } | null> | undefined;
  // One Redis read per scrape, shared by the gauges below (each gauge's collect asks for it).
  const read = () => (reading ??= withTimeout(readPipeline(redis, prefix)).finally(() => setTimeout(() => (reading = undefined), 0)));

  new Gauge({
    name: 'task_agent_event_stream_length',
    help: 'Entries in each event stream (capped near EVENT_STREAM_MAXLEN)',
    labelNames: ['topic'],
    registers: [registry],
    async collect() {
      this.reset();
      const r = await read();
      for (const [topic, length] of Object.entries(r?.lengths ?? {})) this.set({ topic }, length);
    },
  });
  const perGroup = (name: string, help: string, value: (g: GroupReading) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['topic', 'group'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const g of (await read())?.groups ?? []) {
          const v = value(g);
          if (v !== null) this.set({ topic: g.topic, group: g.group }, v);
        }
      },
    });
  perGroup('task_agent_event_group_pending', 'Entries delivered to a consumer of the group and not acknowledged', (g) => g.pending);
  perGroup('task_agent_event_group_lag', 'Entries of the stream not yet delivered to the group', (g) => g.lag);
  perGroup(
    'task_agent_event_group_oldest_pending_age_seconds',
    'Age of the oldest entry delivered to the group and not acknowledged (0 when none)',
    (g) => g.oldestPendingAgeSeconds,
  );
}

/** Two round trips whatever the number of groups: lengths and groups of every stream, then each group's pending summary. */
async function readPipeline(redis: RedisConnection, prefix: string) {
  const topics = Object.values(TOPICS);
  const keys = topics.map((topic) => streamKey(prefix, topic));
  const lengths: Record<string, number> = {};
  const found: { topic: string; key: string; group: string; lag: number | null }[] = [];
  const first = (await redis.pipeline(keys.flatMap((key) => [['xlen', key], ['xinfo', 'GROUPS', key]])).exec()) ?? [];
  topics.forEach((topic, i) => {
    const [lengthError, length] = first[2 * i] ?? [];
    if (!lengthError) lengths[topic] = Number(length);
    // XINFO GROUPS fails for a stream that does not exist yet: no groups to report.
    const [groupsError, infos] = first[2 * i + 1] ?? [];
    if (groupsError) return;
    for (const info of infos as unknown[][]) {
      const fields = fieldsOf(info);
      // `lag` is there from Redis 7 on, and null when Redis cannot tell.
      found.push({ topic, key: keys[i]!, group: String(fields.name), lag: fields.lag === null || fields.lag === undefined ? null : Number(fields.lag) });
    }
  });
  const second = found.length > 0 ? ((await redis.pipeline(found.map((g) => ['xpending', g.key, g.group])).exec()) ?? []) : [];
  const groups: GroupReading[] = [];
  found.forEach((g, i) => {
    const [error, summary] = second[i] ?? [];
    if (error) return;
    const [count, oldestId] = summary as [number, string | null];
    groups.push({
      topic: g.topic,
      group: g.group,
      pending: Number(count),
      lag: g.lag,
      // A stream entry id starts with the milliseconds it was added at.
      oldestPendingAgeSeconds: oldestId ? Math.max(0, (Date.now() - Number(oldestId.split('-')[0])) / 1000) : 0,
    });
  });
  return { lengths, groups };
}

function fieldsOf(flat: unknown[]): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = flat[i + 1];
  return fields;
}

function withTimeout<T>(work: Promise<T>): Promise<T | null> {
  return Promise.race([
    work.catch(() => null),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), SCRAPE_TIMEOUT_MS).unref()),
  ]);
}
