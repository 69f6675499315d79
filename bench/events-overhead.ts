/**
 * `npm run bench:events`: what publishing session events inside the Lua
 * scripts costs the request path (issue 12: append and read with events on
 * within 5% of events off).
 *
 * Three server processes on the bench's private Redis, under read and
 * append, in interleaved rounds (bench/harness/measure.ts):
 *   - events off: server 3 with `events: false` (bench/servers/express-agent-quiet.ts),
 *     the scripts publish nothing;
 *   - events on: server 3 as it ships (`events` defaults to true);
 *   - control: a second process of the events-off server, measured the same
 *     way: two identical servers differ by that much, the run's noise floor.
 * Within a round, a scenario's three runs follow one another in an order
 * that rotates from round to round (each takes each position equally often
 * over three rounds), so the machine's drift and the position in a round
 * favour none. The ratios quoted are the medians of the rounds' ratios.
 *
 * One subscriber (a plain node-redis connection of this process) listens on
 * each measured session's channel, on all three sides, as an open browser
 * tab would through agentEvents(): the events-on side pays for the publish
 * and for its delivery. The events it receives are counted against the turns
 * the session gained (one `turn_appended` each); the other sides must
 * receive none.
 *
 *   npm run bench:events -- --rounds 15 --duration 2.5 --connections 16 --warmup 1
 */
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { EVENTS_OFF_SERVER, serverById, type ServerSpec } from './catalog.js';
import { DEFAULT_HISTORY, type Scenario } from './contract.js';
import { openCommandLog } from './harness/command-log.js';
import { measureCells, type CellResult, type Target } from './harness/measure.js';
import { serverFile, startServer, type ServerProcess } from './harness/processes.js';
import { startBenchRedis, type BenchRedis } from './harness/redis.js';
import { login, turnCount } from './harness/sessions.js';
import { median, ratio } from './harness/stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    duration: { type: 'string', default: '2.5' },
    warmup: { type: 'string', default: '1' },
    connections: { type: 'string', default: '16' },
  },
});
const positive = (name: string, text: string) => {
  const number = Number(text);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number; got "${text}".`);
  return number;
};
const options = {
  rounds: Math.round(positive('rounds', values.rounds)),
  duration: positive('duration', values.duration),
  warmup: positive('warmup', values.warmup),
  connections: Math.round(positive('connections', values.connections)),
  profileRequests: 20,
};

type Side = 'off' | 'on' | 'control';
const SIDES: Side[] = ['off', 'on', 'control'];
const LABEL: Record<Side, string> = { off: 'events off', on: 'events on', control: "control (off')" };
const SCENARIOS: Scenario[] = ['read', 'append'];
const SPEC: Record<Side, ServerSpec> = { off: EVENTS_OFF_SERVER, on: serverById('3'), control: EVENTS_OFF_SERVER };

const startedAt = Date.now();
const progress = (line: string) => process.stderr.write(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

const redis = await startBenchRedis();
const log = await openCommandLog(redis);
const subscriber = createClient({ url: redis.url });
subscriber.on('error', () => {});
let servers: ServerProcess[] = [];
try {
  const env = { REDIS_URL: redis.url, BENCH_WINDOW: String(DEFAULT_HISTORY) };
  servers = await Promise.all(SIDES.map((side) => startServer(serverFile(SPEC[side].file), env)));
  progress(`redis-server ${redis.version}; servers: ${SIDES.map((side, i) => `${LABEL[side]} pid ${servers[i]!.pid}`).join(', ')}`);

  const targets: Target[] = [];
  const cookies: string[] = [];
  for (const [index, side] of SIDES.entries()) {
    const cookie = await login(servers[index]!.url, { userId: `bench-events-${side}`, turns: DEFAULT_HISTORY });
    cookies.push(cookie);
    targets.push({ spec: SPEC[side], server: servers[index]!, cookies: [cookie], rotate: false, tag: LABEL[side] });
  }

  // The channel of each side's session: its meta key's sibling (keys.ts), found by the user id it is bound to.
  const channelOf = new Map<string, Side>();
  for await (const batch of redis.client.scanIterator({ MATCH: '*}:meta', COUNT: 1000 })) {
    for (const key of batch) {
      const userId = await redis.client.hGet(key, 'userId');
      const side = SIDES.find((each) => userId === `bench-events-${each}`);
      if (side) channelOf.set(`${key.slice(0, -'meta'.length)}events`, side);
    }
  }
  if (channelOf.size !== SIDES.length) throw new Error(`expected one session per side, found the channels ${[...channelOf.keys()].join(', ')}`);
  const received: Record<Side, number> = { off: 0, on: 0, control: 0 };
  await subscriber.connect();
  await subscriber.subscribe([...channelOf.keys()], (_message, channel) => {
    received[channelOf.get(channel)!] += 1;
  });
  const turnsBefore = await Promise.all(SIDES.map((_, index) => turnCount(servers[index]!.url, cookies[index]!)));

  // Cell index = scenario * 3 + side, so a scenario's three runs are neighbours; the order within rotates.
  const cells = SCENARIOS.flatMap((scenario) => targets.map((target) => ({ target, scenario, checkAppends: scenario === 'append' })));
  const order = (round: number) =>
    SCENARIOS.flatMap((_, s) => {
      const scenario = (s + round) % SCENARIOS.length;
      return SIDES.map((__, position) => scenario * SIDES.length + ((position + round) % SIDES.length));
    });
  const results = await measureCells(cells, redis, log, { ...options, order, progress });

  // Every append's event reaches the subscriber (at most once: count exactly), and only from the events-on server.
  const turnsGained = (await Promise.all(SIDES.map((_, index) => turnCount(servers[index]!.url, cookies[index]!)))).map((after, index) => after - turnsBefore[index]!);
  for (const until = Date.now() + 5_000; received.on < turnsGained[1]! && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));

  report(results, turnsGained, received, redis);
} finally {
  await subscriber.close().catch(() => {});
  await Promise.all(servers.map((server) => server.stop()));
  await log.close();
  await redis.close();
}

interface SideFigures {
  rps: number;
  p99: number;
  /** Commands per request from INFO commandstats (script-internal ones included), median of the rounds. */
  redisCalls: number;
  /** From the MONITOR profile: round trips, and commands inside scripts, per request. */
  roundTrips: number;
  inScripts: number;
  /** CPU per request, µs (medians of the rounds): the server process, and redis-server. */
  nodeCpuUs: number;
  redisCpuUs: number;
  /** Time Redis spent in scripts per request, µs (median of the rounds). */
  scriptUs: number;
}

type SampleOf = CellResult['samples'][number];
// (Function declarations: the top-level await above runs report() before later `const`s would be initialised.)
function nodeCpu(sample: SampleOf): number {
  return sample.nodeCpuUsPerRequest ?? Number.NaN;
}
function redisCpu(sample: SampleOf): number {
  return sample.redisCpuUsPerRequest ?? Number.NaN;
}
function scriptTime(sample: SampleOf): number {
  return sample.redisScriptUsPerRequest;
}

function figures(result: CellResult): SideFigures {
  const samples = result.samples;
  return {
    rps: median(samples.map((sample) => sample.rps)),
    p99: median(samples.map((sample) => sample.p99)),
    redisCalls: median(samples.map((sample) => sample.redisCallsPerRequest)),
    roundTrips: result.profile.perRequest,
    inScripts: result.profile.inScriptPerRequest,
    nodeCpuUs: median(samples.map(nodeCpu)),
    redisCpuUs: median(samples.map(redisCpu)),
    scriptUs: median(samples.map(scriptTime)),
  };
}

/** The rounds' ratios a ÷ b (the two ran one right after the other in each round): their median, lowest and highest. */
function roundRatios(a: CellResult, b: CellResult, value: (sample: SampleOf) => number) {
  const ratios = a.samples.map((sample, round) => ratio(value(sample), value(b.samples[round]!)));
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), rounds: ratios };
}
type Ratios = ReturnType<typeof roundRatios>;

function report(results: CellResult[], turnsGained: number[], received: Record<Side, number>, bench: BenchRedis): void {
  const fixed = (value: number) => value.toFixed(3);
  const shown = (r: Ratios) => `${fixed(r.median)} (${fixed(r.min)}–${fixed(r.max)})`;
  const lines: string[] = [];
  const json: Record<string, unknown> = {
    redis: bench.version,
    rounds: options.rounds,
    duration: options.duration,
    connections: options.connections,
    eventsReceived: received,
    turnsGained: Object.fromEntries(SIDES.map((side, index) => [side, turnsGained[index]])),
  };
  lines.push('');
  lines.push(
    `Session events on vs off: server 3, ${options.rounds} interleaved rounds of about ${options.duration} s, ${options.connections} connections, ` +
      `one session per side with a ${DEFAULT_HISTORY}-turn history, one subscriber on each session's channel. Medians of the rounds.`,
  );
  lines.push('');
  lines.push('| scenario | side | req/s | p99 ms | Redis commands / request (round trips + in scripts) | Node CPU µs / request | redis-server CPU µs / request | time in scripts µs / request |');
  lines.push('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |');
  const scenarios: Record<string, unknown> = {};
  const ratioLines: string[] = [];
  for (const [s, scenario] of SCENARIOS.entries()) {
    const cell = (side: Side) => results[s * SIDES.length + SIDES.indexOf(side)]!;
    const bySide = Object.fromEntries(SIDES.map((side) => [side, figures(cell(side))])) as Record<Side, SideFigures>;
    for (const side of SIDES) {
      const f = bySide[side];
      lines.push(
        `| ${scenario} | ${LABEL[side]} | ${Math.round(f.rps)} | ${f.p99.toFixed(1)} | ${f.redisCalls.toFixed(2)} (${f.roundTrips.toFixed(1)} + ${f.inScripts.toFixed(1)}) | ` +
          `${Math.round(f.nodeCpuUs)} | ${Math.round(f.redisCpuUs)} | ${f.scriptUs.toFixed(1)} |`,
      );
    }
    const measures = { rps: (sample: SampleOf) => sample.rps, nodeCpu, redisCpu, scriptTime };
    const on = Object.fromEntries(Object.entries(measures).map(([name, value]) => [name, roundRatios(cell('on'), cell('off'), value)])) as Record<keyof typeof measures, Ratios>;
    const control = Object.fromEntries(Object.entries(measures).map(([name, value]) => [name, roundRatios(cell('control'), cell('off'), value)])) as Record<keyof typeof measures, Ratios>;
    // Best rounds: contention only ever adds time, so each side's cheapest round (fastest, for req/s) is
    // the nearest to its own cost, and the ratio of those is a second estimate, less at the mercy of one bad moment.
    const best = (side: Side, value: (sample: SampleOf) => number, fastest = false) => {
      const all = cell(side).samples.map(value).filter(Number.isFinite);
      return fastest ? Math.max(...all) : Math.min(...all);
    };
    const bestRatio = (a: Side, name: keyof typeof measures) => ratio(best(a, measures[name], name === 'rps'), best('off', measures[name], name === 'rps'));
    const bestOn = Object.fromEntries(Object.keys(measures).map((name) => [name, bestRatio('on', name as keyof typeof measures)]));
    const bestControl = Object.fromEntries(Object.keys(measures).map((name) => [name, bestRatio('control', name as keyof typeof measures)]));
    scenarios[scenario] = {
      sides: bySide,
      perRound: Object.fromEntries(SIDES.map((side) => [side, cell(side).samples.map((sample) => ({ rps: sample.rps, nodeCpu: nodeCpu(sample), redisCpu: redisCpu(sample), scriptTime: scriptTime(sample) }))])),
      onOverOff: on,
      controlOverOff: control,
      bestRoundOnOverOff: bestOn,
      bestRoundControlOverOff: bestControl,
    };
    for (const [name, label] of [
      ['rps', 'req/s'],
      ['nodeCpu', 'Node CPU / request'],
      ['redisCpu', 'redis-server CPU / request'],
      ['scriptTime', 'time in scripts / request'],
    ] as const) {
      ratioLines.push(`| ${scenario} | ${label} | **${shown(on[name])}** | ${shown(control[name])} | **${fixed(bestOn[name]!)}** | ${fixed(bestControl[name]!)} |`);
    }
  }
  lines.push('');
  lines.push(
    "| scenario | measure | events on ÷ off: median of the rounds' ratios (lowest–highest) | control off' ÷ off (the noise floor) | best rounds: on ÷ off | best rounds: off' ÷ off |",
  );
  lines.push('| --- | --- | --- | --- | --- | --- |');
  lines.push(...ratioLines);
  json.scenarios = scenarios;
  lines.push('');
  lines.push(
    `Events received by the subscriber: events on ${received.on} for ${turnsGained[1]} turns appended; events off ${received.off} (${turnsGained[0]} turns); control ${received.control} (${turnsGained[2]} turns).`,
  );
  console.log(lines.join('\n'));
  console.log(JSON.stringify(json));
}
