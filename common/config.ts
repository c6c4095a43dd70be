/**
 * The one place that reads the environment. Every process (launcher, worker, API, tests) calls
 * `loadConfig()` and passes the result down; nothing else touches `process.env` for settings.
 * Each variable, its default and its meaning are in docs/configuration.md, generated from this schema and
 * common/config-reference.ts (npm run docs:config).
 */
import { z } from 'zod';
import { existsSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import { parseEncryptionKeys } from './payload-encryption';

const port = z.coerce.number().int().min(1).max(65535);

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** A duration such as `500ms`, `30s`, `15m`, `24h` or `7d`, in milliseconds; between 1 s and 30 days. */
const duration = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a number and a unit: ms, s, m, h or d (e.g. 24h)')
  .transform((value) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(value)!;
    return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
  })
  .refine((ms) => ms >= 1_000 && ms <= 30 * 86_400_000, 'must be between 1s and 30d');
const optionalUrl = z.url().optional();

/** One MCP server of AGENT_MCP_SERVERS. */
export interface McpServerSetting {
  /** Letters, digits, `_` and `-` (it prefixes its tools' names for the model). */
  name: string;
  url: string;
  /** Sent with every request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Which of its tools wait for the user's approval: `writes` (not annotated read-only; the default), `always`, `never`. */
  approval: 'writes' | 'always' | 'never';
  /** Its results are text the user may rely on (default false: they reach the model labelled as someone else's text). */
  trusted: boolean;
}

const MCP_SERVER_NAME = /^[A-Za-z0-9_-]{1,20}$/;

/** AGENT_MCP_SERVERS, or what is wrong with it. */
export function parseMcpServers(value: string): McpServerSetting[] | string {
  if (value === '') return [];
  let entries: unknown[];
  if (value.startsWith('[')) {
    try {
      entries = JSON.parse(value) as unknown[];
    } catch {
      return 'must be name=url[,name=url...] or a JSON list';
    }
    if (!Array.isArray(entries)) return 'must be a JSON list';
  } else {
    entries = value.split(',').map((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? { name: pair.trim() } : { name: pair.slice(0, at).trim(), url: pair.slice(at + 1).trim() };
    });
  }
  const servers: McpServerSetting[] = [];
  for (const [i, entry] of entries.entries()) {
    const { name, url, headers, approval = 'writes', trusted = false } = (entry ?? {}) as Record<string, unknown>;
    const which = `server ${i + 1}`;
    if (typeof name !== 'string' || !MCP_SERVER_NAME.test(name)) return `${which}: name must be 1 to 20 letters, digits, _ or -`;
    if (servers.some((s) => s.name === name)) return `${which}: the name ${name} is given twice`;
    if (typeof url !== 'string' || !/^https?:\/\/./.test(url) || !URL.canParse(url)) return `${which} (${name}): url must be an http(s) URL`;
    if (headers !== undefined && (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string'))) {
      return `${which} (${name}): headers must be an object of strings`;
    }
    if (approval !== 'writes' && approval !== 'always' && approval !== 'never') return `${which} (${name}): approval must be writes, always or never`;
    if (typeof trusted !== 'boolean') return `${which} (${name}): trusted must be true or false`;
    servers.push({ name, url, approval, trusted, ...(headers ? { headers: headers as Record<string, string> } : {}) });
  }
  return servers;
}
/** `true` or `false` (any case). */
const booleanSetting = z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(['true', 'false'], 'must be true or false')).transform((v) => v === 'true');

