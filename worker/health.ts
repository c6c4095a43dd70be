/**
 * The worker's health endpoint for Kubernetes probes: /healthz answers while the process runs, /readyz
 * only while the worker is RUNNING (polling its task queue). During shutdown /readyz turns 503 first.
 */
import { createServer, type Server } from 'node:http';
import type { Worker } from '@temporalio/worker';

export const WORKER_HEALTH_PATHS = ['/healthz', '/readyz'] as const;

/** Ready while every worker of the process (one per tenant with TENANTS) polls. */
export function serveWorkerHealth(workers: Worker | Worker[], port: number, host = '0.0.0.0'): Server {
  const all = Array.isArray(workers) ? workers : [workers];
  const server = createServer((req, res) => {
    const send = (status: number, body: object) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/healthz') return send(200, { status: 'ok' });
    if (req.url === '/readyz') {
      const states = all.map((worker) => worker.getState());
      const state = states.find((s) => s !== 'RUNNING') ?? 'RUNNING';
      return send(state === 'RUNNING' ? 200 : 503, { status: state === 'RUNNING' ? 'ready' : 'not_ready', worker: state });
    }
    send(404, { detail: `No route for ${req.method} ${req.url}` });
  });
  server.listen(port, host);
  return server;
}
