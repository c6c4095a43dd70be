/**
 * The MCP Inspector (`@modelcontextprotocol/inspector`), for its CLI mode: installed once into
 * ~/.cache/task-agent/ (outside the repo) and run on Node 24 (it needs 22 or later; scripts/node24.cjs
 * fetches one). Used by test/mcp-inspector.test.ts; people run it with npx (docs/mcp.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './go-tools';

export const MCP_INSPECTOR_VERSION = '2.12.0';

/** The inspector's executable and the PATH it runs with (Node 24 first). */
export function ensureMcpInspector(log: (message: string) => void = console.error): { bin: string; env: NodeJS.ProcessEnv } {
  const node24 = execFileSync(process.execPath, [join(__dirname, 'node24.cjs')], { encoding: 'utf8' }).trim();
  const env = { ...process.env, PATH: `${node24}:${process.env.PATH ?? ''}` };
  const dir = join(cacheDir(), `mcp-inspector-${MCP_INSPECTOR_VERSION}`);
  const bin = join(dir, 'node_modules', '.bin', 'mcp-inspector');
  if (!existsSync(bin)) {
    log(`Installing the MCP Inspector ${MCP_INSPECTOR_VERSION} into ${dir} (once)...`);
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', dir, `@modelcontextprotocol/inspector@${MCP_INSPECTOR_VERSION}`], { env, stdio: 'ignore' });
  }
  return { bin, env };
}
