/** The workflow interceptors name the trace header themselves (workflows/tracing-interceptors.ts), to load no OpenTelemetry module for it. */
import { TRACE_HEADER as PACKAGE_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { expect, it } from 'vitest';
import { TRACE_HEADER } from '../../workflows/tracing-interceptors';

it("names the package's trace header", () => {
  expect(TRACE_HEADER).toBe(PACKAGE_TRACE_HEADER);
});
