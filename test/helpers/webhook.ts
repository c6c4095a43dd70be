/** A local notification webhook for tests: answers with `status` (changeable at any time) after `delayMs`, and records what it got. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestWebhook {
  url: string;
  /** What the next requests are answered with, and after how long. */
  status: number;
  delayMs: number;
  /** Requests received, whatever the answer. */
  received: number;
  /** The statuses answered so far, in order (a request counts in `received` before its answer is chosen). */
  answered: number[];
  /** Tasks whose notification was answered 2xx. */
  tasks: Set<string>;
  /** Idempotency keys seen per task (2xx answers only), and how often each key arrived. */
  keysByTask: Map<string, Set<string>>;
  deliveries: Map<string, number>;
  close(): void;
}

export async function startWebhook({ delayMs = 0, status = 200 } = {}): Promise<TestWebhook> {
  const server = createServer((req, res) => {
    hook.received++;
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () =>
      setTimeout(() => {
        const answer = hook.status;
        if (answer >= 200 && answer < 300) {
          const key = String(req.headers['idempotency-key']);
          const taskId = (JSON.parse(body) as { task_id: string }).task_id;
          hook.tasks.add(taskId);
          hook.deliveries.set(key, (hook.deliveries.get(key) ?? 0) + 1);
          hook.keysByTask.set(taskId, (hook.keysByTask.get(taskId) ?? new Set()).add(key));
        }
        hook.answered.push(answer);
        res.writeHead(answer).end();
      }, hook.delayMs),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hook: TestWebhook = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    status,
    delayMs,
    received: 0,
    answered: [],
    tasks: new Set(),
    keysByTask: new Map(),
    deliveries: new Map(),
    close: () => server.close(),
  };
  return hook;
}
