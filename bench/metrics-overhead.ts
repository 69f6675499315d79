/**
 * `npm run bench:metrics`: what agent-session/metrics costs the request
 * path. For each framework, three server processes of the same agent-session
 * server on one private redis-server: two without metrics (A and B, an
 * identical pair: their ratio is the noise of this machine) and one with
 * agentMetrics() registered and rendered every 5 s (M). Rounds interleave
 * them (the order rotates each round), each a fixed time of autocannon load
 * on one logged-in session with a 50-turn history; per round the figures are
 * M / mean(A, B) and, for the noise, B / A. Reported: the median ratio of
 * req/s and of the server's CPU time per request, with the range over the
 * rounds.
 *
 * On a shared machine the rounds' noise is far wider than 3 %, so the run
 * also measures the metrics' own work directly, in this process: what one
 * request reports (its start and close, its script calls with their
 * latency) timed with agentMetrics() installed, as µs per request and as a
 * share of the CPU per request the servers without metrics used.
 *
 *   npm run bench:metrics -- --rounds 6 --seconds 4 --connections 16 --frameworks express,koa --scenarios read,append
 */
import { EventEmitter } from 'node:events';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { connectRedis } from 'agent-session';
import { agentMetrics } from 'agent-session/metrics';
import { instrumentation } from '../src/instrumentation.js';
import type { Scenario } from './contract.js';
import { cpuSeconds } from './harness/cpu.js';
import { drive } from './harness/load.js';
import { serverFile, startServer, type ServerProcess } from './harness/processes.js';
import { startBenchRedis } from './harness/redis.js';
import { login } from './harness/sessions.js';
import { median } from './harness/stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '16' },
    frameworks: { type: 'string', default: 'express,koa' },
    scenarios: { type: 'string', default: 'read,append' },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const frameworks = values.frameworks.split(',') as Array<'express' | 'koa'>;
const scenarios = values.scenarios.split(',') as Scenario[];
const FILES = { express: 'express-agent', koa: 'koa-agent' } as const;

interface Side {
  name: 'A' | 'B' | 'M';
  server: ServerProcess;
  cookie: string;
}

interface Figures {
  rps: number;
  /** Server CPU µs per request. */
  cpuUs: number;
}

const redis = await startBenchRedis();
const lines: string[] = [];
const say = (line: string) => {
  lines.push(line);
  console.log(line);
};
say(`bench:metrics on ${new Date().toISOString()}: Node ${process.version}, Redis ${redis.version}, ${rounds} rounds x ${seconds} s per side, ${connections} connections`);

/** Server CPU µs per request without metrics (sides A and B, every round), per framework and scenario. */
const baseCpu = new Map<string, number[]>();

try {
  for (const framework of frameworks) {
    const sides: Side[] = [];
    try {
      for (const name of ['A', 'B', 'M'] as const) {
        const server = await startServer(serverFile(FILES[framework]), { REDIS_URL: redis.url, BENCH_METRICS: name === 'M' ? '1' : '0' });
        sides.push({ name, server, cookie: await login(server.url, { userId: `bench-${framework}-${name}` }) });
      }
      for (const scenario of scenarios) {
        // Warm-up: JIT and connection pools, not measured.
        for (const side of sides) await drive({ url: side.server.url, scenario, cookies: [side.cookie], connections, duration: 1 });
        const control: number[] = [];
        const withMetrics: number[] = [];
        const cpuControl: number[] = [];
        const cpuWithMetrics: number[] = [];
        for (let round = 0; round < rounds; round += 1) {
          const figures = new Map<Side['name'], Figures>();
          for (let i = 0; i < sides.length; i += 1) {
            const side = sides[(round + i) % sides.length]!;
            const cpuBefore = cpuSeconds(side.server.pid) ?? Number.NaN;
            const result = await drive({ url: side.server.url, scenario, cookies: [side.cookie], connections, duration: seconds });
            const cpuAfter = cpuSeconds(side.server.pid) ?? Number.NaN;
            if (result.non2xx > 0 || result.errors > 0) throw new Error(`${framework} ${side.name} ${scenario}: ${result.non2xx} non-2xx, ${result.errors} errors`);
            figures.set(side.name, { rps: result.rps, cpuUs: ((cpuAfter - cpuBefore) * 1e6) / Math.max(result.completed, 1) });
          }
          const [a, b, m] = (['A', 'B', 'M'] as const).map((name) => figures.get(name)!);
          control.push(b!.rps / a!.rps);
          withMetrics.push(m!.rps / ((a!.rps + b!.rps) / 2));
          cpuControl.push(b!.cpuUs / a!.cpuUs);
          baseCpu.set(`${framework} ${scenario}`, [...(baseCpu.get(`${framework} ${scenario}`) ?? []), a!.cpuUs, b!.cpuUs]);
          cpuWithMetrics.push(m!.cpuUs / ((a!.cpuUs + b!.cpuUs) / 2));
        }
        say(
          `${framework} ${scenario}: req/s with metrics / without ${describe(withMetrics)}; control B/A ${describe(control)} | ` +
            `CPU per request with / without ${describe(cpuWithMetrics)}; control B/A ${describe(cpuControl)}`,
        );
      }
    } finally {
      await Promise.all(sides.map((side) => side.server.stop()));
    }
  }
  await sinkCost();
} finally {
  await redis.close();
}

/**
 * The metrics' own work per request, timed in this process: a request's
 * start and close and three script calls (read or append, the cookie
 * session's touch-along, one more), as the middleware and runScript report
 * them, against the same loop with nothing installed.
 */
async function sinkCost(): Promise<void> {
  const connection = await connectRedis({ url: redis.url, logger: () => {} });
  const iterations = 200_000;
  const request = () => {
    // Every request has its response, metrics or not.
    const response = new EventEmitter();
    const sink = instrumentation;
    if (!sink) return;
    sink.requestStarted(response);
    sink.script('agent-session:read', 0.0004, undefined);
    sink.script('agent-session:append-turn', 0.0006, undefined);
    sink.script('agent-session:touch-along', 0.0003, undefined);
    response.emit('close');
  };
  const time = () => {
    for (let i = 0; i < 20_000; i += 1) request();
    const started = performance.now();
    for (let i = 0; i < iterations; i += 1) request();
    return ((performance.now() - started) * 1000) / iterations;
  };
  const without = median([time(), time(), time()]);
  const metrics = agentMetrics({ redis: connection, register: new Registry() });
  const withMetrics = median([time(), time(), time()]);
  metrics.close();
  await connection.close();
  const cost = withMetrics - without;
  say(`the metrics' own work: ${cost.toFixed(2)} µs per request (a start, a close and 3 script calls: ${withMetrics.toFixed(2)} µs with agentMetrics(), ${without.toFixed(2)} µs without)`);
  for (const [name, cpu] of baseCpu) {
    const base = median(cpu);
    say(`  ${name}: ${((100 * cost) / base).toFixed(2)} % of the ${base.toFixed(0)} µs of server CPU per request without metrics`);
  }
}

/** Median and range of per-round ratios, e.g. "0.99x (0.95-1.03)". */
function describe(ratios: number[]): string {
  const finite = ratios.filter(Number.isFinite);
  if (finite.length === 0) return 'n/a';
  return `${median(finite).toFixed(3)}x (${Math.min(...finite).toFixed(3)}-${Math.max(...finite).toFixed(3)})`;
}
