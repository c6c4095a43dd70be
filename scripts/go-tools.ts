/**
 * Finds the Go-built tools the project runs, building them with Go when they are nowhere to be found:
 * the `temporal` CLI (dev server + Web UI) and `kustomize` (renders k8s/ for the deployment tests).
 * Order: the tool's environment variable, the tool on PATH, the cached build, a fresh `go install` into
 * the cache (outside the repo, so fresh clones on the same machine reuse it).
 *
 * Run directly it passes its arguments to the temporal CLI: `npm run temporal -- workflow list`.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export interface GoTool {
  /** Binary name, as on PATH. */
  name: string;
  module: string;
  version: string;
  /** Environment variable that names the binary directly. */
  envVar: string;
  /** The official ways to install it, for the error message. */
  installHelp: string;
}

/** The newest tag `go install` accepts: later tags carry a `replace` directive in go.mod. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_CLI: GoTool = {
  name: 'temporal',
  module: 'github.com/temporalio/cli/cmd/temporal',
  version: TEMPORAL_CLI_VERSION,
  envVar: 'TEMPORAL_CLI',
  installHelp: `Install it in one of the official ways and run again, or point TEMPORAL_CLI at the binary:
  - macOS:   brew install temporal
  - Linux:   curl -sSf https://temporal.download/cli.sh | sh
  - any:     download an archive from https://github.com/temporalio/cli/releases
  - with Go: go install github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`,
};

export const KUSTOMIZE: GoTool = {
  name: 'kustomize',
  module: 'sigs.k8s.io/kustomize/kustomize/v5',
  version: 'v5.7.1',
  envVar: 'KUSTOMIZE',
  installHelp: `Install it and run again, or point KUSTOMIZE at the binary:
  - any:     https://kubectl.docs.kubernetes.io/installation/kustomize/
  - with Go: go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1`,
};

export class GoToolNotFound extends Error {
  override name = 'GoToolNotFound';
}

/** Where builds are cached: outside the repo, so fresh clones on the same machine reuse them. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'task-agent');
}

export function cachedToolPath(tool: GoTool, env: NodeJS.ProcessEnv = process.env): string {
  // The temporal CLI's folder keeps its first name, so existing caches stay valid.
  const folder = tool.name === 'temporal' ? `temporal-cli-${tool.version}` : `${tool.name}-${tool.version}`;
  return join(cacheDir(env), folder, tool.name);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export async function findGoTool(
  tool: GoTool,
  options: { env?: NodeJS.ProcessEnv; log?: (message: string) => void } = {},
): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => console.error(m));

  const named = env[tool.envVar];
  if (named) {
    if (!isExecutable(named)) {
      throw new GoToolNotFound(`${tool.envVar}=${named} is not an executable file.\n${tool.installHelp}`);
    }
    return named;
  }
  const fromPath = onPath(tool.name, env);
  if (fromPath) return fromPath;

  const cached = cachedToolPath(tool, env);
  if (isExecutable(cached)) return cached;

  const go = onPath('go', env) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new GoToolNotFound(`No ${tool.name} found (${tool.envVar}, PATH, ${cached}) and no Go to build it.\n${tool.installHelp}`);
  }

  log(`Building ${tool.name} ${tool.version} with Go into ${cached} (once; takes a few minutes)...`);
  // Build into a private folder and rename into place, so a concurrent build never exposes half a binary.
  mkdirSync(cacheDir(env), { recursive: true });
  const buildDir = mkdtempSync(join(cacheDir(env), 'build-'));
  try {
    await promisify(execFile)(go, ['install', `${tool.module}@${tool.version}`], {
      env: { ...env, GOBIN: buildDir, GOFLAGS: '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
    mkdirSync(join(cached, '..'), { recursive: true });
    renameSync(join(buildDir, tool.name), cached);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new GoToolNotFound(`Building ${tool.name} failed:\n${stderr.slice(-4000)}\n${tool.installHelp}`);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  log(`Built ${cached}`);
  return cached;
}

export const findTemporalCli = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(TEMPORAL_CLI, options);
export const findKustomize = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(KUSTOMIZE, options);

if (require.main === module) {
  findTemporalCli()
    .then((cli) => {
      const child = spawn(cli, process.argv.slice(2), { stdio: 'inherit' });
      child.on('exit', (code) => process.exit(code ?? 1));
    })
    .catch((err: Error) => {
      console.error(err.message);
      process.exit(1);
    });
}
