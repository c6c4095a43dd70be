/** Temporal connections from configuration; an unreachable server is named with the variable that points at it. */
import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError, temporalAddress, type Config } from './config';
import { dataConverterFor } from './payload-encryption';

function readSetting(config: Config, name: 'TEMPORAL_TLS_CERT_PATH' | 'TEMPORAL_TLS_KEY_PATH' | 'TEMPORAL_TLS_CA_PATH'): Buffer | undefined {
  const path = config[name];
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`Invalid configuration: ${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Address, TLS and API key for both kinds of connection (the client's and the worker's). */
export function temporalConnectionOptions(config: Config): { address: string; tls?: TLSConfig | boolean; apiKey?: string } {
  const crt = readSetting(config, 'TEMPORAL_TLS_CERT_PATH');
  const key = readSetting(config, 'TEMPORAL_TLS_KEY_PATH');
  const ca = readSetting(config, 'TEMPORAL_TLS_CA_PATH');
  const tls: TLSConfig = {
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
  const wantsTls = config.TEMPORAL_TLS === 'on' || config.TEMPORAL_API_KEY !== undefined || Object.keys(tls).length > 0;
  return {
    address: temporalAddress(config),
    ...(wantsTls ? { tls: Object.keys(tls).length > 0 ? tls : true } : {}),
    ...(config.TEMPORAL_API_KEY ? { apiKey: config.TEMPORAL_API_KEY } : {}),
  };
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

export async function connectClient(config: Config): Promise<Client> {
  const connection = await reach(config, (options) => Connection.connect(options));
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter: dataConverterFor(config.PAYLOAD_ENCRYPTION_KEYS) });
}

/** The worker's connection (the Rust core's). */
export const connectWorker = (config: Config) => reach(config, (options) => NativeConnection.connect(options));
