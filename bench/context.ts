/** What every scenario gets: clients, the processes under measurement, and the run's size. */
import type { Client } from '@temporalio/client';
import type { Config } from '../common/config';
import type { ServiceProcess } from './processes';

export interface BenchContext {
  client: Client;
  /** The service's configuration (its task queue, Redis prefix). */
  config: Config;
  apiUrl: string;
  /** Task queue of the baseline worker (bench/baseline-worker.ts). */
  baselineQueue: string;
  processes: ServiceProcess[];
  quick: boolean;
  /** Repetitions of each measurement; medians are quoted. */
  repeats: number;
  log: (line: string) => void;
}

/** A scenario's figures: free-form numbers, plus the goals checked against them. */
export interface ScenarioResult {
  name: string;
  /** The Temporal server it ran on (bench/run.ts sets it). */
  server?: 'dev' | 'postgres';
  title: string;
  figures: Record<string, unknown>;
  goals: { goal: string; value: number; limit: number; met: boolean; unit?: string }[];
  usage: Record<string, unknown>;
}

export const goal = (goalText: string, value: number, limit: number, kind: 'atLeast' | 'atMost', unit?: string) => ({
  goal: goalText,
  value: Math.round(value * 100) / 100,
  limit,
  met: kind === 'atLeast' ? value >= limit : value <= limit,
  unit,
});
