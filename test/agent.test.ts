/**
 * The chat as a task agent, against real task entities on the real dev server, with a scripted model that
 * speaks the OpenAI function-calling protocol: tool calls (parallel ones too), tool failures handed back to
 * the model, approvals (API, temporal CLI, timeout), undo, the user's profile, the step limit and model
 * failures. Slash commands without a model, approval timeouts and continue-as-new are in agent-commands.test.ts;
 * exactly-once under retries and SIGKILL in agent-crash.test.ts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { chatEntityWorkflowId } from '../workflows/shared/ids';
import { TOPICS } from '../workflows/shared/cloudevents';
import { createEntity, readTask, taskClient } from './helpers/entity';
import { Harness, eventually, uniqueId } from './helpers/harness';
import { scripted, startModelServer, toolMessages, type ModelServer } from './helpers/model-server';
import { streamEvents } from './helpers/streams';

let model: ModelServer;
let h: Harness;
beforeAll(async () => {
  model = await startModelServer();
  h = await Harness.start({ env: { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted', LLM_API_KEY: 'sk-test', AGENT_MAX_STEPS: '4' } });
});
afterAll(async () => {
  await h?.close();
  model?.close();
});
beforeEach(() => {
  model.requests.length = 0;
});

const send = (user: string, content: string) => h.postJson(`/chat/${user}`, { content });
const approvalsOf = async (user: string) =>
  (await h.getJson(`/chat/${user}/approvals`)).body.approvals as { approval_id: string; tool: string; arguments: Record<string, unknown>; summary: string; expires_at: string }[];
/** A task with this id, assigned to `assignee` when given. */
async function task(name: string, assignee?: string) {
  const taskId = uniqueId(name);
  await createEntity(h, taskId);
  if (assignee) await taskClient(h).assign(taskId, assignee);
  return taskId;
}
/** What the Web UI shows as the summaries of a chat's activities. */
async function activitySummaries(user: string): Promise<string[]> {
  const { events } = await h.client.workflow.getHandle(chatEntityWorkflowId(user)).fetchHistory();
  return (events ?? []).flatMap((e) => {
    const summary = e.activityTaskScheduledEventAttributes ? e.userMetadata?.summary?.data : undefined;
    return summary ? [JSON.parse(Buffer.from(summary).toString()) as string] : [];
  });
}

