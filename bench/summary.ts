import type { Framework, Role, ServerId } from './catalog.js';
import type { Scenario } from './contract.js';
import type { CellResult, Sample } from './harness/measure.js';
import { median, spread } from './harness/stats.js';

/**
 * One measured cell's figures (medians over rounds) and a target's verdict:
 * the leaf that results.ts, archive-results.ts and targets.ts all build on,
 * so none of them imports another in a cycle.
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

export interface Target {
  framework: Framework | 'both';
  goal: string;
  measured: string;
  /** null when it could not be measured in this run. */
  met: boolean | null;
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

/** Commands per request as the MONITOR profile lists them (exact; the under-load figure is beside it). */
export function profiledCommands(cell: CellSummary): number {
  return cell.commands.reduce((sum, entry) => sum + entry.perRequest, 0);
}
