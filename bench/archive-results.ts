import { DEFAULT_HISTORY, SCENARIOS, type Scenario } from './contract.js';
import type { Sample } from './harness/measure.js';
import { median, ratio } from './harness/stats.js';
import type { ArchivePhase } from './phases/archive.js';
import type { PathPart, PathRole } from './phases/archive-path.js';
import type { RestorePart } from './phases/archive-restore.js';
import type { ConcurrentRound, StoppedRound, ThroughputPart } from './phases/archive-throughput.js';
import { profiledCommands, summarise, type CellSummary, type Target } from './summary.js';

/**
 * The cold-tier stage's share of results.json: its raw rounds, the medians
 * and ratios the report quotes, and issue 9's targets checked against them
 * (reported, never asserted).
 */
export interface ColdTierResults {
  /** Why the stage did not run. */
  skipped?: string;
  database?: string;
  failures: ArchivePhase['failures'];
  throughput?: ThroughputSummary;
  path?: PathSummary;
  restore?: RestoreSummary;
  targets: Target[];
}

export interface ThroughputSummary {
  appendsPerLoad: number;
  connections: number;
  maxBacklog: number;
  pollMs: number;
  /** Medians over the rounds with the archiver stopped during the load. */
  appendRps: number;
  archivedPerSecond: number;
  /** Median over rounds of (archived turns/s ÷ append req/s of the same round). */
  archivedPerAppended: number;
  drainMs: number;
  archiverCpuUsPerTurn: number;
  /** Turns per PostgreSQL transaction during the drains. */
  turnsPerBatch: number;
  /** Whether every drain, and every concurrent round, ended with an empty backlog. */
  backlogToZero: boolean;
  /** Medians over the rounds with the archiver running during the load. */
  concurrent: { appendRps: number; backlogAtEnd: number; maxBacklogAtEnd: number; toZeroMs: number };
  check: ThroughputPart['check'];
  stopped: StoppedRound[];
  concurrentRounds: ConcurrentRound[];
}

export interface PathComparison {
  scenario: Scenario;
  without: CellSummary;
  with: CellSummary;
  /** A second process of server 3, measured like the other two: the noise. */
  control: CellSummary;
  /** 3a ÷ 3 req/s in each round (the two ran one right after the other). */
  roundRatios: number[];
  /** 3′ ÷ 3 req/s in each round: what two identical servers differ by. */
  controlRatios: number[];
  /** Median of the rounds' 3a ÷ 3 (pairs within a round cancel the machine's drift between rounds). */
  rpsRatio: number;
  /** How far 3′ ÷ 3 strayed from 1 in the worst round: the noise of a ratio in this run. */
  noise: number;
  withinNoise: boolean;
  /** Median p99s, 3a ÷ 3. */
  p99Ratio: number;
  /** Node + redis-server CPU per request, 3a ÷ 3 (median of the rounds), and the control's worst distance from 1. */
  cpuRatio: number;
  cpuNoise: number;
  /** redis-server CPU per request, 3a minus 3 (medians), µs: where the cold tier's extra work on the request path lands. */
  redisCpuExtraUs: number;
}

export interface PathSummary {
  rounds: number;
  announcements: number;
  seconds: number;
  comparisons: PathComparison[];
}

export interface RestoreSummary extends RestorePart {
  libraryMs: { p50: number; p99: number };
  handwrittenMs: { p50: number; p99: number };
  /** agent-session ÷ hand-written. */
  p50Ratio: number;
  p99Ratio: number;
}

/** The archiver keeps up with at least this many times one Express process's append rate (issue 9). */
export const THROUGHPUT_TARGET = 2;

