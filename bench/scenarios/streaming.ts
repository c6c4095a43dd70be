/**
 * 8. Streamed turns: time to first text through `POST /chat/{user}` with `Accept: text/event-stream`, from
 * the moment the scripted model writes its first chunk to the moment the client reads the first `text-delta`
 * (both clocks are this process's: the model server runs here). What is added in between is the service's:
 * the model activity reading the chunk, the live stream on Redis, the API's hub and the SSE write. Also the
 * page's JavaScript and CSS size, gzipped, as `npm start` builds them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWebPage } from '../../scripts/build-web';
import type { ModelServer } from '../../test/helpers/model-server';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { latency, median, round, type Latency } from '../stats';

const WORDS = 'One two three four five six seven eight nine ten.';

/** Sends one streamed turn; resolves with when (performance.now()) the first text-delta arrived. */
async function firstTextOf(apiUrl: string, user: string, content: string): Promise<number> {
  const response = await fetch(`${apiUrl}/chat/${user}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ content }),
  });
  if (!response.ok || !response.body) throw new Error(`streamed turn answered ${response.status}`);
  const decoder = new TextDecoder();
  let firstText: number | undefined;
  let text = '';
  for await (const bytes of response.body) {
    text += decoder.decode(bytes as Uint8Array, { stream: true });
    if (firstText === undefined && text.includes('"type":"text-delta"')) firstText = performance.now();
  }
  if (firstText === undefined) throw new Error(`no text in the streamed turn: ${text.slice(0, 300)}`);
  if (!text.includes('"type":"finish"')) throw new Error('the streamed turn did not finish');
  return firstText;
}

export async function streaming(ctx: BenchContext & { agentApiUrl: string; model: ModelServer }): Promise<ScenarioResult> {
  const n = ctx.quick ? 20 : 100;
  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const tag = `bench-stream-${Date.now().toString(36)}`;
  ctx.model.respond = () => ({ text: WORDS, stream: { pauseMs: 20 } });
  const added: Latency[] = [];
  for (let r = 0; r < ctx.repeats; r++) {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = ctx.model.requests.length;
      const firstText = await firstTextOf(ctx.agentApiUrl, `${tag}-${r}`, `Count to ten (${i})`);
      const request = ctx.model.requests.slice(before).find((q) => q.firstChunkAt !== undefined);
      if (!request) throw new Error('the model was not asked for a streamed answer');
      samples.push(firstText - request.firstChunkAt!);
    }
    ctx.model.requests.length = 0;
    added.push(latency(samples));
  }
  const dir = mkdtempSync(join(tmpdir(), 'task-agent-web-'));
  const page = await buildWebPage(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
  const p50 = round(median(added.map((x) => x.p50)));
  const p99 = round(median(added.map((x) => x.p99)));
  ctx.log(`streaming: first text ${p50} ms (p50) / ${p99} ms (p99) after the model's first chunk; page JS ${page.sizes['app.js']!.gzipped} B gzipped`);
  return {
    name: 'streaming',
    title: "Time to first text of a streamed turn after the model's first chunk (ms), and the web page's size",
    figures: {
      turnsPerRun: n,
      added,
      addedP50: p50,
      addedP99: p99,
      pageJsGzipBytes: page.sizes['app.js']!.gzipped,
      pageCssGzipBytes: page.sizes['app.css']!.gzipped,
      pageHtmlGzipBytes: page.sizes['index.html']!.gzipped,
    },
    goals: [goal("first text after the model's first chunk, p50", p50, 50, 'atMost', 'ms')],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
