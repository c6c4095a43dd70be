/**
 * An entity's outbox: events are added in the same activation as the state change they describe, and a
 * loop in the entity publishes them through an activity that retries until Redis takes them. A Redis
 * outage delays events, never loses them, and never holds up a reply, a mutation, or the entity's
 * continue-as-new: pending events (a batch still being retried included) are carried to the next run,
 * which publishes them again; their fixed ids make a repeat a no-op (events/streams.ts).
 *
 * Not a local activity as a rule, though it would save a task round trip per batch: while a workflow task
 * waits on a local activity, the server hands the worker updates that the task then completes without, and
 * rejects them as `UnprocessedUpdate` (30 concurrent updates to one entity lost a few; tried twice, in #21
 * and #22). The exception is an event nobody is waiting on that comes in a burst: a deadline going overdue
 * (`add(event, { atOnce: true })`). Thousands of deadlines can fall due in the same second, and a regular
 * activity would cost each of them a second workflow task, taken after the backlog of other deadlines and
 * on an entity evicted from the cache meanwhile; so that batch is tried once as a local activity within the
 * workflow task that made it, and goes the retrying way when that fails (at once while Redis is not connected:
 * activities/events.ts). An update arriving in those few milliseconds may be refused as `UnprocessedUpdate`; it
 * changed nothing, and the entity clients send it again (clients/errors.ts).
 *
 * A new task's events go the same way (TaskEntity.applyStartingUpdate): nobody else knows the task yet, and a
 * new entity would otherwise spend a second workflow task and an activity task on them.
 *
 * Such an event is published before the workflow task that made the change is recorded. That is safe only for a
 * change that follows from what the server recorded already: a deadline's timer firing, a creation taken from
 * the start's input. A worker that dies there is followed by the same change with the same event ids (unless
 * another change comes first in the retried task), which the publish script drops. Not for a change an update
 * makes (tried for creations in #22, and caught by the crash soak, test/reliability/crash.test.ts): when the
 * worker dies with the update's caller before the workflow task is recorded, the update may be gone, the run
 * without a task ends, the caller's retry creates it in a new run, and its events come again under new ids.
 */
