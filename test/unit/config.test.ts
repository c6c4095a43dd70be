/** Settings that cannot work together are refused at start, naming the variables (no Temporal). */
import { describe, expect, it } from 'vitest';
import { activitySettingsOf } from '../../common/activity-timeouts';
import { loadConfig } from '../../common/config';

describe('configuration combinations', () => {
  it.each([
    [{ LLM_BASE_URL: 'http://model.local/v1' }, 'LLM_BASE_URL: LLM_BASE_URL and LLM_MODEL go together'],
    [{ LLM_MODEL: 'gpt' }, 'LLM_BASE_URL: LLM_BASE_URL and LLM_MODEL go together'],
    [{ LLM_API_KEY: 'sk-1' }, 'LLM_API_KEY: LLM_API_KEY needs LLM_BASE_URL and LLM_MODEL'],
    [{ REDIS_TLS_CA_PATH: '/ca.pem' }, 'REDIS_TLS_CA_PATH: REDIS_TLS_CA_PATH needs a rediss:// REDIS_URL'],
    [{ WORKER_HEALTH_PORT: '9000', WORKER_METRICS_PORT: '9000' }, 'WORKER_HEALTH_PORT: WORKER_HEALTH_PORT and WORKER_METRICS_PORT cannot both be 9000'],
    [{ TEMPORAL_PORT: '7233', TEMPORAL_UI_PORT: '7233' }, 'TEMPORAL_PORT: TEMPORAL_PORT and TEMPORAL_UI_PORT cannot both be 7233'],
    [{ TEMPORAL_TLS_CERT_PATH: '/c.pem' }, 'TEMPORAL_TLS_CERT_PATH: TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together'],
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
