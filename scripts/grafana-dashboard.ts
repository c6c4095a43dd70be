/**
 * `npm run dashboard`: writes deploy/grafana-dashboard.json, the Grafana dashboard of the service, from the
 * panels below (one place to read what is watched and how). Import it in Grafana (Dashboards > Import) and
 * pick the Prometheus that scrapes the API's /metrics and the worker's WORKER_METRICS_PORT.
 * test/dashboard.test.ts checks the file matches this script and that every metric it queries is exported.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Panel {
  title: string;
  description: string;
  unit: string;
  /** PromQL, one per series group, with its legend. */
  targets: [expr: string, legend: string][];
}

const rate = (metric: string) => `rate(${metric}[$__rate_interval])`;
const p95 = (metric: string, by: string) => `histogram_quantile(0.95, sum by (le, ${by}) (${rate(metric)}))`;

export const ROWS: [title: string, panels: Panel[]][] = [
  [
    'API',
    [
      {
        title: 'Requests by route and status',
        description: 'Answers per second, by route pattern and HTTP status (task_agent_http_requests_total).',
        unit: 'reqps',
        targets: [[`sum by (route, status) (${rate('task_agent_http_requests_total')})`, '{{route}} {{status}}']],
      },
      {
        title: 'Latency p95 by route',
        description: '95th percentile of the time to answer, by route pattern.',
        unit: 's',
        targets: [[p95('task_agent_http_request_duration_seconds_bucket', 'route'), '{{route}}']],
      },
      {
        title: 'Server errors and 429s',
        description: 'Share of answers that are 5xx, and requests turned away because their entity queue was full.',
        unit: 'short',
        targets: [
          [`sum(${rate('task_agent_http_requests_total{status=~"5.."}')}) / sum(${rate('task_agent_http_requests_total')})`, '5xx share'],
          [`sum(${rate('task_agent_entity_updates_rejected_total')})`, '429 per second (entity queue full)'],
        ],
      },
      {
        title: 'Entity update queues',
        description:
          'Updates in flight to entity workflows and requests waiting for a slot (ENTITY_UPDATE_CONCURRENCY per entity); the deepest single queue shows one hot entity.',
        unit: 'short',
        targets: [
          ['sum(task_agent_entity_updates_in_flight)', 'in flight'],
          ['sum(task_agent_entity_updates_waiting)', 'waiting'],
          ['max(task_agent_entity_updates_deepest_lane)', 'deepest queue'],
        ],
      },
      {
        title: 'API memory',
        description: 'Resident memory of each API process.',
        unit: 'bytes',
        targets: [['task_agent_api_process_resident_memory_bytes', '{{instance}}']],
      },
    ],
  ],
  [
    'Events',
    [
      {
        title: 'Oldest unacknowledged event',
        description: 'Age of the oldest event a consumer group took and has not acknowledged: a stuck consumer shows here first.',
        unit: 's',
        targets: [['max by (topic, group) (task_agent_event_group_oldest_pending_age_seconds)', '{{topic}} / {{group}}']],
      },
      {
        title: 'Pending and lag per consumer group',
        description: 'Entries delivered and not acknowledged (pending), and entries not yet delivered (lag).',
        unit: 'short',
        targets: [
          ['max by (topic, group) (task_agent_event_group_pending)', 'pending {{topic}} / {{group}}'],
          ['max by (topic, group) (task_agent_event_group_lag)', 'lag {{topic}} / {{group}}'],
        ],
      },
      {
        title: 'Stream length',
        description: 'Entries kept in each stream (trimmed near EVENT_STREAM_MAXLEN).',
        unit: 'short',
        targets: [['max by (topic) (task_agent_event_stream_length)', '{{topic}}']],
      },
      {
        title: 'Events consumed',
        description: 'Events handled and acknowledged per second by the API processes, by topic.',
        unit: 'ops',
        targets: [[`sum by (topic) (${rate('task_agent_events_consumed_total')})`, '{{topic}}']],
      },
    ],
  ],
  [
    'Worker (Temporal SDK)',
    [
      {
        title: 'Workflow task schedule-to-start p95',
        description: 'How long workflow tasks wait for a worker: rising means too few workers or slots.',
        unit: 'ms',
        targets: [[p95('temporal_workflow_task_schedule_to_start_latency_bucket', 'task_queue'), '{{task_queue}}']],
      },
      {
        title: 'Activity schedule-to-start p95',
        description: 'How long activities wait for a worker.',
        unit: 'ms',
        targets: [[p95('temporal_activity_schedule_to_start_latency_bucket', 'task_queue'), '{{task_queue}}']],
      },
      {
        title: 'Activity execution p95 by type',
        description: 'Time in each activity (model calls, notifications, entity updates, publishing events).',
        unit: 'ms',
        targets: [[p95('temporal_activity_execution_latency_bucket', 'activity_type'), '{{activity_type}}']],
      },
      {
        title: 'Activity failures',
        description: 'Failed activity attempts per second by type (each is retried by its policy).',
        unit: 'ops',
        targets: [[`sum by (activity_type) (${rate('temporal_activity_execution_failed')})`, '{{activity_type}}']],
      },
      {
        title: 'Task slots available',
        description: 'Free workflow, activity and local activity slots per worker type: at 0 the worker is saturated.',
        unit: 'short',
        targets: [['sum by (worker_type) (temporal_worker_task_slots_available)', '{{worker_type}}']],
      },
      {
        title: 'Workflows completed and sticky cache',
        description: 'Workflow runs completed per second, and workflows held in the sticky cache.',
        unit: 'short',
        targets: [
          [`sum(${rate('temporal_workflow_completed')})`, 'completed per second'],
          ['sum(temporal_sticky_cache_size)', 'cached workflows'],
        ],
      },
    ],
  ],
];

export function dashboard() {
  let id = 0;
  let y = 0;
  const panels: unknown[] = [];
  for (const [title, rowPanels] of ROWS) {
    panels.push({ type: 'row', title, id: ++id, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y: y++ }, panels: [] });
    rowPanels.forEach((panel, i) => {
      panels.push({
        type: 'timeseries',
        id: ++id,
        title: panel.title,
        description: panel.description,
        datasource: { type: 'prometheus', uid: '${DS_PROMETHEUS}' },
        gridPos: { h: 8, w: 8, x: (i % 3) * 8, y: y + Math.floor(i / 3) * 8 },
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
        targets: panel.targets.map(([expr, legendFormat], t) => ({
          refId: String.fromCharCode(65 + t),
          datasource: { type: 'prometheus', uid: '${DS_PROMETHEUS}' },
          expr,
          legendFormat,
        })),
      });
    });
    y += Math.ceil(rowPanels.length / 3) * 8;
  }
  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    __requires: [{ type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' }],
    title: 'task-agent',
    uid: 'task-agent',
    description: 'The API (requests, entity update queues), the event pipeline (Redis Streams consumer groups) and the Temporal worker.',
    tags: ['task-agent', 'temporal'],
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    templating: { list: [] },
    panels,
  };
}

export const DASHBOARD_PATH = resolve(__dirname, '../deploy/grafana-dashboard.json');
export const dashboardText = () => `${JSON.stringify(dashboard(), null, 2)}\n`;

if (require.main === module) {
  writeFileSync(DASHBOARD_PATH, dashboardText());
  console.log(`wrote ${DASHBOARD_PATH}`);
}