import { condition, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { EventActivities } from '../activities/events';
import type { CloudEvent } from '../workflows/shared/cloudevents';
import { jsonBytes } from '../workflows/shared/json-bytes';
import { currentTraceContext, type TraceCarrier } from '../workflows/tracing-interceptors';

const { publishEvents } = proxyActivities<EventActivities>({
  startToCloseTimeout: '10 seconds',
  // No attempt limit: an event is published eventually, however long Redis is away.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/**
 * One attempt, short: a Redis that answers at all answers in milliseconds. Bounded from scheduling, not from
 * start: in a burst the attempt may wait for a free local-activity slot, and the workflow task (with any
 * update arriving meanwhile) waits with it; past the bound the batch goes the retrying way.
 */
const { publishEvents: publishAtOnce } = proxyLocalActivities<EventActivities>({
  scheduleToCloseTimeout: '2 seconds',
  retry: { maximumAttempts: 1 },
});

const BATCH = 100;

/**
 * How long a publish in flight may take to finish when the entity wants to continue as new. It normally
 * ends in milliseconds, and continuing as new while its result is on its way makes the server refuse that
 * workflow task (UnhandledCommand), failing any update it carried; only with Redis away does it not end.
 */
const STOP_GRACE = '2 seconds';

export interface OutboxOptions {
  /**
   * Stop without waiting for a publish in flight (runs recorded before this existed waited for it, and
   * replay must do the same for them).
   */
  stopMidPublish?: boolean;
  /** Past these the outbox is `full`: the entity takes no new work that would add to it (Redis is away). */
  maxEvents?: number;
  maxBytes?: number;
  /**
   * Wait this long after an event before publishing, gathering what follows into the same batch (a durable
   * timer): for an entity that takes messages one after another, so that publishing does not sit between
   * one message's answer and the next.
   */
  gatherMs?: number;
}

/**
 * The event stamped with the trace context of the workflow code adding it (the update or run that changed
 * the entity, as the tracing interceptors, workflows/tracing-interceptors.ts, set it from Temporal's headers), or
 * with the one the caller gives (a change made from a start's input: its caller's).
 * Only context is read (no ids drawn), so it is deterministic; the publishing activity decides what leaves.
 */
function withTraceContext(event: CloudEvent, carrier: TraceCarrier = currentTraceContext()): CloudEvent {
  if (carrier.traceparent === undefined) return event;
  return { ...event, traceparent: carrier.traceparent, ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) };
}

export class EventOutbox {
  private readonly pending: CloudEvent[];
  /** The JSON size of each pending event, in order (measured only when a byte bound is set). */
  private readonly sizes: number[];
  /** The next batch is tried as a local activity first (see above); set by `add(…, { atOnce: true })`. */
  private atOnce = false;

  constructor(
    pending: CloudEvent[] = [],
    private readonly options: OutboxOptions = {},
  ) {
    this.pending = [...pending];
    this.sizes = options.maxBytes === undefined ? [] : this.pending.map(jsonBytes);
  }

  /**
   * Adds the event with the trace context it was made in (or `traceContext`), so its consumer joins that trace
   * (events/trace-context.ts).
   */
  add(event: CloudEvent, { atOnce = false, traceContext }: { atOnce?: boolean; traceContext?: TraceCarrier } = {}): void {
    if (atOnce) this.atOnce = true;
    const stamped = withTraceContext(event, traceContext);
    this.pending.push(stamped);
    if (this.options.maxBytes !== undefined) this.sizes.push(jsonBytes(stamped));
  }

  get isEmpty(): boolean {
    return this.pending.length === 0;
  }

  /** Holds as many events as it should (Redis has been away): take no new work that adds more. */
  get full(): boolean {
    const { maxEvents = Infinity, maxBytes } = this.options;
    return this.pending.length >= maxEvents || (maxBytes !== undefined && this.bytes >= maxBytes);
  }

  get size(): { events: number; bytes: number } {
    return { events: this.pending.length, bytes: this.bytes };
  }

  private get bytes(): number {
    return this.sizes.reduce((sum, n) => sum + n, 0);
  }

  snapshot(): CloudEvent[] {
    return [...this.pending];
  }

  /** Publishes everything pending, for an entity about to complete (as runs recorded before continue-as-new on delete did). */
  async flush(): Promise<void> {
    await this.run(() => this.pending.length === 0);
  }

  /** Publishes until `stop()` holds (the entity wants to continue as new, or is done). */
  async run(stop: () => boolean): Promise<void> {
    // One promise for the whole loop: a condition per batch would pile up unresolved conditions.
    const stopped = this.options.stopMidPublish ? condition(stop) : undefined;
    for (;;) {
      await condition(() => this.pending.length > 0 || stop());
      if (stop()) return;
      // Gathering ends early when the run is about to end (what it gathered is published before it does) or
      // when the batch is full.
      if (this.options.gatherMs !== undefined) await condition(() => stop() || this.pending.length >= BATCH, this.options.gatherMs);
      const batch = this.pending.slice(0, BATCH);
      if (this.atOnce) {
        this.atOnce = false;
        const published = await publishAtOnce.executeWithOptions({ summary: `Publish ${batch.length} event(s)` }, [batch]).then(
          () => true,
          () => false,
        );
        if (published) {
          this.pending.splice(0, batch.length);
          this.sizes.splice(0, batch.length);
          continue;
        }
      }
      const publishing = publishEvents.executeWithOptions({ summary: `Publish ${batch.length} event(s)` }, [batch]);
      if (stopped) {
        let settled = false;
        const ended = publishing.then(
          () => (settled = true),
          () => (settled = true),
        );
        const first = await Promise.race([ended.then(() => 'published' as const), stopped.then(() => 'stop' as const)]);
        if (first === 'stop' && !(await condition(() => settled, STOP_GRACE))) {
          // Redis is away: left to its retries until the run ends; the batch stays pending and goes with the next run.
          publishing.catch(() => undefined);
          return;
        }
      }
      await publishing;
      this.pending.splice(0, batch.length);
      this.sizes.splice(0, batch.length);
    }
  }
}
