/**
 * Finds the Go-built tools the project runs, building them with Go when they are nowhere to be found:
 * the `temporal` CLI (dev server + Web UI), the Temporal server, its SQL tool and Web UI server (TEMPORAL_SERVER=postgres),
 * `kustomize` (renders k8s/ for the deployment tests) and
 * `jaeger` (the trace backend of the tracing test and `npm run jaeger`).
 * Order: the tool's environment variable, the tool on PATH, the cached build, a fresh build into the
 * cache (outside the repo, so fresh clones on the same machine reuse it).
 *
 * Run directly it passes its arguments to the temporal CLI: `npm run temporal -- workflow list`.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export interface GoTool {
  /** Binary name, as on PATH and in the cache. */
  name: string;
  /** What `go install` names the binary, when that is not `name` (the last element of the package path). */
  builtAs?: string;
  module: string;
  /** Go build tags (`go install -tags ...`). */
  buildTags?: string;
  version: string;
  /** Environment variable that names the binary directly. */
  envVar: string;
  /** The official ways to install it, for the error message. */
  installHelp: string;
  /**
   * Set for modules whose go.mod carries a `replace` directive, which `go install module@version` refuses:
   * the module is downloaded, copied somewhere writable and this package built inside it.
   */
  buildInModule?: { package: string };
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

/** Jaeger v2 (an OpenTelemetry Collector distribution): OTLP in, the query API and UI out. */
export const JAEGER: GoTool = {
  name: 'jaeger',
  module: 'github.com/jaegertracing/jaeger',
  version: 'v1.76.0',
  envVar: 'JAEGER_BIN',
  installHelp: `Install it and run again, or point JAEGER_BIN at the binary:
  - any:     download an archive from https://github.com/jaegertracing/jaeger/releases (the \`jaeger\` v2 binary)
  - with Go: go mod download github.com/jaegertracing/jaeger@v1.76.0, copy the module somewhere writable and
             go build ./cmd/jaeger inside it`,
  buildInModule: { package: './cmd/jaeger' },
};

export class GoToolNotFound extends Error {
  override name = 'GoToolNotFound';
}

/** The Temporal server the CLI v1.5.1 embeds, built alone: PostgreSQL persistence and SQL visibility (`npm start`/`npm test` with TEMPORAL_SERVER=postgres). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVER: GoTool = {
  name: 'temporal-server',
  builtAs: 'server',
  module: 'go.temporal.io/server/cmd/server',
  version: TEMPORAL_SERVER_VERSION,
  // The optional gRPC modules (ALTS, xDS, ...) pull in dependencies the server does not need here.
  buildTags: 'disable_grpc_modules',
  envVar: 'TEMPORAL_SERVER_BIN',
  installHelp: `Install it and run again, or point TEMPORAL_SERVER_BIN at the binary:
  - any:     download temporal_${TEMPORAL_SERVER_VERSION.slice(1)}_<os>_<arch>.tar.gz from https://github.com/temporalio/temporal/releases
  - with Go: go install -tags disable_grpc_modules go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`,
};

/** Creates the server's databases and applies its schemas (the same tool the Helm chart's schema jobs run). */
export const TEMPORAL_SQL_TOOL: GoTool = {
  name: 'temporal-sql-tool',
  builtAs: 'sql',
  module: 'go.temporal.io/server/cmd/tools/sql',
  version: TEMPORAL_SERVER_VERSION,
  buildTags: 'disable_grpc_modules',
  envVar: 'TEMPORAL_SQL_TOOL',
  installHelp: `Install it and run again, or point TEMPORAL_SQL_TOOL at the binary:
  - any:     the temporal-sql-tool in the temporalio/admin-tools image or the server's release archive
  - with Go: go install -tags disable_grpc_modules go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
};

/** Temporal's Web UI server (the UI the CLI's dev server embeds), for the PostgreSQL-backed server. */
export const TEMPORAL_UI_SERVER: GoTool = {
  name: 'temporal-ui-server',
  builtAs: 'server',
  module: 'github.com/temporalio/ui-server/v2/cmd/server',
  version: 'v2.42.1',
  envVar: 'TEMPORAL_UI_SERVER_BIN',
  installHelp: `Install it and run again, or point TEMPORAL_UI_SERVER_BIN at the binary:
  - any:     the temporalio/ui image, or a release of https://github.com/temporalio/ui-server
  - with Go: go install github.com/temporalio/ui-server/v2/cmd/server@v2.42.1`,
};

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
    // GOTOOLCHAIN=local: newer tags ask for a newer Go than may be here; use the one there is.
    const goEnv = { ...env, GOBIN: buildDir, GOFLAGS: '-mod=mod', GOTOOLCHAIN: env.GOTOOLCHAIN ?? 'local' };
    const run = (args: string[], cwd?: string) => promisify(execFile)(go, args, { env: goEnv, cwd, maxBuffer: 64 * 1024 * 1024 });
    const tags = tool.buildTags ? ['-tags', tool.buildTags] : [];
    const built = tool.builtAs ?? tool.name;
    if (tool.buildInModule) {
      const { stdout } = await run(['mod', 'download', '-json', `${tool.module}@${tool.version}`]);
      const source = (JSON.parse(stdout) as { Dir: string }).Dir;
      // The module cache is read-only; the build writes go.sum entries, so it happens in a copy.
      const copy = join(buildDir, 'src');
      cpSync(source, copy, { recursive: true });
      chmodWritable(copy);
      await run(['build', ...tags, '-o', join(buildDir, built), tool.buildInModule.package], copy);
    } else {
      // Each build has its own GOBIN (buildDir): the server and the UI server are both named `server`.
      await run(['install', ...tags, `${tool.module}@${tool.version}`]);
    }
    mkdirSync(join(cached, '..'), { recursive: true });
    renameSync(join(buildDir, built), cached);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new GoToolNotFound(`Building ${tool.name} failed:\n${stderr.slice(-4000)}\n${tool.installHelp}`);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  log(`Built ${cached}`);
  return cached;
}

function chmodWritable(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    chmodSync(path, entry.isDirectory() ? 0o755 : 0o644);
  }
  chmodSync(dir, 0o755);
}

export const findTemporalCli = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(TEMPORAL_CLI, options);
export const findKustomize = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(KUSTOMIZE, options);
export const findJaeger = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(JAEGER, options);
export const findTemporalServer = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(TEMPORAL_SERVER, options);
export const findTemporalSqlTool = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(TEMPORAL_SQL_TOOL, options);
export const findTemporalUiServer = (options: Parameters<typeof findGoTool>[1] = {}) => findGoTool(TEMPORAL_UI_SERVER, options);

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