export const ConfigSchema = z.object({
  // Temporal connection: Temporal's own names (@temporalio/envconfig), as the temporal CLI and every SDK read
  // them. Unset values come from the profile file the temporal CLI writes (temporal.toml, see temporalProfile).
  /** host:port of the Temporal frontend. Unset (here and in the profile) means "start the embedded dev server" for `npm start`. */
  TEMPORAL_ADDRESS: z.string().trim().min(1).optional(),
  /** Unset: the profile's namespace, else `default`. */
  TEMPORAL_NAMESPACE: z.string().trim().min(1).optional(),
  /** API key for Temporal (Temporal Cloud or a server with API-key auth); implies TLS. */
  TEMPORAL_API_KEY: z.string().trim().min(1).optional(),
  /**
   * `true` for TLS to Temporal with the system's trusted CAs (implied by the TLS files and the API key);
   * `false` turns it off even then. (`on`/`off`, this service's earlier values, still work.)
   */
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0', 'on', 'off']).optional(),
  /** mTLS: the client certificate and key files (PEM); both or neither. */
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().trim().min(1).optional(),
  /** A private CA that signed the server's certificate (PEM). */
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().trim().min(1).optional(),
  /** The same three as PEM text instead of files (for secrets mounted as variables). */
  TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().trim().min(1).optional(),
  /** Server name to verify, when it differs from the host in TEMPORAL_ADDRESS. */
  TEMPORAL_TLS_SERVER_NAME: z.string().trim().min(1).optional(),
  /** The profile file (TOML) the temporal CLI reads; unset: ~/.config/temporalio/temporal.toml when there is one. */
  TEMPORAL_CONFIG_FILE: z.string().trim().min(1).optional(),
  /** The profile in that file; unset: `default`. */
  TEMPORAL_PROFILE: z.string().trim().min(1).optional(),
  /** Base of the Temporal Web UI links in answers; unset: the dev server's UI, http://localhost:TEMPORAL_UI_PORT. */
  TEMPORAL_UI_URL: optionalUrl,
  TASK_QUEUE: z.string().trim().min(1).default('task-agent'),

  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PORT: port.default(8000),
  /**
   * Port of the API's Prometheus endpoint (`/metrics`), apart from the API so that only the scraper reaches
   * it (it shows stream and queue state); 0 turns it off.
   */
  API_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9465),
  /**
   * A service credential with admin rights: `Authorization: Bearer <API_TOKEN>`. With neither it nor
   * AUTH_JWT_SECRET / AUTH_JWKS_URL set, the API is open (and says so at start).
   */
  API_TOKEN: z.string().trim().min(1).optional(),
  /** HS256 secret that signs user tokens (JWT); `sub` is the user id, a `scope` holding `admin` allows everything. */
  AUTH_JWT_SECRET: z.string().trim().min(32, 'must be at least 32 characters (256 bits for HS256)').optional(),
  /** JWKS URL of the identity provider (RS256/ES256 tokens); keys are cached and refetched on an unknown `kid`. */
  AUTH_JWKS_URL: optionalUrl,
  /** When set, tokens must carry this `iss`. */
  AUTH_JWT_ISSUER: z.string().trim().min(1).optional(),
  /** When set, tokens' `aud` must include this. */
  AUTH_JWT_AUDIENCE: z.string().trim().min(1).optional(),
  /**
   * `true`: a token's `email` counts only with `email_verified: true`; `false`: unless `email_verified` is false
   * (OpenID Connect's reading). Set it for providers that put addresses they did not verify in `email`.
   */
  AUTH_REQUIRE_EMAIL_VERIFIED: booleanSetting.default(false),
  /**
   * Tenants kept apart, each in a Temporal namespace of its own: `acme,globex` (namespace = tenant id) or
   * `acme=task-agent-acme,globex=task-agent-globex`. Unset: one namespace (TEMPORAL_NAMESPACE), no tenants.
   */
  TENANTS: z
    .string()
    .trim()
    .min(1)
    .transform((value, ctx) => {
      const tenants = parseTenants(value);
      if (typeof tenants === 'string') {
        ctx.addIssue({ code: 'custom', message: tenants });
        return z.NEVER;
      }
      return tenants;
    })
    .optional(),
  /** The token claim that names a user's tenant. */
  TENANT_CLAIM: z.string().trim().min(1).default('tenant'),
  /**
   * Origins (comma-separated) allowed to call the codec endpoint from a browser, i.e. the Temporal Web UI;
   * unset: the dev server's UI on TEMPORAL_UI_PORT at localhost and 127.0.0.1.
   */
  CODEC_CORS_ORIGINS: z.string().trim().min(1).optional(),
  /**
   * On SIGTERM the API first drains this long (readiness 503, `Connection: close` on every answer) so load
   * balancers stop sending and clients stop reusing sockets, then closes the listener.
   */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /**
   * Updates this API process keeps in flight per entity; more wait in arrival order. Temporal refuses more
   * than 10 in flight per workflow (`history.maxInFlightUpdates`), shared by every API replica and caller.
   */
  ENTITY_UPDATE_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  /** Requests that may wait per entity in this process before it answers 429. */
  ENTITY_UPDATE_QUEUE_LIMIT: z.coerce.number().int().min(0).max(100_000).default(1_000),
  /** Largest request body the API reads, in bytes. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  /** Where the built web page is (scripts/build-web.ts); unset: web/dist beside the code. */
  WEB_DIST_DIR: z.string().trim().min(1).optional(),
  /** Seconds between the comments an open event stream sends so that proxies keep it open. */
  STREAM_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
  /** Open event streams one user may have on one API process (tabs, devices); past it, 429. */
  STREAM_MAX_PER_USER: z.coerce.number().int().min(1).max(1_000).default(10),
  /** Open event streams one API process serves at once; past it, 503. */
  STREAM_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100_000).default(2_000),
  /** Approximate length of the live stream (turns' text and tool steps as they happen; stream/live-records.ts). */
  LIVE_STREAM_MAXLEN: z.coerce.number().int().min(100).default(20_000),
  /** MCP sessions (`/mcp`) one API process keeps at once; past it, 503. */
  MCP_MAX_SESSIONS: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /** An MCP session not used for this long is closed (the client starts a new one). */
  MCP_SESSION_IDLE: duration.prefault('30m'),

  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  /**
   * A Redis Cluster instead of one Redis: some of its nodes as `host:port`, comma-separated (the client finds
   * the rest). REDIS_URL then gives only the user, password and TLS (rediss://) every node is reached with.
   * The event keys carry the hash tag `{events}`, so both streams and their markers share one slot.
   */
  REDIS_CLUSTER_NODES: z
    .string()
    .trim()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'must be host:port[,host:port...]')
    .optional()
    .transform((v) => v?.split(',').map((node) => node.trim())),
  /**
   * An event counts as published once this many replicas have it too (Redis WAIT), so a primary that fails
   * over right after cannot take it along. Unset: 1 on a cluster, 0 on one Redis.
   */
  EVENT_PUBLISH_REPLICAS: z.coerce.number().int().min(0).max(5).optional(),
  /** A private CA for Redis TLS (PEM), with a rediss:// URL. */
  REDIS_TLS_CA_PATH: z.string().trim().min(1).optional(),
  /** Prefix of every Redis key this service writes, so several deployments (or test runs) share one Redis. */
  REDIS_KEY_PREFIX: z.string().default('task-agent:'),

  /** When set, notifications are POSTed here; otherwise they are recorded in Redis. */
  NOTIFY_WEBHOOK_URL: optionalUrl,
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Probability (0..1) that a notification attempt fails on purpose, as the seed's 20% demo did. */
  NOTIFY_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  /**
   * How processing runs notify: `nexus`, through the notifications app (notifications/) behind the Nexus endpoint
   * NOTIFY_NEXUS_ENDPOINT; `activity`, within this worker, as before that app existed (one process less).
   */
  NOTIFY_VIA: z.enum(['nexus', 'activity']).default('nexus'),
  /** The Nexus endpoint (`temporal operator nexus endpoint list`) in front of the notifications app. */
  NOTIFY_NEXUS_ENDPOINT: z.string().trim().regex(/^[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]$/, 'must be letters, digits and -, starting with a letter').default('task-agent-notifications'),
  /**
   * How long a processing run waits for its notification through Nexus (all its attempts, and the app being
   * down) before it compensates.
   */
  NOTIFY_NEXUS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  /** The notifications app's own namespace and task queue, which the endpoint targets. */
  NOTIFICATIONS_NAMESPACE: z.string().trim().min(1).default('task-agent-notifications'),
  NOTIFICATIONS_TASK_QUEUE: z.string().trim().min(1).default('notifications'),
  /** The notifications app's workflow bundle built ahead of time (`npm run bundle`, the image); unset: bundled at its start. */
  NOTIFICATIONS_WORKFLOW_BUNDLE_PATH: z.string().trim().min(1).optional(),
  /** The notifications app's /healthz and /readyz (as WORKER_HEALTH_PORT for the task worker); 0 turns them off. */
  NOTIFICATIONS_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8082),

  /** OpenAI-compatible chat-completions endpoint (e.g. https://api.openai.com/v1); with LLM_MODEL, chat replies come from it. */
  LLM_BASE_URL: optionalUrl,
  LLM_MODEL: z.string().trim().min(1).optional(),
  LLM_API_KEY: z.string().trim().min(1).optional(),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(20_000),
  /** Ask the model for streamed answers, whose text reaches clients as it comes (false: whole answers only). */
  LLM_STREAM: booleanSetting.default(true),
  /** Model calls the agent makes for one message at most; past it, it answers with what it has and says it stopped. */
  AGENT_MAX_STEPS: z.coerce.number().int().min(1).max(50).default(8),
  /** How long a change waits for the user's approval before it is denied: `30s`, `15m`, `24h`, `7d`. */
  AGENT_APPROVAL_TIMEOUT: duration.prefault('24h'),
  /**
   * MCP servers (Streamable HTTP) whose tools the agent offers its model beside its own (mcp/remote-servers.ts):
   * `name=url,name=url`, or a JSON list of `{ "name", "url", "headers"?, "approval"?, "trusted"? }`.
   */
  AGENT_MCP_SERVERS: z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      const parsed = parseMcpServers(value ?? '');
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),

  /** Approximate cap on each event stream's length. */
  EVENT_STREAM_MAXLEN: z.coerce.number().int().min(100).default(10_000),
  /** Consumer group of the API's event subscriber. */
  EVENT_CONSUMER_GROUP: z.string().trim().min(1).default('task-agent'),
  /** Whether the API process runs the event subscriber. */
  EVENT_SUBSCRIBER: z.enum(['on', 'off']).default('on'),

  /** Port of the worker's health endpoint (/healthz, /readyz) for liveness and readiness probes; 0 turns it off. */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  /** A workflow bundle built ahead of time (`npm run bundle`); unset: the worker bundles the workflows at start. */
  WORKFLOW_BUNDLE_PATH: z.string().trim().min(1).optional(),
  /** Workflows the worker keeps in memory (sticky cache); unset: the SDK's default, sized from the heap limit. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).optional(),
  /** Workflow tasks and activities the worker runs at once; unset: the SDK's defaults (40 and 100). */
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).optional(),
  /** Port of the worker's Prometheus endpoint (the SDK's metrics, at /metrics); 0 turns it off. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),

  /**
   * `id:base64key,...` (32-byte keys, e.g. `openssl rand -base64 32`): payloads in Temporal are encrypted
   * (AES-256-GCM) with the first key; every key decrypts, so keys rotate by putting the new one first.
   */
  PAYLOAD_ENCRYPTION_KEYS: z
    .string()
    .transform((value, ctx) => {
      const keys = parseEncryptionKeys(value);
      if (typeof keys === 'string') {
        ctx.addIssue({ code: 'custom', message: keys });
        return z.NEVER;
      }
      return keys;
    })
    .optional(),

  // Tracing (OpenTelemetry): on when an OTLP endpoint is set; see common/tracing.ts. The exporter reads the
  // other OTEL_* variables (headers, timeout, sampler, resource attributes) itself.
  /** OTLP/HTTP endpoint, e.g. http://jaeger:4318 (spans go to its /v1/traces). */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** The full traces URL, when it is not ENDPOINT/v1/traces. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  /** Unset: task-agent-api for the API, task-agent-worker for the worker. */
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional(),
  /** `true` turns tracing off whatever else is set. */
  OTEL_SDK_DISABLED: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(['true', 'false'])).default('false'),

  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  // Launcher (`npm start`) only.
  /** Path to a `temporal` CLI binary; otherwise PATH, then the cache, then a Go build. */
  TEMPORAL_CLI: z.string().trim().min(1).optional(),
  /**
   * Which Temporal server `npm start` and `npm test` run when TEMPORAL_ADDRESS names none: `dev`, the CLI's
   * dev server (SQLite, one shard); `postgres`, Temporal's own server on PostgreSQL with SQL visibility and
   * several shards, the shape production runs (scripts/temporal-postgres.ts).
   */
  TEMPORAL_SERVER: z.enum(['dev', 'postgres']).default('dev'),
  /**
   * The PostgreSQL that TEMPORAL_SERVER=postgres keeps its databases in: `temporal` and `temporal_visibility`,
   * or `<name>` and `<name>_visibility` when the URL ends in /<name>.
   */
  TEMPORAL_POSTGRES_URL: z
    .string()
    .trim()
    .regex(
      /^postgres(ql)?:\/\/[^\s/]+(\/[a-z_][a-z0-9_]{0,48})?$/,
      'must be postgres://user[:password]@host[:port][/database], the database in lower case letters, digits and _',
    )
    .default('postgres://postgres@127.0.0.1:5432'),
  /** With TEMPORAL_SERVER=postgres: the most connections that server opens to PostgreSQL (scripts/temporal-postgres.ts). */
  TEMPORAL_POSTGRES_MAX_CONNECTIONS: z.coerce.number().int().min(8).max(1000).default(48),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  /** Where the launcher keeps the dev server's database and a Redis it may start. */
  DATA_DIR: z.string().trim().min(1).default('.data'),
});

