/**
 * Exactly once per tool call: a change whose activity is retried after it landed, and a worker SIGKILLed at
 * points inside multi-tool turns, still apply each change once. Counted in task versions: every applied
 * change adds one.
 */
import type { ChildProcess } from 'node:child_process';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { AgentToolInput } from '../activities/agent-tools';
import { TOOLS } from '../entities/chat/agent/tools';
import { createEntity, readTask } from './helpers/entity';
import { Harness, uniqueId } from './helpers/harness';
import { scripted, startModelServer, type ModelAnswer } from './helpers/model-server';
import { exitOf, harnessEnv, startServiceProcess } from './helpers/processes';

const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

async function tasks(h: Harness, count: number, name: string): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uniqueId(name));
  for (const id of ids) await createEntity(h, id);
  return ids;
}

/** One multi-tool turn: three changes in parallel, then one more, then text. */
function turn(ids: string[]): ModelAnswer[] {
  const [a, b, c] = ids as [string, string, string];
  return [
    {
      toolCalls: [
        { name: 'assign_task', arguments: { task_id: a, assignee: 'bob@example.com' } },
        { name: 'assign_task', arguments: { task_id: b, assignee: 'carol@example.com' } },
        { name: 'set_deadline', arguments: { task_id: c, deadline_seconds: 600 } },
      ],
    },
    { toolCalls: [{ name: 'update_status', arguments: { task_id: a, status: 'in_progress' } }] },
    { text: 'All done.' },
  ];
}

/** After one turn: a assigned then in progress (3), b assigned (2), c given a deadline (2). */
const expectedVersions = [3, 2, 2];

describe('a tool call whose activity fails after its change landed', () => {
  it('applies the change once when the activity is retried', { timeout: 60_000 }, async () => {
    const attempts = new Map<string, number>();
    const model = await startModelServer();
    const h = await Harness.start({
      env: { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted' },
      // The change reaches the entity, then the activity reports a failure, as when its worker dies at that moment.
      wrapActivities: (real) => ({
        async agentTool(input: AgentToolInput) {
          const result = await real.agentTool(input);
          if (TOOLS[input.tool].changes) {
            attempts.set(input.update_id!, (attempts.get(input.update_id!) ?? 0) + 1);
            if (Context.current().info.attempt === 1) throw ApplicationFailure.retryable('Lost the answer after the change landed');
          }
          return result;
        },
      }),
    });
    cleanup.push(() => model.close(), () => h.close());

    const ids = await tasks(h, 3, 'task-retried');
    model.respond = scripted(...turn(ids));
    const reply = await h.postJson(`/chat/${uniqueId('user-retried')}`, { content: 'Share these out' });
    expect(reply.body.content).toBe('All done.');
    expect([...attempts.values()]).toEqual([2, 2, 2, 2]);
    expect(await Promise.all(ids.map(async (id) => (await readTask(h, id)).version))).toEqual(expectedVersions);
  });
});

describe('the worker SIGKILLed inside multi-tool turns', () => {
  it('applies every change of every turn once', { timeout: 180_000 }, async () => {
    const model = await startModelServer();
    const h = await Harness.start({ worker: false, env: { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted' } });
    const env = { ...harnessEnv(h), LLM_BASE_URL: model.url, LLM_MODEL: 'scripted', WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') };
    let worker: ChildProcess = startServiceProcess('worker/main.ts', env);
    cleanup.push(() => model.close(), () => h.close(), () => worker.kill('SIGKILL'));
    const restartWorker = async () => {
      worker.kill('SIGKILL');
      await exitOf(worker);
      worker = startServiceProcess('worker/main.ts', env);
    };

    // Where each turn loses its worker: while the first step's three changes run, while the model is asked
    // for the second step (that answer never arrives), and just after the second step's change was asked for.
    const kills = [
      { step: 0, afterMs: 15 },
      { step: 1, answerLost: true },
      { step: 1, afterMs: 5 },
    ];
    const user = uniqueId('user-killed');
    for (const [n, kill] of kills.entries()) {
      const ids = await tasks(h, 3, `task-killed-${n}`);
      const answers = turn(ids);
      let killed = false;
      model.respond = async (request) => {
        // The model answers per step (a call made again after the kill gets the same answer): the step is
        // how many tool-calling answers this turn already has.
        const step = request.messages.filter((m) => m.role === 'assistant' && m.tool_calls).length;
        if (!killed && step === kill.step) {
          killed = true;
          if (kill.answerLost) {
            await restartWorker();
            return { status: 500 };
          }
          setTimeout(() => void restartWorker(), kill.afterMs);
        }
        return answers[step]!;
      };
      const reply = await h.postJson(`/chat/${user}`, { content: `Turn ${n}: share these out` });
      expect(reply.body.content, `turn ${n}`).toBe('All done.');
      expect(killed, `turn ${n}`).toBe(true);
      expect(await Promise.all(ids.map(async (id) => (await readTask(h, id)).version)), `turn ${n}`).toEqual(expectedVersions);
    }
  });
});
