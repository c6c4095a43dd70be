/**
 * The one place that reads the environment. Every process (launcher, worker, API, tests) calls
 * `loadConfig()` and passes the result down; nothing else touches `process.env` for settings.
 * Each variable, its default and its meaning are listed in the README's configuration table.
 */
import { z } from 'zod';
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

const ConfigSchema = z.object({
  /** host:port of the Temporal frontend. Unset means "start the embedded dev server" for `npm start`. */
  TEMPORAL_ADDRESS: z.string().trim().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().trim().min(1).default('default'),
  /** API key for Temporal (Temporal Cloud or a server with API-key auth); implies TLS. */
  TEMPORAL_API_KEY: z.string().trim().min(1).optional(),
  /** `on` for TLS to Temporal with the system's trusted CAs; implied by any of the TLS or API-key settings. */
  TEMPORAL_TLS: z.enum(['on', 'off']).default('off'),
  /** mTLS: the client certificate and key files (PEM); both or neither. */
  TEMPORAL_TLS_CERT_PATH: z.string().trim().min(1).optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().trim().min(1).optional(),
  /** A private CA that signed the server's certificate (PEM). */
  TEMPORAL_TLS_CA_PATH: z.string().trim().min(1).optional(),
  /** Server name to verify, when it differs from the host in TEMPORAL_ADDRESS. */
  TEMPORAL_TLS_SERVER_NAME: z.string().trim().min(1).optional(),
  TASK_QUEUE: z.string().trim().min(1).default('task-agent'),

  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PORT: port.default(8000),
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

  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  REDIS_URL: z
    .string()
    .trim()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  /** A private CA for Redis TLS (PEM), with a rediss:// URL. */
  REDIS_TLS_CA_PATH: z.string().trim().min(1).optional(),
  /** Prefix of every Redis key this service writes, so several deployments (or test runs) share one Redis. */
  REDIS_KEY_PREFIX: z.string().default('task-agent:'),

  /** When set, notifications are POSTed here; otherwise they are recorded in Redis. */
  NOTIFY_WEBHOOK_URL: optionalUrl,
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Probability (0..1) that a notification attempt fails on purpose, as the seed's 20% demo did. */
  NOTIFY_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),

  /** OpenAI-compatible chat-completions endpoint (e.g. https://api.openai.com/v1); with LLM_MODEL, chat replies come from it. */
  LLM_BASE_URL: optionalUrl,
  LLM_MODEL: z.string().trim().min(1).optional(),
  LLM_API_KEY: z.string().trim().min(1).optional(),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(20_000),
  /** Model calls the agent makes for one message at most; past it, it answers with what it has and says it stopped. */
  AGENT_MAX_STEPS: z.coerce.number().int().min(1).max(50).default(8),
  /** How long a change waits for the user's approval before it is denied: `30s`, `15m`, `24h`, `7d`. */
  AGENT_APPROVAL_TIMEOUT: duration.prefault('24h'),

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

  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  // Launcher (`npm start`) only.
  /** Path to a `temporal` CLI binary; otherwise PATH, then the cache, then a Go build. */
  TEMPORAL_CLI: z.string().trim().min(1).optional(),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  /** Where the launcher keeps the dev server's database and a Redis it may start. */
  DATA_DIR: z.string().trim().min(1).default('.data'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Defaults as the running processes see them: the launcher fills TEMPORAL_ADDRESS before it spawns them. */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export function temporalAddress(config: Config): string {
  return config.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS;
}

/** The names of every variable this service reads; deployment files are checked against this list. */
export const CONFIG_VARIABLES = Object.keys(ConfigSchema.shape) as (keyof Config)[];

/** Origins the codec endpoint answers CORS requests from (the Temporal Web UI's). */
export function codecCorsOrigins(config: Config): string[] {
  if (config.CODEC_CORS_ORIGINS !== undefined) return config.CODEC_CORS_ORIGINS.split(',').map((origin) => origin.trim()).filter(Boolean);
  return [`http://localhost:${config.TEMPORAL_UI_PORT}`, `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`];
}

/** The model settings, or undefined when replies come from the rules. */
export function llmSettings(config: Config) {
  if (config.LLM_BASE_URL === undefined || config.LLM_MODEL === undefined) return undefined;
  return { baseUrl: config.LLM_BASE_URL, model: config.LLM_MODEL, apiKey: config.LLM_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS };
}

/**
 * Settings each valid alone that cannot work together; refused at start, naming the variables. (Activity
 * timeouts follow NOTIFY_TIMEOUT_MS and LLM_TIMEOUT_MS, see common/activity-timeouts.ts, so those hold whatever
 * their value.)
 */
function impossibleCombinations(c: Config): { path: keyof Config; message: string }[] {
  const problems: { path: keyof Config; message: string }[] = [];
  if ((c.TEMPORAL_TLS_CERT_PATH === undefined) !== (c.TEMPORAL_TLS_KEY_PATH === undefined)) {
    problems.push({ path: 'TEMPORAL_TLS_CERT_PATH', message: 'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together' });
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
  if (c.AUTH_JWT_SECRET !== undefined && c.AUTH_JWKS_URL !== undefined) {
    problems.push({ path: 'AUTH_JWT_SECRET', message: 'set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL (RS256/ES256), not both' });
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

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string> = {};
  for (const key of CONFIG_VARIABLES) {
    const value = env[key];
    // An empty variable counts as unset (e.g. a Secret key left empty): the default applies.
    if (value !== undefined && value.trim() !== '') picked[key] = value;
  }
  const parsed = ConfigSchema.superRefine((c, ctx) => {
    for (const { path, message } of impossibleCombinations(c)) ctx.addIssue({ code: 'custom', path: [path], message });
  }).safeParse(picked);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
