/**
 * The agent without a model: slash commands run the same tools deterministically (the seed's three rule
 * replies for everything else are in chat.test.ts), an approval nobody decides is denied by a durable timer,
 * and a pending approval survives continue-as-new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import type { ChatEntry } from '../common/schemas';
import { TOPICS } from '../workflows/shared/cloudevents';
import { HELP } from '../entities/chat/agent/commands';
import { createEntity, readTask, taskClient } from './helpers/entity';
import { Harness, eventually, uniqueId } from './helpers/harness';
import { streamEvents } from './helpers/streams';

// Approvals expire after 3 s here; the continue-as-new test has its own harness with the default 24 h.
let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ env: { AGENT_APPROVAL_TIMEOUT: '3s' } });
});
afterAll(() => h?.close());

async function send(user: string, content: string, on = h) {
  const res = await on.postJson(`/chat/${user}`, { content });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.content as string;
}
const approvalsOf = async (user: string, on = h) =>
  (await on.getJson(`/chat/${user}/approvals`)).body.approvals as { approval_id: string; summary: string; expires_at: string }[];
async function task(name: string, on = h) {
  const taskId = uniqueId(name);
  await createEntity(on, taskId);
  return taskId;
}

describe('slash commands without a model', () => {
  it('run the tools and say what they did', async () => {
    const user = uniqueId('user-cmd');
    const taskId = await task('task-cmd');
    expect(await send(user, '/help')).toBe(HELP);
    expect(await send(user, '/frobnicate now')).toBe(`There is no command /frobnicate.\n${HELP}`);
    expect(await send(user, `/task ${taskId}`)).toBe(`${taskId} "Review PR #42": pending (version 1)`);
    expect(await send(user, `/assign ${taskId}`)).toBe('Invalid arguments for assign_task: assignee: is required\nUsage: /assign <id> <assignee>');
    expect(await send(user, `/assign ${taskId} bob@example.com`)).toBe(`${taskId} "Review PR #42": assigned, assigned to bob@example.com (version 2)`);
    expect(await send(user, `/status ${taskId} in_progress`)).toBe(`${taskId} "Review PR #42": in_progress, assigned to bob@example.com (version 3)`);
    expect(await send(user, '/task task-nowhere')).toBe('Task task-nowhere does not exist');
    expect(await send(user, '/tasks mine')).toMatch(/^No verified e-mail address is known for the user/);
    await eventually(() => h.getJson('/tasks?status=in_progress'), (r) => JSON.stringify(r.body).includes(taskId));
    const listed = await send(user, '/tasks in_progress');
    expect(listed).toMatch(new RegExp(`^Open tasks:\n(.*\n)*- ${taskId}: in_progress, bob@example.com`));

    expect(await send(user, `/deadline ${taskId} 3600`)).toMatch(new RegExp(`^${taskId} "Review PR #42": in_progress, assigned to bob@example.com, due \\S+ \\(version 4\\)$`));
    expect(await send(user, '/undo')).toBe(`Undid the task changes of "/deadline ${taskId} 3600":\n- ${taskId}: deadline back to none`);
    expect(await readTask(h, taskId)).toMatchObject({ deadline: null, status: 'in_progress', version: 5 });

    const asked = await send(user, `/delete ${taskId}`);
    expect(asked).toContain(`- ${taskId}: deleted ("Review PR #42", assigned to bob@example.com)`);
    const [approval] = await approvalsOf(user);
    expect(await send(user, `/approve ${approval!.approval_id}`)).toBe(`${taskId}: deleted`);
    expect(await taskClient(h).get(taskId)).toBeNull();
    expect(await send(user, `/approve ${approval!.approval_id}`)).toMatch(/^No change is waiting for approval/);
    // Plain messages still get the seed's rule replies.
    expect(await send(user, 'Good morning')).toBe("Understood. I'm tracking our conversation (message #15).");
  });

  it('denies a change nobody decided on when AGENT_APPROVAL_TIMEOUT passes', async () => {
    const user = uniqueId('user-timeout');
    const taskId = await task('task-timeout');
    await send(user, `/delete ${taskId}`);
    const [approval] = await approvalsOf(user);
    const wait = Date.parse(approval!.expires_at) - Date.now();
    expect(wait).toBeGreaterThan(1_000);
    expect(wait).toBeLessThanOrEqual(3_000);

    await eventually(() => approvalsOf(user), (a) => a.length === 0, { timeoutMs: 15_000 });
    const { messages } = (await h.getJson(`/chat/${user}/history`)).body as { messages: ChatEntry[] };
    expect(messages.at(-1)).toMatchObject({
      role: 'assistant',
      content: `No decision came in time, so I did not do: ${approval!.summary}.\nNot done: nobody decided in time (${approval!.summary})`,
    });
    expect(await readTask(h, taskId)).toMatchObject({ version: 1 });
    const events = await eventually(
      () => streamEvents<{ user_id: string; user_message: ChatEntry | null; tool_calls?: { outcome: string }[] }>(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.conversations),
      (e) => e.filter((x) => x.data.user_id === user).length === 2,
    );
    const expired = events.filter((x) => x.data.user_id === user)[1]!.data;
    expect(expired.user_message).toBeNull();
    expect(expired.tool_calls).toEqual([expect.objectContaining({ tool: 'delete_task', outcome: 'expired' })]);
  });
});

describe('a pending approval across continue-as-new', () => {
  let patient: Harness;
  beforeAll(async () => {
    patient = await Harness.start();
  });
  afterAll(() => patient?.close());

  it('is still there in the next run, and deciding it applies the change', { timeout: 60_000 }, async () => {
    const user = uniqueId('user-can');
    const taskId = await task('task-can', patient);
    const started = await patient.client.workflow.start('ChatEntityWorkflow', {
      workflowId: chatEntityWorkflowId(user),
      taskQueue: patient.config.TASK_QUEUE,
      args: [{ user_id: user, history_limit: 60 }],
    });
    await send(user, `/delete ${taskId}`, patient);
    const [approval] = await approvalsOf(user, patient);
    for (let i = 0; (await started.describe()).runId === started.firstExecutionRunId; i++) {
      expect(i).toBeLessThan(60);
      expect(await send(user, `still there? ${i}`, patient)).toContain(approval!.approval_id);
    }
    expect(await approvalsOf(user, patient)).toEqual([approval]);
    expect(await send(user, `/approve ${approval!.approval_id}`, patient)).toBe(`${taskId}: deleted`);
    expect(await taskClient(patient).get(taskId)).toBeNull();
  });
});
