/**
 * The Temporal Web UI as people use it, driven by a real headless Chromium (Debian's, through
 * playwright-core): the workflows list shows a processing run and its task entity, the run's page shows its
 * activities with their summaries, a search by custom search attributes finds the entity, and a chat
 * entity shows its agent's model and tool calls by summary and an approval it waits for in its details.
 * Screenshots go to test-output/ui/ (git-ignored); the README and docs/operations.md show them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/chromium';
import { freePort } from '../scripts/dev-server';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';
import { createEntity } from './helpers/entity';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { scripted, startModelServer, type ModelServer } from './helpers/model-server';
import { startWebhook, type TestWebhook } from './helpers/webhook';

const shots = resolve(__dirname, '../test-output/ui');
let dir: string;
let server: TestTemporal;
let h: Harness;
let browser: Browser;
let page: Page;
let model: ModelServer;
let webhook: TestWebhook;
const taskId = uniqueId('ui-task');
let started: { ui_url: string };

beforeAll(async () => {
  const executablePath = ensureChromium();
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'task-agent-ui-'));
  server = await startTestTemporal({ stateDir: dir, port: await freePort(), uiPort: await freePort() });
  model = await startModelServer();
  // The first attempt, made at once by the notifications app, is refused: a notification run carries the step on.
  webhook = await startWebhook({ status: 503 });
  h = await Harness.start({ env: { TEMPORAL_ADDRESS: server.address, TEMPORAL_UI_URL: server.uiUrl!, LLM_BASE_URL: model.url, LLM_MODEL: 'scripted', NOTIFY_WEBHOOK_URL: webhook.url } });
  started = (await h.postJson('/tasks/process', seedTask(taskId))).body as { ui_url: string };
  await eventually(async () => webhook.answered.length, (n) => n >= 1);
  webhook.status = 200;
  await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  model?.close();
  webhook?.close();
  await server?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('Temporal Web UI', () => {
  it('lists the processing run and the task entity', async () => {
    await page.goto(`${server.uiUrl}/namespaces/default/workflows`);
    await page.getByRole('link', { name: `task-workflow-${taskId}` }).waitFor({ timeout: 20_000 });
    await page.getByRole('link', { name: `task-entity-${taskId}` }).waitFor();
    expect(await page.getByRole('link', { name: 'TaskProcessingWorkflow' }).count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'TaskEntityWorkflow' }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'workflows.png') });
  });

  it("opens the run's page at the ui_url the API answered, and shows its steps: activities with their summaries, validation as a local activity", async () => {
    const { runId } = await h.client.workflow.getHandle(`task-workflow-${taskId}`).describe();
    expect(started.ui_url).toBe(`${server.uiUrl}/namespaces/default/workflows/task-workflow-${taskId}/${runId}/history`);
    await page.goto(started.ui_url);
    await page.getByText('handOverTask • Create, assign to alice@example.com, deadline in 60s').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(shots, 'processing-run.png'), fullPage: true });
    // The notify step is a Nexus operation, named by its summary.
    await page.getByText('Notify alice@example.com').first().waitFor({ timeout: 5_000 });
    expect(await page.getByText('handOverTask • Create, assign to alice@example.com, deadline in 60s').count()).toBeGreaterThan(0);
    // A local activity is a marker in the history: the UI names it by its type, without a summary.
    expect(await page.getByText('validateTask', { exact: true }).count()).toBeGreaterThan(0);
    expect(await page.getByText('Task assigned to alice@example.com with deadline reminder').count()).toBeGreaterThan(0);
  });

  it('links the notify step to the notification run in the notifications app, and that run shows its activity', async () => {
    const { runId } = await h.client.workflow.getHandle(`task-workflow-${taskId}`).describe();
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/task-workflow-${taskId}/${runId}/history`);
    await page.getByText('Nexus Links').first().click();
    const notification = await h.notificationRun(`task-workflow-${taskId}`, runId);
    const link = page.getByRole('link', { name: notification.workflowId }).first();
    await link.waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(shots, 'nexus-links.png'), fullPage: true });
    await link.click();
    await page.waitForURL(`**/namespaces/${h.config.NOTIFICATIONS_NAMESPACE}/workflows/**`, { timeout: 20_000 });
    await page.getByText('notifyAssignee • Notify alice@example.com').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(shots, 'notification-run.png'), fullPage: true });
  });

  it("follows a task answer's Link to its entity's current run", async () => {
    const res = await h.fetch(`/tasks/${taskId}`);
    const link = /^<([^>]+)>; rel="related"; title="Temporal Web UI"$/.exec(res.headers.get('link') ?? '')?.[1];
    expect(link).toBe(`${server.uiUrl}/namespaces/default/workflows/task-entity-${taskId}`);
    const { runId } = await h.client.workflow.getHandle(`task-entity-${taskId}`).describe();
    await page.goto(link!);
    await page.waitForURL(`**/workflows/task-entity-${taskId}/${runId}/history`, { timeout: 20_000 });
  });

  it("shows an entity's pending deadline timer with its summary, and where the task stands", async () => {
    const { runId } = await h.client.workflow.getHandle(`task-entity-${taskId}`).describe();
    const task = (await h.getJson(`/tasks/${taskId}`)).body as { deadline: string };
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/task-entity-${taskId}/${runId}/history`);
    await page.getByText(`Deadline ${task.deadline}`).first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(shots, 'task-entity.png'), fullPage: true });
    // The entity's current details ("where it stands") are on the User Metadata tab, rendered as markdown
    // in a sandboxed frame.
    await page.getByText('User Metadata').first().click();
    const details = `Review PR #42: assigned, assigned to alice@example.com, due ${task.deadline}`;
    await eventually(
      async () => {
        for (const frame of page.frames()) {
          if ((await frame.getByText(details).count().catch(() => 0)) > 0) return true;
        }
        return false;
      },
      (found) => found,
      { timeoutMs: 10_000 },
    );
    await page.screenshot({ path: join(shots, 'task-entity-details.png') });
  });

  it('finds the entity by its custom search attributes', async () => {
    const query = `TaskId="${taskId}" AND TaskStatus="assigned" AND TaskAssignee="alice@example.com"`;
    // Visibility is eventually consistent: reload until the entity shows up.
    await eventually(
      async () => {
        await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
        return page
          .getByRole('link', { name: `task-entity-${taskId}` })
          .waitFor({ timeout: 3_000 })
          .then(() => true, () => false);
      },
      (found) => found,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(await page.getByRole('link', { name: `task-workflow-${taskId}` }).count()).toBe(0);
    await page.screenshot({ path: join(shots, 'search.png') });
  });

  it("shows a chat's agent turn by its tool calls, and the approval it waits for", async () => {
    const user = uniqueId('ui-user');
    const agentTask = uniqueId('ui-agent-task');
    await createEntity(h, agentTask);
    model.respond = scripted(
      { toolCalls: [{ name: 'get_task', arguments: { task_id: agentTask } }, { name: 'assign_task', arguments: { task_id: agentTask, assignee: 'bob@example.com' } }] },
      { text: `Bob has ${agentTask} now.` },
      { toolCalls: [{ name: 'delete_task', arguments: { task_id: agentTask } }] },
    );
    await h.postJson(`/chat/${user}`, { content: `Give ${agentTask} to bob@example.com` });
    const asked = await h.postJson(`/chat/${user}`, { content: `Now delete ${agentTask}` });
    expect(asked.body.content).toContain(`${agentTask}: deleted`);

    const { runId } = await h.client.workflow.getHandle(`chat-entity-${user}`).describe();
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/chat-entity-${user}/${runId}/history`);
    await page.getByText(`agentTool • assign_task ${agentTask} → bob@example.com`).first().waitFor({ timeout: 20_000 });
    for (const text of ['callModel • Model, step 1', `agentTool • get_task ${agentTask}`, `readTasks • Read ${agentTask}`]) {
      expect(await page.getByText(text).count(), text).toBeGreaterThan(0);
    }
    await page.screenshot({ path: join(shots, 'agent-turn.png'), fullPage: true });

    await page.getByText('User Metadata').first().click();
    const waiting = `waiting for approval: ${agentTask}: deleted`;
    await eventually(
      async () => {
        for (const frame of page.frames()) {
          if ((await frame.getByText(waiting, { exact: false }).count().catch(() => 0)) > 0) return true;
        }
        return false;
      },
      (found) => found,
      { timeoutMs: 10_000 },
    );
    await page.screenshot({ path: join(shots, 'agent-approval.png') });
  });
});
