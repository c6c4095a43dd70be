/**
 * `npm run record-histories`: runs each kind of workflow run against a private dev server and saves its
 * event history under test/replay/histories/. test/replay.test.ts replays them against the current code,
 * so a change that would break running workflows (non-determinism) fails CI.
 *
 * Re-record only when a change is meant to be incompatible (and then version it with patched()); keep
 * the old files so that runs started before the change keep replaying.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { loadConfig } from '../../common/config';
import { chatEntityWorkflowId, taskEntityWorkflowId } from '../../common/ids';
import { clearHistoryUpdate, processMessageUpdate } from '../../entities/chat/messages';
import { ChatEntityWorkflow } from '../../entities/chat/workflow';
import { assignTaskUpdate, deleteTaskUpdate, getTaskQuery, setDeadlineUpdate, updateStatusUpdate } from '../../entities/task/messages';
import { freePort, startDevServer } from '../../scripts/dev-server';
import { findTemporalCli } from '../../scripts/go-tools';
import { createWorker } from '../../worker/create-worker';
import { TaskProcessingWorkflow } from '../../workflows/task-processing';

const OUT = join(__dirname, 'histories');

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dir = mkdtempSync(join(tmpdir(), 'task-agent-record-'));
  const cli = await findTemporalCli();
  const server = await startDevServer({ cli, dbFile: join(dir, 'db'), port: await freePort() });
  const config = loadConfig({ TEMPORAL_ADDRESS: server.address, TASK_QUEUE: 'record', REDIS_KEY_PREFIX: 'task-agent-record:', NOTIFY_FAILURE_RATE: '0.5' });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  const redis = new Redis(config.REDIS_URL);
  let failNotifications = false;
  const { worker, connection } = await createWorker({ config, client, redis, random: () => (failNotifications ? 0 : 1) });
  mkdirSync(OUT, { recursive: true });

  // The CLI's JSON export is the format the SDK's replayer reads (and what a user would attach to a bug).
  const save = async (name: string, workflowId: string) => {
    const { stdout } = await promisify(execFile)(cli, ['workflow', 'show', '--address', server.address, '--workflow-id', workflowId, '--output', 'json'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    writeFileSync(join(OUT, `${name}.json`), stdout);
    console.log(`saved ${name} (${(JSON.parse(stdout) as { events: unknown[] }).events.length} events)`);
  };
  const process = (taskId: string, overrides: Record<string, unknown> = {}) =>
    client.workflow.execute(TaskProcessingWorkflow, {
      workflowId: `task-workflow-${taskId}`,
      taskQueue: config.TASK_QUEUE,
      args: [{ task_id: taskId, title: 'Review PR #42', description: 'Review the authentication refactoring pull request', assignee: 'alice@example.com', deadline_seconds: 60, ...overrides }],
    });

  try {
    await worker.runUntil(async () => {
      await process('completed');
      await save('processing-completed', 'task-workflow-completed');

      await process('rejected', { title: 'abc' });
      await save('processing-rejected', 'task-workflow-rejected');

      failNotifications = true;
      await process('compensated');
      failNotifications = false;
      await save('processing-compensated', 'task-workflow-compensated');

      // An entity that is assigned, gets a deadline that fires, a new deadline, and is completed.
      await process('entity', { deadline_seconds: 1 });
      const entity = client.workflow.getHandle(taskEntityWorkflowId('entity'));
      while ((await entity.query(getTaskQuery))?.status !== 'overdue') await new Promise((r) => setTimeout(r, 200));
      await entity.executeUpdate(setDeadlineUpdate, { args: [{ deadline_seconds: 600 }] });
      await entity.signal('assignTask', { assignee: 'bob@example.com' });
      await entity.executeUpdate(assignTaskUpdate, { args: [{ assignee: 'carol@example.com' }] });
      await entity.executeUpdate(updateStatusUpdate, { args: [{ status: 'completed' }] });
      await save('task-entity', taskEntityWorkflowId('entity'));

      // A task created as a resource, updated conditionally, then deleted (its run completes).
      await process('deleted');
      const deleted = client.workflow.getHandle(taskEntityWorkflowId('deleted'));
      const { version } = await deleted.executeUpdate(updateStatusUpdate, { args: [{ status: 'in_progress' }] });
      await deleted.executeUpdate(updateStatusUpdate, { args: [{ status: 'completed', expected_version: version }] });
      await deleted.executeUpdate(deleteTaskUpdate);
      await deleted.result();
      await save('task-entity-deleted', taskEntityWorkflowId('deleted'));

      // A chat: messages (two at once), a clear, and the events they publish.
      const chat = await client.workflow.start(ChatEntityWorkflow, {
        workflowId: chatEntityWorkflowId('user-alice'),
        taskQueue: config.TASK_QUEUE,
        args: [{ user_id: 'user-alice' }],
      });
      await chat.executeUpdate(processMessageUpdate, { args: [{ content: 'What tasks do I have?' }] });
      await Promise.all([
        chat.executeUpdate(processMessageUpdate, { args: [{ content: 'help' }] }),
        chat.executeUpdate(processMessageUpdate, { args: [{ content: 'thanks' }] }),
      ]);
      await chat.executeUpdate(clearHistoryUpdate);
      await chat.executeUpdate(processMessageUpdate, { args: [{ content: 'hello again' }] });
      await new Promise((r) => setTimeout(r, 1_000)); // let the outbox publish
      await save('chat-entity', chatEntityWorkflowId('user-alice'));
    });
  } finally {
    await connection.close();
    await client.connection.close();
    redis.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
