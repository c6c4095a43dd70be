/**
 * Hostile input, generated from the service's own OpenAPI document with fast-check: every operation gets
 * malformed and boundary path parameters, queries, headers, content types and bodies (wrong types, huge
 * or deeply nested JSON, unicode and control characters, path traversal, oversized bodies). No answer may
 * be a 5xx, every error must be a JSON body that says what is wrong, and the service must still be healthy.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, eventually, seedTask, uniqueId } from '../helpers/harness';

type Operation = { method: string; path: string; params: string[]; hasBody: boolean; bodyKeys: string[] };

let h: Harness;
let operations: Operation[];
beforeAll(async () => {
  h = await Harness.start();
  const doc = (await (await h.fetch('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string; properties?: object } }> } }>>;
    components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const schema = op.requestBody?.content['application/json']?.schema;
      const resolved = schema?.$ref ? doc.components.schemas[schema.$ref.split('/').at(-1)!] : schema;
      return {
        method: method.toUpperCase(),
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        hasBody: op.requestBody !== undefined,
        bodyKeys: Object.keys(resolved?.properties ?? {}),
      };
    }),
  );
});
afterAll(() => h?.close());

const hostileString = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '../task-entity-task-001',
    '..%2F..%2Fetc%2Fpasswd',
    'task-entity-x',
    'chat-entity-user-alice',
    'a/b',
    '\u0000',
    '\u202e',
    'é',
    '%00',
    '*',
    "' OR 1=1 --",
    'null',
    '-1',
  ),
  fc.integer({ min: 65, max: 5000 }).map((n) => 'a'.repeat(n)),
);

const hostileJsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, true, -1, 0, 1.5, 1e308, '', [], {}),
  hostileString,
);

function bodyFor(op: Operation) {
  return fc.oneof(
    // Right keys, hostile values.
    fc.record(Object.fromEntries(op.bodyKeys.map((k) => [k, hostileJsonValue]))).map((o) => JSON.stringify(o)),
    // Anything JSON at all.
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    // Not JSON, truncated JSON, deep nesting, oversized.
    hostileString,
    fc.constantFrom('{"task_id":', '{', '[', 'content=hi'),
    fc.integer({ min: 1000, max: 20000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    fc.constant(JSON.stringify({ content: 'x'.repeat(200_000) })),
  );
}

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  undefined,
);

const request = () =>
  fc.integer({ min: 0, max: operations.length - 1 }).chain((index) => {
    const op = operations[index]!;
    return fc.record({
      op: fc.constant(op),
      params: fc.array(hostileString, { minLength: op.params.length, maxLength: op.params.length }),
      rawPath: fc.boolean(),
      query: fc.option(fc.dictionary(fc.constantFrom('status', 'assignee', 'page_size', 'page_token', 'x'), hostileString, { maxKeys: 3 })),
      body: op.hasBody || op.method !== 'GET' ? fc.option(bodyFor(op)) : fc.constant(null),
      contentType,
      ifMatch: fc.option(hostileString),
    });
  });

describe('fuzzing the API from its OpenAPI document', () => {
  it('answers at least 2,000 hostile requests without a 5xx, each error explained in JSON', { timeout: 300_000 }, async () => {
    let sent = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request(), async ({ op, params, rawPath, query, body, contentType: type, ifMatch }) => {
        let path = op.path;
        op.params.forEach((name, i) => {
          path = path.replace(`{${name}}`, rawPath ? params[i]!.replace(/[?#\s]/g, '') : encodeURIComponent(params[i]!));
        });
        const search = query ? `?${new URLSearchParams(query as Record<string, string>)}` : '';
        const headers: Record<string, string> = {};
        if (type) headers['content-type'] = type;
        if (ifMatch !== null) headers['if-match'] = ifMatch.replace(/[^\x20-\x7e]/g, '');
        let res: Response;
        try {
          res = await h.fetch(`${path}${search}`, { method: op.method, headers, body: op.method === 'GET' ? undefined : (body ?? undefined) });
        } catch (err) {
          // The client refused to send it (an invalid URL): nothing reached the service.
          if (err instanceof TypeError) return;
          throw err;
        }
        sent++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.ok && res.headers.get('content-type')?.startsWith('text/event-stream')) {
          // An event stream that opened (GET /chat/{user_id}/events) does not end by itself: leave it, as a client would.
          await res.body?.cancel();
          return;
        }
        const text = await res.text();
        expect(res.status, `${op.method} ${path}${search} -> ${text.slice(0, 200)}`).toBeLessThan(500);
        if (res.status >= 400) {
          expect(res.headers.get('content-type'), `${op.method} ${path}`).toMatch(/^application\/json/);
          const answer = JSON.parse(text) as { detail?: unknown };
          expect(typeof answer.detail === 'string' && answer.detail.length > 0, text).toBe(true);
        }
      }),
      { numRuns: 2_200, seed: 20261122 },
    );
    console.log(`fuzzer: ${sent} requests; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(sent).toBeGreaterThanOrEqual(2_000);

    // Still healthy, and still doing real work.
    expect((await h.getJson('/healthz')).status).toBe(200);
    expect((await h.getJson('/readyz')).status).toBe(200);
    const taskId = uniqueId('after-fuzz');
    await h.postJson('/tasks/process', seedTask(taskId));
    const done = await eventually(() => h.getJson(`/workflows/task-workflow-${taskId}`), (r) => r.body.status === 'COMPLETED');
    expect((done.body.output as { status: string }).status).toBe('completed');
  });
});
