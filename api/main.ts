/**
 * API process: serves the Hono app on PORT. On SIGTERM/SIGINT it stops accepting connections, lets
 * in-flight requests finish, then closes its Temporal and Redis connections.
 */
import { serve } from '@hono/node-server';
import { loadConfig } from '../common/config';
import { createLogger } from '../common/logger';
import { connectRedis } from '../common/redis';
import { connectClient } from '../common/temporal';
import { startTracing } from '../common/tracing';
import { subscriberFromConfig } from '../events/subscriber';
import { authModes } from './access';
import { createServiceApi } from './tenants';

/** After the drain, how long open connections get before the process exits anyway (below the k8s grace period). */
const SHUTDOWN_DEADLINE_MS = 15_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config, 'api');
  for (const warning of config.warnings) logger.warn(warning);
  // Before any client exists: the Temporal client's interceptor and the HTTP spans use the provider it registers.
  const tracing = startTracing(config, 'task-agent-api');
  if (tracing.enabled) logger.info({ service: 'task-agent-api' }, 'tracing: spans exported over OTLP/HTTP');
  const client = await connectClient(config);
  const redis = connectRedis(config, logger);
  // With TENANTS, each tenant's app runs a subscriber of its own streams (api/tenants.ts).
  const subscriber = config.TENANTS ? undefined : subscriberFromConfig(config, redis, logger);
  subscriber?.start();
  let draining = false;
  const { fetch, metrics, close: closeStreams } = createServiceApi({
    config,
    client,
    redis,
    logger,
    subscriber,
    draining: () => draining,
    subscriberFor: (tenant) => subscriberFromConfig(tenant, redis, logger),
  });
  if (config.TENANTS) logger.info({ tenants: config.TENANTS }, 'tenants: one namespace each, the tenant from the token');

  const modes = authModes(config);
  if (modes.includes('open')) {
    logger.warn('the API is open: with no API_TOKEN, AUTH_JWT_SECRET or AUTH_JWKS_URL set, anyone who reaches it may do everything');
  } else {
    logger.info({ auth: modes }, 'api authentication');
  }
  if (config.PAYLOAD_ENCRYPTION_KEYS) {
    logger.info({ encryptsWith: config.PAYLOAD_ENCRYPTION_KEYS[0]!.id, keys: config.PAYLOAD_ENCRYPTION_KEYS.length }, 'payloads encrypted; codec endpoint at /codec');
  }

  const server = serve({ fetch, hostname: config.HOST, port: config.PORT }, (info) =>
    logger.info({ port: info.port, host: config.HOST }, 'api listening'),
  );
  const metricsServer =
    config.API_METRICS_PORT > 0
      ? serve({ fetch: metrics.fetch, hostname: config.HOST, port: config.API_METRICS_PORT }, (info) => logger.info({ port: info.port }, 'api metrics at /metrics'))
      : undefined;

  const shutdown = async (signal: string) => {
    if (draining) return;
    draining = true;
    logger.info({ signal, drainMs: config.SHUTDOWN_DRAIN_MS }, 'api draining');
    await new Promise((r) => setTimeout(r, config.SHUTDOWN_DRAIN_MS));
    // Stop accepting. Connections still open finish their request and close (Connection: close); idle
    // ones are not cut here, since a just-accepted socket looks idle until its request is parsed.
    metricsServer?.close();
    // Open event streams end now (their clients reconnect, to another replica); they would hold the close.
    await closeStreams().catch(() => undefined);
    server.close(async () => {
      await subscriber?.stop();
      await client.connection.close().catch(() => undefined);
      redis.disconnect();
      await tracing.shutdown().catch(() => undefined);
      logger.info('api stopped');
      process.exit(0);
    });
    // Backstop: a client that holds an idle connection open would otherwise delay the exit to its timeout.
    setTimeout(() => {
      logger.warn('api stopped with connections still open');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS).unref();
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err) => {
  // Configuration and connection problems are explained by their message; anything else gets its stack.
  console.error(err instanceof Error && /^(Invalid configuration|Cannot reach)/.test(err.message) ? err.message : err);
  process.exit(1);
});
