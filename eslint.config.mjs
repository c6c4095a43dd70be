// ESLint (flat config), run by `npm test` after the type check.
// - Everywhere: the recommended rules, and promises that nobody awaits, handles or marks `void`
//   (`no-floating-promises`): in a worker, API or test, a forgotten promise is a lost error or a race.
// - In the code the workflow bundle runs (WORKFLOW_SANDBOX below): no Node built-ins and no I/O libraries.
//   The SDK makes Date and Math.random deterministic inside the sandbox; it cannot do that for fs, fetch,
//   ioredis or a Temporal client, and a workflow that reaches them fails at run time or on replay. And no
//   module-level `let` or `var`: the worker shares these modules among all its workflows.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * What the workflow bundle imports (walked from workflows/index.ts and workflows/tracing-interceptors.ts):
 * these two folders and the notifications app's Nexus contract, which the processing workflow calls, and
 * nothing else, which test/unit/layout.test.ts checks.
 */
const WORKFLOW_SANDBOX = ['workflows/**/*.ts', 'entities/**/*.ts', 'notifications/api.ts'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'web/dist/**', 'test-output/**', 'bench/results/**', '.data/**', '**/*.cjs', '**/*.mjs', '**/*.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // The code reads JSON and third-party shapes in tests and charts; `any` there is a choice, not a slip.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: WORKFLOW_SANDBOX,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          // Exact names: as patterns, `events` would also match the project's own events/ folder.
          paths: ['fs', 'path', 'crypto', 'os', 'http', 'https', 'net', 'dns', 'child_process', 'worker_threads', 'stream', 'events', 'timers', 'util'].map(
            (name) => ({ name, message: 'Workflow code runs in the sandbox: no Node built-ins.' }),
          ),
          patterns: [
            { regex: '^node:', message: 'Workflow code runs in the sandbox: no Node built-ins.' },
            {
              group: ['ioredis', 'pino', 'prom-client', 'hono', '@hono/*', 'undici', 'jose', 'zod', '@opentelemetry/sdk-*', '@opentelemetry/exporter-*'],
              message: 'Workflow code runs in the sandbox: no I/O libraries (use an activity).',
            },
            {
              group: ['@temporalio/client', '@temporalio/activity', '@temporalio/worker', '@temporalio/testing', '@temporalio/envconfig'],
              message: 'Workflow code imports @temporalio/workflow and @temporalio/common only.',
            },
            {
              group: ['**/activities', '**/activities/*', '**/clients/*', '**/api/*', '**/worker/*', '**/scripts/*', '**/common/*', '**/events/*'],
              allowTypeImports: true,
              message: 'Only `import type` from code outside the workflow sandbox.',
            },
          ],
        },
      ],
      // The bundle's modules are evaluated once per worker thread and shared by all its workflows
      // (WORKFLOW_PRELOAD_MODULES in worker/create-worker.ts): module scope holds no state of a workflow.
      'no-restricted-syntax': [
        'error',
        ...['Program > VariableDeclaration[kind!="const"]', 'Program > ExportNamedDeclaration > VariableDeclaration[kind!="const"]'].map((selector) => ({
          selector,
          message: "Module scope is shared by every workflow of a worker: keep a workflow's state in the workflow function (or on globalThis), not in a module-level let or var.",
        })),
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'No I/O in workflow code: call an activity.' },
        { name: 'process', message: 'No process in workflow code: pass settings as workflow input or read them in an activity.' },
        { name: 'Buffer', message: 'Buffer is a Node API; use Uint8Array or strings.' },
        { name: 'require', message: 'Import what the workflow needs.' },
      ],
    },
  },
);