type ParsedConfig = z.infer<typeof ConfigSchema>;

export type Config = Omit<ParsedConfig, 'TEMPORAL_NAMESPACE'> & {
  TEMPORAL_NAMESPACE: string;
  /** The Temporal connection as resolved from the profile file and the variables (variables win). */
  temporalProfile: ClientConfigProfile;
  /** Settings that work but should change (old names); each process logs them at start. */
  warnings: string[];
};

/** Names this service used before it took Temporal's; they still work, with a warning naming the new one. */
export const RENAMED_VARIABLES = {
  TEMPORAL_TLS_CERT_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TEMPORAL_TLS_CA_PATH: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
} as const satisfies Record<string, keyof ParsedConfig>;

/** Defaults as the running processes see them: the launcher fills TEMPORAL_ADDRESS before it spawns them. */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export function temporalAddress(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS;
}

/** The names of every variable this service reads; deployment files are checked against this list. */
export const CONFIG_VARIABLES = Object.keys(ConfigSchema.shape) as (keyof ParsedConfig)[];

/** The Web UI page of a workflow execution (its run when given). */
export function temporalUiLink(config: Config, workflowId: string, runId?: string): string {
  const base = (config.TEMPORAL_UI_URL ?? `http://localhost:${config.TEMPORAL_UI_PORT}`).replace(/\/+$/, '');
  const path = `/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}${path}/${encodeURIComponent(runId)}/history` : base + path;
}

