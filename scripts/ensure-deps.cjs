#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs node_modules from package-lock.json with
// `npm ci` (exactly the locked versions, the lock untouched) when they are missing or older than the lock.
// The lock holds every platform's @swc/core binary because package.json pins @swc/core (`overrides`) to a
// version the registry has for all of them; test/npm-ci.test.ts keeps it so. npm keeps its download cache
// in ~/.npm, outside the repo, so a second fresh clone on the same machine installs from that cache. Plain
// Node: runs before any dependency exists.
const { createHash } = require('node:crypto');
const { execSync } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'node_modules', '.task-agent-deps');
const lockHash = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');

if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== lockHash) {
  console.error('Installing dependencies from package-lock.json...');
  execSync('npm ci --no-audit --no-fund --loglevel=error', { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, lockHash);
}
