/**
 * `npm run jaeger`: a local Jaeger to send the service's traces to, with its standard ports: OTLP/HTTP on
 * 4318 (and gRPC on 4317), the query API (and UI) on 16686, traces kept in memory. Then, in another terminal:
 *
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 npm start
 *
 * The binary is Jaeger v2, found or built like the temporal CLI (JAEGER_BIN, PATH, the cache, a Go build).
 * A Go build has no UI assets (its page says so) but a full query API; the release binary or the container
 * image (`docker compose up jaeger`) has the UI.
 */
import { spawn } from 'node:child_process';
import { findJaeger } from './go-tools';

findJaeger()
  .then((bin) => {
    console.error(`Jaeger: OTLP/HTTP http://localhost:4318, query API and UI http://localhost:16686 (Ctrl-C stops it)`);
    console.error(`  traces of the API: curl 'http://localhost:16686/api/traces?service=task-agent-api&limit=5'`);
    const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
    child.on('exit', (code) => process.exit(code ?? 0));
  })
  .catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
