/**
 * 3. Chat round trip: POST /chat/{user} vs a bare update on a trivial workflow, one at a time; and hop by
 * hop, so the difference is accounted for: the chat entity's own update (`processMessage` sent straight to
 * a running chat: the handler and its event), the chat's client (update-with-start and its resend loop),
 * then the HTTP API around it (routing, validation, the update lane, JSON).
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { ChatEntityClient } from '../../clients/chat-entity';
import { processMessageUpdate } from '../../entities/chat/messages';
import { chatEntityWorkflowId } from '../../workflows/shared/ids';
import { bumpUpdate, TrivialEntityWorkflow } from '../baseline-workflows';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { median, round, sequential, type Latency } from '../stats';

export async function chat(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 30 : 300;
  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const ours: Latency[] = [];
  const bare: Latency[] = [];
  const bareWithStart: Latency[] = [];
  const entityUpdate: Latency[] = [];
  const viaClient: Latency[] = [];
  const chats = new ChatEntityClient(ctx.client, ctx.config.TASK_QUEUE);
  for (let r = 0; r < ctx.repeats; r++) {
    const tag = `bench-${Date.now().toString(36)}-${r}`;
    ours.push(
      await sequential(n, async (i) => {
        const res = await fetch(`${ctx.apiUrl}/chat/${tag}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content: `message ${i}` }),
        });
        if (res.status !== 200) throw new Error(`POST /chat answered ${res.status}`);
        await res.arrayBuffer();
      }),
    );
    // The same chat entity, past the API: its update alone, then through its client.
    const entity = ctx.client.workflow.getHandle(chatEntityWorkflowId(tag));
    entityUpdate.push(await sequential(n, (i) => entity.executeUpdate(processMessageUpdate, { args: [{ content: `straight ${i}` }] })));
    viaClient.push(await sequential(n, (i) => chats.send(tag, { content: `client ${i}` })));
    const trivial = await ctx.client.workflow.start(TrivialEntityWorkflow, { workflowId: `trivial-${tag}`, taskQueue: ctx.baselineQueue });
    bare.push(await sequential(n, (i) => trivial.executeUpdate(bumpUpdate, { args: [String(i)] })));
    // What the chat route does: update-with-start, so a user's first message creates the entity.
    bareWithStart.push(
      await sequential(n, (i) =>
        ctx.client.workflow.executeUpdateWithStart(bumpUpdate, {
          args: [String(i)],
          startWorkflowOperation: new WithStartWorkflowOperation(TrivialEntityWorkflow, {
            workflowId: `trivial-ws-${tag}`,
            taskQueue: ctx.baselineQueue,
            workflowIdConflictPolicy: 'USE_EXISTING',
          }),
        }),
      ),
    );
  }
  const p = (xs: Latency[], key: 'p50' | 'p99') => round(median(xs.map((x) => x[key])));
  const oursP50 = p(ours, 'p50');
  const bareP50 = p(bare, 'p50');
  ctx.log(`chat: POST /chat p50 ${oursP50} ms p99 ${p(ours, 'p99')} ms; bare update p50 ${bareP50} ms; bare update-with-start p50 ${p(bareWithStart, 'p50')} ms`);
  ctx.log(`chat: hop by hop p50: entity update ${p(entityUpdate, 'p50')} ms, through its client ${p(viaClient, 'p50')} ms, through the API ${oursP50} ms`);
  return {
    name: 'chat',
    title: 'Chat round trip vs a bare update (ms)',
    figures: {
      messagesPerRun: n,
      ours,
      bare,
      bareWithStart,
      oursP50,
      oursP99: p(ours, 'p99'),
      bareP50,
      bareP99: p(bare, 'p99'),
      bareWithStartP50: p(bareWithStart, 'p50'),
      hops: { entityUpdateP50: p(entityUpdate, 'p50'), clientP50: p(viaClient, 'p50'), apiP50: oursP50 },
      entityUpdate,
      viaClient,
      ratioP50: round(oursP50 / bareP50),
    },
    goals: [goal('POST /chat p50 / bare update p50', oursP50 / bareP50, 1.5, 'atMost'), goal('POST /chat p50', oursP50, 25, 'atMost', 'ms')],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
