/**
 * 6. Agent turn: one message whose turn makes 2 tool calls (get_task and get_current_time, in parallel)
 * with an instant scripted model, sent to the chat entity as an update, vs a bare workflow running the same
 * activities (bench/baseline-workflows.ts BareAgentTurnWorkflow), one turn at a time.
 */
import { ChatEntityWorkflow } from '../../entities/chat/workflow';
import { ChatEntityClient } from '../../clients/chat-entity';
import { TaskEntityClient } from '../../clients/task-entity';
import { agentTurnUpdate, BareAgentTurnWorkflow } from '../baseline-workflows';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { median, round, sequential, type Latency } from '../stats';
import type { ModelServer } from '../../test/helpers/model-server';

/** The model of this scenario: asks for the two tools, then answers once it has their results. */
export function agentModel(taskId: string): ModelServer['respond'] {
  return (request) =>
    request.messages.at(-1)?.role === 'tool'
      ? { text: 'Done.' }
      : { toolCalls: [{ name: 'get_task', arguments: { task_id: taskId } }, { name: 'get_current_time', arguments: {} }] };
}

export async function agent(ctx: BenchContext & { agentQueue: string; model: ModelServer }): Promise<ScenarioResult> {
  const n = ctx.quick ? 20 : 200;
  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const tag = `bench-agent-${Date.now().toString(36)}`;
  const taskId = `${tag}-task`;
  await new TaskEntityClient(ctx.client, ctx.config.TASK_QUEUE).create(taskId, { title: 'Review PR #42', description: 'Review the authentication refactoring pull request' });
  ctx.model.respond = agentModel(taskId);
  const ours: Latency[] = [];
  const bare: Latency[] = [];
  // Messages go through the chat's client, as the API sends them: one that arrives while the chat continues as
  // new is sent again. A quick run's chat continues as new every 150 events, so CI meets that path too.
  const chats = new ChatEntityClient(ctx.client, ctx.agentQueue);
  for (let r = 0; r < ctx.repeats; r++) {
    const user = `${tag}-${r}`;
    const chat = await ctx.client.workflow.start(ChatEntityWorkflow, {
      workflowId: `chat-entity-${user}`,
      taskQueue: ctx.agentQueue,
      args: [{ user_id: user, ...(ctx.quick ? { history_limit: 150 } : {}) }],
    });
    ours.push(
      await sequential(n, async (i) => {
        const reply = await chats.send(user, { content: `What is ${taskId}? (${i})` });
        if (reply.content !== 'Done.') throw new Error(`The agent answered ${JSON.stringify(reply.content)}`);
      }),
    );
    const turns = await ctx.client.workflow.start(BareAgentTurnWorkflow, { workflowId: `bare-agent-${tag}-${r}`, taskQueue: ctx.baselineQueue });
    bare.push(await sequential(n, (i) => turns.executeUpdate(agentTurnUpdate, { args: [{ content: `What is ${taskId}? (${i})`, task_id: taskId }] })));
    await Promise.all([chat.terminate('benchmark done'), turns.terminate('benchmark done')]);
  }
  const p = (xs: Latency[], key: 'p50' | 'p99') => round(median(xs.map((x) => x[key])));
  const oursP50 = p(ours, 'p50');
  const bareP50 = p(bare, 'p50');
  ctx.log(`agent: turn with 2 tool calls p50 ${oursP50} ms p99 ${p(ours, 'p99')} ms; bare p50 ${bareP50} ms p99 ${p(bare, 'p99')} ms`);
  return {
    name: 'agent',
    title: 'Agent turn with 2 tool calls vs a bare workflow running the same activities (ms)',
    figures: { turnsPerRun: n, ours, bare, oursP50, oursP99: p(ours, 'p99'), bareP50, bareP99: p(bare, 'p99'), ratioP50: round(oursP50 / bareP50) },
    goals: [goal('agent turn p50 / bare turn p50', oursP50 / bareP50, 1.5, 'atMost')],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
