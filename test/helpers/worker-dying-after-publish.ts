/**
 * A worker that dies between publishing a new task's events at once and the recording of the workflow task that
 * made them: once its local activity has published a `task.created`, it prints `published` and waits for the
 * test to SIGKILL it (test/reliability/creation-crash.test.ts). The publish itself is the real one.
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../common/config';
import { connectRedis } from '../../common/redis';
import { connectClient } from '../../common/temporal';
import { createWorker } from '../../worker/create-worker';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const client = await connectClient(config);
  const redis = connectRedis(config);
  const { worker } = await createWorker({
    config,
    client,
    redis,
    workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH! },
    wrapActivities: (real) => ({
      async publishEvents(events) {
        const result = await real.publishEvents(events);
        if (Context.current().info.isLocal && events.some((e) => e.type === 'task.created')) {
          process.stdout.write('published\n');
          await new Promise(() => undefined);
        }
        return result;
      },
    }),
  });
  await worker.run();
}

void main();
