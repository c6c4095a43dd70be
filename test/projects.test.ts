/**
 * Projects (the original's ProjectActor extension): a project set up with its initial tasks as child
 * processing runs, its live roll-up fed by the task entities, compensation when the setup fails, changes and
 * delete with per-user rights, and a roll-up that stays right across continue-as-new on both sides and a
 * worker that was down. Real API (real signed tokens), worker, Temporal server and Redis.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectEntityClient } from '../clients/project-entity';
import type { ProjectView } from '../common/schemas';
import { PROJECT_MAX_TASKS, createProjectUpdate, getProjectQuery, type ProjectEntityInput } from '../entities/project/messages';
import { updateStatusSignal } from '../entities/task/messages';
import { TOPICS } from '../workflows/shared/cloudevents';
import { projectEntityWorkflowId, taskEntityWorkflowId } from '../workflows/shared/ids';
import { createEntity, readTask, taskClient } from './helpers/entity';
import { Harness, eventually, uniqueId } from './helpers/harness';
import { TEST_JWT_SECRET, person, type Person } from './helpers/people';
import { streamEvents } from './helpers/streams';

let h: Harness;
let alice: Person;
let bob: Person;
let admin: { authorization: string };
beforeAll(async () => {
  h = await Harness.start({ env: { AUTH_JWT_SECRET: TEST_JWT_SECRET, API_TOKEN: 'projects-admin-token' } });
  [alice, bob] = await Promise.all([person('alice'), person('bob')]);
  admin = { authorization: 'Bearer projects-admin-token' };
});
afterAll(() => h?.close());

const call = (...args: Parameters<Harness['call']>) => h.call(...args);

const threeTasks = (prefix: string, overrides: Record<string, unknown>[] = []) =>
  ['Draft the sitemap', 'Write the copy', 'Migrate the blog'].map((title, i) => ({
    task_id: `${prefix}-${i + 1}`,
    title,
    description: `${title} for the new site`,
    assignee: `dev${i + 1}@example.com`,
    deadline_seconds: 3600 * (i + 1),
    ...overrides[i],
  }));

async function setUp(who: Person | { authorization: string }, projectId: string, tasks: unknown[], extra: Record<string, unknown> = {}) {
  const auth = 'auth' in who ? who.auth : who;
  const started = await call(auth, 'POST', '/projects/process', { project_id: projectId, name: 'Website relaunch', description: 'New site by March', tasks, ...extra });
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const done = await eventually(
    () => call(auth, 'GET', `/projects/${projectId}/setup`),
    (r) => r.status === 200 && r.body.status !== 'RUNNING',
    { timeoutMs: 60_000 },
  );
  return done.body as { status: string; output: { status: string; message: string; tasks: { task_id: string; status: string }[] } };
}

const project = (who: { authorization: string }, projectId: string, query = '') => call(who, 'GET', `/projects/${projectId}${query}`);
const rollupOf = async (projectId: string) => ((await project(admin, projectId)).body as unknown as ProjectView).rollup;

describe('project setup (ProjectSetupWorkflow)', () => {
  it('creates the project with its three tasks as child processing runs, owned by the caller, with a live roll-up', { timeout: 90_000 }, async () => {
    const id = uniqueId('relaunch');
    const setup = await setUp(alice, id, threeTasks(id));
    expect(setup.status).toBe('COMPLETED');
    expect(setup.output).toMatchObject({ status: 'completed', message: `Project ${id} set up with 3 task(s)` });
    expect(setup.output.tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);

    const view = await eventually(() => project(alice.auth, id), (r) => (r.body.rollup as { unreported: number })?.unreported === 0);
    expect(view.body).toMatchObject({ project_id: id, name: 'Website relaunch', description: 'New site by March', owner: alice.email, version: 1, created_by: alice.id });
    expect(view.etag).toMatch(/^"1-/);
    const rollup = view.body.rollup as ProjectView['rollup'];
    expect(rollup).toMatchObject({ tasks: 3, by_status: { assigned: 3, completed: 0, pending: 0, in_progress: 0, overdue: 0 }, overdue: 0, done_share: 0 });
    // The earliest deadline: the first task's, an hour out.
    const first = await readTask(h, `${id}-1`);
    expect(rollup.next_deadline).toBe(first.deadline);
    expect(first.project_id).toBe(id);
    expect((view.body.tasks as { task_id: string }[]).map((t) => t.task_id)).toEqual([`${id}-1`, `${id}-2`, `${id}-3`]);

    // The ProjectId search attribute finds the project, its tasks, their runs and the setup (the Web UI's filter).
    const found = await eventually(
      async () => {
        const ids: string[] = [];
        for await (const w of h.client.workflow.list({ query: `ProjectId = '${id}'` })) ids.push(w.workflowId);
        return ids.sort();
      },
      (ids) => ids.length === 8,
    );
    expect(found).toEqual(
      [projectEntityWorkflowId(id), `project-setup-${id}`, ...[1, 2, 3].flatMap((n) => [taskEntityWorkflowId(`${id}-${n}`), `task-workflow-${id}-${n}`])].sort(),
    );
    // And GET /projects lists it.
    const listed = await eventually(
      async () => {
        const all: string[] = [];
        let token: string | null = null;
        do {
          const page = await call(bob.auth, 'GET', `/projects?page_size=100${token ? `&page_token=${token}` : ''}`);
          all.push(...(page.body.projects as { project_id: string }[]).map((p) => p.project_id));
          token = page.body.next_page_token as string | null;
        } while (token);
        return all;
      },
      (all) => all.includes(id),
    );
    expect(listed).toContain(id);
  });

  it('compensates when a task fails: the tasks it created and the project are deleted', { timeout: 90_000 }, async () => {
    const id = uniqueId('doomed');
    // The third task's title is too short: its run is rejected, so the setup fails.
    const setup = await setUp(alice, id, threeTasks(id, [{}, {}, { title: 'Mig' }]));
    expect(setup.output.status).toBe('failed');
    expect(setup.output.message).toMatch(/^Project setup failed, compensation applied: .*-3: Validation failed/);
    expect((await project(alice.auth, id)).status).toBe(404);
    for (const n of [1, 2, 3]) expect((await call(alice.auth, 'GET', `/tasks/${id}-${n}`)).status).toBe(404);
    // The events tell the story: created, then deleted.
    const events = await eventually(
      () => streamEvents<{ project_id: string }>(h.redis, h.config.REDIS_KEY_PREFIX, TOPICS.projects),
      (e) => e.filter((x) => x.data.project_id === id).length >= 2,
    );
    expect(events.filter((e) => e.data.project_id === id).map((e) => e.type)).toEqual(['project.created', 'project.deleted']);
  });

  it('takes only new ids: an existing project or task is a 409, a bad body a 422 naming the field', async () => {
    const id = uniqueId('taken');
    await createEntity(h, `${id}-2`);
    const clash = await call(alice.auth, 'POST', '/projects/process', { project_id: id, name: 'Taken', tasks: threeTasks(id) });
    expect(clash.status).toBe(409);
    expect(clash.body.detail).toContain(`${id}-2`);
    const bad = await call(alice.auth, 'POST', '/projects/process', {
      project_id: 'no spaces',
      name: '',
      tasks: [{ ...threeTasks(id)[0], deadline_seconds: 0 }, threeTasks(id)[0]],
    });
    expect(bad.status).toBe(422);
    expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['name', 'project_id', 'tasks.0.deadline_seconds']);
    const many = await call(alice.auth, 'POST', '/projects/process', { project_id: id, name: 'Many', tasks: Array.from({ length: 21 }, (_, i) => threeTasks(`${id}-${i}`)[0]) });
    expect(many.status).toBe(422);
    expect(many.body.errors).toEqual([{ field: 'tasks', message: 'must hold at most 20 tasks' }]);
    const dup = await call(alice.auth, 'POST', '/projects/process', { project_id: id, name: 'Dup', tasks: [threeTasks(id)[0], threeTasks(id)[0]] });
    expect(dup.status).toBe(422);
    expect(dup.body.errors).toEqual([{ field: 'tasks.1.task_id', message: 'names a task listed before' }]);
    // Someone else's project is for an admin to set up.
    expect((await call(alice.auth, 'POST', '/projects/process', { project_id: id, name: 'Theirs', owner: bob.email })).status).toBe(403);
  });
});

describe('a project as its tasks change', () => {
  it('follows every change of its tasks: status, completion, a task added, taken out, deleted', { timeout: 90_000 }, async () => {
    const id = uniqueId('live');
    await setUp(alice, id, threeTasks(id));
    // Alice completes nothing herself: the assignee does (dev1 has no token here, so an admin acts).
    expect((await call(admin, 'PUT', `/tasks/${id}-1/status`, { status: 'completed' })).status).toBe(200);
    let rollup = await eventually(() => rollupOf(id), (r) => r.by_status.completed === 1);
    expect(rollup).toMatchObject({ tasks: 3, done_share: 0.333, by_status: { assigned: 2 } });

    // An existing task joins: the owner adds it; it reports; it counts.
    const loose = uniqueId('loose');
    await createEntity(h, loose);
    const added = await call(alice.auth, 'POST', `/projects/${id}/tasks`, { task_ids: [loose] });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    rollup = await eventually(() => rollupOf(id), (r) => r.tasks === 4 && r.unreported === 0);
    expect(rollup.by_status.pending).toBe(1);
    expect((await readTask(h, loose)).project_id).toBe(id);

    // Taken out again: the task stays, without a project.
    expect((await call(alice.auth, 'DELETE', `/projects/${id}/tasks/${loose}`)).status).toBe(204);
    rollup = await eventually(() => rollupOf(id), (r) => r.tasks === 3);
    expect((await readTask(h, loose)).project_id).toBeUndefined();

    // A deleted task leaves its project.
    expect((await call(admin, 'DELETE', `/tasks/${id}-3`)).status).toBe(204);
    rollup = await eventually(() => rollupOf(id), (r) => r.tasks === 2);
    expect(rollup).toMatchObject({ done_share: 0.5, by_status: { completed: 1, assigned: 1 } });
    // A page of one status only.
    const completed = await project(alice.auth, id, '?status=completed');
    expect(completed.body.tasks).toEqual([{ task_id: `${id}-1`, status: 'completed', deadline: expect.any(String) }]);
    expect((await project(alice.auth, id, '?tasks_limit=1')).body).toMatchObject({ tasks: [{ task_id: `${id}-1` }], next_tasks_offset: 1 });
    // Unknown task: 404 naming it, nothing added.
    const missing = await call(alice.auth, 'POST', `/projects/${id}/tasks`, { task_ids: ['no-such-task-anywhere'] });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toContain('no-such-task-anywhere');
  });

  it('lets only its owner or an admin change, fill or delete it; everyone signed in reads it', { timeout: 90_000 }, async () => {
    const id = uniqueId('rights');
    await setUp(alice, id, []);
    expect((await project(bob.auth, id)).status).toBe(200);
    expect((await call(bob.auth, 'PATCH', `/projects/${id}`, { name: 'Mine now' })).status).toBe(403);
    expect((await call(bob.auth, 'DELETE', `/projects/${id}`)).status).toBe(403);
    const bobs = uniqueId('bobs-task');
    await createEntity(h, bobs);
    expect((await call(bob.auth, 'POST', `/projects/${id}/tasks`, { task_ids: [bobs] })).status).toBe(403);
    expect((await call(bob.auth, 'POST', '/tasks/process', { task_id: uniqueId('t'), title: 'A task of mine', description: 'Into her project', assignee: bob.email, project_id: id })).status).toBe(403);

    const renamed = await call(alice.auth, 'PATCH', `/projects/${id}`, { name: 'Relaunch, phase 2' }, { 'if-match': (await project(alice.auth, id)).etag! });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Relaunch, phase 2', version: 2, updated_by: alice.id });
    // A stale ETag is a 412; an unknown field a 422; giving it away is an admin's.
    expect((await call(alice.auth, 'PATCH', `/projects/${id}`, { name: 'Again' }, { 'if-match': renamed.etag!.replace('"2-', '"1-') })).status).toBe(412);
    expect((await call(alice.auth, 'PATCH', `/projects/${id}`, { colour: 'red' })).body.errors).toEqual([{ field: 'colour', message: 'is not a known field' }]);
    expect((await call(alice.auth, 'PATCH', `/projects/${id}`, { owner: bob.email })).status).toBe(403);
    expect((await call(admin, 'PATCH', `/projects/${id}`, { owner: bob.email })).body).toMatchObject({ owner: bob.email, version: 3 });
    expect((await call(bob.auth, 'PATCH', `/projects/${id}`, { description: 'Bob runs it now' })).status).toBe(200);
  });

  it('deleting a project keeps its tasks and detaches them', { timeout: 90_000 }, async () => {
    const id = uniqueId('gone');
    await setUp(alice, id, threeTasks(id).slice(0, 2));
    expect((await call(alice.auth, 'DELETE', `/projects/${id}`)).status).toBe(204);
    expect((await project(alice.auth, id)).status).toBe(404);
    for (const n of [1, 2]) {
      const task = await eventually(() => readTask(h, `${id}-${n}`), (t) => t.project_id === undefined);
      expect(task).toMatchObject({ status: 'assigned', assignee: `dev${n}@example.com` });
    }
    // The entity ends once its tasks are detached; the id can be used again.
    await eventually(async () => (await h.client.workflow.getHandle(projectEntityWorkflowId(id)).describe()).status.name, (s) => s === 'COMPLETED');
    expect((await setUp(alice, id, [])).output.status).toBe('completed');
    // The same id again, a task in it, deleted again: the task is detached this time too.
    expect((await call(alice.auth, 'POST', `/projects/${id}/tasks`, { task_ids: [`${id}-1`] })).status).toBe(200);
    expect((await readTask(h, `${id}-1`)).project_id).toBe(id);
    expect((await call(alice.auth, 'DELETE', `/projects/${id}`)).status).toBe(204);
    await eventually(() => readTask(h, `${id}-1`), (t) => t.project_id === undefined);
  });

  it('a task processed for a project joins it, or, when its run fails, leaves no member behind', { timeout: 90_000 }, async () => {
    const id = uniqueId('joins');
    await setUp(alice, id, []);
    // An existing task with the same title and description: processed for the project, it joins it.
    const same = uniqueId('same');
    await createEntity(h, same);
    const run = await call(alice.auth, 'POST', '/tasks/process', { task_id: same, title: 'Review PR #42', description: 'Review the authentication refactoring pull request', assignee: 'erin@example.com', project_id: id });
    expect(run.status).toBe(200);
    await eventually(() => rollupOf(id), (r) => r.tasks === 1 && r.unreported === 0 && r.by_status.assigned === 1);
    expect((await readTask(h, same)).project_id).toBe(id);
    // Another task under an id in use with other text: the run fails, and the project does not keep it.
    const other = uniqueId('other');
    await createEntity(h, other);
    await call(alice.auth, 'POST', '/tasks/process', { task_id: other, title: 'Something else', description: 'Not what that task says', assignee: 'erin@example.com', project_id: id });
    const result = await eventually(() => call(alice.auth, 'GET', `/workflows/task-workflow-${other}`), (r) => r.body.status === 'COMPLETED');
    expect((result.body.output as { status: string }).status).toBe('failed');
    await eventually(() => rollupOf(id), (r) => r.tasks === 1);
    expect((await readTask(h, other)).project_id).toBeUndefined();
  });
});

describe('the roll-up, durably', () => {
  it('stays right across continue-as-new of the project and a worker that was down', { timeout: 120_000 }, async () => {
    const id = uniqueId('durable');
    const projects = new ProjectEntityClient(h.client, h.config.TASK_QUEUE);
    // A project entity that continues as new every 40 events.
    const input: ProjectEntityInput = { project_id: id, history_limit: 40 };
    await h.client.workflow.executeUpdateWithStart(createProjectUpdate, {
      args: [{ name: 'Durable', description: null, owner: alice.id }],
      startWorkflowOperation: new WithStartWorkflowOperation('ProjectEntityWorkflow', {
        workflowId: projectEntityWorkflowId(id),
        taskQueue: h.config.TASK_QUEUE,
        args: [input],
        workflowIdConflictPolicy: 'FAIL',
      }),
    });
    const first = (await h.client.workflow.getHandle(projectEntityWorkflowId(id)).describe()).runId;
    const ids = Array.from({ length: 12 }, (_, i) => `${id}-t${i}`);
    await Promise.all(ids.map((t) => createEntity(h, t)));
    await projects.addTasks(id, ids);
    const tasks = taskClient(h);
    await Promise.all(ids.map((t) => tasks.setProject(t, id)));
    for (const t of ids) await tasks.assign(t, 'carol@example.com');
    await Promise.all(ids.slice(0, 4).map((t) => tasks.updateStatus(t, { status: 'completed' })));
    const rollup = await eventually(() => projects.get(id).then((v) => v!.rollup), (r) => r.by_status.completed === 4 && r.by_status.assigned === 8);
    expect(rollup).toMatchObject({ tasks: 12, unreported: 0, done_share: 0.333 });
    expect((await h.client.workflow.getHandle(projectEntityWorkflowId(id)).describe()).runId).not.toBe(first);

    // The worker goes away; a change reaches a task as a signal meanwhile; its notice goes when the worker is back.
    await h.stopWorker();
    await h.client.workflow.getHandle(taskEntityWorkflowId(ids[11]!)).signal(updateStatusSignal, { status: 'completed' });
    await h.startWorker();
    // Eventually, not at once: the task and the project each rebuild on the new worker, the project may be
    // continuing as new (the notice is sent again after 1 s, 2 s, ...), and a loaded CI machine once took over 20 s.
    await eventually(() => projects.get(id).then((v) => v!.rollup.by_status.completed), (n) => n === 5, { timeoutMs: 60_000 });
    // A signal anyone could send, malformed: logged and ignored; the project goes on.
    await h.client.workflow.getHandle(projectEntityWorkflowId(id)).signal('taskChanged', { project_id: id, task_id: ids[0], columns: 'junk', created_at: 1, version: 99 });
    await h.client.workflow.getHandle(projectEntityWorkflowId(id)).signal('taskChanged', 'junk');
    await tasks.updateStatus(ids[5]!, { status: 'completed' });
    await eventually(() => projects.get(id).then((v) => v!.rollup.by_status.completed), (n) => n === 6);
    const view = await h.client.workflow.getHandle(projectEntityWorkflowId(id)).query(getProjectQuery, { tasks_limit: 0 });
    expect(view?.rollup.tasks).toBe(12);
    expect(view?.rollup.as_of).not.toBeNull();
  });

  it(`refuses more than ${PROJECT_MAX_TASKS} tasks, as a whole`, { timeout: 60_000 }, async () => {
    const id = uniqueId('full');
    const projects = new ProjectEntityClient(h.client, h.config.TASK_QUEUE);
    await projects.create(id, { name: 'Full', description: null, owner: alice.id });
    for (let batch = 0; batch < PROJECT_MAX_TASKS / 1000; batch++) {
      await projects.addTasks(id, Array.from({ length: 1000 }, (_, i) => `t-${batch}-${i}`));
    }
    await expect(projects.addTasks(id, ['one-more', `t-0-0`])).rejects.toMatchObject({ kind: 'refused', message: expect.stringContaining(`limit of ${PROJECT_MAX_TASKS}`) });
    const view = await projects.get(id, { tasks_limit: 0 });
    expect(view!.rollup).toMatchObject({ tasks: PROJECT_MAX_TASKS, unreported: PROJECT_MAX_TASKS });
    // Its state across continue-as-new stays far inside Temporal's 2 MB payload limit.
    expect(Buffer.byteLength(JSON.stringify([...Array(PROJECT_MAX_TASKS)].map((_, i) => [`task-${String(i).padStart(12, '0')}`, ['in_progress', 1.8e12, 1.8e12, 99]])))).toBeLessThan(700_000);
  });
});

describe('projects in the chat', () => {
  const say = async (who: Person, content: string) => {
    const res = await call(who.auth, 'POST', `/chat/${who.id}`, { content });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.content as string;
  };

  it('creates a project, puts tasks into it and says how it is doing; only its owner fills it', { timeout: 60_000 }, async () => {
    const id = uniqueId('chat-proj');
    expect(await say(alice, `/newproject ${id} Website relaunch`)).toBe(`Project ${id} "Website relaunch": created`);
    expect((await project(alice.auth, id)).body).toMatchObject({ owner: alice.email, created_by: alice.id });
    const taskId = uniqueId('chat-task');
    await createEntity(h, taskId);
    expect(await say(alice, `/addtask ${id} ${taskId}`)).toBe(`${taskId}: now in project ${id}`);
    await eventually(() => rollupOf(id), (r) => r.unreported === 0 && r.tasks === 1);
    expect(await say(alice, `/project ${id}`)).toBe(`Project ${id} "Website relaunch" (owner ${alice.email}): 1 task(s): 1 pending\n0% done, 0 overdue.`);

    // Bob may read it, not fill it.
    const other = uniqueId('bob-task');
    await createEntity(h, other);
    expect(await say(bob, `/addtask ${id} ${other}`)).toBe(`Not allowed: only the owner of project ${id} (${alice.email}) or an admin may change it`);
    expect((await readTask(h, other)).project_id).toBeUndefined();
    expect(await say(bob, `/project ${id}`)).toContain('1 task(s)');
    expect(await say(bob, `/project no-such-project-here`)).toBe('Project no-such-project-here does not exist');
    expect(await say(alice, `/addtask ${id}`)).toBe('Invalid arguments for add_task_to_project: task_id: is required\nUsage: /addtask <project id> <task id>');
    // Nor move a task of Bob's project into hers.
    const bobsProject = uniqueId('bobs');
    expect(await say(bob, `/newproject ${bobsProject} Bob's own`)).toContain('created');
    expect(await say(bob, `/addtask ${bobsProject} ${other}`)).toBe(`${other}: now in project ${bobsProject}`);
    expect(await say(alice, `/addtask ${id} ${other}`)).toBe(`Not allowed: only the owner of project ${bobsProject} (${bob.email}) or an admin may change it`);
    expect((await readTask(h, other)).project_id).toBe(bobsProject);
    // Undo leaves a project's membership alone (it reverts task fields only).
    await say(alice, '/undo');
    expect((await readTask(h, taskId)).project_id).toBe(id);
  });
});
