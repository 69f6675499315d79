/**
 * Brings up one Redis topology of docs/deployment.md on this machine, runs
 * chats against an Express app through HTTP, does to it what the guide
 * describes, and prints what it measured. Not a test (it reports times);
 * test/deployment/ runs the quick version of each and asserts the outcome.
 *
 *   npm run -s topology:sentinel-failover [-- --rounds 3 --chats 8]
 *   npm run -s topology:aof               [-- --rounds 3 --chats 8]
 *   npm run -s topology:cluster           [-- --chats 30]
 *   npm run -s topology:tls               [-- --rounds 3 --chats 8]
 *   npm run -s topology:eviction          [-- --chats 1500]   (idle sessions written)
 *
 * Every redis-server is started here (free ports, temp dirs; never the
 * machine's own) and stopped at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { connectRedis, createAgentStore, type RedisConnection } from '../src/index.js';
import { ackRate, recoveryAfter, runChats, startChatApp, verify, type ChatRun, type Recovery, type Verification } from '../test/harness/chats.js';
import { freePort, startRedisServer, type RedisServer } from '../test/harness/redis-server.js';
import { sessionKeys } from '../src/core/keys.js';
import { keySlot } from '../test/harness/store.js';
import { makeTlsFiles } from '../test/harness/tls.js';
import { startCluster, startFailoverSetup } from '../test/harness/topologies.js';
import { eventually } from '../test/harness/wait.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    chats: { type: 'string' },
    'before-ms': { type: 'string', default: '3000' },
    'down-after-ms': { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '3' },
  },
});
const topology = positionals[0];
const rounds = Number(values.rounds);
const beforeMs = Number(values['before-ms']);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ms = (value: number | undefined) => (value === undefined ? 'never' : `${Math.round(value)} ms`);
const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const spread = (list: number[]) => `median ${Math.round(median(list))}, min ${Math.round(Math.min(...list))}, max ${Math.round(Math.max(...list))}`;

/** Runs chats until every chat was served after `at` (or `timeoutMs`), then `afterMs` more. */
async function untilServedAgain(run: ChatRun, chats: number, at: number, timeoutMs: number, afterMs = 1_000): Promise<void> {
  await eventually('every chat served again', () => recoveryAfter(at, run.calls, chats).allServedMs !== undefined, timeoutMs).catch(() => undefined);
  await sleep(afterMs);
}

function printOutcome(label: string, recovery: Recovery, result: Verification): void {
  console.log(
    `${label}: first chat served again ${ms(recovery.firstServedMs)}, every chat ${ms(recovery.allServedMs)} after the kill; ` +
      `${recovery.failedAfter} calls failed meanwhile; acknowledged ${result.acknowledged}, LOST ${result.lost}; ` +
      `failed calls whose turn landed anyway ${result.landedAfterFailure}`,
  );
}

async function sentinelFailover(): Promise<void> {
  const chats = Number(values.chats ?? 8);
  const downAfterMs = Number(values['down-after-ms']);
  console.log(
    `Sentinel: 1 master, 1 replica, 3 sentinels (quorum 2, down-after-milliseconds ${downAfterMs}, failover-timeout 10000); ` +
      `${chats} chats over HTTP; kill -9 the master after ${beforeMs} ms; ${rounds} round(s)`,
  );
  const served: number[] = [];
  const switched: number[] = [];
  let lost = 0;
  let acknowledgedTotal = 0;
  for (let round = 1; round <= rounds; round++) {
    const setup = await startFailoverSetup({ downAfterMs });
    let redis: RedisConnection | undefined;
    try {
      redis = await connectRedis({ sentinel: { masterName: setup.masterName, nodes: setup.sentinelNodes }, logger: () => {} });
      const app = await startChatApp(redis);
      const run = runChats(app.url, { chats });
      await sleep(beforeMs);
      const old = setup.master.port;
      await setup.master.kill();
      const killedAt = performance.now();
      let switchedMs: number | undefined;
      void eventually('the sentinels name a new master', async () => (await setup.currentMaster()).port !== old, 30_000).then(
        () => (switchedMs = performance.now() - killedAt),
        () => undefined,
      );
      await untilServedAgain(run, chats, killedAt, 30_000);
      await run.stop();
      const result = await verify(app.url, run);
      const recovery = recoveryAfter(killedAt, run.calls, chats);
      const promoted = await setup.currentMaster();
      printOutcome(`round ${round}`, recovery, result);
      console.log(`  sentinels switched to ${promoted.port === setup.replica.port ? 'the replica' : `port ${promoted.port}`} ${ms(switchedMs)} after the kill; ${Math.round(ackRate(run.calls, killedAt - beforeMs, killedAt))} turns/s before it`);
      if (recovery.allServedMs !== undefined) served.push(recovery.allServedMs);
      if (switchedMs !== undefined) switched.push(switchedMs);
      lost += result.lost;
      acknowledgedTotal += result.acknowledged;
      await app.close();
    } finally {
      await redis?.close();
      await setup.dispose();
    }
  }
  console.log(`\nkill -9 -> sentinels switch: ${switched.length ? spread(switched) : 'never'} ms`);
  console.log(`kill -9 -> every chat served again: ${served.length ? spread(served) : 'never'} ms (${served.length} of ${rounds} rounds recovered)`);
  console.log(`acknowledged turns lost: ${lost} of ${acknowledgedTotal}`);
}

