/**
 * What each setting of common/config.ts means, for people: docs/configuration.md is generated from this and
 * from the schema itself (names, defaults, accepted values) by `npm run docs:config`, and a test keeps the
 * committed file equal to what the script writes. The type makes a setting added to the schema without a
 * line here a compile error.
 */
import type { ConfigSchema } from './config';

export const SETTING_GROUPS = {
  temporal: 'The Temporal connection',
  api: 'The HTTP API',
  access: 'Access and payload encryption',
  redis: 'Redis and events',
  notify: 'Notifications',
  agent: 'The agent and its model',
  worker: 'The worker',
  observability: 'Tracing and logs',
  launcher: 'npm start, npm test and the benchmarks',
} as const;

export interface SettingReference {
  group: keyof typeof SETTING_GROUPS;
  /** What it does; Markdown. */
  meaning: string;
  /** What leaving it unset means, for settings the schema gives no default (else the schema's default is shown). */
  unset?: string;
  /** Holds a secret: deployments take it from a Secret, never from a manifest. */
  secret?: true;
}

export const SETTINGS: { [K in keyof typeof ConfigSchema.shape]: SettingReference } = {
  TEMPORAL_ADDRESS: {
    group: 'temporal',
    meaning: 'Temporal frontend `host:port`',
    unset: "the profile's address; with none there either, `npm start` runs a server of its own and the processes use `127.0.0.1:7233`",
  },
  TEMPORAL_NAMESPACE: { group: 'temporal', meaning: 'namespace of every workflow', unset: "the profile's, else `default`" },
  TEMPORAL_API_KEY: { group: 'temporal', meaning: 'API key (Temporal Cloud, or a server with API-key auth); implies TLS', secret: true },
  TEMPORAL_TLS: { group: 'temporal', meaning: "`true`: TLS with the system's trusted CAs (implied by the API key and the TLS files); `false`: no TLS even then" },
  TEMPORAL_TLS_CLIENT_CERT_PATH: { group: 'temporal', meaning: 'mTLS client certificate (PEM file); with `TEMPORAL_TLS_CLIENT_KEY_PATH`, both or neither' },
  TEMPORAL_TLS_CLIENT_KEY_PATH: { group: 'temporal', meaning: 'mTLS client key (PEM file); with `TEMPORAL_TLS_CLIENT_CERT_PATH`, both or neither' },
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: { group: 'temporal', meaning: "a private CA (PEM file) that signed the server's certificate" },
  TEMPORAL_TLS_CLIENT_CERT_DATA: { group: 'temporal', meaning: 'the mTLS client certificate as PEM text instead of a file (for secrets mounted as variables)' },
  TEMPORAL_TLS_CLIENT_KEY_DATA: { group: 'temporal', meaning: 'the mTLS client key as PEM text instead of a file', secret: true },
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: { group: 'temporal', meaning: "the server's private CA as PEM text instead of a file" },
  TEMPORAL_TLS_SERVER_NAME: { group: 'temporal', meaning: 'server name to verify when it differs from the host in `TEMPORAL_ADDRESS`' },
  TEMPORAL_CONFIG_FILE: {
    group: 'temporal',
    meaning: 'the profile file the temporal CLI writes (`temporal config set`); its `address`, `namespace`, `api_key`, `tls` and `grpc_meta` apply where no variable says otherwise',
    unset: '`~/.config/temporalio/temporal.toml` when there is one',
  },
  TEMPORAL_PROFILE: { group: 'temporal', meaning: 'the profile to use in that file', unset: '`default`' },
  TEMPORAL_UI_URL: { group: 'temporal', meaning: 'base of the Web UI links in answers (`ui_url`)', unset: '`http://localhost:TEMPORAL_UI_PORT`' },
  TASK_QUEUE: { group: 'temporal', meaning: 'task queue of the worker (workflows and activities)' },

  HOST: { group: 'api', meaning: 'address the API listens on' },
  PORT: { group: 'api', meaning: 'port the API listens on' },
  API_METRICS_PORT: { group: 'api', meaning: "API's Prometheus endpoint (`/metrics`), on its own port for the scraper; `0`: off" },
  SHUTDOWN_DRAIN_MS: {
    group: 'api',
    meaning: 'on SIGTERM, how long the API drains first (readiness 503, `Connection: close`) before it stops accepting; 5000 in the manifests',
  },
  ENTITY_UPDATE_CONCURRENCY: {
    group: 'api',
    meaning: 'updates one API process keeps in flight per entity; more wait in arrival order (Temporal refuses more than 10 in flight per workflow, shared by every replica)',
  },
  ENTITY_UPDATE_QUEUE_LIMIT: { group: 'api', meaning: 'updates that may wait per entity in one process before the answer is 429' },
  MAX_BODY_BYTES: { group: 'api', meaning: 'largest request body, in bytes (the codec endpoint takes up to 8 MB)' },
  WEB_DIST_DIR: { group: 'api', meaning: 'folder of the built web page the API serves at `/` (`npm run web` builds it)', unset: '`web/dist` beside the code (the image: `dist/web/dist`)' },
  STREAM_HEARTBEAT_SECONDS: { group: 'api', meaning: 'seconds between the `: ping` comments an open event stream sends, so proxies keep it open' },
  STREAM_MAX_PER_USER: { group: 'api', meaning: 'open event streams (`GET /chat/{user_id}/events`, streamed `POST /chat`) one user may have on one API process; past it, 429' },
  STREAM_MAX_CONNECTIONS: { group: 'api', meaning: 'open event streams one API process serves; past it, 503 with `Retry-After`' },
  MCP_MAX_SESSIONS: { group: 'api', meaning: 'MCP sessions (`/mcp`, docs/mcp.md) one API process keeps; past it, 503 with `Retry-After`' },
  MCP_SESSION_IDLE: { group: 'api', meaning: 'an MCP session unused this long is closed, and its client starts a new one: `30s`, `15m`, `2h`' },

  API_TOKEN: { group: 'access', meaning: 'service credential with admin rights (`Authorization: Bearer <API_TOKEN>`); with no credential set at all the API is open and says so at start', secret: true },
  AUTH_JWT_SECRET: { group: 'access', meaning: 'HS256 secret (32+ characters) of user tokens; `sub` is the user id, a `scope` holding `admin` allows everything', secret: true },
  AUTH_JWKS_URL: { group: 'access', meaning: "the identity provider's JWKS (RS256/ES256 tokens), cached and refetched for an unknown `kid`; not with `AUTH_JWT_SECRET`" },
  AUTH_JWT_ISSUER: { group: 'access', meaning: 'tokens must carry this `iss`' },
  AUTH_JWT_AUDIENCE: { group: 'access', meaning: "tokens' `aud` must include this (required with `AUTH_JWKS_URL`)" },
  TENANTS: {
    group: 'access',
    meaning:
      'tenants kept apart, each in its own Temporal namespace: `acme,globex` (the namespace named as the tenant) or `acme=task-agent-acme,globex=task-agent-globex`. A user\'s tenant comes from their token (`TENANT_CLAIM`); the service credential and an open API name it in the `X-Tenant` header. The worker serves every tenant\'s namespace, events go to per-tenant streams (`{REDIS_KEY_PREFIX}{tenant}:`); `npm start` and the setup jobs register the namespaces (docs/tenants.md)',
    unset: 'one namespace (`TEMPORAL_NAMESPACE`), no tenants',
  },
  TENANT_CLAIM: { group: 'access', meaning: "the token claim that names the user's tenant (with `TENANTS`); a token without it, or naming another tenant, is refused (403)" },
  AUTH_REQUIRE_EMAIL_VERIFIED: {
    group: 'access',
    meaning:
      "`true`: a token's `email` names the user (their assignee rights, \"my tasks\") only with `email_verified: true`; `false`: unless `email_verified` is false. Set `true` for providers that put unverified addresses in `email` without saying so",
  },
  CODEC_CORS_ORIGINS: {
    group: 'access',
    meaning: 'origins allowed to call `/codec` from a browser (the Web UI), comma-separated',
    unset: "the dev server's UI on `TEMPORAL_UI_PORT`, at localhost and 127.0.0.1",
  },
  PAYLOAD_ENCRYPTION_KEYS: {
    group: 'access',
    meaning: '`id:base64key,...` (32-byte keys, `openssl rand -base64 32`): payloads are encrypted (AES-256-GCM) with the first, every key decrypts; worker and API need the same',
    unset: 'payloads are stored as plain JSON',
    secret: true,
  },

  REDIS_URL: {
    group: 'redis',
    meaning: '`redis://[user:password@]host:port[/db]`, `rediss://` for TLS; `npm start` starts a `redis-server` (data in `.data/redis`) if a local URL does not answer',
  },
  REDIS_CLUSTER_NODES: {
    group: 'redis',
    meaning: 'a Redis Cluster: some of its nodes as `host:port,host:port`; `REDIS_URL` then gives only user, password and TLS (see [production-shape.md](production-shape.md#redis-cluster))',
    unset: 'one Redis, at `REDIS_URL`',
  },
  EVENT_PUBLISH_REPLICAS: { group: 'redis', meaning: 'replicas that must have an event (Redis `WAIT`) before its publish counts', unset: '1 on a cluster, else 0' },
  REDIS_TLS_CA_PATH: { group: 'redis', meaning: 'a private CA (PEM file) for `rediss://`' },
  REDIS_KEY_PREFIX: { group: 'redis', meaning: 'prefix of every key written, so deployments (or test runs) can share one Redis' },
  EVENT_STREAM_MAXLEN: { group: 'redis', meaning: 'approximate length each event stream is trimmed to' },
  LIVE_STREAM_MAXLEN: { group: 'redis', meaning: "approximate length the live stream (turns' text and tool steps as they happen) is trimmed to; an event stream resumed from further back starts again from the history" },
  EVENT_CONSUMER_GROUP: { group: 'redis', meaning: "consumer group of the API's event subscriber" },
  EVENT_SUBSCRIBER: { group: 'redis', meaning: '`off`: this API process does not consume events' },

  NOTIFY_WEBHOOK_URL: {
    group: 'notify',
    meaning: 'notifications are POSTed here (JSON, `Idempotency-Key` header); a secret, as such URLs often carry a token',
    unset: 'notifications are recorded in the Redis hash `{prefix}notifications:{assignee}`',
    secret: true,
  },
  NOTIFY_TIMEOUT_MS: {
    group: 'notify',
    meaning: "webhook timeout; a timeout or non-2xx answer is a failed attempt. The activity's start-to-close timeout is this plus 5 s (a worker that dies mid-call is noticed by the heartbeat timeout, 5 s)",
  },
  NOTIFY_FAILURE_RATE: { group: 'notify', meaning: "probability (0..1) that a notification attempt fails on purpose, as the original's 20% demo did" },
  NOTIFY_VIA: {
    group: 'notify',
    meaning:
      "how processing runs notify: `nexus`, through the notifications app (`npm run notifications`, its own namespace and task queue) behind the Nexus endpoint `NOTIFY_NEXUS_ENDPOINT`; `activity`, with the worker's own activity (one process less). The webhook, its timeout and the failure rate are the settings of whichever runs the activity",
  },
  NOTIFY_NEXUS_ENDPOINT: { group: 'notify', meaning: 'the Nexus endpoint in front of the notifications app; `npm start` and the setup jobs create it, routed to `NOTIFICATIONS_NAMESPACE` / `NOTIFICATIONS_TASK_QUEUE`' },
  NOTIFY_NEXUS_TIMEOUT_MS: {
    group: 'notify',
    meaning: "how long a processing run waits for its notification over Nexus (the app's three attempts, and the app being down), then compensates",
  },
  NOTIFICATIONS_NAMESPACE: { group: 'notify', meaning: "the notifications app's own namespace (`npm start` and the setup jobs register it)" },
  NOTIFICATIONS_TASK_QUEUE: { group: 'notify', meaning: "the notifications app's task queue, which the endpoint targets" },
  NOTIFICATIONS_WORKFLOW_BUNDLE_PATH: {
    group: 'notify',
    meaning: "the notifications app's workflow bundle built ahead of time (`npm run bundle`; the image sets it)",
    unset: 'the app bundles its workflow at start',
  },
  NOTIFICATIONS_HEALTH_PORT: { group: 'notify', meaning: "the notifications app's `/healthz` and `/readyz` (its Kubernetes probes); `0` turns them off" },

  LLM_BASE_URL: { group: 'agent', meaning: 'OpenAI-compatible endpoint (e.g. `https://api.openai.com/v1`); with `LLM_MODEL`, chat replies come from the model', unset: 'replies come from commands and rules' },
  LLM_MODEL: { group: 'agent', meaning: 'the model to call; with `LLM_BASE_URL`, chat replies come from it' },
  LLM_API_KEY: { group: 'agent', meaning: 'bearer token for the model endpoint', secret: true },
  LLM_TIMEOUT_MS: { group: 'agent', meaning: "timeout of one model call; the activity's start-to-close timeout is this plus 5 s" },
  LLM_STREAM: { group: 'agent', meaning: '`true`: the model is asked for streamed answers (`stream: true`), whose text reaches `GET /chat/{user_id}/events` and streamed `POST /chat` as it comes; `false`: whole answers' },
  AGENT_MAX_STEPS: { group: 'agent', meaning: 'model calls per message at most; past them the agent answers with what it has and says it stopped' },
  AGENT_APPROVAL_TIMEOUT: { group: 'agent', meaning: 'a change nobody approves within it is denied: `30s`, `15m`, `24h`, `7d` (1 s to 30 days)' },
  AGENT_MCP_SERVERS: {
    group: 'agent',
    meaning:
      'MCP servers (Streamable HTTP) whose tools the agent offers beside its own: `docs=https://mcp.example.com/mcp,wiki=http://wiki:3000/mcp`, or a JSON list of `{"name", "url", "headers", "approval": "writes"|"always"|"never", "trusted": false}` (docs/mcp.md)',
    secret: true,
  },

  WORKER_HEALTH_PORT: { group: 'worker', meaning: "worker's `/healthz` and `/readyz` for probes; `0`: off" },
  WORKER_METRICS_PORT: { group: 'worker', meaning: "worker's Prometheus endpoint (`/metrics`); `0`: off" },
  WORKFLOW_BUNDLE_PATH: { group: 'worker', meaning: 'a workflow bundle built ahead of time (`npm run bundle`)', unset: 'the worker bundles the workflows at start' },
  WORKER_MAX_CACHED_WORKFLOWS: {
    group: 'worker',
    meaning: "workflows kept in the worker's memory (sticky cache); more are evicted and replayed when next needed",
    unset: "the SDK's default, from the heap limit",
  },
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: {
    group: 'worker',
    meaning: 'workflow tasks the worker runs at once; the effective values are logged at start (`worker started` … `settings`)',
    unset: "the SDK's default, 40",
  },
  WORKER_MAX_CONCURRENT_ACTIVITIES: { group: 'worker', meaning: 'activities the worker runs at once', unset: "the SDK's default, 100" },

  OTEL_EXPORTER_OTLP_ENDPOINT: {
    group: 'observability',
    meaning: 'OTLP/HTTP endpoint for traces (e.g. `http://localhost:4318`); the exporter reads the other `OTEL_*` variables (headers, timeout, sampler) itself',
    unset: 'tracing off',
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { group: 'observability', meaning: 'the full traces URL, when it is not `ENDPOINT/v1/traces`' },
  OTEL_SERVICE_NAME: { group: 'observability', meaning: 'service name of the spans', unset: '`task-agent-api` for the API, `task-agent-worker` for the worker' },
  OTEL_SDK_DISABLED: { group: 'observability', meaning: '`true`: tracing off whatever else is set' },
  LOG_LEVEL: { group: 'observability', meaning: 'least severe level logged; logs are JSON lines (pino)' },

  TEMPORAL_SERVER: {
    group: 'launcher',
    meaning: "which Temporal server `npm start`, `npm test` and the benchmarks run: `dev`, the temporal CLI's dev server (SQLite); `postgres`, Temporal's own server on PostgreSQL (see [production-shape.md](production-shape.md))",
  },
  TEMPORAL_POSTGRES_URL: {
    group: 'launcher',
    meaning: 'with `postgres`: where the `temporal` and `temporal_visibility` databases are (`/name` at the end: `name` and `name_visibility`)',
  },
  TEMPORAL_POSTGRES_MAX_CONNECTIONS: {
    group: 'launcher',
    meaning:
      "with `postgres`: the most connections that server opens to PostgreSQL, shared by its four services (a third of each share for visibility) and kept open. Keep the sum of every server's below PostgreSQL's `max_connections` (100 by default)",
  },
  TEMPORAL_CLI: { group: 'launcher', meaning: 'path to a `temporal` binary', unset: 'PATH, then the cache, then a Go build' },
  TEMPORAL_PORT: { group: 'launcher', meaning: "the started server's gRPC port" },
  TEMPORAL_UI_PORT: { group: 'launcher', meaning: "the started server's Web UI port" },
  DATA_DIR: { group: 'launcher', meaning: "the dev server's database and log (or the PostgreSQL server's configuration and log), and the data of a Redis it starts" },
};

/** Variables read elsewhere than common/config.ts: by a library, or by the scripts that build tools. */
export const OTHER_VARIABLES: { name: string; readBy: string; meaning: string }[] = [
  { name: 'TEMPORAL_GRPC_META_*', readBy: '@temporalio/envconfig', meaning: 'gRPC headers sent to Temporal (`TEMPORAL_GRPC_META_X_TENANT=acme` sends `x-tenant: acme`)' },
  { name: 'OTEL_*', readBy: 'the OpenTelemetry exporter', meaning: 'the standard exporter settings: headers, timeout, sampler, resource attributes' },
  {
    name: 'TEMPORAL_SERVER_BIN, TEMPORAL_SQL_TOOL, TEMPORAL_UI_SERVER_BIN',
    readBy: 'scripts/go-tools.ts',
    meaning: "with `TEMPORAL_SERVER=postgres`: paths to `temporal-server`, `temporal-sql-tool` and Temporal's `ui-server`; unset: PATH, the cache, a Go build",
  },
  { name: 'JAEGER_BIN, KUSTOMIZE', readBy: 'scripts/go-tools.ts', meaning: 'tests: paths to a `jaeger` (v2) and a `kustomize` binary; unset: PATH, the cache, a Go build' },
  { name: 'CHROMIUM_PATH', readBy: 'scripts/chromium.ts', meaning: "tests: a Chromium binary for the Web UI test; unset: Debian's `chromium`, installed with apt-get when missing" },
  { name: 'GOTOOLCHAIN', readBy: 'scripts/go-tools.ts', meaning: 'the Go toolchain the tool builds use; unset: `local`, the Go on the machine (newer tags would ask for a newer one)' },
  { name: 'TEST_LOG_LEVEL', readBy: 'test/helpers/harness.ts', meaning: "tests: log level of the API and worker the tests build in-process; unset: `silent`" },
  { name: 'XDG_CACHE_HOME', readBy: 'scripts/go-tools.ts, scripts/node24.cjs', meaning: 'where the built tools are cached (`$XDG_CACHE_HOME/task-agent`); unset: `~/.cache/task-agent`' },
];
