/**
 * The web page at `/`, used as people use it, in a real headless Chromium (Debian's, through playwright-core)
 * against the real API, worker, dev server and Redis, with a scripted model that streams with pauses and
 * real signed tokens: sign in by keyboard, a reply that shows before the model has finished writing it,
 * approve by click, undo by click, a second tab that sees the same reply, a dropped connection that resumes
 * without repeating text, an approval that expires and leaves by itself, the task list kept current, a
 * phone's width, and axe-core with no serious findings. Screenshots go to test-output/web/ (docs/ has copies).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/chromium';
import { Harness, eventually, uniqueId } from './helpers/harness';
import { withScriptedModel } from './helpers/model-harness';
import { TEST_JWT_SECRET, person, tokenFor, type Person } from './helpers/people';
import { scripted } from './helpers/model-server';

const shots = resolve(__dirname, '../test-output/web');
const ctx = withScriptedModel({ env: { AUTH_JWT_SECRET: TEST_JWT_SECRET, AGENT_APPROVAL_TIMEOUT: '8s' } });
let browser: Browser;




/** A tab of its own (sessionStorage is per tab), signed in with the keyboard alone. */
async function signedIn(user: Person, options: { context?: BrowserContext; viewport?: { width: number; height: number } } = {}): Promise<Page> {
  const context = options.context ?? (await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 }, bypassCSP: true }));
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  page.on('console', (message) => {
    // With the address: "Failed to load resource" alone does not say which request failed.
    if (message.type() === 'warning' || message.type() === 'error') console.error('page console:', message.text(), message.location().url);
  });
  await page.goto(ctx.h.baseUrl);
  await page.getByLabel('Token', { exact: true }).waitFor();
  await page.keyboard.insertText(user.token); // the token field has the focus
  await page.keyboard.press('Tab'); // the user id field: left empty, taken from the token
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter'); // "Sign in"
  await page.locator('#connection[data-state="live"]').waitFor();
  return page;
}

