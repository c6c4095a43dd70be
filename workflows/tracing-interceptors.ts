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
 * Always in the bundle (it is built before the process knows its settings); a worker with tracing off drops
 * whatever spans a traced caller still causes (worker/create-worker.ts).
 */
import { trace } from '@opentelemetry/api';
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import { getRandomStream, type WorkflowInterceptors, type WorkflowRandomStream } from '@temporalio/workflow';

/** Inbound calls carry their caller's headers: traced when those hold a trace context. */
const fromTracedCaller = (input: unknown) => (input as { headers?: Record<string, unknown> }).headers?.[TRACE_HEADER] !== undefined;
/** Outbound calls (and log attributes) are traced within a traced inbound call: a span is active. */
const withinTracedCall = () => trace.getActiveSpan() !== undefined;

/** Handlers that run live but not on replay: their spans draw on a stream of their own, so that the stream of
 * everything else is the same on replay and a span open across a replay keeps its id. */
const LIVE_ONLY = new Set<PropertyKey>(['validateUpdate', 'handleQuery']);

export const interceptors = (): WorkflowInterceptors => {
  const streams = { replayed: getRandomStream('task-agent/opentelemetry'), liveOnly: getRandomStream('task-agent/opentelemetry/live-only') };
  return {
    inbound: [traceOnly(new OpenTelemetryInboundInterceptor(), streams, fromTracedCaller)],
    outbound: [traceOnly(new OpenTelemetryOutboundInterceptor(), streams, withinTracedCall)],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};

type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/** The interceptor's methods run (on their stream) when `traced(input)` holds, and hand straight to `next` otherwise. */
function traceOnly<T extends object>(
  interceptor: T,
  streams: { replayed: WorkflowRandomStream; liveOnly: WorkflowRandomStream },
  traced: (input: unknown) => boolean,
): T {
  return new Proxy(interceptor, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as Method;
      const stream = LIVE_ONLY.has(property) ? streams.liveOnly : streams.replayed;
      return (input: unknown, next: (input: unknown) => unknown) => (traced(input) ? stream.with(() => method.call(target, input, next)) : next(input));
    },
  });
}
