/**
 * API process: serves the Hono app on PORT. On SIGTERM/SIGINT it stops accepting connections, lets
 * in-flight requests finish, then closes its Temporal and Redis connections.
 */
import { serve } from '@hono/node-server';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { connectRedis } from '../common/redis';
import { connectClient } from '../common/temporal';
import { subscriberFromConfig } from '../events/subscriber';
import { createApp } from './app';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  const client = await connectClient(config);
  const redis = connectRedis(config);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
  const subscriber = subscriberFromConfig(config, redis, logger);
  subscriber?.start();
  const app = createApp({ config, client, redis, logger, subscriber });

  const server = serve({ fetch: app.fetch, hostname: config.HOST, port: config.PORT }, (info) =>
    logger.info({ port: info.port, host: config.HOST }, 'api listening'),
  );

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'api stopping');
    server.close(async () => {
      await subscriber?.stop();
      await client.connection.close().catch(() => undefined);
      redis.disconnect();
      logger.info('api stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