/** Origins the codec endpoint answers CORS requests from (the Temporal Web UI's). */
export function codecCorsOrigins(config: Config): string[] {
  if (config.CODEC_CORS_ORIGINS !== undefined) return config.CODEC_CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean);
  return [`http://localhost:${config.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`];
}

/** The model settings, or undefined when replies come from the rules. */
export function llmSettings(config: Config) {
  if (config.LLM_BASE_URL === undefined || config.LLM_MODEL === undefined) return undefined;
  return { baseUrl: config.LLM_BASE_URL, model: config.LLM_MODEL, apiKey: config.LLM_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS, stream: config.LLM_STREAM };
}

/**
 * Settings each valid alone that cannot work together; refused at start, naming the variables. (Activity
 * timeouts follow NOTIFY_TIMEOUT_MS and LLM_TIMEOUT_MS, see workflows/shared/activity-timeouts.ts, so those hold whatever
 * their value.)
 */
function impossibleCombinations(c: ParsedConfig): { path: keyof ParsedConfig; message: string }[] {
  const problems: { path: keyof ParsedConfig; message: string }[] = [];
  const hasCert = c.TEMPORAL_TLS_CLIENT_CERT_PATH !== undefined || c.TEMPORAL_TLS_CLIENT_CERT_DATA !== undefined;
  const hasKey = c.TEMPORAL_TLS_CLIENT_KEY_PATH !== undefined || c.TEMPORAL_TLS_CLIENT_KEY_DATA !== undefined;
  if (hasCert !== hasKey) {
    problems.push({
      path: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
      message: 'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
    });
  }
  if ((c.LLM_BASE_URL === undefined) !== (c.LLM_MODEL === undefined)) {
    problems.push({ path: 'LLM_BASE_URL', message: 'LLM_BASE_URL and LLM_MODEL go together (one without the other would silently answer by the rules)' });
  }
  if (c.LLM_API_KEY !== undefined && c.LLM_BASE_URL === undefined) {
    problems.push({ path: 'LLM_API_KEY', message: 'LLM_API_KEY needs LLM_BASE_URL and LLM_MODEL' });
  }
  if (c.REDIS_TLS_CA_PATH !== undefined && !c.REDIS_URL.startsWith('rediss://')) {
    problems.push({ path: 'REDIS_TLS_CA_PATH', message: 'REDIS_TLS_CA_PATH needs a rediss:// REDIS_URL (TLS)' });
  }
  if (c.WORKER_HEALTH_PORT !== 0 && c.WORKER_HEALTH_PORT === c.WORKER_METRICS_PORT) {
    problems.push({ path: 'WORKER_HEALTH_PORT', message: `WORKER_HEALTH_PORT and WORKER_METRICS_PORT cannot both be ${c.WORKER_HEALTH_PORT}` });
  }
  if (c.API_METRICS_PORT !== 0 && c.API_METRICS_PORT === c.PORT) {
    problems.push({ path: 'API_METRICS_PORT', message: `API_METRICS_PORT and PORT cannot both be ${c.PORT} (the metrics are not for the API's callers)` });
  }
  if (c.AUTH_JWT_SECRET !== undefined && c.AUTH_JWKS_URL !== undefined) {
    problems.push({ path: 'AUTH_JWT_SECRET', message: 'set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL (RS256/ES256), not both' });
  }
  if (c.AUTH_JWKS_URL !== undefined && c.AUTH_JWT_AUDIENCE === undefined) {
    // An identity provider signs tokens for all its applications with the same keys: without the audience
    // check, a token it issued to any of them would be taken here.
    problems.push({ path: 'AUTH_JWT_AUDIENCE', message: 'AUTH_JWKS_URL needs AUTH_JWT_AUDIENCE (this API\'s audience), or tokens the identity provider issued for other applications are accepted' });
  }
  for (const name of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const) {
    if (c[name] !== undefined && c.AUTH_JWT_SECRET === undefined && c.AUTH_JWKS_URL === undefined) {
      problems.push({ path: name, message: `${name} needs AUTH_JWT_SECRET or AUTH_JWKS_URL` });
    }
  }
  if (c.TEMPORAL_PORT === c.TEMPORAL_UI_PORT) {
    problems.push({ path: 'TEMPORAL_PORT', message: `TEMPORAL_PORT and TEMPORAL_UI_PORT cannot both be ${c.TEMPORAL_PORT}` });
  }
  return problems;
}