describe('tool calls', () => {
  it('answers how a project is doing, and creates a task in it, through tool calls', async () => {
    const user = uniqueId('user-projects');
    const projectId = uniqueId('proj');
    const taskId = await task('task-in-proj', 'bob@example.com');
    model.respond = scripted(
      { toolCalls: [{ name: 'create_project', arguments: { project_id: projectId, name: 'Launch' }, id: 'call_p' }] },
      { toolCalls: [{ name: 'add_task_to_project', arguments: { project_id: projectId, task_id: taskId }, id: 'call_q' }] },
      { toolCalls: [{ name: 'create_task', arguments: { title: 'Book the venue', project_id: projectId }, id: 'call_r' }] },
      { text: 'Done.' },
    );
    expect((await send(user, `Make project ${projectId} with ${taskId} and a venue task`)).body).toMatchObject({ content: 'Done.' });
    const created = JSON.parse(toolMessages(model.requests.at(-1)!).at(-1)!.content!) as { task_id: string };
    await eventually(() => h.getJson(`/projects/${projectId}`), (r) => (r.body.rollup as { tasks: number; unreported: number })?.unreported === 0 && (r.body.rollup as { tasks: number }).tasks === 2);
    expect((await readTask(h, created.task_id)).project_id).toBe(projectId);

    model.requests.length = 0;
    model.respond = scripted({ toolCalls: [{ name: 'get_project', arguments: { project_id: projectId }, id: 'call_s' }] }, { text: 'Half assigned, nothing done yet.' });
    expect((await send(user, `How is project ${projectId} doing?`)).body).toMatchObject({ content: 'Half assigned, nothing done yet.' });
    const seen = JSON.parse(toolMessages(model.requests[1]!)[0]!.content!) as { rollup: Record<string, unknown>; name: unknown };
    expect(seen.rollup).toMatchObject({ tasks: 2, by_status: { assigned: 1, pending: 1 }, done_share: 0 });
    // Created through the CLI-like open API: nobody verified wrote its name, so it reaches the model as data.
    expect(seen.name).toEqual({ untrusted_text: 'Launch', written_by: 'api' });
  });

  it('acts on a task through a tool call and gives the model its result', async () => {
    const user = uniqueId('user-tools');
    const taskId = await task('task-tool');
    model.respond = scripted({ toolCalls: [{ name: 'assign_task', arguments: { task_id: taskId, assignee: 'bob@example.com' }, id: 'call_a' }] }, { text: 'Bob has it now.' });

    const reply = await send(user, `Give ${taskId} to bob@example.com`);
    expect(reply).toMatchObject({ status: 200, body: { role: 'assistant', content: 'Bob has it now.' } });
    expect(await readTask(h, taskId)).toMatchObject({ assignee: 'bob@example.com', status: 'assigned', version: 2 });

    const [first, second] = model.requests;
    expect(first!.headers.authorization).toBe('Bearer sk-test');
    expect(first!.tools!.map((t) => t.function.name).sort()).toEqual(
      ['assign_task', 'create_task', 'delete_task', 'get_current_time', 'get_task', 'list_tasks', 'set_deadline', 'update_status', 'list_projects', 'get_project', 'create_project', 'add_task_to_project'].sort(),
    );
    expect(first!.tools!.find((t) => t.function.name === 'assign_task')!.function.parameters).toMatchObject({
      type: 'object',
      required: ['task_id', 'assignee'],
      additionalProperties: false,
    });
    // The protocol: the assistant's tool call, then a tool message answering it by id.
    expect(second!.messages.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'assign_task' } }] });
    const [result] = toolMessages(second!);
    expect(result).toMatchObject({ tool_call_id: 'call_a' });
    expect(JSON.parse(result!.content!)).toMatchObject({ task_id: taskId, assignee: 'bob@example.com', version: 2 });

    expect(await activitySummaries(user)).toContain(`assign_task ${taskId} → bob@example.com`);
    const events = await eventually(
      () => streamEvents<{ user_id: string; tool_calls?: { tool: string; outcome: string; result: string }[] }>(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.conversations),
      (e) => e.some((x) => x.data.user_id === user),
    );
    expect(events.find((e) => e.data.user_id === user)!.data.tool_calls).toEqual([
      expect.objectContaining({ id: 'call_a', tool: 'assign_task', outcome: 'done', result: expect.stringContaining('assigned to bob@example.com') }),
    ]);
  });

  it('runs the parallel calls of one answer and hands every failure back to the model as that call’s result', async () => {
    const user = uniqueId('user-parallel');
    const [first, second] = [await task('task-par-1'), await task('task-par-2')];
    model.respond = scripted(
      {
        toolCalls: [
          { name: 'get_task', arguments: { task_id: first } },
          { name: 'set_deadline', arguments: { task_id: second, deadline_seconds: 3600 } },
          { name: 'get_task', arguments: { task_id: 'task-nowhere' } },
          { name: 'fly_to_the_moon', arguments: {} },
          { name: 'assign_task', arguments: '{"task_id": "oops' },
          { name: 'update_status', arguments: { task_id: first, status: 'done' } },
          { name: 'update_status', arguments: { task_id: first, status: 'assigned' } },
        ].map((call, i) => ({ ...call, id: `p${i}` })),
      },
      { text: 'Some of that worked.' },
    );
    expect((await send(user, 'do several things')).body.content).toBe('Some of that worked.');
    expect(await readTask(h, second)).toMatchObject({ version: 2, deadline: expect.any(String) });
    expect(await readTask(h, first)).toMatchObject({ version: 1, status: 'pending' });

    const calls = model.requests[0]!.messages.length; // the next request repeats them, then adds the answers
    const results = toolMessages(model.requests[1]!);
    expect(model.requests[1]!.messages.length).toBe(calls + 1 + 7);
    expect(results.map((m) => m.tool_call_id)).toEqual(Array.from({ length: 7 }, (_, i) => `p${i}`));
    const contents = results.map((m) => m.content!);
    expect(JSON.parse(contents[0]!)).toMatchObject({ task_id: first, status: 'pending' });
    expect(JSON.parse(contents[1]!)).toMatchObject({ task_id: second, version: 2 });
    expect(JSON.parse(contents[2]!)).toEqual({ error: 'Task task-nowhere does not exist' });
    expect(JSON.parse(contents[3]!).error).toMatch(/^There is no tool named "fly_to_the_moon"/);
    expect(JSON.parse(contents[4]!).error).toMatch(/^The arguments of assign_task are not valid JSON/);
    expect(JSON.parse(contents[5]!).error).toMatch(/^Invalid arguments for update_status: status/);
    expect(JSON.parse(contents[6]!).error).toBe(`Cannot change the status to assigned: task ${first} has no assignee`);
  });
});

