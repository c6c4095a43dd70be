/**
 * The Temporal Web UI as people use it, driven by a real headless Chromium (Debian's, through
 * playwright-core): the workflows list shows a processing run and its task entity, the run's page shows its
 * activities with their summaries, and a search by custom search attributes finds the entity.
 * Screenshots go to test-output/ui/ (git-ignored); the README shows one.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/chromium';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';

const shots = resolve(__dirname, '../test-output/ui');
let dir: string;
let server: DevServer;
let h: Harness;
let browser: Browser;
let page: Page;
const taskId = uniqueId('ui-task');

beforeAll(async () => {
  const executablePath = ensureChromium();
  mkdirSync(shots, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'task-agent-ui-'));
  server = await startDevServer({ cli: inject('temporalCli'), dbFile: join(dir, 'db'), port: await freePort(), uiPort: await freePort() });
  h = await Harness.start({ env: { TEMPORAL_ADDRESS: server.address } });
  await h.postJson('/tasks/process', seedTask(taskId));
  await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await server?.stop();
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

  it("shows a run's activities with their summaries", async () => {
    const { runId } = await h.client.workflow.getHandle(`task-workflow-${taskId}`).describe();
    await page.goto(`${server.uiUrl}/namespaces/default/workflows/task-workflow-${taskId}/${runId}/history`);
    await page.getByText('notifyAssignee • Notify alice@example.com').waitFor({ timeout: 20_000 });
    for (const text of ['validateTask • Validate title and description', 'assignTask • Assign to alice@example.com', 'setDeadline • Deadline in 60s']) {
      expect(await page.getByText(text).count(), text).toBeGreaterThan(0);
    }
    expect(await page.getByText('Task assigned to alice@example.com with deadline reminder').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'processing-run.png'), fullPage: true });
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
});