const PERSISTENCE: Record<string, string[]> = {
  'no persistence': ['--appendonly', 'no', '--save', ''],
  'appendfsync everysec': ['--appendonly', 'yes', '--appendfsync', 'everysec'],
  'appendfsync always': ['--appendonly', 'yes', '--appendfsync', 'always'],
};

async function aof(): Promise<void> {
  const chats = Number(values.chats ?? 8);
  console.log(`Standalone: kill -9 while ${chats} chats append over HTTP (after ${beforeMs} ms), restart on the same dir; ${rounds} round(s), modes interleaved in a rotating order`);
  const totals = new Map<string, { lost: number; acknowledged: number; rates: number[]; served: number[] }>();
  const modes = Object.entries(PERSISTENCE);
  for (let round = 1; round <= rounds; round++) {
    // The order rotates from round to round, so no mode always runs first.
    for (const [mode, args] of modes.map((_, index) => modes[(index + round - 1) % modes.length]!)) {
      const server = await startRedisServer({ args });
      let redis: RedisConnection | undefined;
      try {
        redis = await connectRedis({ url: server.url, logger: () => {} });
        const app = await startChatApp(redis);
        const run = runChats(app.url, { chats });
        await sleep(beforeMs);
        await server.kill();
        const killedAt = performance.now();
        await server.restart();
        await untilServedAgain(run, chats, killedAt, 30_000);
        await run.stop();
        const result = await verify(app.url, run);
        const recovery = recoveryAfter(killedAt, run.calls, chats);
        const rate = ackRate(run.calls, killedAt - beforeMs + 500, killedAt);
        printOutcome(`round ${round}, ${mode}`, recovery, result);
        const total = totals.get(mode) ?? { lost: 0, acknowledged: 0, rates: [], served: [] };
        total.lost += result.lost;
        total.acknowledged += result.acknowledged;
        total.rates.push(rate);
        if (recovery.allServedMs !== undefined) total.served.push(recovery.allServedMs);
        totals.set(mode, total);
        await app.close();
      } finally {
        await redis?.close();
        await server.dispose();
      }
    }
  }
  console.log('');
  const base = totals.get('appendfsync everysec')?.rates;
  for (const [mode, total] of totals) {
    const ratios = base ? total.rates.map((rate, index) => rate / base[index]!) : [];
    console.log(
      `${mode}: lost ${total.lost} of ${total.acknowledged} acknowledged turns; appends/s ${spread(total.rates)}` +
        (ratios.length ? ` (x everysec: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')})` : '') +
        `; restart -> every chat served again ${total.served.length ? spread(total.served) : 'never'} ms`,
    );
  }
}

