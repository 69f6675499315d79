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
 *   npm run bench:metrics -- --rounds 6 --seconds 4 --connections 16 --frameworks express,koa --scenarios read,append
 */
import { parseArgs } from 'node:util';
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
} finally {
  await redis.close();
}

/** Median and range of per-round ratios, e.g. "0.99x (0.95-1.03)". */
function describe(ratios: number[]): string {
  const finite = ratios.filter(Number.isFinite);
  if (finite.length === 0) return 'n/a';
  return `${median(finite).toFixed(3)}x (${Math.min(...finite).toFixed(3)}-${Math.max(...finite).toFixed(3)})`;
}
