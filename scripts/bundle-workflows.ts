/**
 * `npm run bundle`: builds the workflow bundle ahead of time (the Dockerfile does), so workers start
 * without webpack and every replica runs byte-identical workflow code. Point WORKFLOW_BUNDLE_PATH at it.
 */
import { resolve } from 'node:path';
import { writeWorkflowBundle } from '../worker/create-worker';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const size = await writeWorkflowBundle(out);
  console.log(`workflow bundle: ${out} (${(size / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