async function cluster(): Promise<void> {
  const chats = Number(values.chats ?? 30);
  const setup = await startCluster({ size: 3 });
  let redis: RedisConnection | undefined;
  try {
    redis = await connectRedis({ cluster: { rootNodes: setup.rootNodes }, logger: () => {} });
    const app = await startChatApp(redis);
    const run = runChats(app.url, { chats });
    await sleep(Number(values.seconds) * 1000);
    await run.stop();
    const result = await verify(app.url, run);
    // An observation request per session: the queue is one key of its own, on one node.
    const store = createAgentStore({ redis });
    const session = await store.create();
    await session.requestObservation();
    await app.close();
    console.log(`Cluster: 3 masters, ${chats} chats over HTTP for ${values.seconds} s: acknowledged ${result.acknowledged}, lost ${result.lost}`);
    const nodeOf = new Map<string, number>();
    for (const node of setup.nodes) {
      const admin = await createClient({ url: node.url }).on('error', () => {}).connect();
      try {
        for await (const batch of admin.scanIterator({ COUNT: 1000 })) for (const key of batch) nodeOf.set(key, node.port);
      } finally {
        admin.destroy();
      }
    }
    const sessions = new Map<string, Set<number>>();
    const other = new Map<string, number>();
    for (const [key, port] of nodeOf) {
      const tag = /\{([^}]+)\}/.exec(key)?.[1];
      if (tag) sessions.set(tag, (sessions.get(tag) ?? new Set()).add(port));
      else other.set(key.replace(/sess:[^:]+$/, 'sess:<id>'), port);
    }
    const split = [...sessions.values()].filter((ports) => ports.size > 1).length;
    console.log(`agent sessions: ${sessions.size}; sessions whose keys sit on more than one node: ${split}`);
    for (const node of setup.nodes) {
      const here = [...sessions.values()].filter((ports) => ports.has(node.port)).length;
      const cookies = [...nodeOf].filter(([key, port]) => port === node.port && /:sess:/.test(key)).length;
      console.log(`  node :${node.port}: ${here} agent sessions, ${cookies} cookie sessions`);
    }
    for (const [key, port] of other) if (!key.includes('sess:<id>')) console.log(`  ${key} (slot ${keySlot(key)}) on :${port}`);
    const [sample] = [...sessions.keys()];
    if (sample) {
      const keys = [...nodeOf.keys()].filter((key) => key.includes(`{${sample}}`)).sort();
      console.log(`one session's keys (hash tag {${sample}}): ${keys.map((key) => `${key.replace(sample, '<id>')}`).join(', ')}: all in slot ${keySlot(keys[0]!)}`);
    }
  } finally {
    await redis?.close();
    await setup.dispose();
  }
}

async function tls(): Promise<void> {
  const chats = Number(values.chats ?? 8);
  const seconds = Number(values.seconds);
  const dir = mkdtempSync(join(tmpdir(), 'agent-session-tls-'));
  const files = makeTlsFiles(dir);
  const tlsPort = await freePort();
  const servers: Record<string, RedisServer> = {
    plain: await startRedisServer(),
    tls: await startRedisServer({
      port: tlsPort,
      args: ['--port', '0', '--tls-port', String(tlsPort), '--tls-cert-file', files.serverCertFile, '--tls-key-file', files.serverKeyFile, '--tls-ca-cert-file', files.caCertFile, '--tls-auth-clients', 'yes'],
    }),
  };
  const connect: Record<string, () => Promise<RedisConnection>> = {
    plain: () => connectRedis({ url: servers.plain!.url, logger: () => {} }),
    tls: () => connectRedis({ url: `rediss://127.0.0.1:${tlsPort}`, tls: { ca: files.ca, cert: files.clientCert, key: files.clientKey }, logger: () => {} }),
  };
  console.log(`TLS (private CA, client certificates required) against plain TCP: ${chats} chats for ${seconds} s each, ${rounds} interleaved round(s)`);
  const rates: Record<string, number[]> = { plain: [], tls: [] };
  const cpu: Record<string, number[]> = { plain: [], tls: [] };
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const mode of ['plain', 'tls']) {
        const redis = await connect[mode]!();
        try {
          const app = await startChatApp(redis);
          const before = await redisCpuSeconds(redis);
          const started = performance.now();
          const run = runChats(app.url, { chats });
          await sleep(seconds * 1000);
          const calls = await run.stop();
          const ended = performance.now();
          const after = await redisCpuSeconds(redis);
          const result = await verify(app.url, run);
          const ok = calls.filter((call) => call.status === 200).length;
          rates[mode]!.push(ok / ((ended - started) / 1000));
          cpu[mode]!.push(((after - before) * 1e6) / ok);
          console.log(`round ${round}, ${mode}: ${Math.round(ok / ((ended - started) / 1000))} turns/s, redis-server CPU ${Math.round(((after - before) * 1e6) / ok)} µs per turn; lost ${result.lost}`);
          await app.close();
        } finally {
          await redis.close();
        }
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.dispose()));
    rmSync(dir, { recursive: true, force: true });
  }
  const ratios = rates.tls!.map((rate, index) => rate / rates.plain![index]!);
  const cpuRatios = cpu.tls!.map((value, index) => value / cpu.plain![index]!);
  console.log(`\nTLS / plain turns/s: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)})`);
  console.log(`TLS / plain redis-server CPU per turn: ${cpuRatios.map((ratio) => ratio.toFixed(2)).join(', ')} (median ${median(cpuRatios).toFixed(2)})`);
}

