/**
 * 9. MCP: a `tools/call` of get_task through `/mcp` (the official SDK's client, one session, Streamable HTTP)
 * vs `GET /tasks/{id}` for the same task, one call at a time, the two interleaved so both meet the same
 * machine. What MCP adds: JSON-RPC framing, the answer as a server-sent event, the agent tool's view of the task.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTask } from '../api';
import { goal, type BenchContext, type ScenarioResult } from '../context';
import { Usage } from '../processes';
import { latency, median, round, type Latency } from '../stats';

export async function mcp(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 50 : 300;
  const task_id = await createTask(ctx.apiUrl, { title: 'Bench MCP', description: 'Read through MCP' });
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${ctx.apiUrl}/mcp`)));
  const viaMcp = async () => {
    const result = await client.callTool({ name: 'get_task', arguments: { task_id } });
    if (result.isError) throw new Error(`MCP get_task: ${JSON.stringify(result.content)}`);
  };
  const viaHttp = async () => {
    const response = await fetch(`${ctx.apiUrl}/tasks/${task_id}`);
    if (!response.ok) throw new Error(`GET /tasks/{id}: ${response.status}`);
    await response.json();
  };
  await viaMcp();
  await viaHttp();

  const usage = new Usage(ctx.processes);
  const started = performance.now();
  const mcpRuns: Latency[] = [];
  const httpRuns: Latency[] = [];
  for (let r = 0; r < ctx.repeats; r++) {
    const samples = { mcp: [] as number[], http: [] as number[] };
    for (let i = 0; i < n; i++) {
      for (const [side, call] of i % 2 === 0 ? ([['mcp', viaMcp], ['http', viaHttp]] as const) : ([['http', viaHttp], ['mcp', viaMcp]] as const)) {
        const t0 = performance.now();
        await call();
        samples[side].push(performance.now() - t0);
      }
    }
    mcpRuns.push(latency(samples.mcp));
    httpRuns.push(latency(samples.http));
  }
  await client.close();
  const mcpP50 = round(median(mcpRuns.map((x) => x.p50)));
  const httpP50 = round(median(httpRuns.map((x) => x.p50)));
  ctx.log(`mcp: tools/call get_task p50 ${mcpP50} ms, GET /tasks/{id} p50 ${httpP50} ms`);
  return {
    name: 'mcp',
    title: 'An MCP tools/call of get_task vs GET /tasks/{id} (ms, one at a time)',
    figures: { callsPerRun: n, mcp: mcpRuns, http: httpRuns, mcpP50, httpP50, ratioP50: round(mcpP50 / httpP50) },
    goals: [goal('MCP get_task p50 / GET /tasks/{id} p50', mcpP50 / httpP50, 1.5, 'atMost')],
    usage: usage.finish((performance.now() - started) / 1000),
  };
}
