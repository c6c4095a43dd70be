/** A harness whose worker asks a scripted model (helpers/model-server.ts), for the tests of a file or describe block. */
import { afterAll, beforeAll } from 'vitest';
import { Harness, type HarnessOptions } from './harness';
import { startModelServer, type ModelServer } from './model-server';

/** Started before the tests of the file or block this is called in, closed after; read `ctx.h` and `ctx.model` inside them. */
export function withScriptedModel(options: HarnessOptions = {}): { h: Harness; model: ModelServer } {
  const ctx = {} as { h: Harness; model: ModelServer };
  beforeAll(async () => {
    ctx.model = await startModelServer();
    ctx.h = await Harness.start({ ...options, env: { ...options.env, LLM_BASE_URL: ctx.model.url, LLM_MODEL: 'scripted' } });
  });
  afterAll(async () => {
    await ctx.h?.close();
    ctx.model?.close();
  });
  return ctx;
}
