/**
 * The temporal CLI as a first-class interface: the commands docs/operations.md gives, run with the real binary
 * against the dev server, with the HTTP API seeing the results.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Harness, eventually, uniqueId } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start();
});
afterAll(() => h?.close());

async function temporal(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(inject('temporalCli'), [...args, '--address', inject('temporalAddress'), '--output', 'json']);
  return stdout;
}

describe('temporal CLI', () => {
  it('starts a processing run, then drives and reads the task entity by its documented names', async () => {
    const taskId = uniqueId('cli');
    const input = JSON.stringify({ task_id: taskId, title: 'Write the docs', description: 'Document the CLI interface', assignee: 'carol@example.com' });
    await temporal('workflow', 'start', '--type', 'TaskProcessingWorkflow', '--task-queue', h.config.TASK_QUEUE, '--workflow-id', `task-workflow-${taskId}`, '--input', input);

    const done = await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
    expect(done.body.output).toEqual({ task_id: taskId, status: 'completed', message: 'Task assigned to carol@example.com with deadline reminder' });
    expect((await h.getJson(`/tasks/${taskId}`)).body).toMatchObject({ status: 'assigned', assignee: 'carol@example.com' });

    const entityId = `task-entity-${taskId}`;
    const query = JSON.parse(await temporal('workflow', 'query', '--workflow-id', entityId, '--name', 'getTask'));
    expect(query.queryResult[0]).toMatchObject({ task_id: taskId, status: 'assigned' });

    const update = JSON.parse(
      await temporal('workflow', 'update', 'execute', '--workflow-id', entityId, '--name', 'updateStatus', '--input', '{"status":"in_progress"}'),
    );
    expect(update.result).toMatchObject({ status: 'in_progress' });

    await temporal('workflow', 'signal', '--workflow-id', entityId, '--name', 'assignTask', '--input', '{"assignee":"dave@example.com"}');
    await eventually(() => h.getJson(`/tasks/${taskId}`), (r) => r.body.assignee === 'dave@example.com');

    // Custom search attributes find the entity (visibility is eventually consistent).
    const listed = await eventually(
      async () => JSON.parse(await temporal('workflow', 'list', '--query', `TaskId="${taskId}" AND TaskAssignee="dave@example.com"`)) as { execution: { workflowId: string } }[],
      (rows) => rows.length > 0,
    );
    expect(listed.map((r) => r.execution.workflowId)).toContain(entityId);
  });

  it('drives the chat entity', async () => {
    const user = uniqueId('cli-user');
    await h.postJson(`/chat/${user}`, { content: 'hello' });
    const reply = JSON.parse(
      await temporal('workflow', 'update', 'execute', '--workflow-id', `chat-entity-${user}`, '--name', 'processMessage', '--input', '{"content":"help"}'),
    );
    expect(reply.result.content).toBe("I'm your task management assistant. Ask me about creating, assigning, or tracking tasks.");
    const history = JSON.parse(await temporal('workflow', 'query', '--workflow-id', `chat-entity-${user}`, '--name', 'getHistory'));
    expect(history.queryResult[0]).toHaveLength(4);
  });

  it('fails a run started with invalid input, naming the field', async () => {
    const taskId = uniqueId('cli-bad');
    await temporal('workflow', 'start', '--type', 'TaskProcessingWorkflow', '--task-queue', h.config.TASK_QUEUE, '--workflow-id', `task-workflow-${taskId}`, '--input', JSON.stringify({ task_id: taskId, title: 'Write the docs' }));
    const status = await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status !== 'RUNNING');
    expect(status.body).toMatchObject({ status: 'FAILED', output: null });
    const { stdout } = await promisify(execFile)(inject('temporalCli'), ['workflow', 'describe', '--workflow-id', `task-workflow-${taskId}`, '--address', inject('temporalAddress')]);
    expect(stdout).toMatch(/Invalid input: description: .*assignee: /s);
  });
});
