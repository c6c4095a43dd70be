/**
 * Bare Temporal, the benchmarks' baseline: the least a workflow of the same shape can cost on the same
 * server and worker settings. Bundled on its own (bench/baseline-worker.ts), never by the service.
 */
import { condition, defineQuery, defineUpdate, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { createAgentToolActivities } from '../activities/agent-tools';
import type { createModelActivities } from '../activities/model';
import type { baselineActivities } from './baseline-activities';

type BareAgentActivities = ReturnType<typeof createModelActivities> & ReturnType<typeof createAgentToolActivities>;

const { noop } = proxyActivities<typeof baselineActivities>({ startToCloseTimeout: '10 seconds' });

/** Five activities in a row that do nothing: TaskProcessingWorkflow's step count without its work. */
export async function BareFiveStepWorkflow(): Promise<string> {
  for (let step = 0; step < 5; step++) await noop();
  return 'done';
}

export const bumpUpdate = defineUpdate<number, [string]>('bump');
export const countQuery = defineQuery<number>('count');

/** A long-lived workflow with one trivial update and one query: what an entity costs at the minimum. */
export async function TrivialEntityWorkflow(): Promise<void> {
  let count = 0;
  setHandler(bumpUpdate, () => ++count);
  setHandler(countQuery, () => count);
  await condition(() => false);
}

export const setDueUpdate = defineUpdate<void, [number]>('setDue');
export const firedAtQuery = defineQuery<number | null>('firedAt');

/**
 * An entity with a deadline and nothing else: a durable timer set by an update, and the workflow time at
 * which it fired. What the scale scenario's evicted queries and simultaneous deadlines cost at the minimum.
 */
export async function BareTimerEntityWorkflow(): Promise<void> {
  let dueAt: number | null = null;
  let firedAt: number | null = null;
  setHandler(setDueUpdate, (at) => void (dueAt = at));
  setHandler(firedAtQuery, () => firedAt);
  await condition(() => dueAt !== null);
  await sleep(Math.max(1, dueAt! - Date.now()));
  firedAt = Date.now();
  await condition(() => false);
}

export const agentTurnUpdate = defineUpdate<string, [{ content: string; task_id: string }]>('agentTurn');

/**
 * The least an agent turn with two tool calls costs: on an update, the model is asked, the two tools it
 * calls run in parallel, and the model is asked again for the text. The same activities as the chat entity
 * (the real model-call and tool activities, against the same scripted model) with the same options, and
 * nothing else: no history, no approvals, no events.
 */
export async function BareAgentTurnWorkflow(): Promise<void> {
  const model = proxyActivities<BareAgentActivities>({ startToCloseTimeout: '20 seconds', heartbeatTimeout: '5 seconds', retry: { maximumAttempts: 4 } });
  const tools = proxyActivities<BareAgentActivities>({ startToCloseTimeout: '30 seconds', heartbeatTimeout: '5 seconds', retry: { maximumAttempts: 5 } });
  setHandler(agentTurnUpdate, async ({ content, task_id }) => {
    const user = { role: 'user' as const, content };
    const first = await model.callModel({ messages: [user], tools: [] });
    const results = await Promise.all(
      first.tool_calls.map((call) =>
        tools.agentTool({ tool: call.name as 'get_task', args: { task_id }, user: { user_id: 'bench', email: null } }),
      ),
    );
    const second = await model.callModel({
      messages: [user, ...results.map((r, i) => ({ role: 'tool' as const, tool_call_id: first.tool_calls[i]!.id, content: JSON.stringify(r) }))],
      tools: [],
    });
    return second.content ?? '';
  });
  await condition(() => false);
}
