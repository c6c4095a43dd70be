/**
 * An entity's outbox: events are added in the same activation as the state change they describe, and a
 * loop in the entity publishes them through an activity that retries until Redis takes them. A Redis
 * outage delays events, never loses them, and never holds up a reply or a mutation. Pending events are
 * carried across continue-as-new.
 */
import { condition, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CloudEvent } from '../events/cloudevents';

const { publishEvents } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  // No attempt limit: an event is published eventually, however long Redis is away.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const BATCH = 100;

export class EventOutbox {
  private readonly pending: CloudEvent[];

  constructor(pending: CloudEvent[] = []) {
    this.pending = [...pending];
  }

  add(event: CloudEvent): void {
    this.pending.push(event);
  }

  snapshot(): CloudEvent[] {
    return [...this.pending];
  }

  /** Publishes everything pending, for an entity about to complete. */
  async flush(): Promise<void> {
    await this.run(() => this.pending.length === 0);
  }

  /** Publishes until `stop()` holds between batches (the entity wants to continue-as-new). */
  async run(stop: () => boolean): Promise<void> {
    for (;;) {
      await condition(() => this.pending.length > 0 || stop());
      if (stop()) return;
      const batch = this.pending.slice(0, BATCH);
      await publishEvents.executeWithOptions({ summary: `Publish ${batch.length} event(s)` }, [batch]);
      this.pending.splice(0, batch.length);
    }
  }
}
