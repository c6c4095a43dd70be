/** Settings that cannot work together are refused at start, naming the variables (no Temporal). */
import { describe, expect, it } from 'vitest';
import { activitySettingsOf } from '../../activities/settings';
import { loadConfig } from '../../common/config';

describe('tracing settings', () => {
  it('reads OTEL_SDK_DISABLED as OpenTelemetry does, case-insensitively', () => {
    expect(loadConfig({ OTEL_SDK_DISABLED: 'TRUE' }).OTEL_SDK_DISABLED).toBe('true');
    expect(loadConfig({}).OTEL_SDK_DISABLED).toBe('false');
    expect(() => loadConfig({ OTEL_SDK_DISABLED: 'yes' })).toThrow('OTEL_SDK_DISABLED');
  });
});

describe('configuration combinations', () => {
  it.each([
    [{ LLM_BASE_URL: 'http://model.local/v1' }, 'LLM_BASE_URL: LLM_BASE_URL and LLM_MODEL go together'],
    [{ LLM_MODEL: 'gpt' }, 'LLM_BASE_URL: LLM_BASE_URL and LLM_MODEL go together'],
    [{ LLM_API_KEY: 'sk-1' }, 'LLM_API_KEY: LLM_API_KEY needs LLM_BASE_URL and LLM_MODEL'],
    [{ REDIS_TLS_CA_PATH: '/ca.pem' }, 'REDIS_TLS_CA_PATH: REDIS_TLS_CA_PATH needs a rediss:// REDIS_URL'],
    [{ WORKER_HEALTH_PORT: '9000', WORKER_METRICS_PORT: '9000' }, 'WORKER_HEALTH_PORT: WORKER_HEALTH_PORT and WORKER_METRICS_PORT cannot both be 9000'],
    [{ TEMPORAL_PORT: '7233', TEMPORAL_UI_PORT: '7233' }, 'TEMPORAL_PORT: TEMPORAL_PORT and TEMPORAL_UI_PORT cannot both be 7233'],
    [{ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }, 'TEMPORAL_TLS_CLIENT_CERT_PATH: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together'],
    [{ TEMPORAL_TLS_CERT_PATH: '/c.pem' }, 'TEMPORAL_TLS_CLIENT_CERT_PATH: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost 4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT: Invalid URL'],
    [{ AUTH_JWT_SECRET: 's'.repeat(32), AUTH_JWKS_URL: 'http://idp.local/jwks' }, 'AUTH_JWT_SECRET: set AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL'],
    [{ AUTH_JWT_ISSUER: 'https://idp.local' }, 'AUTH_JWT_ISSUER: AUTH_JWT_ISSUER needs AUTH_JWT_SECRET or AUTH_JWKS_URL'],
    [{ AUTH_JWT_AUDIENCE: 'task-agent' }, 'AUTH_JWT_AUDIENCE: AUTH_JWT_AUDIENCE needs AUTH_JWT_SECRET or AUTH_JWKS_URL'],
    [{ AUTH_JWT_SECRET: 'short' }, 'AUTH_JWT_SECRET: must be at least 32 characters'],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('accepts each of them when its partner is there', () => {
    expect(() =>
      loadConfig({
        LLM_BASE_URL: 'http://model.local/v1',
        LLM_MODEL: 'gpt',
        LLM_API_KEY: 'sk-1',
        REDIS_URL: 'rediss://redis.local:6380',
        REDIS_TLS_CA_PATH: '/ca.pem',
        WORKER_HEALTH_PORT: '0',
        WORKER_METRICS_PORT: '0',
      }),
    ).not.toThrow();
  });

  it('reads the agent limits: AGENT_APPROVAL_TIMEOUT as a duration, 24h by default', () => {
    expect(loadConfig({})).toMatchObject({ AGENT_MAX_STEPS: 8, AGENT_APPROVAL_TIMEOUT: 86_400_000 });
    expect(loadConfig({ AGENT_APPROVAL_TIMEOUT: '90s' }).AGENT_APPROVAL_TIMEOUT).toBe(90_000);
    expect(() => loadConfig({ AGENT_APPROVAL_TIMEOUT: '24 hours' })).toThrow('AGENT_APPROVAL_TIMEOUT: must be a number and a unit');
    expect(() => loadConfig({ AGENT_APPROVAL_TIMEOUT: '500ms' })).toThrow('AGENT_APPROVAL_TIMEOUT: must be between 1s and 30d');
    expect(() => loadConfig({ AGENT_MAX_STEPS: '0' })).toThrow('AGENT_MAX_STEPS');
  });

  it('derives each activity timeout from the setting of what it waits on, so no setting is cut short', () => {
    const longest = loadConfig({ NOTIFY_TIMEOUT_MS: '60000', LLM_TIMEOUT_MS: '120000' });
    expect(activitySettingsOf(longest)).toMatchObject({ notify_timeout_ms: 65_000, model_timeout_ms: 125_000, model: false });
    expect(activitySettingsOf(loadConfig({}))).toMatchObject({ notify_timeout_ms: 10_000, model_timeout_ms: 25_000 });
  });
});

describe('PAYLOAD_ENCRYPTION_KEYS', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('reads id:base64key pairs, the first one encrypting', () => {
    const keys = loadConfig({ PAYLOAD_ENCRYPTION_KEYS: `new:${key}, old:${Buffer.alloc(32, 1).toString('base64')}` }).PAYLOAD_ENCRYPTION_KEYS!;
    expect(keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(keys[0]!.key).toEqual(Buffer.alloc(32, 7));
  });

  it.each([
    [key, 'entry 1 is not id:base64key'],
    [`k1:${Buffer.alloc(16).toString('base64')}`, 'key "k1" is 16 bytes; AES-256 needs 32'],
    [`k1:${key},k1:${key}`, 'key id "k1" appears twice'],
    [`k1:${key},`, 'entry 2 is not id:base64key'],
    ['k 1:abc', 'entry 1 is not id:base64key'],
  ])('refuses %j at start, naming the variable and never the key', (value, message) => {
    expect(() => loadConfig({ PAYLOAD_ENCRYPTION_KEYS: value })).toThrow(`PAYLOAD_ENCRYPTION_KEYS: ${message}`);
    try {
      loadConfig({ PAYLOAD_ENCRYPTION_KEYS: value });
    } catch (err) {
      expect(String(err)).not.toContain(key);
    }
  });
});

describe('TENANTS', () => {
  it('reads tenants with their namespaces, and refuses what the setup cannot take, naming the setting', () => {
    expect(loadConfig({ TENANTS: 'acme,globex=task-agent-globex' }).TENANTS).toEqual([
      { id: 'acme', namespace: 'acme' },
      { id: 'globex', namespace: 'task-agent-globex' },
    ]);
    expect(loadConfig({ TENANTS: ' acme , globex ' }).TENANTS).toHaveLength(2);
    expect(loadConfig({}).TENANTS).toBeUndefined();
    for (const [value, why] of [
      ['acme = ns-acme', 'must not contain spaces'],
      ['Acme', 'lowercase'],
      ['acme,acme', 'named twice'],
      ['acme=ns,globex=ns', 'given to two tenants'],
      ['acme=bad/ns', 'not a valid namespace'],
      [',', 'at least one tenant'],
    ]) {
      expect(() => loadConfig({ TENANTS: value }), value).toThrow(new RegExp(`^Invalid configuration: TENANTS: .*${why}`));
    }
  });
});