describe('approvals', () => {
  it('asks before reassigning a task someone else has; the API approves and the turn goes on', async () => {
    const user = uniqueId('user-approve');
    const taskId = await task('task-reassign', 'alice@example.com');
    expect((await h.fetch(`/chat/${user}/profile`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'carol@example.com' }) })).status).toBe(200);
    model.respond = scripted({ toolCalls: [{ name: 'assign_task', arguments: { task_id: taskId, assignee: 'bob@example.com' } }] }, { text: 'Done: bob has it.' });

    const asked = await send(user, `Move ${taskId} to bob@example.com`);
    expect(asked.body.content).toContain(`${taskId}: assignee alice@example.com → bob@example.com`);
    expect(await readTask(h, taskId)).toMatchObject({ assignee: 'alice@example.com', version: 2 });

    const approvals = await approvalsOf(user);
    expect(approvals).toEqual([
      {
        approval_id: expect.stringMatching(/^ap-/),
        tool: 'assign_task',
        arguments: { task_id: taskId, assignee: 'bob@example.com' },
        summary: `${taskId}: assignee alice@example.com → bob@example.com`,
        expires_at: expect.any(String),
        // The waiting call, as the event streams name it (its turn and the model's call id).
        tool_call_id: expect.stringMatching(/^turn-[0-9a-f-]+\/call_\d+_0$/),
      },
    ]);
    const hoursLeft = (Date.parse(approvals[0]!.expires_at) - Date.now()) / 3_600_000;
    expect(hoursLeft).toBeGreaterThan(23.9);
    expect(hoursLeft).toBeLessThanOrEqual(24);
    // What the Web UI shows as the entity's current details.
    const metadata = (await h.client.workflow.getHandle(chatEntityWorkflowId(user)).query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(metadata.currentDetails).toContain(`waiting for approval: ${approvals[0]!.summary} (${approvals[0]!.approval_id}`);

    const decided = await h.postJson(`/chat/${user}/approvals/${approvals[0]!.approval_id}`, { approved: true });
    expect(decided).toMatchObject({ status: 200, body: { role: 'assistant', content: 'Done: bob has it.' } });
    expect(await readTask(h, taskId)).toMatchObject({ assignee: 'bob@example.com', version: 3 });
    expect(await approvalsOf(user)).toEqual([]);
    expect(JSON.parse(toolMessages(model.requests.at(-1)!)[0]!.content!)).toMatchObject({ assignee: 'bob@example.com' });

    expect((await h.postJson(`/chat/${user}/approvals/${approvals[0]!.approval_id}`, { approved: true })).status).toBe(404);
    expect((await h.postJson(`/chat/${user}/approvals/${approvals[0]!.approval_id}`, { approved: 'yes' })).body).toMatchObject({
      errors: [expect.objectContaining({ field: 'approved' })],
    });
  });

  it('takes a denial from the temporal CLI; the model hears it and the task stays', async () => {
    const user = uniqueId('user-deny');
    const taskId = await task('task-keep', 'alice@example.com');
    model.respond = scripted({ toolCalls: [{ name: 'delete_task', arguments: { task_id: taskId } }] }, (request) => ({ text: `Understood: ${toolMessages(request)[0]!.content}` }));
    const asked = await send(user, `Delete ${taskId}`);
    expect(asked.body.content).toContain(`${taskId}: deleted ("Review PR #42", assigned to alice@example.com)`);
    const [approval] = await approvalsOf(user);

    const { stdout } = await promisify(execFile)(inject('temporalCli'), [
      'workflow', 'update', 'execute',
      '--workflow-id', chatEntityWorkflowId(user),
      '--name', 'decideApproval',
      '--input', JSON.stringify({ approval_id: approval!.approval_id, approved: false }),
      '--address', inject('temporalAddress'),
      '--output', 'json',
    ]);
    expect(stdout).toContain('Not done: the user denied it');
    expect(await readTask(h, taskId)).toMatchObject({ version: 2, assignee: 'alice@example.com' });
    expect(await approvalsOf(user)).toEqual([]);
  });

  it('asks once a turn would change more than 3 tasks, and applies what was approved', async () => {
    const user = uniqueId('user-many');
    const tasks = [await task('task-m1'), await task('task-m2'), await task('task-m3'), await task('task-m4')];
    model.respond = scripted({ toolCalls: tasks.map((task_id) => ({ name: 'set_deadline', arguments: { task_id, deadline_seconds: 600 } })) }, { text: 'Deadlines set where approved.' });
    const asked = await send(user, 'Give all four a deadline in 10 minutes');
    for (const taskId of tasks) expect(asked.body.content).toContain(`${taskId}: deadline none → in 600 s`);
    const approvals = await approvalsOf(user);
    expect(approvals).toHaveLength(4);

    // Three by message, the last by the API; only then does the turn go on.
    const [a, b, c, d] = approvals;
    expect((await send(user, `/approve ${a!.approval_id}`)).body.content).toContain(`Noted: approved ${a!.summary}`);
    expect((await send(user, `/deny ${b!.approval_id}`)).body.content).toContain(`Noted: denied ${b!.summary}`);
    expect((await send(user, 'hello?')).body.content).toContain('These changes are waiting for your decision');
    await send(user, `/approve ${c!.approval_id}`);
    const last = await h.postJson(`/chat/${user}/approvals/${d!.approval_id}`, { approved: true });
    expect(last.body.content, JSON.stringify(last)).toBe('Deadlines set where approved.');

    const versions = await Promise.all(tasks.map(async (t) => (await readTask(h, t)).version));
    const byTask = Object.fromEntries(approvals.map((approval) => [approval.arguments.task_id, approval]));
    expect(versions).toEqual(tasks.map((t) => (byTask[t] === b ? 1 : 2)));
    expect(model.requests).toHaveLength(2);
  });
});

