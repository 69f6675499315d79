/**
 * `npm run bench:profile -- <server> <scenario> [seconds]`, e.g. `-- 3 touch`:
 * one bench server under one scenario with Node's CPU profiler on, then
 * where each request's CPU time went, by package and by file of this repo.
 * Open the .cpuprofile it names in Chrome DevTools for the call tree.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverById, type ServerId } from './catalog.js';
import { SCENARIOS, type Scenario } from './contract.js';
import { cpuPerRequest } from './harness/cpu-profile.js';
import { drive } from './harness/load.js';
import { serverFile, startServer } from './harness/processes.js';
import { startBenchRedis } from './harness/redis.js';
import { login } from './harness/sessions.js';

const [id = '3', scenario = 'touch', seconds = '5'] = process.argv.slice(2);
if (!SCENARIOS.includes(scenario as Scenario)) throw new Error(`scenario must be one of ${SCENARIOS.join(', ')}`);
const spec = serverById(id as ServerId);
const dir = mkdtempSync(join(tmpdir(), 'agent-session-profile-'));

const redis = await startBenchRedis();
try {
  const server = await startServer(serverFile(spec.file), { REDIS_URL: redis.url }, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const cookie = await login(server.url);
  const load = { url: server.url, scenario: scenario as Scenario, cookies: [cookie], connections: 16 };
  const warm = await drive({ ...load, duration: 1 });
  const run = await drive({ ...load, duration: Number(seconds) });
  await server.stop();

  const file = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(dir, name))[0];
  if (!file) throw new Error(`no profile written to ${dir}`);
  console.log(`${spec.id} ${spec.label}, ${scenario}: ${Math.round(run.rps)} req/s; CPU per request (inclusive, µs):`);
  const repoRoot = fileURLToPath(new URL('../', import.meta.url));
  for (const { group, usPerRequest } of cpuPerRequest(file, warm.completed + run.completed, repoRoot).slice(0, 30)) {
    console.log(`${usPerRequest.toFixed(1).padStart(8)}  ${group}`);
  }
  console.log(`\nprofile: ${file}`);
} finally {
  await redis.close();
}
