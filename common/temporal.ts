/** Temporal client connection from configuration. */
import { Client, Connection } from '@temporalio/client';
import { temporalAddress, type Config } from './config';

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(config) });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}
