/**
 * 7. What tracing costs: the same processing runs, traced end to end (a traced client, a worker exporting
 * every span over OTLP/HTTP to a local sink that takes them and answers 200), against untraced (the
 * service's worker, a client without trace context: no span anywhere). The baseline here is the service
 * itself with tracing off, in the same run.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage, logged, type ServiceProcess } from '../processes';
import { closedLoop, median, round } from '../stats';
import { processAndWait } from './throughput';

export interface TracingContext extends BenchContext {
  /** Starts the traced worker: the service's worker with OTEL_EXPORTER_OTLP_ENDPOINT set, on `taskQueue`. */
  startTracedWorker(taskQueue: string, otlpEndpoint: string): ServiceProcess;
}

export async function tracing(ctx: TracingContext): Promise<ScenarioResult> {
  let bytes = 0;
  let requests = 0;
  const sink = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const tracedQueue = `${ctx.config.TASK_QUEUE}-traced`;
  const worker = ctx.startTracedWorker(tracedQueue, endpoint);
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` }))] });
  provider.register();
  const tracedClient = new Client({ connection: ctx.client.connection, interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } });
  try {
    await logged(worker, 'worker started');
    const usage = new Usage([...ctx.processes, worker]);
    const started = performance.now();
    const levels = ctx.quick ? [10] : [10, 50];
    const rows: { concurrency: number; runs: number; traced: number[]; untraced: number[]; tracedPerSecond: number; untracedPerSecond: number; ratio: number }[] = [];
    let seq = 0;
    for (const concurrency of levels) {
      const total = ctx.quick ? 40 : 200;
      const traced: number[] = [];
      const untraced: number[] = [];
      for (let r = 0; r < ctx.repeats; r++) {
        const run = async (client: Client, taskQueue: string) => {
          const tag = `bench-trace-${Date.now().toString(36)}-${seq++}`;
          const { wallMs } = await closedLoop(total, concurrency, (i) => processAndWait(client, taskQueue, `${tag}-${i}`));
          return total / (wallMs / 1000);
        };
        // Alternate, so drift on a shared machine hits both sides alike.
        untraced.push(await run(ctx.client, ctx.config.TASK_QUEUE));
        traced.push(await run(tracedClient, tracedQueue));
      }
      const row = {
        concurrency,
        runs: total,
        traced: traced.map((x) => round(x, 1)),
        untraced: untraced.map((x) => round(x, 1)),
        tracedPerSecond: round(median(traced), 1),
        untracedPerSecond: round(median(untraced), 1),
        ratio: round(median(traced) / median(untraced)),
      };
      rows.push(row);
      ctx.log(`tracing c=${concurrency}: traced ${row.tracedPerSecond}/s, untraced ${row.untracedPerSecond}/s, ratio ${row.ratio}`);
    }
    await provider.forceFlush();
    await new Promise((r) => setTimeout(r, 1_500));
    return {
      name: 'tracing',
      title: 'Tracing: processing runs traced end to end vs untraced (completed per second)',
      figures: { rows, exported: { requests, kib: round(bytes / 1024, 1) } },
      goals: rows.map((r) => goal(`traced / untraced at concurrency ${r.concurrency}`, r.ratio, 0.8, 'atLeast')),
      usage: usage.finish((performance.now() - started) / 1000),
    };
  } finally {
    await provider.shutdown();
    await worker.stop();
    sink.close();
  }
}
