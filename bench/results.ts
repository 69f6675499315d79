import { cpus } from 'node:os';
import { counterpart, serverById, type Framework, type Role, type ServerId } from './catalog.js';
import type { BenchConfig } from './config.js';
import type { Scenario } from './contract.js';
import { ratio } from './harness/stats.js';
import type { ComparePhase, SessionMemory } from './phases/compare.js';
import type { GrowthPhase } from './phases/growth.js';
import type { ColdTierResults } from './archive-results.js';
import { summarise, type CellSummary, type Target } from './summary.js';

export { profiledCommands, summarise, type CellSummary, type Figures, type Target } from './summary.js';

/**
 * The shape of bench/results.json, and the step from raw rounds to the
 * figures the report quotes: medians over rounds, and ratios between
 * servers measured in the same run.
 */
export interface Ratios {
  server: ServerId;
  scenario: Scenario;
  vsPeer: number;
  vsFloor: number;
  vsCeiling: number;
}

export interface Results {
  meta: {
    date: string;
    node: string;
    redis: string;
    cores: number;
    cpu: string;
    loadAverageAtStart: number[];
    mode: BenchConfig['mode'];
    connections: number;
    duration: number;
    growthDuration: number;
    rounds: number;
    warmup: number;
    seconds: number;
  };
  skipped: ComparePhase['skipped'];
  notes: string[];
  compare: CellSummary[];
  ratios: Ratios[];
  memory: Array<SessionMemory & { label: string }>;
  growth: { history: CellSummary[]; sessions: CellSummary[] };
  /** The cold-tier stage (issue 9): its own figures and targets (archive-results.ts). */
  archive: ColdTierResults;
  targets: Target[];
}

export function compareRatios(cells: CellSummary[]): Ratios[] {
  const find = (id: ServerId | undefined, scenario: Scenario) => cells.find((cell) => cell.server === id && cell.scenario === scenario);
  return cells.map((cell) => {
    const spec = serverById(cell.server);
    const rpsOf = (role: Role) => find(counterpart(spec, role)?.id, cell.scenario)?.median.rps;
    return {
      server: cell.server,
      scenario: cell.scenario,
      vsPeer: ratio(cell.median.rps, rpsOf('peer')),
      vsFloor: ratio(cell.median.rps, rpsOf('floor')),
      vsCeiling: ratio(cell.median.rps, rpsOf('ceiling')),
    };
  });
}

export function assemble(
  config: BenchConfig,
  environment: { redis: string; startedAt: Date; load: number[] },
  compare: ComparePhase,
  growth: GrowthPhase,
  archive: ColdTierResults,
  evaluate: (results: Omit<Results, 'targets'>) => Target[],
): Results {
  const summaries = compare.cells.map((cell) => summarise(cell, 50, 1));
  const partial: Omit<Results, 'targets'> = {
    meta: {
      date: environment.startedAt.toISOString(),
      node: process.version,
      redis: environment.redis,
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      loadAverageAtStart: environment.load,
      mode: config.mode,
      connections: config.connections,
      duration: config.duration,
      growthDuration: config.growthDuration,
      rounds: config.rounds,
      warmup: config.warmup,
      seconds: Math.round((Date.now() - environment.startedAt.getTime()) / 1000),
    },
    skipped: compare.skipped,
    notes: growth.notes,
    compare: summaries,
    ratios: compareRatios(summaries),
    memory: compare.memory.map((entry) => ({ ...entry, label: serverById(entry.server).label })),
    growth: {
      history: growth.history.map(({ result, history, sessions }) => summarise(result, history, sessions)),
      sessions: growth.sessions.map(({ result, history, sessions }) => summarise(result, history, sessions)),
    },
    archive,
  };
  return { ...partial, targets: evaluate(partial) };
}

