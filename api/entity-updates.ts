/**
 * Per-entity admission for updates sent by this API process.
 *
 * Temporal admits at most 10 in-flight updates per workflow (`history.maxInFlightUpdates`) and answers
 * RESOURCE_EXHAUSTED beyond that. A burst on one entity (100 chat messages from one user at once) would
 * otherwise spend the client's retries racing for those slots, and the unlucky requests would fail. Here
 * each entity gets a FIFO lane: at most `concurrency` updates in flight from this process, the rest wait
 * their turn in arrival order, and past `queueLimit` waiting the caller gets 429 at once.
 */
import { ApiError } from './errors';

interface Lane {
  active: number;
  waiting: (() => void)[];
}

export interface EntityUpdateQueueStats {
  /** Updates sent and not yet answered, over every entity. */
  inFlight: number;
  /** Requests waiting for a slot, over every entity. */
  waiting: number;
  /** The longest single entity's wait line. */
  deepestLane: number;
  /** Requests answered 429 because their entity's line was full, since start. */
  rejected: number;
}

export class EntityUpdateQueue {
  private readonly lanes = new Map<string, Lane>();
  private rejected = 0;

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
  ) {}

  /** Runs `send` when the entity `workflowId` has a free slot. */
  async run<T>(workflowId: string, send: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(workflowId);
    if (!lane) this.lanes.set(workflowId, (lane = { active: 0, waiting: [] }));
    if (lane.active >= this.concurrency) {
      if (lane.waiting.length >= this.queueLimit) {
        this.rejected++;
        throw new ApiError(429, `Too many requests waiting for ${workflowId}; try again shortly`);
      }
      await new Promise<void>((admit) => lane.waiting.push(admit));
    } else {
      lane.active++;
    }
    try {
      return await send();
    } finally {
      const next = lane.waiting.shift();
      // The slot passes straight to the next waiter; an idle lane is forgotten.
      if (next) next();
      else if (--lane.active === 0) this.lanes.delete(workflowId);
    }
  }

  /** Entities with updates in flight or waiting (for tests and metrics). */
  get size(): number {
    return this.lanes.size;
  }

  /** For the metrics (api/metrics.ts); walks the lanes, which are only the busy entities. */
  stats(): EntityUpdateQueueStats {
    let inFlight = 0;
    let waiting = 0;
    let deepestLane = 0;
    for (const lane of this.lanes.values()) {
      inFlight += lane.active;
      waiting += lane.waiting.length;
      deepestLane = Math.max(deepestLane, lane.waiting.length);
    }
    return { inFlight, waiting, deepestLane, rejected: this.rejected };
  }
}