describe('undo', () => {
  it('reverts the last turn’s changes newest first, refusing a task that changed since', async () => {
    const user = uniqueId('user-undo');
    const kept = await task('task-undo-kept', 'alice@example.com');
    const free = await task('task-undo-free');
    model.respond = scripted(
      { toolCalls: [{ name: 'assign_task', arguments: { task_id: free, assignee: 'dave@example.com' } }] },
      { toolCalls: [{ name: 'set_deadline', arguments: { task_id: kept, deadline_seconds: 600 } }] },
      { text: 'Both done.' },
    );
    expect((await send(user, 'Give the free one to dave and a deadline to the other')).body.content).toBe('Both done.');
    expect(await readTask(h, free)).toMatchObject({ assignee: 'dave@example.com', version: 2 });
    expect(await readTask(h, kept)).toMatchObject({ deadline: expect.any(String), version: 3 });
    await taskClient(h).updateStatus(kept, { status: 'in_progress' }); // someone else, meanwhile

    const undone = await h.postJson(`/chat/${user}/undo`, {});
    expect(undone.status).toBe(200);
    const lines = (undone.body.content as string).split('\n');
    expect(lines[0]).toBe('Undid the task changes of "Give the free one to dave and a deadline to the other":');
    expect(lines[1]).toMatch(new RegExp(`^- ${kept}: not reverted, it changed since`));
    expect(lines[2]).toBe(`- ${free}: assignee back to none, status back to pending`);
    expect(await readTask(h, free)).toMatchObject({ assignee: null, status: 'pending' });
    expect(await readTask(h, kept)).toMatchObject({ status: 'in_progress', deadline: expect.any(String) });

    expect((await send(user, '/undo')).body.content).toBe('Nothing to undo: none of your turns has changed a task since the last undo.');
  });
});