/** A tenant: its id (in tokens, stream keys, X-Tenant) and its Temporal namespace. */
export interface Tenant {
  id: string;
  namespace: string;
}

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/;

/** `acme,globex=ns-globex` -> tenants, or why not. */
export function parseTenants(value: string): Tenant[] | string {
  const tenants: Tenant[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    // The setup Job's shell splits TENANTS on commas and spaces: an entry holds none.
    if (/\s/.test(entry)) return `entry ${JSON.stringify(entry)} must not contain spaces (write id=namespace)`;
    const [id = '', namespace = id] = entry.split('=');
    if (!TENANT_ID.test(id)) return `tenant id ${JSON.stringify(id)} must be lowercase letters, digits, "-" or "_" (at most 63)`;
    if (!NAMESPACE.test(namespace)) return `namespace ${JSON.stringify(namespace)} of tenant ${id} is not a valid namespace name`;
    if (tenants.some((t) => t.id === id)) return `tenant ${id} is named twice`;
    if (tenants.some((t) => t.namespace === namespace)) return `namespace ${namespace} is given to two tenants`;
    tenants.push({ id, namespace });
  }
  return tenants.length > 0 ? tenants : 'must name at least one tenant';
}

/**
 * The configuration as one tenant's processes see it: its namespace for everything Temporal, its own Redis keys
 * (events, live streams, notifications) under `{REDIS_KEY_PREFIX}{tenant}:`. Without tenants, the config as is.
 */
