/**
 * Credentials and TLS from the environment: Temporal (API key, mTLS client certificate, private CA, server
 * name) and Redis (password in REDIS_URL, TLS with rediss:// and a private CA), against real redis-servers.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../common/config';
import { temporalConnectionOptions } from '../../common/temporal';
import { freePort } from '../../scripts/dev-server';
import { Harness, eventually, uniqueId } from '../helpers/harness';

let dir: string;
const servers: ChildProcess[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'task-agent-credentials-'));
});
afterAll(() => {
  for (const server of servers) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('Temporal connection settings', () => {
  it('connects in plain text by default, with TLS when asked or implied', () => {
    const base = { TEMPORAL_ADDRESS: 'temporal.example:7233' };
    expect(temporalConnectionOptions(loadConfig(base))).toEqual({ address: 'temporal.example:7233' });
    expect(temporalConnectionOptions(loadConfig({ ...base, TEMPORAL_TLS: 'true' }))).toEqual({ address: 'temporal.example:7233', tls: true });
    expect(temporalConnectionOptions(loadConfig({ ...base, TEMPORAL_API_KEY: 'key-123' }))).toEqual({
      address: 'temporal.example:7233',
      tls: true,
      apiKey: 'key-123',
    });
    // TEMPORAL_TLS=false wins over what would imply TLS, as in Temporal's own tools.
    expect(temporalConnectionOptions(loadConfig({ ...base, TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: 'false' }))).toEqual({
      address: 'temporal.example:7233',
      tls: false,
      apiKey: 'key-123',
    });
    expect(temporalConnectionOptions(loadConfig({ ...base, TEMPORAL_GRPC_META_X_TENANT: 'acme' })).metadata).toEqual({ 'x-tenant': 'acme' });
  });

  it('reads the mTLS client certificate, key and CA from files', () => {
    for (const [name, text] of [['client.pem', 'CERT'], ['client.key', 'KEY'], ['ca.pem', 'CA']]) writeFileSync(join(dir, name!), text!);
    const options = temporalConnectionOptions(
      loadConfig({
        TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      }),
    );
    const tls = options.tls as { clientCertPair: { crt: Buffer; key: Buffer }; serverRootCACertificate: Buffer; serverNameOverride: string };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe('CERT');
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe('KEY');
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toBe('CA');
    expect(tls.serverNameOverride).toBe('temporal.internal');
    // Or the PEM text itself, as a secret mounted as a variable gives it.
    const fromData = temporalConnectionOptions(loadConfig({ TEMPORAL_TLS_CLIENT_CERT_DATA: 'CERT2', TEMPORAL_TLS_CLIENT_KEY_DATA: 'KEY2' })).tls as {
      clientCertPair: { crt: Uint8Array; key: Uint8Array };
    };
    expect(Buffer.from(fromData.clientCertPair.crt).toString()).toBe('CERT2');
    expect(Buffer.from(fromData.clientCertPair.key).toString()).toBe('KEY2');
  });

  it('still takes the names it used before, warning with the new one', () => {
    for (const [name, text] of [['client.pem', 'CERT'], ['client.key', 'KEY'], ['ca.pem', 'CA']]) writeFileSync(join(dir, name!), text!);
    const config = loadConfig({
      TEMPORAL_TLS: 'on',
      TEMPORAL_TLS_CERT_PATH: join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY_PATH: join(dir, 'client.key'),
      TEMPORAL_TLS_CA_PATH: join(dir, 'ca.pem'),
    });
    const tls = temporalConnectionOptions(config).tls as { clientCertPair: { crt: Uint8Array }; serverRootCACertificate: Uint8Array };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe('CERT');
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toBe('CA');
    expect(config.warnings).toEqual([
      "TEMPORAL_TLS_CERT_PATH is deprecated: use TEMPORAL_TLS_CLIENT_CERT_PATH (Temporal's name for it)",
      "TEMPORAL_TLS_KEY_PATH is deprecated: use TEMPORAL_TLS_CLIENT_KEY_PATH (Temporal's name for it)",
      "TEMPORAL_TLS_CA_PATH is deprecated: use TEMPORAL_TLS_SERVER_CA_CERT_PATH (Temporal's name for it)",
      "TEMPORAL_TLS=on is deprecated: use TEMPORAL_TLS=true (Temporal's values)",
    ]);
    expect(loadConfig({ TEMPORAL_TLS_CA_PATH: '/old.pem', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/new.pem' })).toMatchObject({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/new.pem',
      warnings: ['TEMPORAL_TLS_CA_PATH is ignored: TEMPORAL_TLS_SERVER_CA_CERT_PATH is set too'],
    });
  });

  it('reads the profile file the temporal CLI reads, variables winning over it', () => {
    const file = join(dir, 'temporal.toml');
    writeFileSync(
      file,
      `[profile.default]\naddress = "default.example:7233"\n\n[profile.prod]\naddress = "prod.tmprl.cloud:7233"\nnamespace = "prod.acct"\napi_key = "from-file"\n`,
    );
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: file })).toMatchObject({ TEMPORAL_ADDRESS: 'default.example:7233', TEMPORAL_NAMESPACE: 'default' });
    const prod = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(prod).toMatchObject({ TEMPORAL_ADDRESS: 'prod.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'prod.acct' });
    expect(temporalConnectionOptions(prod)).toEqual({ address: 'prod.tmprl.cloud:7233', tls: true, apiKey: 'from-file' });
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other' }).TEMPORAL_NAMESPACE).toBe('other');
    // The CLI's default place, found through HOME.
    mkdirSync(join(dir, 'home', '.config', 'temporalio'), { recursive: true });
    writeFileSync(join(dir, 'home', '.config', 'temporalio', 'temporal.toml'), '[profile.default]\nnamespace = "from-home"\n');
    expect(loadConfig({ HOME: join(dir, 'home') }).TEMPORAL_NAMESPACE).toBe('from-home');
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })).toThrow(
      "Invalid configuration: TEMPORAL_PROFILE=staging: Profile 'staging' not found in config data",
    );
    // A file named on purpose must be there; a broken one is named without quoting it (it may hold api_key).
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') })).toThrow(`Invalid configuration: TEMPORAL_CONFIG_FILE: no file at ${join(dir, 'nope.toml')}`);
    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.default]\napi_key = "sk-secret-123"\naddress = \n');
    let message = '';
    try {
      loadConfig({ TEMPORAL_CONFIG_FILE: broken });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Invalid configuration: TEMPORAL_CONFIG_FILE: /);
    expect(message).not.toContain('sk-secret-123');
  });

  it('names what is wrong: a certificate without its key, an unreadable file', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem') })).toThrow(
      'TEMPORAL_TLS_CLIENT_CERT_PATH: TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together',
    );
    expect(() => temporalConnectionOptions(loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') }))).toThrow(
      `Invalid configuration: TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read ${join(dir, 'missing.pem')} (ENOENT)`,
    );
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow('REDIS_URL: must start with redis:// or rediss://');
  });
});

async function startRedis(args: string[]): Promise<void> {
  const server = spawn('redis-server', ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  servers.push(server);
  await new Promise((r) => setTimeout(r, 300));
}

/** A chat message goes through, and its event reaches Redis over this connection. */
async function roundTrip(h: Harness): Promise<void> {
  const user = uniqueId('user-cred');
  expect((await h.postJson(`/chat/${user}`, { content: 'hello' })).status).toBe(200);
  await eventually(() => h.redis.xlen(`${h.config.REDIS_KEY_PREFIX}stream:conversation-events`), (n) => n >= 1);
  expect(await h.getJson('/readyz')).toMatchObject({ status: 200 });
}

