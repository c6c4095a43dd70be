/**
 * A chat never fails and never wedges because a call it makes fails. Faults are injected around the real
 * activities (the activity fails for good: a non-retryable failure) at each point of a turn: before an
 * approval (reading the tasks to show), after it (the approved change), at the approval's expiry, during
 * undo, and across continue-as-new. After each the chat's run is still running, its next message is
 * answered normally, and its profile and history are intact. On main before the fix, the approved change
 * failing left the turn waiting with nothing to decide, the expiry failed the whole ChatEntityWorkflow, and
 * an undo that failed part-way could not be asked again.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activities } from '../activities';
import type { AgentToolInput, UndoChangeInput } from '../activities/agent-tools';
import type { ChatEntry } from '../common/schemas';
import type { TurnState } from '../entities/chat/agent/turn';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import { createEntity, readTask, taskClient } from './helpers/entity';
import { Harness, eventually, uniqueId } from './helpers/harness';
import { scripted, startModelServer, toolMessages, type ModelServer } from './helpers/model-server';

/** Which calls fail for good in the current test. */
const faults: { tool?: (input: AgentToolInput) => boolean; read?: boolean; undo?: (input: UndoChangeInput) => boolean } = {};
const broken = (what: string) => ApplicationFailure.nonRetryable(`${what} failed for good (injected)`, 'Injected');

function wrap(real: Activities): Partial<Activities> {
  return {
    agentTool: async (input) => {
      if (faults.tool?.(input)) throw broken(input.tool);
      return real.agentTool(input);
    },
    readTasks: async (input) => {
      if (faults.read) throw broken('readTasks');
      return real.readTasks(input);
    },
    undoChange: async (input) => {
      if (faults.undo?.(input)) throw broken(`undo of ${input.change.task_id}`);
      return real.undoChange(input);
    },
  };
}

let model: ModelServer;
let h: Harness;
/** Approvals expire after 3 s here. */
let hasty: Harness;
beforeAll(async () => {
  model = await startModelServer();
  const env = { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted' };
  h = await Harness.start({ env, wrapActivities: wrap });
  hasty = await Harness.start({ env: { ...env, AGENT_APPROVAL_TIMEOUT: '3s' }, wrapActivities: wrap });
});
afterAll(async () => {
  await h?.close();
  await hasty?.close();
  model?.close();
});

const PROFILE = { name: 'Alice', email: null, preferred_style: 'brief', summary: 'Tests the hard paths' };

/** A user with a profile, as each test's chat starts. */
async function user(name: string, on = h): Promise<string> {
  const id = uniqueId(name);
  const res = await on.fetch(`/chat/${id}/profile`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(PROFILE) });
  expect(res.status).toBe(200);
  return id;
}
async function send(on: Harness, id: string, content: string): Promise<string> {
  const res = await on.postJson(`/chat/${id}`, { content });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.content as string;
}
const approvalsOf = async (on: Harness, id: string) => (await on.getJson(`/chat/${id}/approvals`)).body.approvals as { approval_id: string; summary: string }[];
const historyOf = async (on: Harness, id: string) => ((await on.getJson(`/chat/${id}/history`)).body.messages as ChatEntry[]) ?? [];
async function task(on: Harness, name: string, assignee?: string) {
  const id = uniqueId(name);
  await createEntity(on, id);
  if (assignee) await taskClient(on).assign(id, assignee);
  return id;
}

/** The chat goes on: its run is running, a message is answered by the model, profile and history are as they were. */
async function goesOn(on: Harness, id: string, entriesBefore: number) {
  expect((await on.client.workflow.getHandle(chatEntityWorkflowId(id)).describe()).status.name).toBe('RUNNING');
  expect(await approvalsOf(on, id)).toEqual([]);
  model.respond = scripted({ text: 'Still here.' });
  expect(await send(on, id, 'Are you still there?')).toBe('Still here.');
  expect((await on.getJson(`/chat/${id}/profile`)).body).toMatchObject(PROFILE);
  const history = await historyOf(on, id);
  expect(history).toHaveLength(Math.min(entriesBefore + 2, 20)); // the last 10 exchanges are kept
  expect(history.at(-2)).toMatchObject({ role: 'user', content: 'Are you still there?' });
}

