/**
 * A chat stays bounded under a long Redis outage (entities/chat/limits.ts). With Redis away, hundreds of long
 * messages: the chat answers until its outbox holds what it may, then refuses new messages with 503 and
 * Retry-After instead of growing or dropping events; it continues as new all along, each next run's input
 * well under Temporal's 2 MB; once Redis is back every accepted message's event is published exactly once,
 * and the chat takes messages again. On main before the fix the outbox grew without end (and with it every
 * continue-as-new input).
 */
import { describe, expect, it } from 'vitest';
import type { temporal } from '@temporalio/proto';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import { TOPICS } from '../workflows/shared/cloudevents';
import { OUTBOX_MAX_BYTES } from '../entities/chat/limits';
import { eventually, uniqueId } from './helpers/harness';
import { withPrivateRedis } from './helpers/private-redis';
import { streamEvents } from './helpers/streams';

const ctx = withPrivateRedis();

/** The sizes of the inputs each run of a workflow passed to its next (continue-as-new), oldest first. */
async function continueAsNewInputs(workflowId: string): Promise<number[]> {
  const sizes: number[] = [];
  let runId: string | undefined = (await ctx.h.client.workflow.getHandle(workflowId).describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
  while (runId) {
    const { events } = await ctx.h.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const continued = (events as temporal.api.history.v1.IHistoryEvent[]).find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes;
    if (!continued) break;
    sizes.push((continued.input?.payloads ?? []).reduce((sum: number, p) => sum + (p.data?.length ?? 0), 0));
    runId = continued.newExecutionRunId ?? undefined;
  }
  return sizes;
}

describe('a chat under a long Redis outage', () => {
  it('refuses new messages with 503 once its outbox is full, stays small, and publishes every event once after', { timeout: 240_000 }, async () => {
    const user = uniqueId('user-outage');
    const workflowId = chatEntityWorkflowId(user);
    await ctx.h.client.workflow.start('ChatEntityWorkflow', { workflowId, taskQueue: ctx.h.config.TASK_QUEUE, args: [{ user_id: user, history_limit: 50 }] });
    await ctx.redisServer.stop();

    // 4,000 characters each (the most a message may have), several bytes per character.
    const long = (i: number) => `${i} ${'ünïcödé ✓ 日本語 '.repeat(300)}`.slice(0, 4000);
    const accepted: string[] = [];
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const content = long(i);
      const res = await ctx.h.fetch(`/chat/${user}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ content }) });
      if (res.status === 200) {
        accepted.push(content);
        continue;
      }
      const text = await res.text();
      expect(res.status, text).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((JSON.parse(text) as { detail: string }).detail).toMatch(/events \(\d+ KB\) waiting for Redis/);
      refused++;
    }
    console.log(`chat-bounds: ${accepted.length} messages accepted, ${refused} refused with 503 while Redis was away`);
    expect(accepted.length).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(100);

    // Alive all along: it answers reads, and it continued as new with inputs well under 2 MB.
    expect((await ctx.h.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');
    expect(((await ctx.h.getJson(`/chat/${user}/history`)).body.messages as unknown[]).length).toBe(20);
    const inputs = await continueAsNewInputs(workflowId);
    console.log(`chat-bounds: continue-as-new inputs ${inputs.map((n) => `${Math.round(n / 1024)} KB`).join(', ')}`);
    expect(inputs.length).toBeGreaterThan(1);
    expect(Math.max(...inputs)).toBeLessThan(OUTBOX_MAX_BYTES + 512 * 1024);

    // Redis back: every accepted message's event is published, once, and the chat takes messages again.
    await ctx.redisServer.resume();
    const mine = (events: Awaited<ReturnType<typeof streamEvents<{ user_id: string; user_message: { content: string } | null }>>>) =>
      events.filter((e) => e.data.user_id === user);
    const events = await eventually(
      async () => mine(await streamEvents(ctx.h.redis, ctx.h.config.REDIS_KEY_PREFIX, TOPICS.conversations)),
      (found) => found.length >= accepted.length,
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    expect(events.map((e) => e.data.user_message!.content)).toEqual(accepted);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const after = await eventually(
      () => ctx.h.postJson(`/chat/${user}`, { content: 'Redis is back' }),
      (r) => r.status === 200,
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(after.body.content).toMatch(/^Understood/);
  });
});
