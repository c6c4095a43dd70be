/**
 * Workflow interceptors of the bundle: OpenTelemetry's (spans for each workflow run, update, signal,
 * query and the activities and children it starts, through `@temporalio/interceptors-opentelemetry`), with
 * two changes that keep replay deterministic and tracing free when it is off:
 *
 * 1. They trace only what a traced caller asked for, as a parent-based sampler would: a run, update, signal
 *    or query whose Temporal headers carry a trace context, and the activities, children and continue-as-new
 *    started within one. Everything else passes straight through, so with tracing off no span is made, and a
 *    history recorded without trace headers (every run from before tracing) replays exactly as before: the
 *    spans' extra awaits would reorder the commands of concurrent handlers against it. The headers are in
 *    the history, so the decision is the same on every replay.
 * 2. Their span ids come from a random stream of their own. The package draws them from `Math.random()`,
 *    the workflow's own stream, and update validators and queries run live but not on replay, so a span made
 *    there would shift every later `uuid4()` of the workflow (turn ids, new task ids, the ids of the children
 *    it starts) between the first run and a replay (test/tracing-determinism.test.ts shows it). A named
 *    stream (SDK 1.24) leaves the workflow's sequence as it is; `next()` goes back to it.
 *
 * 3. OpenTelemetry (its API, SDK, resources and semantic conventions: two thirds of the bundle's modules) is
 *    loaded by a workflow only when it first meets a traced call. The SDK evaluates every module a workflow
 *    loads once per workflow (all but those preloaded), so loading it always cost every untraced workflow its
 *    evaluation, at every start and every rebuild from history (bench/README.md, "What one run costs").
 *
 * Always in the bundle (it is built before the process knows its settings); a worker with tracing off drops
 * whatever spans a traced caller still causes (worker/create-worker.ts).
 */
import type * as OpenTelemetryApi from '@opentelemetry/api';
import type * as OpenTelemetryWorkflow from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter, getRandomStream, type WorkflowInboundCallsInterceptor, type WorkflowInterceptors, type WorkflowRandomStream } from '@temporalio/workflow';

/**
 * The header a traced caller's context travels in (the package's TRACE_HEADER, whose module would load the
 * OpenTelemetry API; test/unit/tracing-header.test.ts holds them equal).
 */
export const TRACE_HEADER = '_tracer-data';

/** Inbound calls carry their caller's headers: traced when those hold a trace context. */
const fromTracedCaller = (input: unknown) => (input as { headers?: Record<string, unknown> }).headers?.[TRACE_HEADER] !== undefined;

/** Handlers that run live but not on replay: their spans draw on a stream of their own, so that the stream of
 * everything else is the same on replay and a span open across a replay keeps its id. */
const LIVE_ONLY = new Set<PropertyKey>(['validateUpdate', 'handleQuery']);

type OpenTelemetryInterceptors = {
  inbound: OpenTelemetryWorkflow.OpenTelemetryInboundInterceptor;
  outbound: OpenTelemetryWorkflow.OpenTelemetryOutboundInterceptor;
  internals: OpenTelemetryWorkflow.OpenTelemetryInternalsInterceptor;
};

/**
 * This workflow's OpenTelemetry interceptors, once a traced call made it load them. Kept on the workflow's
 * global object, not in module scope: the bundle's own modules are evaluated once and shared by every workflow
 * of the worker (WORKFLOW_PRELOAD_MODULES, worker/create-worker.ts), while every workflow has globals of its
 * own. (OpenTelemetry itself, required at run time, is still evaluated per workflow.)
 */
const LOADED = Symbol.for('task-agent/opentelemetry-interceptors');
/** The trace header of a traced start (startCallerTraceContext), on the globals for the same reason. */
const START_CALLER = Symbol.for('task-agent/start-caller-trace-header');
type WorkflowGlobals = { [LOADED]?: OpenTelemetryInterceptors; [START_CALLER]?: Payload };
const loaded = (): OpenTelemetryInterceptors | undefined => (globalThis as WorkflowGlobals)[LOADED];