describe('user memory', () => {
  it('keeps the profile, validates it, and shapes the model’s instructions with it', async () => {
    const user = uniqueId('user-profile');
    const put = (body: unknown) => h.fetch(`/chat/${user}/profile`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(await h.getJson(`/chat/${user}/profile`)).toEqual({ status: 200, body: { name: null, email: null, preferred_style: null, summary: null, email_verified: false } });

    const email = `${uniqueId('alice')}@example.com`;
    const profile = { name: 'Alice', email, preferred_style: 'formal', summary: 'Leads the platform team' };
    const saved = await put(profile);
    expect(saved.status).toBe(200);
    // With the API open nobody's token vouches for an address: the e-mail is kept, unverified.
    expect(await saved.json()).toEqual({ ...profile, email_verified: false });
    expect((await h.getJson(`/chat/${user}/profile`)).body).toEqual({ ...profile, email_verified: false });

    for (const [body, field] of [
      [{ ...profile, nickname: 'Al' }, 'nickname'],
      [{ email: 'not-an-address' }, 'email'],
      [{ name: '' }, 'name'],
      [{ summary: 'x'.repeat(1001) }, 'summary'],
    ] as const) {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(((await res.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual([field]);
    }
    expect((await h.getJson(`/chat/${user}/profile`)).body).toEqual({ ...profile, email_verified: false });

    // With the API open, "my tasks" are the tasks assigned to the profile's e-mail (with tokens: the token's; auth.test.ts).
    const mine = await task('task-mine', email);
    await eventually(() => h.getJson(`/tasks?assignee=${encodeURIComponent(email)}`), (r) => (r.body.tasks as unknown[]).length === 1);
    model.respond = scripted({ toolCalls: [{ name: 'list_tasks', arguments: { assignee: 'me' } }] }, { text: 'You have one task.' });
    expect((await send(user, 'What are my tasks?')).body.content).toBe('You have one task.');
    const system = model.requests[0]!.messages[0]!.content!;
    expect(system).toContain('Respond in a formal way');
    expect(system).toContain("The user's name is Alice. User summary: Leads the platform team.");
    expect(JSON.parse(toolMessages(model.requests[1]!)[0]!.content!)).toEqual({ tasks: [{ task_id: mine, status: 'assigned', assignee: email }], more: false });
  });
});

describe('model failures and limits', () => {
  it('retries a 5xx and honours a 429’s Retry-After', async () => {
    const user = uniqueId('user-flaky');
    const times: number[] = [];
    const answers = [{ status: 503 }, { status: 429, headers: { 'retry-after': '3' } }, { text: 'Back again.' }];
    model.respond = () => {
      times.push(Date.now());
      return answers.shift()!;
    };
    expect((await send(user, 'hello')).body.content).toBe('Back again.');
    expect(times).toHaveLength(3);
    // Temporal's backoff after the 503 starts at 1 s; after the 429 the model's 3 s are waited instead.
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(2_900);
  });

  it('does not retry a 401, and answers by the rules saying so', async () => {
    const user = uniqueId('user-401');
    model.respond = () => ({ status: 401, body: { error: { message: 'Incorrect API key' } } });
    expect((await send(user, 'Any tasks?')).body.content).toBe(
      'The model is unavailable right now, so I answered by my rules: I can help with tasks. You have 1 messages in our conversation.',
    );
    expect(model.requests).toHaveLength(1);
  });

  it('bounds what a model answers: text, tool calls per answer, and their arguments', async () => {
    const user = uniqueId('user-limits');
    const calls = Array.from({ length: 12 }, (_, i) => ({ name: 'get_current_time', arguments: {}, id: `t${i}` }));
    model.respond = scripted(
      { toolCalls: [...calls.slice(0, 11), { name: 'create_task', arguments: { title: 'x', description: 'y'.repeat(7_000) }, id: 'long' }] },
      { text: 'z'.repeat(10_000) },
    );
    const reply = await send(user, 'Say a lot');
    expect(reply.status).toBe(200);
    // Text: cut at MODEL_REPLY_MAX_CHARS, saying so.
    expect(reply.body.content).toBe(`${'z'.repeat(4_000)}… (cut at 4000 characters)`);
    // Tool calls: the first 8 run (the model's next request answers exactly those), the last says the rest did not.
    const results = toolMessages(model.requests[1]!);
    expect(results.map((m) => m.tool_call_id)).toEqual(calls.slice(0, 8).map((c) => c.id));
    expect(JSON.parse(results.at(-1)!.content!).note).toBe('4 more tool call(s) of that answer were not run: at most 8 per answer');
    expect(model.requests[1]!.messages.find((m) => m.role === 'assistant')!.tool_calls).toHaveLength(8);

    // Arguments past TOOL_ARGUMENTS_MAX_CHARS are refused by name, not run.
    model.respond = scripted({ toolCalls: [{ name: 'create_task', arguments: { title: 'x', description: 'y'.repeat(7_000) }, id: 'long' }] }, { text: 'Too long.' });
    expect((await send(user, 'Make a long one')).body.content).toBe('Too long.');
    expect(JSON.parse(toolMessages(model.requests.at(-1)!)[0]!.content!).error).toMatch(/^The arguments of create_task are 7\d{3} characters long; a tool call takes at most 6000$/);
  });

  it('stops a model that keeps calling tools at AGENT_MAX_STEPS', async () => {
    const user = uniqueId('user-loop');
    const taskId = await task('task-loop', 'alice@example.com');
    let n = 0;
    model.respond = () => ({ toolCalls: [{ name: 'update_status', arguments: { task_id: taskId, status: n++ % 2 === 0 ? 'in_progress' : 'assigned' } }] });
    const reply = await send(user, 'keep going');
    expect(reply.body.content).toMatch(/^I stopped after 4 steps without a final answer\. Done so far:\n/);
    expect(model.requests).toHaveLength(4);
    expect(await readTask(h, taskId)).toMatchObject({ version: 6 });
  });
});
