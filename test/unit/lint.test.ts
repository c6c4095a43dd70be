/**
 * The lint rules `npm test` runs (eslint.config.mjs) catch what they are there for, so a config change that
 * quietly turns them off fails here: a floating promise anywhere, and Node built-ins, I/O libraries and
 * `fetch` in the code the workflow bundle runs (while the same imports stay fine in the API), and state in
 * its module scope, which the worker shares among all its workflows (WORKFLOW_PRELOAD_MODULES).
 */
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const probe = [
  "import { readFileSync } from 'node:fs';",
  "import { Redis } from 'ioredis';",
  "import { Client } from '@temporalio/client';",
  'async function later(): Promise<number> { return 1; }',
  "export function run(): void { later(); void readFileSync; void Redis; void Client; void fetch('http://x'); }",
  'let shared = 0;',
  'export let exported = 0;',
  'export function count(): number { let local = 0; local += ++shared + ++exported; return local; }',
  '',
].join('\n');

async function rulesHit(file: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: root }).lintText(probe, { filePath: resolve(root, file) });
  return result!.messages.map((m) => `${m.ruleId}: ${m.message.split('.')[0]}`).sort();
}

describe('lint rules', () => {
  it('refuse Node built-ins, I/O libraries, a Temporal client, fetch and module-level state in workflow code, and floating promises there', { timeout: 120_000 }, async () => {
    const hits = await rulesHit('entities/task/workflow.ts');
    expect(hits).toEqual([
      "@typescript-eslint/no-floating-promises: Promises must be awaited, end with a call to ",
      "@typescript-eslint/no-restricted-imports: '@temporalio/client' import is restricted from being used by a pattern",
      "@typescript-eslint/no-restricted-imports: 'ioredis' import is restricted from being used by a pattern",
      "@typescript-eslint/no-restricted-imports: 'node:fs' import is restricted from being used by a pattern",
      "no-restricted-globals: Unexpected use of 'fetch'",
      // Both module-level lets; the function's own `let` is fine.
      'no-restricted-syntax: Module scope is shared by every workflow of a worker: keep a workflow\'s state in the workflow function (or on globalThis), not in a module-level let or var',
      'no-restricted-syntax: Module scope is shared by every workflow of a worker: keep a workflow\'s state in the workflow function (or on globalThis), not in a module-level let or var',
    ].sort());
  });

  it('allow those imports in the API, and still refuse the floating promise', { timeout: 120_000 }, async () => {
    expect(await rulesHit('api/app.ts')).toEqual(['@typescript-eslint/no-floating-promises: Promises must be awaited, end with a call to ']);
  });
});
