/**
 * Payload encryption end to end, on a dev server of its own (so its database files can be searched): what
 * is written before encryption is turned on stays readable; what is written after never reaches the
 * database in plain text; the API, the temporal CLI with the codec endpoint and the Web UI (headless
 * Chromium, through the API's /codec with CORS) show it; the CLI without the codec does not; a rotated key
 * list (new key first, old second) reads old and new runs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHROMIUM_ARGS, ensureChromium } from '../scripts/chromium';
import { freePort } from '../scripts/dev-server';
import { startTestTemporal, type TestTemporal } from './helpers/temporal';
import { parsePostgresUrl } from '../scripts/temporal-postgres';
import { Harness, eventually, seedTask, uniqueId } from './helpers/harness';
import { lastUserMessage, startModelServer, type ModelServer } from './helpers/model-server';

const key = () => randomBytes(32).toString('base64');
const K1 = `k1:${key()}`;
const K2 = `k2:${key()}`;
const PLAIN_MARKER = `plain-${randomBytes(8).toString('hex')}`;
const SECRET_MARKER = `secret-${randomBytes(8).toString('hex')}`;
const ROTATED_MARKER = `rotated-${randomBytes(8).toString('hex')}`;
const CHAT_MARKER = `chat-${randomBytes(8).toString('hex')}`;
/** What a failing model answers: it reaches the failure's message, which Temporal stores. */
const FAILURE_MARKER = `failure-${randomBytes(8).toString('hex')}`;

let dir: string;
let server: TestTemporal;
let model: ModelServer;
let apiPort: number;
let uiPort: number;
const taskQueue = uniqueId('tq-encryption');
const plainTask = uniqueId('enc-plain');
const secretTask = uniqueId('enc-secret');
const rotatedTask = uniqueId('enc-rotated');
const chatUser = uniqueId('enc-user');

/** A harness of this file's server, with the given keys (none: encryption off). */
const harness = (keys?: string) =>
  Harness.start({
    apiPort,
    env: {
      TEMPORAL_ADDRESS: server.address,
      TASK_QUEUE: taskQueue,
      TEMPORAL_UI_PORT: String(uiPort),
      LLM_BASE_URL: model.url,
      LLM_MODEL: 'scripted',
      ...(keys ? { PAYLOAD_ENCRYPTION_KEYS: keys } : {}),
    },
  });

