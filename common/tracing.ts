/**
 * OpenTelemetry tracing of a process (the API, the worker). On when an OTLP endpoint is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), off otherwise: then no provider is
 * registered, every tracer is OpenTelemetry's no-op one and no interceptor is installed.
 *
 * Spans leave over OTLP/HTTP (protobuf). The exporter and the provider read the other standard variables
 * themselves (OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_TRACES_SAMPLER,
 * OTEL_RESOURCE_ATTRIBUTES, ...), so they work as documented by OpenTelemetry.
 */
import { SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource, detectResourcesSync, envDetectorSync } from '@opentelemetry/resources';
import { BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Config } from './config';

export type ServiceName = 'task-agent-api' | 'task-agent-worker';

/** The name every span this service makes by hand is recorded under (Temporal's interceptors use their own). */
export const TRACER_NAME = 'task-agent';

export interface Tracing {
  enabled: boolean;
  /** Where workflow spans go: the worker hands them over from the workflow sandbox through a sink. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Sends what is buffered and stops; call before the process exits. */
  shutdown(): Promise<void>;
}

export function tracingEnabled(config: Config): boolean {
  return (
    config.OTEL_SDK_DISABLED !== 'true' &&
    (config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined)
  );
}

/** Starts tracing for this process, or returns a tracing that is off. Call once, before any client is made. */
export function startTracing(config: Config, serviceName: ServiceName): Tracing {
  const resource = Resource.default()
    .merge(detectResourcesSync({ detectors: [envDetectorSync] }))
    .merge(new Resource({ [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME ?? serviceName, [ATTR_SERVICE_VERSION]: SERVICE_VERSION }));
  if (!tracingEnabled(config)) {
    return { enabled: false, spanProcessor: new NoopSpanProcessor(), resource, shutdown: async () => undefined };
  }
  // The exporter appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT and takes _TRACES_ENDPOINT as it is.
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  // Global tracer provider, the AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  return { enabled: true, spanProcessor, resource, shutdown: () => provider.shutdown() };
}

const SERVICE_VERSION = '0.1.0';

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Ends `span` with the outcome of `work`: an error is recorded on it and passed on. */
export async function endWith<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}
