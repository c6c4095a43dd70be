/**
 * `npm run soak`: the worker-crash case of test/reliability/crash.test.ts, longer and repeated, on its
 * own dev server (SQLite WAL, temporary database). Exits 1 if any round broke a promise.
 *
 *   npm run soak                                   # 5 rounds of 1,000 runs + 50x10 mutations, 4 kills each
 *   npm run soak -- --rounds 20 --workflows 2000 --kills 6 --window-ms 60000 --seed 42
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../common/config';
import { freePort, startDevServer } from '../../scripts/dev-server';
import { DEFAULT_NOTIFICATIONS_NAMESPACE } from '../../scripts/temporal-server';
import { findTemporalCli } from '../../scripts/go-tools';
import { writeWorkflowBundle } from '../../worker/create-worker';
import { runCrashSoak, type CrashSoakReport } from './crash-soak';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    workflows: { type: 'string', default: '1000' },
    entities: { type: 'string', default: '50' },
    mutations: { type: 'string', default: '10' },
    kills: { type: 'string', default: '4' },
    'window-ms': { type: 'string', default: '30000' },
    seed: { type: 'string' },
  },
});
const num = (name: keyof typeof values) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${values[name]}`);
  return n;
};

async function main(): Promise<number> {
  const config = loadConfig();
  const dir = mkdtempSync(join(tmpdir(), 'task-agent-soak-server-'));
  const server = await startDevServer({ cli: await findTemporalCli(), dbFile: join(dir, 'temporal.db'), port: await freePort(), extraNamespaces: [DEFAULT_NOTIFICATIONS_NAMESPACE] });
  const reports: CrashSoakReport[] = [];
  try {
    // One bundle for every round's workers.
    const workflowBundlePath = join(dir, 'workflow-bundle.js');
    await writeWorkflowBundle(workflowBundlePath);
    const firstSeed = values.seed !== undefined ? num('seed') : Date.now() % 100_000;
    for (let round = 0; round < num('rounds'); round++) {
      console.log(`round ${round + 1}/${num('rounds')}`);
      reports.push(
        await runCrashSoak({
          temporalAddress: server.address,
          redisUrl: config.REDIS_URL,
          workflows: num('workflows'),
          entities: num('entities'),
          mutationsPerEntity: Math.min(num('mutations'), 10),
          kills: num('kills'),
          windowMs: num('window-ms'),
          seed: firstSeed + round,
          workflowBundlePath,
          log: (line) => console.log(`  ${line}`),
        }),
      );
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const broken = reports.filter((r) => r.violations.length > 0);
  const sum = (f: (r: CrashSoakReport) => number) => reports.reduce((a, r) => a + f(r), 0);
  console.log(
    `soak: ${reports.length} rounds, ${sum((r) => r.killsAt.length)} SIGKILLs, ${sum((r) => r.processing.completed)} runs completed once, ` +
      `${sum((r) => r.mutations.applied)} mutations applied once, ${sum((r) => r.events.distinct)} distinct events; ` +
      `${broken.length} rounds with violations${broken.length ? ` (seeds ${broken.map((r) => r.seed).join(', ')})` : ''}`,
  );
  return broken.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