async function processTask(h: Harness, taskId: string, description: string) {
  expect((await h.postJson('/tasks/process', seedTask(taskId, { description }))).status).toBe(200);
  await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(inject('temporalCli'), [...args, '--address', server.address, '--output', 'json'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/** The first input payload of a run, from `temporal workflow show --output json`: its encoding and its data as text. */
function startInput(shown: string): { encoding: string; data: string } {
  const events = (JSON.parse(shown) as { events: Record<string, { input?: { payloads: { metadata: Record<string, string>; data: string }[] } }>[] }).events;
  const payload = events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads[0]!;
  return { encoding: Buffer.from(payload.metadata.encoding!, 'base64').toString(), data: Buffer.from(payload.data, 'base64').toString() };
}

/**
 * Everything the server stored, as one buffer: the dev server's database files (SQLite and its WAL), or a
 * pg_dump of both PostgreSQL databases with their bytea columns (hex in the dump) decoded.
 */
async function databaseBytes(): Promise<Buffer> {
  if (server.kind === 'dev') {
    return Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('temporal.db')).map((f) => readFileSync(join(dir, f))));
  }
  const { host, port, user, password } = parsePostgresUrl(inject('postgresUrl'));
  const dumps = await Promise.all(
    [server.options.database!, `${server.options.database!}_visibility`].map(async (database) => {
      const { stdout } = await promisify(execFile)('pg_dump', ['--host', host, '--port', String(port), '--username', user, '--data-only', database], {
        maxBuffer: 512 * 1024 * 1024,
        env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
      });
      return [Buffer.from(stdout), ...[...stdout.matchAll(/\\x([0-9a-f]+)/g)].map((m) => Buffer.from(m[1]!, 'hex'))];
    }),
  );
  return Buffer.concat(dumps.flat());
}

beforeAll(async () => {
  // A model that refuses messages about failures with a body that names the marker (a 400: not retried).
  model = await startModelServer((request) =>
    lastUserMessage(request).includes('fail') ? { status: 400, body: { error: { message: `bad request ${FAILURE_MARKER}` } } } : { text: 'Noted.' },
  );
  dir = mkdtempSync(join(tmpdir(), 'task-agent-encryption-'));
  apiPort = await freePort();
  uiPort = await freePort();
  server = await startTestTemporal({
    stateDir: dir,
    port: await freePort(),
    uiPort,
    uiCodecEndpoint: `http://localhost:${apiPort}/codec`,
  });
  // Before encryption: a task written in plain text.
  const before = await harness();
  try {
    await processTask(before, plainTask, PLAIN_MARKER);
  } finally {
    await before.close();
  }
}, 120_000);

afterAll(async () => {
  model?.close();
  await server?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('with PAYLOAD_ENCRYPTION_KEYS', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(K1);
    await processTask(h, secretTask, SECRET_MARKER);
    expect((await h.postJson(`/chat/${chatUser}`, { content: `Remember ${CHAT_MARKER}` })).status).toBe(200);
    // A model call that fails for good: its failure (with the model's error body) is in the chat's history.
    const failed = await h.postJson(`/chat/${chatUser}`, { content: 'Please fail' });
    expect(failed.body.content).toMatch(/^The model is unavailable right now/);
  }, 60_000);
  afterAll(() => h?.close());

  it('keeps task content and chat messages out of the database in plain text', async () => {
    const bytes = await databaseBytes();
    // The search works: what was written before encryption is there as it was.
    expect(bytes.includes(PLAIN_MARKER)).toBe(true);
    expect(bytes.includes(SECRET_MARKER)).toBe(false);
    expect(bytes.includes(CHAT_MARKER)).toBe(false);
    // Failures too: their message and stack travel as an encrypted payload.
    expect(bytes.includes(FAILURE_MARKER)).toBe(false);
    const { events } = await h.client.workflow.getHandle(`chat-entity-${chatUser}`).fetchHistory();
    const failure = events!.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!;
    expect(failure.message).toBe('Encoded failure');
    // Read through the codec endpoint (as the CLI and the Web UI do), the failure says what it said.
    const shown = JSON.parse(await cli('workflow', 'show', '--workflow-id', `chat-entity-${chatUser}`, '--codec-endpoint', `http://127.0.0.1:${apiPort}/codec`)) as {
      events: { activityTaskFailedEventAttributes?: { failure: { encodedAttributes: { data: string } } } }[];
    };
    const attributes = shown.events.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure.encodedAttributes;
    expect(JSON.parse(Buffer.from(attributes.data, 'base64').toString()).message).toContain(FAILURE_MARKER);
  });

  it('reads old and new tasks through the API', async () => {
    expect((await h.getJson(`/tasks/${secretTask}`)).body.description).toBe(SECRET_MARKER);
    expect((await h.getJson(`/tasks/${plainTask}`)).body.description).toBe(PLAIN_MARKER);
    const history = await h.getJson(`/chat/${chatUser}/history`);
    expect(JSON.stringify(history.body)).toContain(CHAT_MARKER);
  });

  it('shows plain text in the temporal CLI with the codec endpoint, and ciphertext without it', async () => {
    const without = startInput(await cli('workflow', 'show', '--workflow-id', `task-workflow-${secretTask}`));
    expect(without.encoding).toBe('binary/encrypted');
    expect(without.data).not.toContain(SECRET_MARKER);
    const withCodec = startInput(
      await cli('workflow', 'show', '--workflow-id', `task-workflow-${secretTask}`, '--codec-endpoint', `http://127.0.0.1:${apiPort}/codec`),
    );
    expect(withCodec.encoding).toBe('json/plain');
    expect(JSON.parse(withCodec.data)).toMatchObject({ task_id: secretTask, description: SECRET_MARKER });
    // Search attributes stay readable by design: listing by task id needs no codec.
    expect(await cli('workflow', 'list', '--query', `TaskId = '${secretTask}'`)).toContain(`task-entity-${secretTask}`);
  });

  it('serves the CLI’s query, signal and update through the codec endpoint, calls without arguments too', async () => {
    const codec = ['--codec-endpoint', `http://127.0.0.1:${apiPort}/codec`];
    // A query without arguments: the CLI sends {} to /codec/encode (protobuf JSON leaves out an empty list).
    const queried = JSON.parse(await cli('workflow', 'query', '--workflow-id', `task-entity-${secretTask}`, '--name', 'getTask', ...codec)) as { queryResult: unknown[] };
    expect(queried.queryResult[0]).toMatchObject({ task_id: secretTask, description: SECRET_MARKER });
    // An update with an argument and one without, and a signal without.
    const updated = JSON.parse(
      await cli('workflow', 'update', 'execute', '--workflow-id', `chat-entity-${chatUser}`, '--name', 'processMessage', '--input', JSON.stringify({ content: '/help' }), ...codec),
    ) as { result: { role: string; content: string } };
    expect(updated.result).toMatchObject({ role: 'assistant', content: expect.stringContaining('/tasks') });
    await cli('workflow', 'update', 'execute', '--workflow-id', `chat-entity-${chatUser}`, '--name', 'clearHistory', ...codec);
    expect((await h.getJson(`/chat/${chatUser}/history`)).body.messages).toEqual([]);
    await cli('workflow', 'signal', '--workflow-id', `chat-entity-${chatUser}`, '--name', 'clearHistory', ...codec);
    // What the CLI sends for no arguments, answered as no payloads.
    expect(await h.postJson('/codec/encode', {})).toEqual({ status: 200, body: { payloads: [] } });
    expect(await h.postJson('/codec/decode', {})).toEqual({ status: 200, body: { payloads: [] } });
    // And the history the CLI shows reads in plain text.
    const shown = await cli('workflow', 'show', '--workflow-id', `chat-entity-${chatUser}`, ...codec);
    expect(shown).toContain('clearHistory');
  });

  it('answers the codec protocol: encode then decode gives back the payload; a tampered one is refused', async () => {
    const payload = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello"').toString('base64') };
    const encoded = await h.postJson('/codec/encode', { payloads: [payload] });
    expect(encoded.status).toBe(200);
    const [sealed] = (encoded.body as { payloads: { data: string; metadata: Record<string, string> }[] }).payloads;
    expect(Buffer.from(sealed!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
    const decoded = await h.postJson('/codec/decode', { payloads: [sealed] });
    expect(decoded.body).toEqual({ payloads: [payload] });
    const bytes = Buffer.from(sealed!.data, 'base64');
    bytes[20] = bytes[20]! ^ 1;
    const tampered = await h.postJson('/codec/decode', { payloads: [{ ...sealed, data: bytes.toString('base64') }] });
    expect(tampered.status).toBe(422);
    expect(String(tampered.body.detail)).toMatch(/does not decrypt/);
    expect((await h.postJson('/codec/decode', { payloads: [{ data: 'not base64!' }] })).status).toBe(422);
  });

  it('lets the Web UI decode through the API (CORS for its origin)', async () => {
    const preflight = await fetch(`http://127.0.0.1:${apiPort}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: `http://localhost:${uiPort}`, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(`http://localhost:${uiPort}`);
    const foreign = await fetch(`http://127.0.0.1:${apiPort}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    const browser = await chromium.launch({ executablePath: ensureChromium(), args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const { runId } = await h.client.workflow.getHandle(`task-workflow-${secretTask}`).describe();
      await page.goto(`${server.uiUrl}/namespaces/default/workflows/task-workflow-${secretTask}/${runId}/history`);
      await page.getByText(SECRET_MARKER).first().waitFor({ timeout: 30_000 });
    } finally {
      await browser.close();
    }
  }, 90_000);
});

describe('after a key rotation (new key first, old key second)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(`${K2},${K1}`);
    await processTask(h, rotatedTask, ROTATED_MARKER);
  }, 60_000);
  afterAll(() => h?.close());

  it('reads runs written with either key, and with none', async () => {
    for (const [taskId, marker] of [
      [plainTask, PLAIN_MARKER],
      [secretTask, SECRET_MARKER],
      [rotatedTask, ROTATED_MARKER],
    ]) {
      expect((await h.getJson(`/tasks/${taskId}`)).body.description, taskId).toBe(marker);
      expect((await h.getJson(`/workflows/task-workflow-${taskId}`)).body.status, taskId).toBe('COMPLETED');
    }
    const show = JSON.parse(await cli('workflow', 'show', '--workflow-id', `task-workflow-${rotatedTask}`)) as {
      events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { metadata: Record<string, string> }[] } } }[];
    };
    const keyId = show.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!.metadata['encryption-key-id']!;
    expect(Buffer.from(keyId, 'base64').toString()).toBe('k2');
    expect((await databaseBytes()).includes(ROTATED_MARKER)).toBe(false);
  });
});
