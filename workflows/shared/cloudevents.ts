/**
 * Event envelopes: CloudEvents 1.0 structured JSON, the shape Dapr puts around pub/sub messages, plus
 * `topic`. Workflow-safe (entities build events deterministically and keep them in their outbox), so the
 * event id is fixed when the event is created and stays the same on every publish retry. No runtime
 * imports: workflow code imports this module (the zod schema readers check events with is in
 * cloudevent-schema.ts).
 */
export const TOPICS = {
  conversations: 'conversation-events',
  tasks: 'task-events',
  projects: 'project-events',
} as const;
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  /** ISO 8601, UTC. */
  time: string;
  datacontenttype: 'application/json';
  topic: Topic;
  data: T;
  /**
   * W3C trace context of what caused the event (CloudEvents' distributed tracing extension), so that its
   * consumer's handling joins that trace. Present when the producer traces.
   */
  traceparent?: string;
  tracestate?: string;
}

export function cloudEvent<T>(fields: { id: string; source: string; type: string; topic: Topic; time: string; data: T }): CloudEvent<T> {
  return { specversion: '1.0', datacontenttype: 'application/json', ...fields };
}
