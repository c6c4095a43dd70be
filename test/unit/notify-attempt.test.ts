/**
 * The notifications app's first attempt runs outside an activity (notifications/handler.ts), where no
 * start-to-close timeout bounds it: the attempt bounds itself. Redis here is a stand-in that never answers,
 * the one way to make a real write stall without pausing every other test's Redis.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createNotifyActivities } from '../../activities/notify';
import type { RedisConnection } from '../../common/redis';

const request = { task_id: 't-1', assignee: 'alice@example.com', title: 'Review', workflow_id: 'task-workflow-t-1', idempotency_key: 'task-workflow-t-1/run/notify-assignee' };

/** A Redis whose writes never answer (without the bound, the attempt would never end and the test time out). */
const stalled = () => ({ redis: { hset: () => new Promise(() => undefined) } as unknown as RedisConnection });

describe('a first attempt outside an activity', () => {
  it('fails as the notification service being unavailable when Redis does not answer in its time', async () => {
    const { redis } = stalled();
    const { notifyAssignee } = createNotifyActivities({ redis, keyPrefix: 'p:', timeoutMs: 5_000, failureRate: 0 });
    const err = await notifyAssignee(request, { timeoutMs: 100, signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'NotifyUnavailable', nonRetryable: false, message: 'Notification service unavailable for alice@example.com: Redis did not answer within 100 ms' });
  });

  it('stops when its request is given up', async () => {
    const { redis } = stalled();
    const { notifyAssignee } = createNotifyActivities({ redis, keyPrefix: 'p:', timeoutMs: 5_000, failureRate: 0 });
    const abort = new AbortController();
    const attempt = notifyAssignee(request, { timeoutMs: 60_000, signal: abort.signal }).catch((e: unknown) => e);
    abort.abort();
    expect(await attempt).toMatchObject({ type: 'NotifyUnavailable', message: 'Notification service unavailable for alice@example.com: Redis did not answer (cancelled)' });
  });
});
