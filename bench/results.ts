import { cpus } from 'node:os';
import { counterpart, serverById, type Framework, type Role, type ServerId } from './catalog.js';
import type { BenchConfig } from './config.js';
import type { Scenario } from './contract.js';
import type { CellResult, Sample } from './harness/measure.js';
import { median, ratio, spread } from './harness/stats.js';
import type { ComparePhase, SessionMemory } from './phases/compare.js';
import type { GrowthPhase } from './phases/growth.js';
import type { ColdTierResults } from './archive-results.js';

/**
 * The shape of bench/results.json, and the step from raw rounds to the
 * figures the report quotes: medians over rounds, and ratios between
 * servers measured in the same run.
 */
export interface Figures {
  rps: number;
  p50: number;
  p99: number;
  /** Commands each request sends to Redis (round trips; a script call counts once), under load. */
  commandsPerRequest: number;
  /** Commands run inside Lua scripts per request. */
  inScriptPerRequest: number;
  nodeCpuUsPerRequest: number;
  redisCpuUsPerRequest: number;
  /** Node + redis-server CPU per request: the cost of a request, steadier than req/s on a busy machine. */
  cpuUsPerRequest: number;
  /** (max - min) / median over the rounds, of req/s and of CPU per request. */
  rpsSpread: number;
  cpuSpread: number;
}

export interface CellSummary {
  server: ServerId;
  label: string;
  framework: Framework;
  role: Role;
  scenario: Scenario;
  history: number;
  sessions: number;
  median: Figures;
  /** The commands one request sends, from the MONITOR profile. */
  commands: Array<{ command: string; perRequest: number }>;
  /** Append cells on one session: successful appends vs turns the store gained, summed over rounds. */
  appends?: { ok: number; stored: number; lost: number };
  rounds: Sample[];
}

export interface Ratios {
  server: ServerId;
  scenario: Scenario;
  vsPeer: number;
  vsFloor: number;
  vsCeiling: number;
}

export interface Target {
  framework: Framework | 'both';
  goal: string;
  measured: string;
  /** null when it could not be measured in this run. */
  met: boolean | null;
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

export function summarise(result: CellResult, history: number, sessions: number): CellSummary {
  const { cell, profile, samples } = result;
  const spec = cell.target.spec;
  const pick = (field: (sample: Sample) => number | undefined) => median(samples.map((sample) => field(sample) ?? Number.NaN));
  const cpu = (sample: Sample) => (sample.nodeCpuUsPerRequest ?? Number.NaN) + (sample.redisCpuUsPerRequest ?? Number.NaN);
  const summary: CellSummary = {
    server: spec.id,
    label: spec.label,
    framework: spec.framework,
    role: spec.role,
    scenario: cell.scenario,
    history,
    sessions,
    median: {
      rps: pick((sample) => sample.rps),
      p50: pick((sample) => sample.p50),
      p99: pick((sample) => sample.p99),
      // commandstats counts script-internal commands too; the profile says how many of them one request runs.
      commandsPerRequest: pick((sample) => Math.max(0, sample.redisCallsPerRequest - profile.inScriptPerRequest)),
      inScriptPerRequest: profile.inScriptPerRequest,
      nodeCpuUsPerRequest: pick((sample) => sample.nodeCpuUsPerRequest),
      redisCpuUsPerRequest: pick((sample) => sample.redisCpuUsPerRequest),
      cpuUsPerRequest: pick(cpu),
      rpsSpread: spread(samples.map((sample) => sample.rps)),
      cpuSpread: spread(samples.map(cpu)),
    },
    commands: profile.commands,
    rounds: samples,
  };
  if (cell.checkAppends) {
    const ok = samples.reduce((sum, sample) => sum + sample.ok, 0);
    const stored = samples.reduce((sum, sample) => sum + (sample.storedAppends ?? 0), 0);
    summary.appends = { ok, stored, lost: ok - stored };
  }
  return summary;
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

