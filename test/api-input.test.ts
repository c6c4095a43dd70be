/**
 * Bad input answers 4xx with a JSON body that names the field; never 500. Real API, real Temporal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, seedTask } from './helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await Harness.start({ worker: false });
});
afterAll(() => h?.close());

const valid = seedTask('input-probe');
const json = { 'content-type': 'application/json' };

type Case = [name: string, body: string, headers: Record<string, string>, status: number, field: string];

const bodyCases: Case[] = [
  ['malformed JSON', '{"task_id": "a",', json, 400, 'body'],
  ['a JSON array', '[]', json, 422, 'body'],
  ['a JSON string', '"hello"', json, 422, 'body'],
  ['null', 'null', json, 422, 'body'],
  ['missing task_id', JSON.stringify({ ...valid, task_id: undefined }), json, 422, 'task_id'],
  ['empty task_id', JSON.stringify({ ...valid, task_id: '' }), json, 422, 'task_id'],
  ['task_id too long', JSON.stringify({ ...valid, task_id: 'a'.repeat(65) }), json, 422, 'task_id'],
  ['task_id with a slash', JSON.stringify({ ...valid, task_id: 'a/b' }), json, 422, 'task_id'],
  ['task_id path traversal', JSON.stringify({ ...valid, task_id: '../task-entity-x' }), json, 422, 'task_id'],
  ['task_id with a space', JSON.stringify({ ...valid, task_id: 'a b' }), json, 422, 'task_id'],
  ['task_id with unicode', JSON.stringify({ ...valid, task_id: 'tâche' }), json, 422, 'task_id'],
  ['task_id with a control character', JSON.stringify({ ...valid, task_id: 'a\u0000b' }), json, 422, 'task_id'],
  ['task_id as a number', JSON.stringify({ ...valid, task_id: 42 }), json, 422, 'task_id'],
  ['title as a number', JSON.stringify({ ...valid, title: 5 }), json, 422, 'title'],
  ['title too long', JSON.stringify({ ...valid, title: 'x'.repeat(201) }), json, 422, 'title'],
  ['description with control characters', JSON.stringify({ ...valid, description: 'bell \u0007 here' }), json, 422, 'description'],
  ['missing description', JSON.stringify({ ...valid, description: undefined }), json, 422, 'description'],
  ['empty assignee', JSON.stringify({ ...valid, assignee: '  ' }), json, 422, 'assignee'],
  ['assignee as an object', JSON.stringify({ ...valid, assignee: { name: 'x' } }), json, 422, 'assignee'],
  ['deadline_seconds zero', JSON.stringify({ ...valid, deadline_seconds: 0 }), json, 422, 'deadline_seconds'],
  ['deadline_seconds negative', JSON.stringify({ ...valid, deadline_seconds: -5 }), json, 422, 'deadline_seconds'],
  ['deadline_seconds fractional', JSON.stringify({ ...valid, deadline_seconds: 1.5 }), json, 422, 'deadline_seconds'],
  ['deadline_seconds as a string', JSON.stringify({ ...valid, deadline_seconds: '60' }), json, 422, 'deadline_seconds'],
  ['deadline_seconds beyond a year', JSON.stringify({ ...valid, deadline_seconds: 10 ** 9 }), json, 422, 'deadline_seconds'],
  ['deeply nested JSON', '{"task_id":' + '['.repeat(5000) + ']'.repeat(5000) + '}', json, 422, 'task_id'],
  ['an oversized body', JSON.stringify({ ...valid, description: 'x'.repeat(100_000) }), json, 413, 'body'],
  ['a text/plain body', JSON.stringify(valid), { 'content-type': 'text/plain' }, 415, 'content-type'],
  ['a multipart body', 'x', { 'content-type': 'multipart/form-data; boundary=x' }, 415, 'content-type'],
];

describe('POST /tasks/process with bad input', () => {
  it.each(bodyCases)('%s -> %i naming %s', async (_name, body, headers, status, field) => {
    const res = await h.fetch('/tasks/process', { method: 'POST', headers, body });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = (await res.json()) as { detail: string; errors?: { field: string; message: string }[] };
    expect(typeof answer.detail).toBe('string');
    expect(answer.errors?.map((e) => e.field)).toContain(field);
  });
});

describe('bodies answered without being read', () => {
  it.each([
    ['an oversized body', JSON.stringify({ description: 'x'.repeat(100_000) }), 'application/json', 413],
    ['a body of the wrong type', '<task/>', 'application/xml', 415],
  ])('%s: %d with Connection: close, so the rest of the body is never read as the next request', async (_, body, type, status) => {
    const res = await h.fetch('/tasks/process', { method: 'POST', headers: { 'content-type': type }, body });
    expect(res.status).toBe(status);
    expect(res.headers.get('connection')).toBe('close');
  });
});

describe('path parameters', () => {
  it.each([
    ['/tasks/a%2Fb', 'task_id'],
    ['/tasks/..%2F..%2Fetc', 'task_id'],
    [`/tasks/${'a'.repeat(65)}`, 'task_id'],
    ['/tasks/%E2%9C%93', 'task_id'],
    ['/workflows/task-entity-task-001', 'workflow_id'],
    ['/workflows/chat-entity-alice', 'workflow_id'],
    ['/workflows/task-workflow-', 'workflow_id'],
    ['/workflows/task-workflow-a%2F..%2Fb', 'workflow_id'],
  ])('GET %s -> 422 naming %s', async (path, field) => {
    const res = await h.fetch(path);
    expect(res.status).toBe(422);
    const answer = (await res.json()) as { errors: { field: string }[] };
    expect(answer.errors.map((e) => e.field)).toEqual([field]);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await h.fetch('/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: 'No route for GET /nope' });
  });
});

describe('the OpenAPI document', () => {
  it('describes the routes from the same schemas that validate them', async () => {
    const doc = (await (await h.fetch('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { required?: string[] }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/tasks/process', '/tasks/{task_id}', '/workflows/{workflow_id}', '/healthz', '/readyz']),
    );
    expect(doc.components.schemas.ProcessTaskRequest!.required).toEqual(['task_id', 'title', 'description', 'assignee']);
  });
});
