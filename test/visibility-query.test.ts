/**
 * Every value that enters a visibility query stays a value (clients/visibility-query.ts), against the real
 * server: generated assignees (quotes, backslashes, SQL, unicode) list exactly the tasks assigned to them,
 * through the HTTP API and through the agent's list_tasks, never another workflow type and never a refused
 * query. On main before the rule, `o'brien@example.com` was an invalid query and a crafted assignee listed
 * every chat entity.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkInput } from '../workflows/shared/input-rules';
import { TOOLS } from '../entities/chat/agent/tools';
import { queryValue } from '../clients/visibility-query';
import { taskClient } from './helpers/entity';
import { eventually, uniqueId } from './helpers/harness';
import { withScriptedModel } from './helpers/model-harness';
import { scripted, toolMessages } from './helpers/model-server';

const ctx = withScriptedModel();

type Listed = { task_id: string; assignee: string | null; workflow_id: string };
const list = async (assignee: string) => {
  const res = await ctx.h.fetch(`/tasks?assignee=${encodeURIComponent(assignee)}&page_size=100`);
  return { status: res.status, body: (await res.json()) as { tasks?: Listed[]; detail?: string } };
};

/** What list_tasks takes as an assignee (the HTTP query parameter takes the same text). */
const wellFormed = (value: string) => !/\p{Surrogate}/u.test(value);
const isAssignee = (value: string) => wellFormed(value) && checkInput(TOOLS.list_tasks.rules, { assignee: value }).success;

/** Text meant to break out of a literal, and addresses people have. */
const CRAFTED = [
  "o'brien@example.com",
  "x' OR WorkflowType = 'ChatEntityWorkflow' OR TaskAssignee = 'y",
  "\\' OR 1=1 --",
  'back\\slash@example.com',
  "trailing\\",
  '"double" quotes',
  "'",
  "''",
  '%_*',
  'ünïcödé ✓ 日本 @example.com',
];

describe('one quoting rule for visibility queries', () => {
  it('quotes so that the literal can only end where the rule ends it', () => {
    expect(queryValue("o'brien")).toBe("'o\\'brien'");
    expect(queryValue('a\\')).toBe("'a\\\\'");
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const quoted = queryValue(value);
        // Unescaping the inside gives the value back, and no unescaped quote is left inside.
        const inside = quoted.slice(1, -1);
        expect(inside.replace(/\\(.)/gs, '$1')).toBe(value);
        expect(/(^|[^\\])(\\\\)*'/.test(inside)).toBe(false);
      }),
    );
  });

  it('lists exactly the tasks of crafted and generated assignees, through the API', async () => {
    const unit = fc.oneof(fc.constantFrom("'", '"', '\\', '%', '_', ' ', '\t'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }));
    const generated = fc.sample(
      fc.string({ unit, minLength: 1, maxLength: 40 }).map((s) => s.trim()).filter((s) => s.length > 0 && isAssignee(s)),
      { numRuns: 25, seed: 42 },
    );
    const assignees = [...new Set([...CRAFTED.filter(isAssignee), ...generated])];
    const tasks = taskClient(ctx.h);
    const created = new Map<string, string>();
    for (const assignee of assignees) {
      const taskId = uniqueId('vq');
      await tasks.create(taskId, { title: 'Quoting', description: null });
      await tasks.assign(taskId, assignee);
      created.set(assignee, taskId);
    }
    for (const assignee of assignees) {
      const { status, body } = await eventually(
        () => list(assignee),
        (r) => r.status !== 200 || (r.body.tasks ?? []).some((t) => t.task_id === created.get(assignee)),
      ).catch((err: Error) => {
        throw new Error(`${JSON.stringify(assignee)}: ${err.message}`);
      });
      expect(status, assignee).toBe(200);
      for (const task of body.tasks!) {
        expect(task.workflow_id, assignee).toMatch(/^task-entity-/);
        expect(task.assignee, assignee).toBe(assignee);
      }
    }
  }, 120_000);

  it('answers every generated filter with a list, never a refused query or another workflow type', async () => {
    // Any character, with the ones a query treats specially made frequent.
    const unit = fc.oneof(fc.constantFrom("'", '"', '\\', '%', '_', '!', '(', ')', '=', ' ', '\t', '\n', '-', ';', '*'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
    const texts = fc.oneof(fc.string({ unit, minLength: 1, maxLength: 40 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 254 }));
    await fc.assert(
      fc.asyncProperty(texts.filter(isAssignee), async (assignee) => {
        const { status, body } = await list(assignee);
        expect(status, JSON.stringify(body)).toBe(200);
        for (const task of body.tasks!) {
          expect(task.workflow_id).toMatch(/^task-entity-/);
          expect(task.assignee).toBe(assignee);
        }
      }),
      { numRuns: 150, seed: 7 },
    );
  }, 120_000);

  it("keeps the agent's list_tasks to tasks: an apostrophe works, a crafted assignee lists no chat", async () => {
    const user = uniqueId('user-vq');
    const obrien = uniqueId('vq-obrien');
    await taskClient(ctx.h).create(obrien, { title: 'Quoting', description: null });
    await taskClient(ctx.h).assign(obrien, "o'brien@example.com");
    // A chat exists for the crafted query to find, were it a query.
    expect((await ctx.h.postJson(`/chat/${user}`, { content: '/help' })).status).toBe(200);
    await eventually(() => list("o'brien@example.com"), (r) => (r.body.tasks ?? []).some((t) => t.task_id === obrien));
    ctx.model.respond = scripted(
      {
        toolCalls: [
          { name: 'list_tasks', arguments: { assignee: "o'brien@example.com" } },
          { name: 'list_tasks', arguments: { assignee: "x' OR WorkflowType = 'ChatEntityWorkflow' OR TaskAssignee = 'y" } },
        ],
      },
      { text: 'Listed.' },
    );
    const reply = await ctx.h.postJson(`/chat/${user}`, { content: "What does o'brien have?" });
    expect(reply).toMatchObject({ status: 200, body: { content: 'Listed.' } });
    const [named, crafted] = toolMessages(ctx.model.requests.at(-1)!).map((m) => JSON.parse(m.content!) as { tasks: Listed[] });
    expect(named!.tasks.map((t) => t.task_id)).toContain(obrien);
    // Only tasks assigned to exactly that text (the earlier test made one), never a chat.
    for (const row of crafted!.tasks) expect(row.assignee).toEqual({ untrusted_text: "x' OR WorkflowType = 'ChatEntityWorkflow' OR TaskAssignee = 'y", written_by: 'someone else' });
    expect(JSON.stringify(ctx.model.requests.at(-1)!.messages)).not.toContain('chat-entity-');
  }, 60_000);
});
