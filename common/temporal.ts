/** Temporal connections from configuration; an unreachable server is named with the variable that points at it. */
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { toClientOptions } from '@temporalio/envconfig';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, temporalAddress, type Config } from './config';
import { dataConverterFor } from './payload-encryption';
import { tracingEnabled } from './tracing';

/** Address, TLS, API key and gRPC metadata for both kinds of connection (the client's and the worker's). */
export function temporalConnectionOptions(config: Config): { address: string; tls?: TLSConfig | boolean; apiKey?: string; metadata?: Record<string, string> } {
  let options: ReturnType<typeof toClientOptions>['connectionOptions'];
  try {
    ({ connectionOptions: options } = toClientOptions(config.temporalProfile));
  } catch (err) {
    // A certificate file that cannot be read: name the setting and the file.
    const { path, code } = err as NodeJS.ErrnoException;
    const setting = tlsSettingFor(config, path);
    throw new ConfigError(`Invalid configuration: ${setting}: cannot read ${path ?? '?'} (${code ?? String(err)})`);
  }
  const tls = typeof options.tls === 'object' && options.tls !== null ? definedOnly(options.tls) : options.tls;
  return {
    address: temporalAddress(config),
    // TLS with nothing but the system's CAs is `true`; an empty settings object means the same, said plainly.
    ...(tls != null ? { tls: typeof tls === 'object' && Object.keys(tls).length === 0 ? true : tls } : {}),
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.metadata !== undefined ? { metadata: options.metadata as Record<string, string> } : {}),
  };
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function tlsSettingFor(config: Config, path: string | undefined): string {
  const settings = ['TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'] as const;
  return settings.find((name) => config[name] === path) ?? 'TEMPORAL_CONFIG_FILE (its tls section)';
}

async function reach<T>(config: Config, connect: (options: ReturnType<typeof temporalConnectionOptions>) => Promise<T>): Promise<T> {
  const options = temporalConnectionOptions(config);
  const address = options.address;
  try {
    return await connect(options);
  } catch (err) {
    throw new Error(`Cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

/** A client; with tracing configured it carries the caller's trace context into every start, update and signal. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await reach(config, (options) => Connection.connect(options));
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(config.PAYLOAD_ENCRYPTION_KEYS),
    ...(tracingEnabled(config) ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {}),
  });
}

/** A client of `config`'s namespace on `base`'s connection (a tenant's, api/tenants.ts and worker/main.ts). */
export function clientFor(base: Client, config: Config): Client {
  if (base.options.namespace === config.TEMPORAL_NAMESPACE) return base;
  return new Client({
    connection: base.connection,
    namespace: config.TEMPORAL_NAMESPACE,
    dataConverter: dataConverterFor(config.PAYLOAD_ENCRYPTION_KEYS),
    ...(tracingEnabled(config) ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } } : {}),
  });
}

/** The worker's connection (the Rust core's). */
export const connectWorker = (config: Config) => reach(config, (options) => NativeConnection.connect(options));