export function tenantConfig(config: Config, tenant: Tenant | undefined): Config {
  if (tenant === undefined) return config;
  return { ...config, TEMPORAL_NAMESPACE: tenant.namespace, REDIS_KEY_PREFIX: `${config.REDIS_KEY_PREFIX}${tenant.id}:` };
}

/** The tenants of this deployment; one unnamed one (the configured namespace) when TENANTS is unset. */
export function tenantsOf(config: Config): (Tenant | undefined)[] {
  return config.TENANTS ?? [undefined];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string> = {};
  const warnings: string[] = [];
  // An empty variable counts as unset (e.g. a Secret key left empty): the default applies.
  const given = (name: string) => (env[name] !== undefined && env[name]!.trim() !== '' ? env[name] : undefined);
  for (const key of CONFIG_VARIABLES) {
    const value = given(key);
    if (value !== undefined) picked[key] = value;
  }
  for (const [old, current] of Object.entries(RENAMED_VARIABLES)) {
    const value = given(old);
    if (value === undefined) continue;
    if (picked[current] === undefined) {
      picked[current] = value;
      warnings.push(`${old} is deprecated: use ${current} (Temporal's name for it)`);
    } else {
      warnings.push(`${old} is ignored: ${current} is set too`);
    }
  }
  if (picked.TEMPORAL_TLS === 'on' || picked.TEMPORAL_TLS === 'off') {
    warnings.push(`TEMPORAL_TLS=${picked.TEMPORAL_TLS} is deprecated: use TEMPORAL_TLS=${picked.TEMPORAL_TLS === 'on'} (Temporal's values)`);
  }
  const parsed = ConfigSchema.superRefine((c, ctx) => {
    for (const { path, message } of impossibleCombinations(c)) ctx.addIssue({ code: 'custom', path: [path], message });
  }).safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const temporalProfile = temporalProfileOf(parsed.data, env);
  // The app's three attempts (each NOTIFY_TIMEOUT_MS and a 5 s grace, 1 s and 2 s apart) must fit in the wait.
  const attempts = 3 * (parsed.data.NOTIFY_TIMEOUT_MS + 5_000) + 3_000;
  if (parsed.data.NOTIFY_VIA === 'nexus' && parsed.data.NOTIFY_NEXUS_TIMEOUT_MS < attempts) {
    warnings.push(`NOTIFY_NEXUS_TIMEOUT_MS=${parsed.data.NOTIFY_NEXUS_TIMEOUT_MS} is shorter than the notification's three attempts may take (${attempts} ms): runs may compensate while it still tries`);
  }
  return {
    ...parsed.data,
    TEMPORAL_ADDRESS: temporalProfile.address,
    TEMPORAL_NAMESPACE: temporalProfile.namespace ?? 'default',
    temporalProfile,
    warnings,
  };
}

