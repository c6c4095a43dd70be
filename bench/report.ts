/** The benchmark's outputs: results.json, one SVG chart per scenario and summary.md, in one folder. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioResult } from './context';

export interface BenchRun {
  date: string;
  quick: boolean;
  repeats: number;
  machine: { cpus: string; cores: number; memoryGiB: number; node: string; os: string; temporal: string };
  workerSettings: Record<string, unknown>;
  baselineWorkerSettings: Record<string, unknown>;
  scenarios: ScenarioResult[];
}

interface Bar {
  name: string;
  value: number;
}

const COLORS = ['#2f6fb0', '#b0b0b0', '#e0a030', '#5aa05a'];

/** A grouped bar chart, plain SVG (no dependencies), readable in a browser or on GitHub. */
export function barChart(title: string, unit: string, groups: { label: string; bars: Bar[] }[]): string {
  const width = 640;
  const height = 320;
  const left = 60;
  const top = 40;
  const bottom = 50;
  const plotHeight = height - top - bottom;
  const max = Math.max(...groups.flatMap((g) => g.bars.map((b) => b.value)), 1e-9) * 1.15;
  const groupWidth = (width - left - 20) / groups.length;
  const barWidth = Math.min(40, (groupWidth - 20) / Math.max(...groups.map((g) => g.bars.length)));
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    `<line x1="${left}" y1="${top + plotHeight}" x2="${width - 10}" y2="${top + plotHeight}" stroke="#333"/>`,
    `<text x="14" y="${top + plotHeight / 2}" transform="rotate(-90 14 ${top + plotHeight / 2})" text-anchor="middle">${esc(unit)}</text>`,
  ];
  groups.forEach((group, g) => {
    const x0 = left + g * groupWidth + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, b) => {
      const h = (bar.value / max) * plotHeight;
      const x = x0 + b * barWidth;
      parts.push(`<rect x="${x}" y="${top + plotHeight - h}" width="${barWidth - 4}" height="${h}" fill="${COLORS[b % COLORS.length]}"/>`);
      parts.push(`<text x="${x + (barWidth - 4) / 2}" y="${top + plotHeight - h - 4}" text-anchor="middle" font-size="10">${bar.value}</text>`);
    });
    parts.push(`<text x="${left + g * groupWidth + groupWidth / 2}" y="${top + plotHeight + 16}" text-anchor="middle">${esc(group.label)}</text>`);
  });
  const names = groups[0]?.bars.map((b) => b.name) ?? [];
  names.forEach((name, i) => {
    const x = left + i * 170;
    parts.push(`<rect x="${x}" y="${height - 18}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    parts.push(`<text x="${x + 14}" y="${height - 9}">${esc(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The chart for each scenario, from its figures. */
function chartFor(s: ScenarioResult): string | undefined {
  // Each scenario's own figure shapes (scenarios/*.ts), read by name.
  const f = s.figures as Record<string, any>;
  switch (s.name) {
    case 'throughput':
      return barChart(s.title, 'runs/s', f.rows.map((r: any) => ({ label: `concurrency ${r.concurrency}`, bars: [{ name: 'TaskProcessingWorkflow', value: r.oursPerSecond }, { name: 'bare, 5 no-op activities', value: r.barePerSecond }] })));
    case 'read-path':
      return barChart(s.title, 'ms', [
        { label: 'p50', bars: [{ name: 'GET /tasks/{id}', value: f.httpP50 }, { name: 'direct query', value: f.directP50 }] },
        { label: 'p99', bars: [{ name: 'GET /tasks/{id}', value: f.httpP99 }, { name: 'direct query', value: f.directP99 }] },
      ]);
    case 'chat':
      return barChart(s.title, 'ms', [
        { label: 'p50', bars: [{ name: 'POST /chat', value: f.oursP50 }, { name: 'bare update', value: f.bareP50 }, { name: 'bare update-with-start', value: f.bareWithStartP50 }] },
        { label: 'p99', bars: [{ name: 'POST /chat', value: f.oursP99 }, { name: 'bare update', value: f.bareP99 }, { name: 'bare update-with-start', value: f.bareWithStartP50 }] },
      ]);
    case 'scale':
      return barChart(s.title, 'ms', [
        { label: 'query p50, cached', bars: [{ name: 'task entity', value: f.cachedQuery.p50 }, { name: 'bare timer entity', value: f.bare.cachedQuery.p50 }] },
        { label: 'query p50, evicted', bars: [{ name: 'task entity', value: f.evictedQuery.p50 }, { name: 'bare timer entity', value: f.bare.evictedQuery.p50 }] },
        { label: 'query p99, evicted', bars: [{ name: 'task entity', value: f.evictedQuery.p99 }, { name: 'bare timer entity', value: f.bare.evictedQuery.p99 }] },
      ]);
    case 'long-lived':
      return barChart(s.title, 'ms', [
        { label: 'query p50', bars: [{ name: 'after the mutations', value: f.busyQuery.p50 }, { name: 'fresh entity', value: f.freshQuery.p50 }] },
        { label: 'query p99', bars: [{ name: 'after the mutations', value: f.busyQuery.p99 }, { name: 'fresh entity', value: f.freshQuery.p99 }] },
      ]);
    case 'agent':
      return barChart(s.title, 'ms', [
        { label: 'p50', bars: [{ name: 'chat entity (agent)', value: f.oursP50 }, { name: 'bare, same activities', value: f.bareP50 }] },
        { label: 'p99', bars: [{ name: 'chat entity (agent)', value: f.oursP99 }, { name: 'bare, same activities', value: f.bareP99 }] },
      ]);
    case 'tracing':
      return barChart(s.title, 'runs/s', f.rows.map((r: any) => ({ label: `concurrency ${r.concurrency}`, bars: [{ name: 'traced end to end', value: r.tracedPerSecond }, { name: 'untraced', value: r.untracedPerSecond }] })));
    default:
      return undefined;
  }
}

const on = (s: ScenarioResult) => (s.server === 'postgres' ? ' (PostgreSQL server)' : '');
const fileName = (s: ScenarioResult) => (s.server === 'postgres' ? `${s.name}-postgres` : s.name);

/** The scenarios that ran on both servers, side by side: what the storage under Temporal changes. */
export function serverComparison(run: BenchRun): string[] {
  const find = (name: string, server: string) => run.scenarios.find((s) => s.name === name && (s.server ?? 'dev') === server)?.figures as Record<string, any> | undefined;
  const rows: string[] = [];
  const throughput = [find('throughput', 'dev'), find('throughput', 'postgres')];
  if (throughput[0] && throughput[1]) {
    for (const [i, dev] of (throughput[0].rows as any[]).entries()) {
      const pg = throughput[1].rows[i];
      if (!pg) continue;
      rows.push(`| throughput, ${dev.concurrency} in flight: runs/s (ours / bare) | ${dev.oursPerSecond} / ${dev.barePerSecond} = ${dev.ratio}× | ${pg.oursPerSecond} / ${pg.barePerSecond} = ${pg.ratio}× |`);
    }
  }
  const chat = [find('chat', 'dev'), find('chat', 'postgres')];
  if (chat[0] && chat[1]) {
    rows.push(`| chat p50 ms (POST /chat / bare update) | ${chat[0].oursP50} / ${chat[0].bareP50} = ${chat[0].ratioP50}× | ${chat[1].oursP50} / ${chat[1].bareP50} = ${chat[1].ratioP50}× |`);
  }
  const scale = [find('scale', 'dev'), find('scale', 'postgres')];
  if (scale[0] && scale[1]) {
    rows.push(`| deadline lag p50 / p99 ms (task entities) | ${scale[0].overdueLag.p50} / ${scale[0].overdueLag.p99} | ${scale[1].overdueLag.p50} / ${scale[1].overdueLag.p99} |`);
    rows.push(`| deadline lag p99, ours / bare timer entity | ${scale[0].overdueLagToBareP99}× | ${scale[1].overdueLagToBareP99}× |`);
  }
  return rows.length === 0 ? [] : ['', '| on both servers | dev server (SQLite) | Temporal server (PostgreSQL) |', '| --- | --- | --- |', ...rows];
}

export function summaryMarkdown(run: BenchRun): string {
  const lines = [
    `Run ${run.date}${run.quick ? ' (quick)' : ''}, medians of ${run.repeats} runs; ${run.machine.cores} × ${run.machine.cpus}, ${run.machine.memoryGiB} GiB, Node ${run.machine.node}, ${run.machine.temporal}.`,
    '',
    `Worker settings (service and baseline alike): ${JSON.stringify(run.workerSettings)}`,
    '',
    '| scenario | goal | value | limit | met |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const s of run.scenarios) {
    for (const g of s.goals) lines.push(`| ${s.title}${on(s)} | ${g.goal} | ${g.value}${g.unit ? ` ${g.unit}` : ''} | ${g.limit} | ${g.met ? 'yes' : '**no**'} |`);
  }
  lines.push('', '| scenario | process | CPU s | CPU % | peak RSS MiB |', '| --- | --- | --- | --- | --- |');
  for (const s of run.scenarios) {
    for (const [name, u] of Object.entries(s.usage as Record<string, { cpuSeconds: number; cpuPercent: number; peakRssMiB: number }>)) {
      lines.push(`| ${s.name}${on(s)} | ${name} | ${u.cpuSeconds} | ${u.cpuPercent} | ${u.peakRssMiB} |`);
    }
  }
  lines.push(...serverComparison(run));
  return `${lines.join('\n')}\n`;
}

export function writeReport(dir: string, run: BenchRun): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(run, null, 2)}\n`);
  for (const s of run.scenarios) {
    const svg = chartFor({ ...s, title: `${s.title}${on(s)}` });
    if (svg) writeFileSync(join(dir, `${fileName(s)}.svg`), svg);
  }
  writeFileSync(join(dir, 'summary.md'), summaryMarkdown(run));
}