// Requires webpack resolves into the bundle and evaluates only when called (an import would evaluate at load).
/* eslint-disable @typescript-eslint/no-require-imports, no-restricted-globals */
const api = () => require('@opentelemetry/api') as typeof OpenTelemetryApi;
/** Loaded, and its tracer made, on this workflow's first traced call (within a stream call: no draw on the workflow's own sequence). */
function load(): OpenTelemetryInterceptors {
  const globals = globalThis as WorkflowGlobals;
  if (globals[LOADED] === undefined) {
    const otel = require('@temporalio/interceptors-opentelemetry/lib/workflow') as typeof OpenTelemetryWorkflow;
    globals[LOADED] = { inbound: new otel.OpenTelemetryInboundInterceptor(), outbound: new otel.OpenTelemetryOutboundInterceptor(), internals: new otel.OpenTelemetryInternalsInterceptor() };
  }
  return globals[LOADED];
}
/* eslint-enable @typescript-eslint/no-require-imports, no-restricted-globals */

/** Outbound calls (and log attributes) are traced within a traced inbound call: a span is active. */
const withinTracedCall = () => loaded() !== undefined && api().trace.getActiveSpan() !== undefined;

/**
 * The W3C trace context of the code running now (an update or run a traced caller started), for an event it
 * adds; none in a workflow nobody traced. Reads context only (no ids drawn), so it is deterministic.
 */
export function currentTraceContext(): TraceCarrier {
  if (loaded() === undefined) return {};
  const carrier: TraceCarrier = {};
  const { context, propagation } = api();
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** W3C trace context as events carry it (CloudEvents' distributed tracing extension). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/**
 * The trace context of whoever started this run, as the start's headers carry it: the caller's span, which ends
 * with the call. For what a run makes from its start's input (a task created as its entity starts): the run's own
 * span, current there, lasts as long as the run, and an entity's run lasts for days. None for an untraced start.
 */
export function startCallerTraceContext(): TraceCarrier {
  const header = (globalThis as WorkflowGlobals)[START_CALLER];
  if (header === undefined) return {};
  const { traceparent, tracestate } = defaultPayloadConverter.fromPayload<TraceCarrier>(header) ?? {};
  return { ...(typeof traceparent === 'string' ? { traceparent } : {}), ...(typeof tracestate === 'string' ? { tracestate } : {}) };
}

/** Keeps a traced start's header for startCallerTraceContext; memory only, no command and no draw. */
const keepStartCaller: WorkflowInboundCallsInterceptor = {
  execute(input, next) {
    const header = input.headers[TRACE_HEADER];
    if (header !== undefined) (globalThis as WorkflowGlobals)[START_CALLER] = header;
    return next(input);
  },
};

export const interceptors = (): WorkflowInterceptors => {
  const streams = { replayed: getRandomStream('task-agent/opentelemetry'), liveOnly: getRandomStream('task-agent/opentelemetry/live-only') };
  return {
    inbound: [keepStartCaller, traceOnly(() => load().inbound, streams, fromTracedCaller)],
    outbound: [traceOnly(() => load().outbound, streams, withinTracedCall)],
    internals: [traceOnly(() => load().internals, streams, () => loaded() !== undefined)],
  };
};

type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/**
 * An interceptor whose every method runs the OpenTelemetry interceptor's (on its stream) when `traced(input)`
 * holds, and hands straight to `next` otherwise; `target` gives that interceptor, loading it on first use.
 */
function traceOnly<T extends object>(
  target: () => T,
  streams: { replayed: WorkflowRandomStream; liveOnly: WorkflowRandomStream },
  traced: (input: unknown) => boolean,
): T {
  return new Proxy({} as T, {
    get(_empty, property) {
      const stream = LIVE_ONLY.has(property) ? streams.liveOnly : streams.replayed;
      return (input: unknown, next: (input: unknown) => unknown) => {
        if (!traced(input)) return next(input);
        return stream.with(() => {
          const interceptor = target();
          const method = Reflect.get(interceptor, property) as Method | undefined;
          return typeof method === 'function' ? method.call(interceptor, input, next) : next(input);
        });
      };
    },
  });
}