/**
 * The Temporal connection the way the temporal CLI and the SDKs resolve it (@temporalio/envconfig): the
 * profile TEMPORAL_PROFILE (or `default`) of the file TEMPORAL_CONFIG_FILE (or the CLI's own), then every
 * TEMPORAL_* variable on top. Certificate files are read when connecting (common/temporal.ts).
 */
function temporalProfileOf(c: ParsedConfig, env: NodeJS.ProcessEnv): ClientConfigProfile {
  const vars: Record<string, string> = {};
  // What envconfig reads beyond our schema (TEMPORAL_GRPC_META_*, *_DATA, DISABLE_HOST_VERIFICATION) and where
  // it finds the default file, as given; the settings of the schema as parsed (renames applied, blanks dropped).
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '' && (/^TEMPORAL_/.test(name) || ['HOME', 'XDG_CONFIG_HOME', 'APPDATA'].includes(name))) {
      vars[name] = value;
    }
  }
  for (const name of CONFIG_VARIABLES.filter((n) => n.startsWith('TEMPORAL_'))) {
    const value = c[name];
    if (typeof value === 'string') vars[name] = value;
    else delete vars[name];
  }
  if (c.TEMPORAL_TLS === 'on' || c.TEMPORAL_TLS === 'off') vars.TEMPORAL_TLS = String(c.TEMPORAL_TLS === 'on');
  // envconfig treats a missing file as no file; one named on purpose that is not there is a mistake to say.
  if (c.TEMPORAL_CONFIG_FILE !== undefined && !existsSync(c.TEMPORAL_CONFIG_FILE)) {
    throw new ConfigError(`Invalid configuration: TEMPORAL_CONFIG_FILE: no file at ${c.TEMPORAL_CONFIG_FILE}`);
  }
  try {
    return loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (err) {
    const where = c.TEMPORAL_PROFILE ? `TEMPORAL_PROFILE=${c.TEMPORAL_PROFILE}` : 'TEMPORAL_CONFIG_FILE';
    // First line only: a TOML parser's message goes on to quote the file around the error, api_key included.
    const reason = (err as Error).message.split('\n')[0]!.trim();
    throw new ConfigError(`Invalid configuration: ${where}: ${reason}`);
  }
}