/** Nearest-rank percentile (p in 0..1): with 10 samples, p99 is the slowest. */
export function percentile(values: number[], p: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function summariseColdTier(phase: ArchivePhase): ColdTierResults {
  const results: ColdTierResults = { failures: phase.failures, targets: [] };
  if (phase.skipped !== undefined) results.skipped = phase.skipped;
  if (phase.database !== undefined) results.database = phase.database;
  if (phase.throughput) results.throughput = summariseThroughput(phase.throughput);
  if (phase.path) {
    results.path = {
      rounds: phase.path.rounds,
      announcements: phase.path.announcements,
      seconds: phase.path.seconds,
      comparisons: comparePath(phase.path.cells),
    };
  }
  if (phase.restore) results.restore = summariseRestore(phase.restore);
  results.targets = coldTierTargets(results);
  return results;
}

function summariseThroughput(part: ThroughputPart): ThroughputSummary {
  const { stopped, concurrent } = part;
  const emptied = [...stopped.map((round) => round.drainMs), ...concurrent.map((round) => round.toZeroMs)];
  return {
    appendsPerLoad: part.appendsPerLoad,
    connections: part.connections,
    maxBacklog: part.maxBacklog,
    pollMs: part.pollMs,
    appendRps: median(stopped.map((round) => round.appendRps)),
    archivedPerSecond: median(stopped.map((round) => round.archivedPerSecond)),
    archivedPerAppended: median(stopped.map((round) => ratio(round.archivedPerSecond, round.appendRps))),
    drainMs: median(stopped.map((round) => round.drainMs ?? Number.NaN)),
    archiverCpuUsPerTurn: median(stopped.map((round) => round.archiverCpuUsPerTurn ?? Number.NaN)),
    turnsPerBatch: median(stopped.map((round) => ratio(round.archivedTurns, round.batches))),
    backlogToZero: emptied.length > 0 && emptied.every((ms) => ms !== undefined),
    concurrent: {
      appendRps: median(concurrent.map((round) => round.appendRps)),
      backlogAtEnd: median(concurrent.map((round) => round.backlogAtEnd)),
      maxBacklogAtEnd: Math.max(0, ...concurrent.map((round) => round.backlogAtEnd)),
      toZeroMs: median(concurrent.map((round) => round.toZeroMs ?? Number.NaN)),
    },
    check: part.check,
    stopped,
    concurrentRounds: concurrent,
  };
}

function comparePath(cells: PathPart['cells']): PathComparison[] {
  const comparisons: PathComparison[] = [];
  for (const scenario of SCENARIOS) {
    const of = (role: PathRole) => {
      const found = cells.find((entry) => entry.role === role && entry.result.cell.scenario === scenario);
      return found ? summarise(found.result, DEFAULT_HISTORY, 1) : undefined;
    };
    const without = of('without');
    const withTier = of('with');
    const control = of('control');
    if (!without || !withTier || !control) continue;
    const cpu = (sample: Sample) => (sample.nodeCpuUsPerRequest ?? Number.NaN) + (sample.redisCpuUsPerRequest ?? Number.NaN);
    // Round i of every cell ran in the same round, a few seconds apart at most.
    const perRound = (cell: CellSummary, field: (sample: Sample) => number) =>
      cell.rounds.map((round, index) => {
        const base = without.rounds[index];
        return base ? ratio(field(round), field(base)) : Number.NaN;
      });
    const worst = (ratios: number[]) => Math.max(0, ...ratios.filter(Number.isFinite).map((value) => Math.abs(value - 1)));
    const roundRatios = perRound(withTier, (sample) => sample.rps);
    const controlRatios = perRound(control, (sample) => sample.rps);
    const rpsRatio = median(roundRatios);
    const noise = worst(controlRatios);
    comparisons.push({
      scenario,
      without,
      with: withTier,
      control,
      roundRatios,
      controlRatios,
      rpsRatio,
      noise,
      withinNoise: Number.isFinite(rpsRatio) && Math.abs(rpsRatio - 1) <= noise,
      p99Ratio: ratio(withTier.median.p99, without.median.p99),
      cpuRatio: median(perRound(withTier, cpu)),
      cpuNoise: worst(perRound(control, cpu)),
      redisCpuExtraUs: withTier.median.redisCpuUsPerRequest - without.median.redisCpuUsPerRequest,
    });
  }
  return comparisons;
}

function summariseRestore(part: RestorePart): RestoreSummary {
  const libraryMs = { p50: percentile(part.library, 0.5), p99: percentile(part.library, 0.99) };
  const handwrittenMs = { p50: percentile(part.handwritten, 0.5), p99: percentile(part.handwritten, 0.99) };
  return {
    ...part,
    libraryMs,
    handwrittenMs,
    p50Ratio: ratio(libraryMs.p50, handwrittenMs.p50),
    p99Ratio: ratio(libraryMs.p99, handwrittenMs.p99),
  };
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function coldTierTargets(results: ColdTierResults): Target[] {
  const targets: Target[] = [];
  const throughput = results.throughput;
  targets.push({
    framework: 'express',
    goal: `The archiver drains at least ${THROUGHPUT_TARGET}x the append rate of one Express process (one archiver process, library defaults)`,
    measured: throughput
      ? `${fixed(throughput.archivedPerAppended)}x (${fixed(throughput.archivedPerSecond, 0)} turns/s archived vs ${fixed(throughput.appendRps, 0)} appends/s)`
      : 'n/a',
    met: throughput && Number.isFinite(throughput.archivedPerAppended) ? throughput.archivedPerAppended >= THROUGHPUT_TARGET : null,
  });
  targets.push({
    framework: 'express',
    goal: 'The backlog returns to zero after the load (archiver stopped during it, and running beside it)',
    measured: throughput
      ? `${throughput.backlogToZero ? 'zero' : 'NOT zero'} after every load; with the archiver running, at most ${throughput.concurrent.maxBacklogAtEnd} entries left when the load ended`
      : 'n/a',
    met: throughput ? throughput.backlogToZero : null,
  });
  targets.push({
    framework: 'express',
    goal: 'Every appended turn is in PostgreSQL exactly once, in order (seqs 1..turnCount per conversation)',
    measured: throughput
      ? `${throughput.check.archivedTurns} archived of ${throughput.check.expectedTurns} appended over ${throughput.check.sessions} sessions; ${throughput.check.mismatched} mismatched`
      : 'n/a',
    met: throughput ? throughput.check.mismatched === 0 && throughput.check.archivedTurns === throughput.check.expectedTurns : null,
  });
  for (const scenario of SCENARIOS) {
    const comparison = results.path?.comparisons.find((entry) => entry.scenario === scenario);
    targets.push({
      framework: 'express',
      goal: `${scenario}: req/s with the cold tier within noise of without (3a ÷ 3, against a second process of 3)`,
      measured: comparison
        ? `${fixed(comparison.rpsRatio)}x (noise: 3′ ÷ 3 within ±${fixed(100 * comparison.noise, 0)} %); CPU per request ${fixed(comparison.cpuRatio)}x (±${fixed(100 * comparison.cpuNoise, 0)} %)`
        : 'n/a',
      met: comparison ? comparison.withinNoise : null,
    });
  }
  const append = results.path?.comparisons.find((entry) => entry.scenario === 'append');
  targets.push({
    framework: 'express',
    goal: 'No extra Redis round trip per request with the cold tier, beside the occasional announcement to the archiver',
    measured:
      append && results.path
        ? `append ${fixed(profiledCommands(append.with), 1)} vs ${fixed(profiledCommands(append.without), 1)} commands; ${results.path.announcements} announcements in ${fixed(results.path.seconds, 0)} s`
        : 'n/a',
    met: results.path ? results.path.comparisons.every((entry) => profiledCommands(entry.with) <= profiledCommands(entry.without)) : null,
  });
  return targets;
}
