/**
 * A real Jaeger (v2, built from its Go module by scripts/go-tools.ts) for one test file: in-memory storage,
 * OTLP/HTTP in and the query API out on free ports, nothing else listening.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/dev-server';
import { stopProcess } from '../../scripts/processes';

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
  service: string;
}

export class Jaeger {
  private constructor(
    private readonly process: ChildProcess,
    private readonly dir: string,
    /** Where services send spans: OTEL_EXPORTER_OTLP_ENDPOINT. */
    readonly otlpEndpoint: string,
    readonly queryUrl: string,
  ) {}

  static async start(bin: string): Promise<Jaeger> {
    const dir = mkdtempSync(join(tmpdir(), 'task-agent-jaeger-'));
    const [otlp, query, queryGrpc, health] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const config = join(dir, 'jaeger.yaml');
    writeFileSync(
      config,
      `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${health}
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:${queryGrpc}
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${otlp}
processors:
  batch:
    timeout: 100ms
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`,
    );
    const child = spawn(bin, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const jaeger = new Jaeger(child, dir, `http://127.0.0.1:${otlp}`, `http://127.0.0.1:${query}`);
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) break;
      const ok = await fetch(`${jaeger.queryUrl}/api/services`).then((r) => r.ok, () => false);
      if (ok) return jaeger;
      await new Promise((r) => setTimeout(r, 200));
    }
    await jaeger.stop();
    throw new Error(`Jaeger did not start:\n${stderr}`);
  }

  /** Traces of `service` (optionally only those holding `operation`), newest first. */
  async traces(service: string, operation?: string): Promise<JaegerSpan[][]> {
    const query = new URLSearchParams({ service, limit: '100', lookback: '1h', ...(operation ? { operation } : {}) });
    return this.query(`/api/traces?${query}`);
  }

  async trace(traceId: string): Promise<JaegerSpan[]> {
    return (await this.query(`/api/traces/${traceId}`))[0] ?? [];
  }

  /** Jaeger's query API answers traces as spans plus a table of processes; each span gets its service name. */
  private async query(path: string): Promise<JaegerSpan[][]> {
    const res = await fetch(`${this.queryUrl}${path}`);
    if (!res.ok) return [];
    const body = (await res.json()) as { data: { spans: Omit<JaegerSpan, 'service'>[]; processes: Record<string, { serviceName: string }> }[] | null };
    return (body.data ?? []).map((t) => t.spans.map((s) => ({ ...s, service: t.processes[s.processID]!.serviceName })));
  }

  async stop(): Promise<void> {
    await stopProcess(this.process, 5_000);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const tag = (span: JaegerSpan, key: string): unknown => span.tags.find((t) => t.key === key)?.value;
export const parentOf = (span: JaegerSpan): string | undefined => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
