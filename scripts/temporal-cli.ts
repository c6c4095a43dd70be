/**
 * Finds the `temporal` CLI (dev server + Web UI), building it with Go when it is nowhere to be found.
 * Order: TEMPORAL_CLI, a `temporal` on PATH, the cached build, a fresh `go install` into the cache.
 *
 * Run directly it passes its arguments to the CLI: `npm run temporal -- workflow list`.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/** The newest tag `go install` accepts: later tags carry a `replace` directive in go.mod. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

const INSTALL_HELP = `Install it in one of the official ways and run again, or point TEMPORAL_CLI at the binary:
  - macOS:   brew install temporal
  - Linux:   curl -sSf https://temporal.download/cli.sh | sh
  - any:     download an archive from https://github.com/temporalio/cli/releases
  - with Go: go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`;

export class TemporalCliNotFound extends Error {
  override name = 'TemporalCliNotFound';
}

/** Where builds are cached: outside the repo, so fresh clones on the same machine reuse them. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'task-agent');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `temporal-cli-${TEMPORAL_CLI_VERSION}`, 'temporal');
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

export async function findTemporalCli(
  options: { env?: NodeJS.ProcessEnv; log?: (message: string) => void } = {},
): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => console.error(m));

  if (env.TEMPORAL_CLI) {
    if (!isExecutable(env.TEMPORAL_CLI)) {
      throw new TemporalCliNotFound(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file.\n${INSTALL_HELP}`);
    }
    return env.TEMPORAL_CLI;
  }
  const fromPath = onPath('temporal', env);
  if (fromPath) return fromPath;

  const cached = cachedCliPath(env);
  if (isExecutable(cached)) return cached;

  const go = onPath('go', env) ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) {
    throw new TemporalCliNotFound(`No temporal CLI found (TEMPORAL_CLI, PATH, ${cached}) and no Go to build it.\n${INSTALL_HELP}`);
  }

  log(`Building the temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${cached} (once; takes a few minutes)...`);
  // Build into a private folder and rename into place, so a concurrent build never exposes half a binary.
  mkdirSync(cacheDir(env), { recursive: true });
  const buildDir = mkdtempSync(join(cacheDir(env), 'build-'));
  try {
    await promisify(execFile)(go, ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: buildDir, GOFLAGS: '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
    mkdirSync(join(cached, '..'), { recursive: true });
    renameSync(join(buildDir, 'temporal'), cached);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new TemporalCliNotFound(`Building the temporal CLI failed:\n${stderr.slice(-4000)}\n${INSTALL_HELP}`);
  } finally {
    rmSync(buildDir, { recursive: true, force: true });
  }
  log(`Built ${cached}`);
  return cached;
}

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