const api = (user: Person, method: string, path: string, body?: unknown) =>
  ctx.h
    .fetch(path, { method, headers: { authorization: `Bearer ${user.token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
    .then(async (r) => ({ status: r.status, body: (await r.json().catch(() => null)) as any }));

async function ownTask(user: Person, title: string): Promise<string> {
  const created = await api(user, 'POST', '/tasks', { title, description: 'Made for the web page test' });
  expect(created.status).toBe(201);
  return created.body.task_id as string;
}

/** Types a message in the composer and sends it with Enter, as people do. */
async function say(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/**
 * The model gives `owner`'s task to `other`, then is asked to take it back: a reassignment of a task someone
 * else has, which waits for the owner's approval. Returns the owner's page with the approval shown.
 */
async function approvalAsked(owner: Person, other: Person, taskId: string, finalReply: string): Promise<Page> {
  ctx.model.respond = scripted(
    { toolCalls: [{ name: 'assign_task', arguments: { task_id: taskId, assignee: other.email }, id: 'call_give' }] },
    { text: 'The other one has it.' },
    { toolCalls: [{ name: 'assign_task', arguments: { task_id: taskId, assignee: owner.email }, id: 'call_take' }] },
    { text: finalReply },
  );
  const page = await signedIn(owner);
  await say(page, 'Give it to the other one');
  await page.locator('.message.assistant.done .text', { hasText: 'The other one has it.' }).waitFor();
  await say(page, 'Take it back');
  await page.locator('.approval').waitFor();
  return page;
}

const lastReply = (page: Page) => page.locator('.message.assistant').last();

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
}, 300_000);

afterAll(async () => {
  await browser?.close();
});

describe('the web page', () => {
  it('keeps the token in the tab, out of the address, and shows the reply while the model is still writing it', async () => {
    const alice = await person('alice-web');
    const page = await signedIn(alice);
    expect(page.url()).not.toContain(alice.token.slice(0, 20));
    expect(await page.evaluate<string | null>("sessionStorage.getItem('task-agent.session')")).toContain(alice.id);
    await expect.poll(() => page.evaluate<string | undefined>('document.activeElement?.id')).toBe('message');

    ctx.model.respond = scripted({ text: 'Here are the words one by one as they come.', stream: { pauseMs: 300 } });
    await say(page, 'Talk slowly');
    await page.locator('.message.user .text', { hasText: 'Talk slowly' }).waitFor();
    const streaming = page.locator('.message.assistant.streaming .part');
    await streaming.first().waitFor();
    await expect.poll(() => streaming.first().textContent()).not.toBe('');
    const shownAt = performance.now();
    await page.locator('.message.assistant.done .text', { hasText: 'Here are the words one by one as they come.' }).waitFor();
    // On screen while the model had words left to write (it wrote its last one about 2.7 s after its first).
    expect(shownAt).toBeLessThan(ctx.model.requests.at(-1)!.lastChunkAt!);
    expect(await lastReply(page).locator('.text').textContent()).toBe('Here are the words one by one as they come.');
    await page.close();
  });

  it('asks before a change with the exact change and its expiry; a click approves it; a click undoes the turn', async () => {
    const alice = await person('alice-approve');
    const bob = await person('bob-approve');
    const taskId = await ownTask(alice, 'Budget review');
    const page = await approvalAsked(alice, bob, taskId, 'It is yours again.');
    const approval = page.locator('.approval');
    await expect.poll(() => approval.locator('.summary').textContent()).toBe(`${taskId}: assignee ${bob.email} → ${alice.email}`);
    expect(await approval.locator('.hint').textContent()).toMatch(/expires .*\(in \d+ s\)/);
    expect(await page.locator('.tool[data-state="waiting"]').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'chat-approval.png') });

    await approval.getByRole('button', { name: 'Approve' }).click();
    await page.locator('.message.assistant .text', { hasText: 'It is yours again.' }).waitFor();
    await approval.waitFor({ state: 'detached' });
    expect((await api(alice, 'GET', `/tasks/${taskId}`)).body.assignee).toBe(alice.email);

    // The last turn that changed a task was that one: a click puts Bob back.
    await page.getByRole('button', { name: 'Undo last turn' }).click();
    await page.locator('.message.assistant .text', { hasText: 'Undid the task changes' }).waitFor();
    await eventually(() => api(alice, 'GET', `/tasks/${taskId}`), (r) => r.body.assignee === bob.email);
    await page.close();
  });

  it('shows the same reply in a second tab, and a dropped connection resumes without repeating text', async () => {
    const carol = await person('carol-tabs');
    const first = await signedIn(carol);
    const second = await signedIn(carol);
    const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet';
    ctx.model.respond = scripted({ text: words, stream: { pauseMs: 250 } });
    await say(first, 'Spell it');
    // The second tab shows the message and the reply being written.
    await second.locator('.message.user .text', { hasText: 'Spell it' }).waitFor();
    const part = second.locator('.message.assistant.streaming .part').first();
    await expect.poll(() => part.textContent(), { timeout: 10_000 }).toContain('bravo');
    await second.evaluate('window.taskAgent.dropConnection()');
    await expect.poll(() => second.locator('#connection').getAttribute('data-state')).toBe('live');
    // After the reconnect, while the model still writes: the text so far, once (no word twice).
    await expect.poll(() => part.textContent(), { timeout: 10_000 }).toContain('golf');
    const midway = (await part.textContent())!;
    expect(words.startsWith(midway)).toBe(true);
    for (const tab of [first, second]) await tab.locator('.message.assistant.done .text', { hasText: words }).waitFor();
    expect(await second.locator('.message.assistant.done .text').last().textContent()).toBe(words);
    expect(await second.locator('.message.user').count()).toBe(1);
    await first.close();
    await second.close();
  });

  it('lets an approval nobody decides disappear by itself when it expires', async () => {
    const dave = await person('dave-expiry');
    const erin = await person('erin-expiry');
    const taskId = await ownTask(dave, 'Expiring question');
    const page = await approvalAsked(dave, erin, taskId, 'Left with Erin.');
    await page.locator('.approval').waitFor({ state: 'detached', timeout: 20_000 });
    await page.locator('.message.assistant .text', { hasText: 'No decision came in time' }).waitFor();
    expect(await page.locator('.tool[data-state="denied"]').count()).toBeGreaterThan(0);
    await page.close();
  });

  it("keeps the task list current as the user's tasks change, filters it, and shows a task's history and run", async () => {
    const frank = await person('frank-tasks');
    const admin = { ...frank, token: await tokenFor(uniqueId('root'), { scope: 'admin' }) };
    const page = await signedIn(frank);
    // Someone else gives Frank a task: it appears in his list without a reload.
    const taskId = uniqueId('release-notes');
    const started = await api(admin, 'POST', '/tasks/process', {
      task_id: taskId,
      title: 'Write the release notes',
      description: 'Everything that changed since 1.4',
      assignee: frank.email,
      deadline_seconds: 3600,
    });
    expect(started.status).toBe(200);
    const row = page.locator(`[data-task="${taskId}"]`);
    await row.waitFor();
    await expect.poll(() => row.locator('.status').textContent()).toBe('assigned');
    // Frank moves it along elsewhere (the API): the row follows.
    expect((await api(frank, 'PUT', `/tasks/${taskId}/status`, { status: 'in_progress' })).status).toBe(200);
    await expect.poll(() => row.locator('.status').textContent()).toBe('in progress');

    await row.click();
    await page.locator('#task-detail').waitFor();
    await expect.poll(() => page.locator('#task-history > li').count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#task-history').textContent()).toContain('status: assigned → in_progress');
    expect(await page.locator('#task-ui-link').getAttribute('href')).toContain(`task-entity-${taskId}`);
    await page.screenshot({ path: join(shots, 'tasks.png') });

    await page.getByLabel('Status', { exact: true }).selectOption('completed');
    await row.waitFor({ state: 'detached' });
    await page.close();
  });

  it('is usable at a phone’s width, edits the profile, and has no serious accessibility findings (axe-core)', async () => {
    const gina = await person('gina-a11y');
    const axe = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const audit = async (page: Page) => {
      await page.addScriptTag({ content: axe });
      const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
        violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
      };
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    };
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, bypassCSP: true });
    const signIn = await context.newPage();
    await signIn.goto(ctx.h.baseUrl);
    await signIn.getByLabel('Token', { exact: true }).waitFor();
    expect(await audit(signIn)).toEqual([]);
    await signIn.close();

    ctx.model.respond = scripted({ text: 'Hello Gina, you have one task.' });
    const page = await signedIn(gina, { context });
    await ownTask(gina, 'A task to show');
    await say(page, 'Hello');
    await page.locator('.message.assistant.done').waitFor();
    await page.locator('.task').first().waitFor();
    expect(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    expect(await audit(page)).toEqual([]);
    await page.screenshot({ path: join(shots, 'phone.png'), fullPage: true });

    // The profile: what the agent knows of her, edited in a dialog.
    await page.getByRole('button', { name: 'Profile' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name', { exact: true }).fill('Gina');
    await dialog.getByLabel('Preferred style', { exact: true }).fill('brief');
    expect(await audit(page)).toEqual([]);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await api(gina, 'GET', `/chat/${gina.id}/profile`)).body).toMatchObject({ name: 'Gina', preferred_style: 'brief' });
    await context.close();
  });

  it('serves the page with a strict Content-Security-Policy and nothing from elsewhere', async () => {
    const res = await ctx.h.fetch('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const js = await (await ctx.h.fetch('/app.js')).text();
    expect(js).not.toMatch(/https?:\/\/(?!localhost)[a-z]/i);
  });
});

describe('the web page with the API open (the quick start: no auth configured)', () => {
  let open: Harness;
  beforeAll(async () => {
    open = await Harness.start();
  });
  afterAll(async () => {
    await open?.close();
  });

  it('signs in with a user id alone, chats by the rules and lists tasks', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(open.baseUrl);
    const user = uniqueId('walk-in');
    await page.getByLabel('User id', { exact: false }).fill(user);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#connection[data-state="live"]').waitFor();
    expect(await page.locator('#who').textContent()).toBe(user);
    await say(page, 'What tasks do I have?');
    await page.locator('.message.assistant.done .text', { hasText: 'I can help with tasks' }).waitFor();
    const taskId = uniqueId('walk-in-task');
    await open.postJson('/tasks/process', { task_id: taskId, title: 'Open mode task', description: 'Seen by everyone here', assignee: 'someone@example.com', deadline_seconds: 600 });
    // With the API open everyone is admin: every task's changes come live.
    await page.locator(`[data-task="${taskId}"]`).waitFor();
    await context.close();
  });
});
