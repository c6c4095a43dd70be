/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> [top]`: where a process spent its CPU, by self time,
 * grouped by function and by package, so a benchmark's report can say what bounds it.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
const total = profile.samples.length;
const byNode = new Map<number, number>();
for (const id of profile.samples) byNode.set(id, (byNode.get(id) ?? 0) + 1);

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = byNode.get(node.id) ?? 0;
  if (hits === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url.replace(/^file:\/\//, '');
  const fn = `${functionName || '(anonymous)'} ${where.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(where)?.[1] ?? (where === '' ? `(${functionName})` : where.startsWith('node:') ? 'node core' : 'project');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
}
const show = (title: string, map: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [name, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
};
show('self time by package', byPackage);
show('self time by function', byFunction);
