import type { Framework, ServerId } from './catalog.js';
import type { Scenario } from './contract.js';
import type { Results } from './results.js';
import { profiledCommands, type Target } from './summary.js';

/**
 * The targets of issue 13 (one round trip), checked against one run's
 * medians. They are goals for the design, reported (met or not, with the
 * figure), never asserted.
 */
const AGENT: Record<Framework, ServerId> = { express: '3', koa: '6' };

const PEER_RATIO: Record<Scenario, number> = { read: 1.5, append: 4, touch: 2 };
const FLOOR_RATIO: Record<Scenario, number> = { read: 0.7, append: 0.7, touch: 1 };
/**
 * Round trips: on one node every command a request sends waits for the one
 * before it (load, then the route's agent call, then nothing), so the
 * profile's commands per request are its round trips.
 */
const MAX_ROUND_TRIPS: Record<Scenario, number> = { read: 2, append: 2, touch: 1 };
/** Bytes per session (MEMORY USAGE of every key a login creates) in the last quiet run before issue 13 (2026-11-22). */
const BYTES_BEFORE: Record<Framework, number> = { express: 26_480, koa: 26_368 };
/**
 * "Flat within noise": the CPU a request costs (Node + Redis, steadier than
 * req/s on a shared machine) at the largest history is at most this much
 * above the smallest's, or within the round-to-round spread of those figures.
 */
const FLAT_TOLERANCE = 0.15;

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function evaluateTargets(results: Omit<Results, 'targets'>): Target[] {
  const targets: Target[] = [];
  const ratioOf = (server: ServerId, scenario: Scenario) => results.ratios.find((entry) => entry.server === server && entry.scenario === scenario);
  const cellOf = (server: ServerId, scenario: Scenario) => results.compare.find((cell) => cell.server === server && cell.scenario === scenario);

  for (const framework of ['express', 'koa'] as const) {
    const agent = AGENT[framework];
    const name = framework === 'express' ? 'Express' : 'Koa';
    for (const scenario of ['read', 'append', 'touch'] as const) {
      const vsPeer = ratioOf(agent, scenario)?.vsPeer ?? Number.NaN;
      targets.push({
        framework,
        goal: `${name}: ${scenario} >= ${PEER_RATIO[scenario]}x the peer's req/s`,
        measured: `${fixed(vsPeer)}x`,
        met: Number.isFinite(vsPeer) ? vsPeer >= PEER_RATIO[scenario] : null,
      });
    }
    const appends = cellOf(agent, 'append')?.appends;
    targets.push({
      framework,
      goal: `${name}: zero lost turns under concurrent appends on one session`,
      measured: appends ? `${appends.lost} lost of ${appends.ok} successful appends` : 'n/a',
      met: appends ? appends.lost === 0 : null,
    });
    for (const scenario of ['read', 'append', 'touch'] as const) {
      const vsFloor = ratioOf(agent, scenario)?.vsFloor ?? Number.NaN;
      targets.push({
        framework,
        goal: `${name}: ${scenario} >= ${FLOOR_RATIO[scenario]}x the small-session floor's req/s`,
        measured: `${fixed(vsFloor)}x`,
        met: Number.isFinite(vsFloor) ? vsFloor >= FLOOR_RATIO[scenario] : null,
      });
    }
    for (const scenario of ['read', 'append', 'touch'] as const) {
      const cell = cellOf(agent, scenario);
      const perRequest = cell ? profiledCommands(cell) : Number.NaN;
      targets.push({
        framework,
        goal: `${name}: ${scenario} makes at most ${MAX_ROUND_TRIPS[scenario]} Redis round trip${MAX_ROUND_TRIPS[scenario] > 1 ? 's' : ''} per request`,
        measured: cell ? `${fixed(perRequest, 1)} (commands under load: ${fixed(cell.median.commandsPerRequest, 2)})` : 'n/a',
        met: cell ? perRequest <= MAX_ROUND_TRIPS[scenario] : null,
      });
    }
    const memory = results.memory.find((entry) => entry.server === agent);
    targets.push({
      framework,
      goal: `${name}: bytes per session no larger than before issue 13 (${BYTES_BEFORE[framework]})`,
      measured: memory ? String(memory.bytes) : 'n/a',
      met: memory ? memory.bytes <= BYTES_BEFORE[framework] : null,
    });
  }

  for (const scenario of ['append', 'read'] as const) {
    const cells = results.growth.history
      .filter((cell) => cell.server === AGENT.express && cell.scenario === scenario)
      .sort((a, b) => a.history - b.history);
    const first = cells[0];
    const last = cells[cells.length - 1];
    const compared = first && last && first !== last;
    const growth = compared ? last.median.cpuUsPerRequest / first.median.cpuUsPerRequest : Number.NaN;
    const tolerance = compared ? Math.max(FLAT_TOLERANCE, first.median.cpuSpread, last.median.cpuSpread) : Number.NaN;
    targets.push({
      framework: 'express',
      goal: `${scenario} cost flat from the smallest to the largest history (CPU per request within noise, at least ±${FLAT_TOLERANCE * 100} %)`,
      measured: compared
        ? `${last.history} turns: ${fixed(growth)}x the CPU per request of ${first.history} turns (${fixed(last.median.cpuUsPerRequest, 0)} vs ${fixed(first.median.cpuUsPerRequest, 0)} µs; noise ±${fixed(tolerance * 100, 0)} %); req/s ${fixed(last.median.rps / first.median.rps)}x`
        : 'n/a',
      met: compared && Number.isFinite(growth) ? growth <= 1 + tolerance : null,
    });
  }
  return targets;
}