const POLICIES = ['volatile-lru', 'volatile-ttl', 'allkeys-lru', 'noeviction'];

/**
 * A Redis with a small maxmemory, filled to several times that with idle
 * sessions (10 turns, a tool call, an observation asked for) while 20 live
 * sessions keep appending a turn between every 50 new ones; per policy:
 * what became of the live and the idle sessions, and of the observer queue.
 */
async function eviction(): Promise<void> {
  const maxmemoryMb = 4;
  const fillers = Number(values.chats ?? 1_500);
  console.log(`Eviction: maxmemory ${maxmemoryMb} MB, ${fillers} idle sessions of 10 turns written while 20 live sessions keep appending`);
  for (const policy of POLICIES) {
    const server = await startRedisServer({ args: ['--maxmemory', `${maxmemoryMb}mb`, '--maxmemory-policy', policy] });
    const redis = await connectRedis({ url: server.url, logger: () => {} });
    const raw = await createClient({ url: server.url }).on('error', () => {}).connect();
    try {
      const store = createAgentStore({ redis });
      const live = await Promise.all(Array.from({ length: 20 }, () => store.create()));
      const liveTurns = new Map<string, number>(live.map((session) => [session.id, 0]));
      const idle: string[] = [];
      let refused = 0;
      for (let index = 0; index < fillers; index++) {
        try {
          const session = await store.create();
          idle.push(session.id);
          for (let turn = 0; turn < 10; turn++) await session.appendTurn({ role: 'user', content: `turn ${turn} `.repeat(40) });
          await session.startToolCall({ id: 'call_1', name: 'search', args: { q: 'x'.repeat(100) } });
          await session.requestObservation();
        } catch {
          refused += 1;
        }
        if (index % 50 === 0) {
          for (const session of live) {
            try {
              await session.appendTurn({ role: 'user', content: 'still here '.repeat(40) });
              liveTurns.set(session.id, liveTurns.get(session.id)! + 1);
            } catch {
              refused += 1;
            }
          }
        }
      }
      const state = async (id: string, expected?: number) => {
        const keys = sessionKeys('agent:', id);
        const [meta, turns] = await Promise.all([raw.exists(keys.meta), raw.lLen(keys.turns)]);
        if (!meta && turns === 0) return 'gone';
        if (meta && (expected === undefined ? turns === 10 : turns === Math.min(expected, 50))) return 'whole';
        return 'partial';
      };
      const count = async (ids: string[], expected?: (id: string) => number) => {
        const tally: Record<string, number> = { whole: 0, partial: 0, gone: 0 };
        for (const id of ids) tally[await state(id, expected?.(id))]! += 1;
        return `${tally.whole} whole, ${tally.partial} partial, ${tally.gone} gone`;
      };
      const info = await raw.info('stats');
      const evicted = /evicted_keys:(\d+)/.exec(info)?.[1];
      const queue = await raw.exists('agent:observer:default:jobs');
      console.log(
        `${policy}: live sessions ${await count([...liveTurns.keys()], (id) => liveTurns.get(id)!)}; ` +
          `idle sessions ${await count(idle)}; observer queue ${queue ? 'kept' : 'EVICTED'}; ${evicted} keys evicted; ${refused} writes refused`,
      );
    } finally {
      raw.destroy();
      await redis.close();
      await server.dispose();
    }
  }
}

async function redisCpuSeconds(redis: RedisConnection): Promise<number> {
  const info = String(await (redis.client as { info(section: string): Promise<string> }).info('cpu'));
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_sys') + field('used_cpu_user');
}

const TOPOLOGIES: Record<string, () => Promise<void>> = { 'sentinel-failover': sentinelFailover, aof, cluster, tls, eviction };
const chosen = topology ? TOPOLOGIES[topology] : undefined;
if (!chosen) {
  console.error(`usage: tsx scripts/topology.ts <${Object.keys(TOPOLOGIES).join('|')}> [--rounds N] [--chats N]`);
  process.exit(2);
}
await chosen();
