/**
 * `npm run bundle`: builds the workflow bundles ahead of time (the Dockerfile does), so workers start
 * without webpack and every replica runs byte-identical workflow code: the task worker's (point
 * WORKFLOW_BUNDLE_PATH at it) and the notifications app's (NOTIFICATIONS_WORKFLOW_BUNDLE_PATH).
 *
 *   npm run bundle -- [task worker's bundle] [notifications app's bundle]
 */
import { resolve } from 'node:path';
import { writeWorkflowBundle } from '../worker/create-worker';
import { writeNotificationWorkflowBundle } from '../notifications/worker';

async function main(): Promise<void> {
  const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const size = await writeWorkflowBundle(out);
  console.log(`workflow bundle: ${out} (${(size / 1024).toFixed(0)} KiB)`);
  const notifications = resolve(process.argv[3] ?? 'dist/notifications-bundle.js');
  const notificationsSize = await writeNotificationWorkflowBundle(notifications);
  console.log(`notifications app's workflow bundle: ${notifications} (${(notificationsSize / 1024).toFixed(0)} KiB)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
