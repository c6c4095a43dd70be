/**
 * The settings and files of the production shape, without servers: TEMPORAL_SERVER and its PostgreSQL URL,
 * REDIS_CLUSTER_NODES and the event keys' hash tag, and the server configuration written for
 * TEMPORAL_SERVER=postgres (tests against the running server are the rest of the suite, run on it).
 */
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../common/config';
import { eventKeyPrefix, eventPublishReplicas } from '../../common/redis';
import { namespaceSetupCommands } from '../../scripts/namespace-setup';
import { dynamicConfigYaml, HISTORY_SHARDS, parsePostgresUrl, serverConfig } from '../../scripts/temporal-postgres';

describe('TEMPORAL_SERVER and TEMPORAL_POSTGRES_URL', () => {
  it('default to the dev server and the local PostgreSQL, and refuse what they cannot use, naming the variable', () => {
    expect(loadConfig({})).toMatchObject({ TEMPORAL_SERVER: 'dev', TEMPORAL_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432' });
    expect(loadConfig({ TEMPORAL_SERVER: 'postgres' }).TEMPORAL_SERVER).toBe('postgres');
    expect(() => loadConfig({ TEMPORAL_SERVER: 'cassandra' })).toThrow('TEMPORAL_SERVER');
    expect(() => loadConfig({ TEMPORAL_POSTGRES_URL: 'mysql://root@db' })).toThrow('TEMPORAL_POSTGRES_URL: must be postgres://');
    expect(() => loadConfig({ TEMPORAL_POSTGRES_URL: 'postgres://postgres@db/Temporal-DB' })).toThrow('TEMPORAL_POSTGRES_URL');
  });

  it('takes the user, password, host, port and an optional database name from the URL', () => {
    expect(parsePostgresUrl('postgres://temporal:s%40cret@db.local:6543/prod')).toEqual({ host: 'db.local', port: 6543, user: 'temporal', password: 's@cret', database: 'prod' });
    expect(parsePostgresUrl('postgresql://postgres@127.0.0.1')).toEqual({ host: '127.0.0.1', port: 5432, user: 'postgres', password: undefined });
  });
});

describe('the server configuration for TEMPORAL_SERVER=postgres', () => {
  const ports = {
    frontend: { grpcPort: 7233, membershipPort: 16933, httpPort: 17243 },
    history: { grpcPort: 17234, membershipPort: 16934 },
    matching: { grpcPort: 17235, membershipPort: 16935 },
    worker: { grpcPort: 17239, membershipPort: 16939 },
  };
  const options = { binaries: { server: '', sqlTool: '', cli: '' }, postgresUrl: 'postgres://temporal:pw@db:5432', database: 'temporal', stateDir: '/tmp', port: 7233 };

  it('keeps both stores on PostgreSQL with SQL visibility, several shards, and disabled archival without provider or URI', () => {
    const config = serverConfig(options, ports, '/tmp/dynamic.yaml');
    expect(config.persistence.numHistoryShards).toBe(HISTORY_SHARDS);
    expect(HISTORY_SHARDS).toBeGreaterThan(1);
    expect(config.persistence.datastores['postgres-default'].sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal', connectAddr: 'db:5432', user: 'temporal', password: 'pw' });
    expect(config.persistence.datastores['postgres-visibility'].sql.databaseName).toBe('temporal_visibility');
    expect(config.archival).toEqual({ history: { state: 'disabled' }, visibility: { state: 'disabled' } });
    expect(JSON.stringify(config)).not.toMatch(/provider|URI|filestore/);
    // No Prometheus unless asked for, and never the repository file's 127.0.0.1:8000 (the API's port).
    expect(config.global).not.toHaveProperty('metrics');
    expect(JSON.stringify(serverConfig({ ...options, metricsPort: 9091 }, ports, '/tmp/d.yaml').global)).toContain('127.0.0.1:9091');
  });

  it('turns eager activities on, as the dev server, compose and the Helm values do', () => {
    expect(parseYaml(dynamicConfigYaml())).toEqual({ 'system.enableActivityEagerExecution': [{ value: true }] });
  });

  it('tells the server where Nexus operations call back: its own HTTP address, allowed', () => {
    expect(parseYaml(dynamicConfigYaml('127.0.0.1:7243'))).toMatchObject({
      'component.nexusoperations.callback.endpoint.template': [{ value: 'http://127.0.0.1:7243/namespaces/{{.NamespaceName}}/nexus/callback' }],
      'component.callbacks.allowedAddresses': [{ value: [{ Pattern: '127.0.0.1:7243', AllowInsecure: true }] }],
    });
  });

  it('registers the namespace only when it is missing, and every search attribute in one call', () => {
    const commands = namespaceSetupCommands('127.0.0.1:7233', 'default');
    expect(commands.create).toEqual(['operator', 'namespace', 'create', '--address', '127.0.0.1:7233', '--namespace', 'default', '--retention', '72h']);
    expect(commands.searchAttributes.join(' ')).toContain('--name TaskId --type Keyword --name TaskStatus --type Keyword --name TaskAssignee --type Keyword');
  });
});

describe('REDIS_CLUSTER_NODES', () => {
  it('reads host:port lists, refuses anything else, and hash-tags the event keys only on a cluster', () => {
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:6379, redis-2.local:7000 ' });
    expect(cluster.REDIS_CLUSTER_NODES).toEqual(['10.0.0.1:6379', 'redis-2.local:7000']);
    expect(eventKeyPrefix(cluster)).toBe('task-agent:{events}:');
    expect(eventPublishReplicas(cluster)).toBe(1);
    const single = loadConfig({});
    expect(eventKeyPrefix(single)).toBe('task-agent:');
    expect(eventPublishReplicas(single)).toBe(0);
    expect(eventPublishReplicas(loadConfig({ REDIS_CLUSTER_NODES: 'a:1', EVENT_PUBLISH_REPLICAS: '0' }))).toBe(0);
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'redis://a:6379' })).toThrow('REDIS_CLUSTER_NODES: must be host:port');
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:6379;b:6379' })).toThrow('REDIS_CLUSTER_NODES');
  });
});