function reset() {
  for (const key of Object.keys(faults)) delete faults[key as keyof typeof faults];
}

describe('a call that fails for good inside a turn', () => {
  it('before an approval: the tasks to show cannot be read; the changes are not run and the model hears why', async () => {
    reset();
    const id = await user('fail-before');
    const taskId = await task(h, 'fail-before-task', 'bob@example.com');
    faults.read = true;
    model.respond = scripted({ toolCalls: [{ name: 'delete_task', arguments: { task_id: taskId } }] }, (request) => ({ text: `Noted: ${toolMessages(request)[0]!.content}` }));
    const reply = await send(h, id, `Delete ${taskId}`);
    expect(reply).toMatch(/^Noted: \{"error":"Reading .* failed: readTasks failed for good \(injected\)"\}$/);
    reset();
    expect(await readTask(h, taskId)).toMatchObject({ version: 2 });
    await goesOn(h, id, 2);
  });

  it('after the approval: the approved change fails; the turn ends with the failure and nothing stays waiting', async () => {
    reset();
    const id = await user('fail-after');
    const taskId = await task(h, 'fail-after-task', 'bob@example.com');
    model.respond = scripted({ toolCalls: [{ name: 'delete_task', arguments: { task_id: taskId } }] }, (request) => ({ text: `Told: ${toolMessages(request)[0]!.content}` }));
    expect(await send(h, id, `Delete ${taskId}`)).toContain(`${taskId}: deleted`);
    const [approval] = await approvalsOf(h, id);
    faults.tool = (input) => input.tool === 'delete_task';
    const decided = await h.postJson(`/chat/${id}/approvals/${approval!.approval_id}`, { approved: true });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    expect(decided.body.content).toBe('Told: {"error":"delete_task failed: delete_task failed for good (injected)"}');
    reset();
    expect(await readTask(h, taskId)).toMatchObject({ version: 2 });
    await goesOn(h, id, 4);
  });

  it('at the expiry: the change approved beside the one that expired fails; the chat lives on', { timeout: 60_000 }, async () => {
    reset();
    const id = await user('fail-expiry', hasty);
    const [kept, gone] = [await task(hasty, 'fail-expiry-kept', 'bob@example.com'), await task(hasty, 'fail-expiry-gone', 'bob@example.com')];
    model.respond = scripted(
      {
        toolCalls: [
          { name: 'assign_task', arguments: { task_id: kept, assignee: 'carol@example.com' } },
          { name: 'delete_task', arguments: { task_id: gone } },
        ],
      },
      (request) => ({ text: `After the expiry: ${toolMessages(request).map((m) => m.content).join(' | ')}` }),
    );
    await send(hasty, id, 'Give one to carol, delete the other');
    const approvals = await approvalsOf(hasty, id);
    expect(approvals).toHaveLength(2);
    const assign = approvals.find((a) => a.summary.includes(kept))!;
    faults.tool = (input) => input.tool === 'assign_task';
    expect(await send(hasty, id, `/approve ${assign.approval_id}`)).toContain('Noted: approved');
    // The other one expires; the turn resumes on the run's own coroutine with the approved change, which fails.
    const history = await eventually(() => historyOf(hasty, id), (entries) => entries.length === 5, { timeoutMs: 20_000 });
    expect(history.at(-1)!.content).toMatch(/^No decision came in time, so I did not do: .*\nAfter the expiry: \{"error":"assign_task failed: assign_task failed for good \(injected\)"\} \| \{"error":"Not done: nobody decided in time/);
    reset();
    expect(await readTask(hasty, kept)).toMatchObject({ assignee: 'bob@example.com', version: 2 });
    expect(await readTask(hasty, gone)).toMatchObject({ version: 2 });
    await goesOn(hasty, id, 5);
  });

  it('during undo: a revert that fails is kept, and /undo asked again reverts it', async () => {
    reset();
    const id = await user('fail-undo');
    const [first, second] = [await task(h, 'fail-undo-1'), await task(h, 'fail-undo-2')];
    model.respond = scripted(
      {
        toolCalls: [
          { name: 'assign_task', arguments: { task_id: first, assignee: 'dave@example.com' } },
          { name: 'assign_task', arguments: { task_id: second, assignee: 'dave@example.com' } },
        ],
      },
      { text: 'Dave has both.' },
    );
    expect(await send(h, id, 'Give both to dave')).toBe('Dave has both.');
    faults.undo = (input) => input.change.task_id === first;
    const partly = await send(h, id, '/undo');
    expect(partly).toContain(`- ${second}: assignee back to none, status back to pending`);
    expect(partly).toContain(`- ${first}: not reverted yet (undo of ${first} failed for good (injected))`);
    expect(partly).toContain('Ask /undo again to revert what is left.');
    expect(await readTask(h, first)).toMatchObject({ assignee: 'dave@example.com' });
    reset();
    const rest = await h.postJson(`/chat/${id}/undo`, {});
    expect(rest.body.content).toBe(`Undid the task changes of "Give both to dave":\n- ${first}: assignee back to none, status back to pending`);
    expect(await readTask(h, first)).toMatchObject({ assignee: null, status: 'pending' });
    expect(await send(h, id, '/undo')).toBe('Nothing to undo: none of your turns has changed a task since the last undo.');
    await goesOn(h, id, 8);
  });

  it('across continue-as-new: a waiting turn carried over, whose approved change then fails', { timeout: 90_000 }, async () => {
    reset();
    const id = uniqueId('fail-can');
    const started = await h.client.workflow.start('ChatEntityWorkflow', {
      workflowId: chatEntityWorkflowId(id),
      taskQueue: h.config.TASK_QUEUE,
      args: [{ user_id: id, history_limit: 60, profile: PROFILE }],
    });
    const taskId = await task(h, 'fail-can-task', 'bob@example.com');
    model.respond = scripted({ toolCalls: [{ name: 'delete_task', arguments: { task_id: taskId } }] });
    await send(h, id, `Delete ${taskId}`);
    const [approval] = await approvalsOf(h, id);
    let entries = 2;
    for (let i = 0; (await started.describe()).runId === started.firstExecutionRunId; i++) {
      expect(i).toBeLessThan(60);
      expect(await send(h, id, `still there? ${i}`)).toContain(approval!.approval_id);
      entries += 2;
    }
    faults.tool = (input) => input.tool === 'delete_task';
    model.respond = scripted((request) => ({ text: `Told: ${toolMessages(request)[0]!.content}` }));
    expect(await send(h, id, `/approve ${approval!.approval_id}`)).toBe('Told: {"error":"delete_task failed: delete_task failed for good (injected)"}');
    reset();
    await goesOn(h, id, entries + 2);
  });

  it('heals a chat left waiting with nothing to decide (as a failed tool left chats before the fix)', async () => {
    const id = uniqueId('stale-wait');
    const stale: TurnState = {
      turn_id: 'turn-stale',
      driver: 'command',
      user_entry: { role: 'user', content: '/delete t', timestamp: new Date().toISOString() },
      message_number: 1,
      steps: 0,
      messages: [],
      waiting: [],
      log: [],
      changes: [],
    };
    await h.client.workflow.start('ChatEntityWorkflow', {
      workflowId: chatEntityWorkflowId(id),
      taskQueue: h.config.TASK_QUEUE,
      args: [{ user_id: id, profile: PROFILE, pending_turn: stale }],
    });
    await goesOn(h, id, 0);
  });
});
