/** Temporal connections from configuration; an unreachable server is named with the variable that points at it. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalAddress, type Config } from './config';

async function reach<T>(config: Config, connect: (address: string) => Promise<T>): Promise<T> {
  const address = temporalAddress(config);
  try {
    return await connect(address);
  } catch (err) {
    throw new Error(`Cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await reach(config, (address) => Connection.connect({ address }));
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** The worker's connection (the Rust core's). */
export const connectWorker = (config: Config) => reach(config, (address) => NativeConnection.connect({ address }));
