/**
 * Worker process for the baseline workflows (bench/baseline-workflows.ts): same SDK, same defaults and
 * same settings as the service's worker (worker/create-worker.ts), on its own task queue.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createAgentToolActivities } from '../activities/agent-tools';
import { createModelActivities } from '../activities/model';
import { TaskEntityClient } from '../clients/task-entity';
import { ProjectEntityClient } from '../clients/project-entity';
import { llmSettings, loadConfig } from '../common/config';
import { connectClient, temporalConnectionOptions } from '../common/temporal';
import { effectiveWorkerSettings, workerSettings } from '../worker/create-worker';
import { baselineActivities } from './baseline-activities';

async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TASK_QUEUE,
    // The agent turn's baseline runs the service's own model and tool activities (tasks live on SERVICE_TASK_QUEUE).
    activities: {
      ...baselineActivities,
      ...createModelActivities({ llm: llmSettings(config) }),
      ...(await (async () => {
        const client = await connectClient(config);
        const serviceQueue = process.env.SERVICE_TASK_QUEUE ?? config.TASK_QUEUE;
        return createAgentToolActivities({ tasks: new TaskEntityClient(client, serviceQueue), projects: new ProjectEntityClient(client, serviceQueue) });
      })()),
    },
    workflowsPath: require.resolve('./baseline-workflows'),
    ...workerSettings(config),
  });
  console.log(JSON.stringify({ msg: 'worker started', settings: effectiveWorkerSettings(worker) }));
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
