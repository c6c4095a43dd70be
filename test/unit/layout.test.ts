/**
 * The layout keeps the workflow sandbox visible: what the workers' workflow bundles run lives in workflows/
 * and entities/ only (and the notifications app's workflow and contract, notifications/workflows.ts and api.ts), clients reach no workflow module, and no module imports itself through others.
 * dependency-cruiser reads the imports; each rule is checked on a probe too, so a rule that can no longer
 * fail (a path that moved, an option that changed) fails here instead of passing quietly.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cruise, type ICruiseOptions, type IForbiddenRuleType } from 'dependency-cruiser';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { ChatEntityWorkflow } from '../../entities/chat/workflow';
import type { ChatEntityWorkflowSignature } from '../../entities/chat/messages';
import type { TaskEntityWorkflow } from '../../entities/task/workflow';
import type { TaskEntityWorkflowSignature } from '../../entities/task/messages';

const root = resolve(__dirname, '../..');
const SOURCE_FOLDERS = ['workflows', 'entities', 'activities', 'clients', 'api', 'common', 'events', 'worker', 'notifications', 'scripts', 'bench', 'test'];
/**
 * The modules the workers bundle: the task worker's (worker/create-worker.ts: workflowsPath and the interceptor
 * modules) and the notifications app's (notifications/worker.ts).
 */
const BUNDLE_ENTRY = '^(workflows/(index|tracing-interceptors)|notifications/workflows)[.]ts$';
/** The notifications app's workflow and its Nexus contract, which the processing workflow calls, are workflow code too. */
const SANDBOX = '^(workflows/|entities/|notifications/(api|workflows)[.]ts$)';
/** Workflow implementations: everything in the two folders but the shared pure modules and message definitions. */
const WORKFLOW_MODULES = '^(workflows/(?!shared/)|entities/(?![^/]+/messages[.]ts$))';

const rules: Record<string, IForbiddenRuleType[]> = {
  // Type imports count: a cycle of types still means two modules that cannot be read apart.
  withTypes: [{ name: 'no-cycle', severity: 'error', from: {}, to: { circular: true } }],
  // Only what runs: `import type` is erased, so it puts nothing in the bundle.
  valuesOnly: [
    { name: 'bundle-in-sandbox', severity: 'error', from: { path: BUNDLE_ENTRY }, to: { pathNot: `${SANDBOX}|^node_modules/`, reachable: true } },
    { name: 'clients-without-workflows', severity: 'error', from: { path: '^clients/' }, to: { path: WORKFLOW_MODULES, reachable: true } },
    { name: 'messages-without-workflows', severity: 'error', from: { path: '^entities/[^/]+/messages[.]ts$' }, to: { path: WORKFLOW_MODULES, reachable: true } },
  ],
};

async function violations(cwd: string, kind: keyof typeof rules): Promise<string[]> {
  const options: ICruiseOptions = {
    validate: true,
    ruleSet: { forbidden: rules[kind] } as ICruiseOptions['ruleSet'],
    tsPreCompilationDeps: kind === 'withTypes',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    baseDir: cwd,
  };
  const previous = process.cwd();
  process.chdir(cwd); // dependency-cruiser reports paths relative to the working directory
  try {
    const result = await cruise(SOURCE_FOLDERS, options);
    const output = result.output as Exclude<typeof result.output, string>;
    return output.summary.violations.map((v) => `${v.rule.name}: ${[v.from, ...(v.cycle?.map((c) => c.name) ?? [v.to])].join(' -> ')}`);
  } finally {
    process.chdir(previous);
  }
}

describe('layout', () => {
  it('has no import cycle, type imports included', { timeout: 120_000 }, async () => {
    expect(await violations(root, 'withTypes')).toEqual([]);
  });

  it('bundles workflow code from workflows/ and entities/ only; clients and message definitions load no workflow module', { timeout: 120_000 }, async () => {
    expect(await violations(root, 'valuesOnly')).toEqual([]);
  });

  it('the entity clients type their calls with the signatures of the workflows they start', () => {
    expectTypeOf<typeof TaskEntityWorkflow>().toEqualTypeOf<TaskEntityWorkflowSignature>();
    expectTypeOf<typeof ChatEntityWorkflow>().toEqualTypeOf<ChatEntityWorkflowSignature>();
  });

  describe('each rule fails where it should', () => {
    const copies: string[] = [];
    afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

    /** A copy of the sources with `files` added or replaced. */
    function copyWith(files: Record<string, string>): string {
      const dir = mkdtempSync(join(tmpdir(), 'task-agent-layout-'));
      copies.push(dir);
      for (const folder of SOURCE_FOLDERS) cpSync(join(root, folder), join(dir, folder), { recursive: true, filter: (src) => !src.includes('node_modules') && !src.includes(`${folder}/results`) });
      cpSync(join(root, 'tsconfig.json'), join(dir, 'tsconfig.json'));
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(join(dir, file, '..'), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      return dir;
    }

    it('finds a cycle of type imports, a bundle reaching common/, a client loading a workflow, and message definitions loading one through another module', { timeout: 180_000 }, async () => {
      const dir = copyWith({
        'common/probe-a.ts': "import type { B } from './probe-b';\nexport type A = { b?: B };\n",
        'common/probe-b.ts': "import type { A } from './probe-a';\nexport type B = { a?: A };\n",
        'workflows/index.ts': `${'export { TaskProcessingWorkflow } from "./task-processing";'}\nexport { probe } from '../common/probe-value';\n`,
        'common/probe-value.ts': 'export const probe = 1;\n',
        'clients/probe.ts': "export { TaskEntityWorkflow } from '../entities/task/workflow';\n",
        // Through a module outside the two folders: only a rule that follows imports all the way finds it.
        'entities/chat/messages.ts': `${readFileSync(join(root, 'entities/chat/messages.ts'), 'utf8')}\nexport { probeWorkflow } from '../../common/probe-workflow';\n`,
        'common/probe-workflow.ts': "export { ChatEntityWorkflow as probeWorkflow } from '../entities/chat/workflow';\n",
      });
      expect(await violations(dir, 'withTypes')).toContain('no-cycle: common/probe-a.ts -> common/probe-b.ts -> common/probe-a.ts');
      expect(await violations(dir, 'valuesOnly')).toEqual(
        expect.arrayContaining([
          'bundle-in-sandbox: workflows/index.ts -> common/probe-value.ts',
          'clients-without-workflows: clients/probe.ts -> entities/task/workflow.ts',
          'messages-without-workflows: entities/chat/messages.ts -> entities/chat/workflow.ts',
        ]),
      );
    });
  });
});