describe('Redis with a password', () => {
  it('works with the password in REDIS_URL, and reports a wrong one as not ready (not a 500)', { timeout: 60_000 }, async () => {
    const port = await freePort();
    await startRedis(['--port', String(port), '--requirepass', 's3cret']);
    const h = await Harness.start({ env: { REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` } });
    try {
      await roundTrip(h);
    } finally {
      await h.close();
    }
    const wrong = await Harness.start({ worker: false, env: { REDIS_URL: `redis://:nope@127.0.0.1:${port}` } });
    wrong.redis.on('error', () => undefined);
    try {
      const ready = await wrong.getJson('/readyz');
      expect(ready.status).toBe(503);
      expect((ready.body.checks as { redis: string }).redis).not.toBe('ok');
    } finally {
      await wrong.close();
    }
  });
});

describe('Redis over TLS with a private CA', () => {
  it('works with rediss:// and REDIS_TLS_CA_PATH', { timeout: 60_000 }, async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=task-agent test CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'redis.key', '-out', 'redis.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl('x509', '-req', '-in', 'redis.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'redis.pem', '-days', '1', '-extfile', 'san.ext');
    const port = await freePort();
    await startRedis([
      '--port', '0', '--tls-port', String(port),
      '--tls-cert-file', join(dir, 'redis.pem'), '--tls-key-file', join(dir, 'redis.key'), '--tls-ca-cert-file', join(dir, 'ca.pem'),
      '--tls-auth-clients', 'no',
    ]);
    const h = await Harness.start({ env: { REDIS_URL: `rediss://127.0.0.1:${port}`, REDIS_TLS_CA_PATH: join(dir, 'ca.pem') } });
    try {
      await roundTrip(h);
    } finally {
      await h.close();
    }
  });
});
