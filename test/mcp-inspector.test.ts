/**
 * The MCP Inspector's CLI mode (a client nobody here wrote) against /mcp with a real token: it lists the
 * tools, calls one, and reads the task it made as a resource. Installed once outside the repo, on Node 24.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureMcpInspector } from '../scripts/mcp-inspector';
import { Harness } from './helpers/harness';
import { TEST_JWT_SECRET, person } from './helpers/people';

const run = promisify(execFile);
let h: Harness;
let inspector: ReturnType<typeof ensureMcpInspector>;

beforeAll(async () => {
  inspector = ensureMcpInspector();
  h = await Harness.start({ env: { AUTH_JWT_SECRET: TEST_JWT_SECRET } });
}, 300_000);
afterAll(() => h?.close());

it('the Inspector CLI lists the tools, calls create_task and reads the task as a resource', async () => {
  const alice = await person('mcp-inspector');
  const cli = async (...args: string[]) => {
    const { stdout } = await run(inspector.bin, ['--cli', `${h.baseUrl}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${alice.token}`, ...args], {
      env: inspector.env,
      timeout: 60_000,
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  };
  const { tools } = (await cli('--method', 'tools/list')) as { tools: { name: string; annotations: Record<string, unknown> }[] };
  expect(tools.map((t) => t.name)).toContain('create_task');
  expect(tools.find((t) => t.name === 'delete_task')!.annotations).toMatchObject({ destructiveHint: true });

  const created = (await cli('--method', 'tools/call', '--tool-name', 'create_task', '--tool-arg', 'title=From the Inspector')) as {
    structuredContent: { status: string; task: { task_id: string; created_by: string } };
  };
  expect(created.structuredContent).toMatchObject({ status: 'done', task: { created_by: alice.id } });
  const { contents } = (await cli('--method', 'resources/read', '--uri', `task://${created.structuredContent.task.task_id}`)) as { contents: { text: string }[] };
  expect(JSON.parse(contents[0]!.text)).toMatchObject({ title: 'From the Inspector' });

  await expect(run(inspector.bin, ['--cli', `${h.baseUrl}/mcp`, '--transport', 'http', '--method', 'tools/list'], { env: inspector.env, timeout: 60_000 })).rejects.toThrow(/auth_required|401/); // told to sign in, as a 401 with WWW-Authenticate asks
}, 120_000);
