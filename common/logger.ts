/** Structured JSON logs (pino) for every process; `component` says which one wrote a line. */
import { pino, type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, component: string): Logger {
  return pino({ level: config.LOG_LEVEL, base: { component } });
}
