/**
 * The capacity figures of docs/capacity.md, measured on this machine, and
 * the plan computed from them:
 *
 *   npm run capacity                 # about 3 minutes on 2 cores; writes docs/capacity.md
 *   npm run capacity -- --quick      # a smaller look (writes nothing unless --write)
 *   npm run capacity -- --archive none   # without PostgreSQL
 *
 * - bytes per session at 1, 10 and 50 turns: MEMORY USAGE (exact) of every
 *   key of the session (metadata, turns, tool calls and their order, the
 *   observation job state), its share of the observer queue (one queued
 *   job each) and the cookie session, and the growth of used_memory, which
 *   also counts Redis's own key tables;
 * - Redis commands and redis-server CPU per request kind, through an
 *   Express app over HTTP (INFO cpu around each run; MONITOR, off during
 *   the runs, for the commands);
 * - observer jobs per second per worker process (bench/servers/observer.ts,
 *   an analyze that answers at once);
 * - archiver turns per second per process and PostgreSQL bytes per turn
 *   (bench/phases/archive-throughput.ts, then pg_total_relation_size).
 *
 * Starts its own redis-server (and PostgreSQL database, dropped at the end);
 * never touches the machine's Redis.
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import express from 'express';
import { connectRedis, createAgentStore, type AgentStore, type RedisConnection } from 'agent-session';
import { agentSession, agentSessionErrorHandler } from 'agent-session/express';
import { historyTurn, TURN_CONTENT_CHARS } from './contract.js';
import { openCommandLog, type CommandProfile } from './harness/command-log.js';
import { cpuSeconds } from './harness/cpu.js';
import { createBenchDatabase, type BenchDatabase } from './harness/postgres.js';
import { serverFile, startServer } from './harness/processes.js';
import { startBenchRedis, type BenchRedis } from './harness/redis.js';
import { runThroughput } from './phases/archive-throughput.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean' },
    archive: { type: 'string', default: 'throughput' },
    out: { type: 'string', default: fileURLToPath(new URL('../docs/capacity.md', import.meta.url)) },
  },
});
const quick = values.quick;
const write = values.write ?? !quick;
const SIZES = [1, 10, 50];
const MEMORY_SESSIONS = quick ? 200 : 1_000;
const REQUESTS_PER_RUN = quick ? 300 : 800;
const ROUNDS = quick ? 1 : 3;
const LOAD_LANES = 8;
const OBSERVER_JOBS = quick ? 400 : 2_000;
const OBSERVER_CONCURRENCY = [4, 16];
const OBSERVER_ROUNDS = quick ? 1 : 2;
const ARCHIVE_ROUNDS = quick ? 1 : 3;
const ARCHIVE_APPENDS = quick ? 1_500 : 5_000;

/** What the plan assumes; docs/capacity.md states each. */
const PLAN = {
  liveSessions: 10_000_000,
  /** Each live session sends a message every 5 minutes on average. */
  secondsBetweenMessages: 300,
  /** maxmemory per shard (GB, 1e9 bytes): room for fork copy-on-write and a bounded full resync. */
  shardMaxmemoryGb: 20,
  /** Share of one core a shard's main thread may use at the planned rate (headroom for bursts, rewrites, replication). */
  shardCpuBudget: 0.5,
  /** Model latency and concurrency of a real observer. */
  observerModelSeconds: 3,
  observerConcurrency: 32,
};

const progress = (line: string) => console.log(`[capacity] ${line}`);
const int = (value: number) => Math.round(value).toLocaleString('en-US');
const median = (list: number[]) => {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const range = (list: number[]) => (list.length > 1 ? ` (${int(Math.min(...list))}–${int(Math.max(...list))})` : '');

async function redisCpu(redis: BenchRedis): Promise<number> {
  const info = await redis.client.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_sys') + field('used_cpu_user');
}

async function usedMemory(redis: BenchRedis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.client.info('memory'))?.[1] ?? 0);
}

/** Runs `work(i)` for i in [0, count), `lanes` at a time. */
async function inLanes(count: number, lanes: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(lanes, count) }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const prose = (chars: number, seed: number) => historyTurn(seed).content.slice(0, chars);

// ---------------------------------------------------------------- memory

interface MemoryRow {
  turns: number;
  toolCalls: number;
  sessions: number;
  /** Sum of MEMORY USAGE of the session's own keys, per session. */
  keyBytes: number;
  /** Per key kind (meta, turns, ...), per session. */
  byKind: Map<string, number>;
  /** The observer queue's MEMORY USAGE divided by the sessions (one queued job each). */
  queueShare: number;
  /** used_memory growth per session. */
  usedMemory: number;
}

/** One session as an agent backend leaves it after `turns` turns: metadata, turns, tool calls, an observation asked for. */
async function fillSession(store: AgentStore, index: number, turns: number): Promise<void> {
  const session = await store.create({ userId: `user-${index}`, agentId: 'support-bot', model: 'gpt-4o', currentTask: 'answer the customer' });
  const toolCalls = Math.max(1, Math.round(turns / 10));
  for (let turn = 0; turn < turns; turn++) await session.appendTurn(historyTurn(turn));
  for (let call = 0; call < toolCalls; call++) {
    await session.startToolCall({ id: `call_${call}`, name: 'search_orders', args: { query: prose(80, call) } });
    await session.completeToolCall(`call_${call}`, { hits: [prose(150, call + 1), prose(150, call + 2)] });
  }
  await session.requestObservation();
}

async function measureMemory(redis: BenchRedis, connection: RedisConnection): Promise<{ rows: MemoryRow[]; cookieSession: number }> {
  const rows: MemoryRow[] = [];
  const store = createAgentStore({ redis: connection });
  // Loads every script first: the script cache would otherwise count against the first size's used_memory.
  await fillSession(store, 0, 10);
  for (const turns of SIZES) {
    await redis.flush();
    const before = await usedMemory(redis);
    await inLanes(MEMORY_SESSIONS, 16, (index) => fillSession(store, index, turns));
    const after = await usedMemory(redis);
    const keys = await redis.keys();
    const usage = await redis.memoryUsage(keys);
    const byKind = new Map<string, number>();
    let own = 0;
    let queue = 0;
    for (const [key, bytes] of usage) {
      const kind = /^agent:\{[^}]+\}:(.+)$/.exec(key)?.[1];
      if (kind) {
        own += bytes;
        byKind.set(kind, (byKind.get(kind) ?? 0) + bytes / MEMORY_SESSIONS);
      } else if (key.startsWith('agent:observer:')) queue += bytes;
    }
    rows.push({
      turns,
      toolCalls: Math.max(1, Math.round(turns / 10)),
      sessions: MEMORY_SESSIONS,
      keyBytes: own / MEMORY_SESSIONS,
      byKind,
      queueShare: queue / MEMORY_SESSIONS,
      usedMemory: (after - before) / MEMORY_SESSIONS,
    });
    progress(`${turns} turns: ${Math.round(own / MEMORY_SESSIONS)} B of keys + ${Math.round(queue / MEMORY_SESSIONS)} B of queue per session; used_memory +${Math.round((after - before) / MEMORY_SESSIONS)} B per session`);
  }
  // The cookie session (express-session through agent-session's store), from one request of an app.
  await redis.flush();
  const app = await startApp(connection);
  try {
    await send(app.url, 'append', undefined);
    const cookieKeys = [...(await redis.keys())].filter((key) => key.startsWith('agent:sess:'));
    const cookieSession = [...(await redis.memoryUsage(cookieKeys)).values()].reduce((sum, bytes) => sum + bytes, 0);
    return { rows, cookieSession };
  } finally {
    await app.close();
  }
}

// ---------------------------------------------------------------- request kinds

const KINDS = {
  read: 'GET /read: snapshot: metadata, the last 10 turns, the tool calls (5) and notes',
  append: 'POST /append: one user turn of about 450 bytes',
  touch: 'GET /touch: uses the cookie session, not the agent (TTL refresh only)',
  tool: 'POST /tool: startToolCall, then completeToolCall (two agent calls; the 50-call window full, so the oldest leaves)',
  observe: 'POST /observe: requestObservation',
  step: 'POST /step: a chat step: append the user turn, snapshot (10 turns), append the reply, requestObservation',
} as const;
type Kind = keyof typeof KINDS;

interface App {
  url: string;
  close(): Promise<void>;
}

async function startApp(redis: RedisConnection): Promise<App> {
  const app = express();
  app.use(express.json());
  app.use(agentSession({ redis, secret: 'capacity-secret-0123456789abcdef0123', cookie: { secure: false }, logger: () => {} }));
  const content = prose(TURN_CONTENT_CHARS, 7);
  let calls = 0;
  app.get('/read', async (req, res) => void res.json(await req.agent.snapshot({ lastTurns: 10 })));
  app.post('/append', async (req, res) => void res.json(await req.agent.appendTurn({ role: 'user', content })));
  app.get('/touch', (_req, res) => void res.json({ ok: true }));
  app.post('/tool', async (req, res) => {
    const id = `call_${(calls += 1)}`;
    await req.agent.startToolCall({ id, name: 'search_orders', args: { query: prose(80, calls) } });
    await req.agent.completeToolCall(id, { hits: [prose(150, calls), prose(150, calls + 1)] });
    res.json({ id });
  });
  app.post('/observe', async (req, res) => void res.json(await req.agent.requestObservation()));
  app.post('/step', async (req, res) => {
    await req.agent.appendTurn({ role: 'user', content });
    const snapshot = await req.agent.snapshot({ lastTurns: 10 });
    await req.agent.appendTurn({ role: 'assistant', content });
    await req.agent.requestObservation();
    res.json({ turns: snapshot.turns.length });
  });
  app.use(agentSessionErrorHandler());
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const METHOD: Record<Kind, 'GET' | 'POST'> = { read: 'GET', append: 'POST', touch: 'GET', tool: 'POST', observe: 'POST', step: 'POST' };

/** One request; returns the cookie the response set (the first request of a browser gets one). */
async function send(url: string, kind: Kind, cookie: string | undefined): Promise<string | undefined> {
  const response = await fetch(`${url}/${kind}`, { method: METHOD[kind], headers: cookie ? { cookie } : {} });
  if (!response.ok) throw new Error(`${kind} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
  return response.headers.get('set-cookie')?.split(';')[0] ?? cookie;
}

interface KindRow {
  kind: Kind;
  profile: CommandProfile;
  /** redis-server CPU µs per request, one figure per round. */
  cpuUs: number[];
}

async function measureKinds(redis: BenchRedis, connection: RedisConnection): Promise<KindRow[]> {
  await redis.flush();
  const app = await startApp(connection);
  const log = await openCommandLog(redis);
  try {
    // 32 browsers, each with a 50-turn conversation (the default window, full) and 5 finished tool calls,
    // as in the memory table; what a snapshot returns stays the same from round to round.
    const cookies: string[] = [];
    await inLanes(32, 8, async (index) => {
      let cookie = await send(app.url, 'append', undefined);
      for (let turn = 1; turn < 50; turn++) cookie = await send(app.url, 'append', cookie);
      for (let call = 0; call < 5; call++) cookie = await send(app.url, 'tool', cookie);
      cookies[index] = cookie!;
    });
    // Tool calls go to 8 browsers of their own, whose tool-call window (maxToolCalls, 50) is full from the start.
    const toolCookies: string[] = [];
    await inLanes(8, 8, async (index) => {
      let cookie = await send(app.url, 'append', undefined);
      for (let call = 0; call < 50; call++) cookie = await send(app.url, 'tool', cookie);
      toolCookies[index] = cookie!;
    });
    const cookiesFor = (kind: Kind) => (kind === 'tool' ? toolCookies : cookies);
    const kinds = Object.keys(KINDS) as Kind[];
    // Warm: every script loaded, every route compiled.
    for (const kind of kinds) for (const cookie of cookiesFor(kind).slice(0, 4)) await send(app.url, kind, cookie);
    const rows: KindRow[] = [];
    for (const kind of kinds) rows.push({ kind, profile: await log.profile(10, async () => void (await send(app.url, kind, cookiesFor(kind)[0]))), cpuUs: [] });
    for (let round = 1; round <= ROUNDS; round++) {
      for (const row of rows) {
        const before = await redisCpu(redis);
        let next = 0;
        const own = cookiesFor(row.kind);
        await inLanes(REQUESTS_PER_RUN, LOAD_LANES, async () => void (await send(app.url, row.kind, own[next++ % own.length])));
        row.cpuUs.push((((await redisCpu(redis)) - before) * 1e6) / REQUESTS_PER_RUN);
      }
      progress(`request kinds, round ${round}/${ROUNDS}: ${rows.map((row) => `${row.kind} ${Math.round(row.cpuUs.at(-1)!)} µs`).join(', ')} of redis-server CPU per request`);
    }
    return rows;
  } finally {
    await log.close();
    await app.close();
  }
}

// ---------------------------------------------------------------- observer

/** One figure per round in each list. */
interface ObserverRow {
  concurrency: number;
  jobs: number;
  jobsPerSecond: number[];
  workerCpuUsPerJob: number[];
  redisCpuUsPerJob: number[];
}

async function measureObserver(redis: BenchRedis, connection: RedisConnection): Promise<ObserverRow[]> {
  await redis.flush();
  const store = createAgentStore({ redis: connection });
  const ids: string[] = [];
  await inLanes(OBSERVER_JOBS, 16, async (index) => {
    const session = await store.create({ userId: `user-${index}` });
    for (let turn = 0; turn < 10; turn++) await session.appendTurn(historyTurn(turn));
    ids[index] = session.id;
  });
  const rows: ObserverRow[] = OBSERVER_CONCURRENCY.map((concurrency) => ({ concurrency, jobs: ids.length, jobsPerSecond: [], workerCpuUsPerJob: [], redisCpuUsPerJob: [] }));
  for (let round = 1; round <= OBSERVER_ROUNDS; round++) {
    for (const row of rows) {
      // A new turn and a new job for every session: each run has a turn to read.
      await inLanes(ids.length, 16, async (index) => {
        const session = store.session(ids[index]!, { user: `user-${index}` });
        await session.appendTurn({ role: 'user', content: prose(TURN_CONTENT_CHARS, index) });
        await session.requestObservation();
      });
      const worker = await startServer(serverFile('observer'), { REDIS_URL: redis.url, BENCH_OBSERVER_CONCURRENCY: String(row.concurrency) });
      const stats = async (method: 'GET' | 'POST', path: string) => (await (await fetch(worker.url + path, { method })).json()) as { written: number };
      try {
        const cpuBefore = cpuSeconds(worker.pid);
        const redisBefore = await redisCpu(redis);
        const started = performance.now();
        await stats('POST', '/start');
        while ((await stats('GET', '/stats')).written < ids.length) await new Promise((resolve) => setTimeout(resolve, 20));
        const seconds = (performance.now() - started) / 1000;
        const cpuAfter = cpuSeconds(worker.pid);
        row.jobsPerSecond.push(ids.length / seconds);
        row.redisCpuUsPerJob.push((((await redisCpu(redis)) - redisBefore) * 1e6) / ids.length);
        if (cpuBefore !== undefined && cpuAfter !== undefined) row.workerCpuUsPerJob.push(((cpuAfter - cpuBefore) * 1e6) / ids.length);
        progress(`observer, round ${round}/${OBSERVER_ROUNDS}, concurrency ${row.concurrency}: ${ids.length} jobs in ${seconds.toFixed(1)} s = ${Math.round(ids.length / seconds)} jobs/s`);
        await stats('POST', '/stop');
      } finally {
        await worker.stop();
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------- archiver and PostgreSQL

/** archivedPerSecond, appendRps, archiverCpuUsPerTurn: one figure per round. */
interface ArchiveRow {
  appendRps: number[];
  archivedPerSecond: number[];
  archiverCpuUsPerTurn: number[];
  turns: number;
  bytes: number;
  tables: Array<{ table: string; bytes: number }>;
}

async function measureArchive(redis: BenchRedis): Promise<ArchiveRow | string> {
  const outcome = await createBenchDatabase(process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  if ('unavailable' in outcome) return outcome.unavailable;
  const db: BenchDatabase = outcome.database;
  try {
    const part = await runThroughput(db, redis, { appends: ARCHIVE_APPENDS, rounds: ARCHIVE_ROUNDS, connections: 16, warmup: 1, progress });
    const { rows } = await db.pool.query<{ table: string; bytes: string }>(
      `SELECT c.relname AS table, pg_total_relation_size(c.oid)::bigint AS bytes
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'bench_throughput' AND c.relkind = 'r' ORDER BY 2 DESC`,
    );
    const tables = rows.map((row) => ({ table: row.table, bytes: Number(row.bytes) }));
    const row: ArchiveRow = {
      appendRps: part.stopped.map((round) => round.appendRps),
      archivedPerSecond: part.stopped.map((round) => round.archivedPerSecond).filter(Number.isFinite),
      archiverCpuUsPerTurn: part.stopped.flatMap((round) => (round.archiverCpuUsPerTurn === undefined ? [] : [round.archiverCpuUsPerTurn])),
      turns: part.check.archivedTurns,
      bytes: tables.reduce((sum, table) => sum + table.bytes, 0),
      tables,
    };
    progress(`archiver: ${Math.round(median(row.archivedPerSecond))} turns/s (median); PostgreSQL ${row.bytes} B for ${row.turns} turns`);
    return row;
  } finally {
    await db.drop();
  }
}

// ---------------------------------------------------------------- report

const gb = (bytes: number) => (bytes / 1e9).toFixed(1);

function report(meta: string, memory: { rows: MemoryRow[]; cookieSession: number }, kinds: KindRow[], observer: ObserverRow[], archive: ArchiveRow | string): string {
  const perSession = (row: MemoryRow) => Math.max(row.keyBytes + row.queueShare, row.usedMemory) + memory.cookieSession;
  const full = memory.rows.find((row) => row.turns === 50)!;
  const ten = memory.rows.find((row) => row.turns === 10)!;
  const step = kinds.find((row) => row.kind === 'step')!;
  const stepsPerSecond = PLAN.liveSessions / PLAN.secondsBetweenMessages;
  const totalMemory = PLAN.liveSessions * perSession(full);
  const memoryShards = Math.ceil(totalMemory / (PLAN.shardMaxmemoryGb * 1e9));
  const cpuCores = (stepsPerSecond * median(step.cpuUs)) / 1e6;
  const cpuShards = Math.ceil(cpuCores / PLAN.shardCpuBudget);
  const shards = Math.max(memoryShards, cpuShards);
  const observerCeiling = Math.max(...observer.map((row) => median(row.jobsPerSecond)));
  const archived = typeof archive === 'string' ? Number.NaN : median(archive.archivedPerSecond);
  const modelBound = PLAN.observerConcurrency / PLAN.observerModelSeconds;
  const turnsPerSecond = 2 * stepsPerSecond;
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  push(
    '# Capacity plan',
    '',
    `Generated by \`npm run capacity\` (bench/capacity.ts) ${meta}. Every figure in the tables was measured in that run; the plan below is arithmetic on them, with its assumptions stated. The machine is shared and small: treat CPU figures as upper bounds and re-run \`npm run capacity\` on your own hardware.`,
    '',
    '## Measured',
    '',
    '### Bytes per session',
    '',
    `${int(MEMORY_SESSIONS)} sessions per size, built through the store as an agent backend leaves them: metadata (user, agent, model, task), the turns (user and assistant alternating, about 500 bytes each as stored), one finished tool call per 10 turns (at least one; arguments about 100 bytes, result about 320), and one observation asked for and still queued. "Keys" is the sum of MEMORY USAGE (SAMPLES 0) of every key of the session; "queue" is the observer queue's MEMORY USAGE divided by the sessions; "used_memory" is the growth of INFO used_memory per session, which also counts Redis's key and expiry tables. The cookie session (express-session, through agent-session's store) adds ${memory.cookieSession} bytes (MEMORY USAGE of one, taken after a real request).`,
    '',
    '| turns | tool calls | keys (B) | by key | queue (B) | used_memory (B) | per session, planned (B) | sessions per GB |',
    '| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |',
  );
  for (const row of memory.rows) {
    const byKey = [...row.byKind].sort((a, b) => b[1] - a[1]).map(([kind, bytes]) => `${kind} ${int(bytes)}`).join(', ');
    push(`| ${row.turns} | ${row.toolCalls} | ${int(row.keyBytes)} | ${byKey} | ${int(row.queueShare)} | ${int(row.usedMemory)} | ${int(perSession(row))} | ${int(1e9 / perSession(row))} |`);
  }
  push(
    '',
    '"Per session, planned" is the larger of keys + queue and used_memory, plus the cookie session. Not included: idempotency records (about 200 bytes per key when `idempotencyKey` is used, at most `maxIdempotencyKeys`), the cold tier\'s backlog (changes not yet archived: empty once the archiver keeps up), observer notes (their size is whatever `analyze` returns), and a replica (the same again).',
    '',
    '### Redis commands and CPU per request kind',
    '',
    `Through an Express app with \`agentSession()\` over HTTP, on 32 conversations of 50 turns (the default window, full). Commands: sent by the app per request while MONITOR watched 10 requests one at a time ("in scripts": run inside Lua scripts, not round trips). redis-server CPU: INFO used_cpu_sys + used_cpu_user around ${REQUESTS_PER_RUN} requests, ${LOAD_LANES} at a time; median of ${ROUNDS} interleaved round(s)${ROUNDS > 1 ? ' (min–max)' : ''}. It includes Redis's network I/O on loopback.`,
    '',
    '| request | commands | in scripts | redis-server CPU µs |',
    '| --- | --- | ---: | ---: |',
  );
  for (const row of kinds) {
    const commands = row.profile.commands.map((command) => `${command.perRequest === 1 ? '' : `${command.perRequest.toFixed(1)}× `}\`${command.command}\``).join(', ');
    push(`| ${KINDS[row.kind]} | ${row.profile.perRequest.toFixed(1)}: ${commands} | ${row.profile.inScriptPerRequest.toFixed(1)} | ${int(median(row.cpuUs))}${range(row.cpuUs)} |`);
  }
  push(
    '',
    '### Workers',
    '',
    `Observer: one worker process (bench/servers/observer.ts) with an \`analyze\` that answers at once, draining ${int(observer[0]?.jobs ?? 0)} queued jobs, one per session (of 11 turns and more, a new turn each round); from \`start()\` until every job had written its notes; median of ${OBSERVER_ROUNDS} interleaved round(s)${OBSERVER_ROUNDS > 1 ? ' (min–max)' : ''}. This is the library's ceiling per process: with a real model, a process does at most \`concurrency\` ÷ model latency jobs per second.`,
    '',
    '| observer concurrency | jobs/s per process | worker CPU µs per job | redis-server CPU µs per job |',
    '| ---: | ---: | ---: | ---: |',
    ...observer.map(
      (row) =>
        `| ${row.concurrency} | ${int(median(row.jobsPerSecond))}${range(row.jobsPerSecond)} | ${row.workerCpuUsPerJob.length ? `${int(median(row.workerCpuUsPerJob))}${range(row.workerCpuUsPerJob)}` : ''} | ${int(median(row.redisCpuUsPerJob))}${range(row.redisCpuUsPerJob)} |`,
    ),
    '',
  );
  if (typeof archive === 'string') push(`Archiver: not measured (${archive}).`, '');
  else {
    push(
      `Archiver: bench/phases/archive-throughput.ts, ${ARCHIVE_ROUNDS} round(s): ${int(ARCHIVE_APPENDS)} appends to one session (16 connections, ${int(median(archive.appendRps))} appends/s) with the archiver stopped, then one archiver process (library defaults) drains the backlog: **${int(archived)} turns/s**${range(archive.archivedPerSecond)}${archive.archiverCpuUsPerTurn.length ? `, ${int(median(archive.archiverCpuUsPerTurn))} µs of archiver CPU per turn` : ''} (median${ARCHIVE_ROUNDS > 1 ? ', min–max' : ''}). One session is the archiver's slowest case (its backlog is drained by one lane, batch after batch); many sessions are drained by several lanes at once.`,
      '',
      `PostgreSQL: after that run the archive schema held ${int(archive.turns)} turns (about ${TURN_CONTENT_CHARS} characters of content each) in ${int(archive.bytes)} bytes (pg_total_relation_size of every table: heap, TOAST and indexes; ${archive.tables.map((table) => `${table.table} ${int(table.bytes)}`).join(', ')}), **${int(archive.bytes / archive.turns)} bytes per turn**.`,
      '',
    );
  }
  push(
    '## The plan, on paper',
    '',
    'Assumptions (change them in `PLAN` at the top of bench/capacity.ts):',
    '',
    `- ${int(PLAN.liveSessions)} live sessions, each with a full 50-turn window (the default \`maxTurns\`; a younger session is smaller, see the table).`,
    `- Each live session sends a message every ${PLAN.secondsBetweenMessages} s on average: ${int(stepsPerSecond)} chat steps per second, each a /step request as measured above (append the user turn, read the last 10, append the reply, ask for an observation): ${int(turnsPerSecond)} turns per second.`,
    `- A shard's maxmemory at most ${PLAN.shardMaxmemoryGb} GB (leave the host 25 % more RAM for copy-on-write during AOF rewrites and replica syncs), and its main thread at most ${PLAN.shardCpuBudget * 100} % busy at the planned rate.`,
    `- Observer: a model that takes ${PLAN.observerModelSeconds} s per analysis, ${PLAN.observerConcurrency} analyses at once per worker process.`,
    '- Redis CPU per request as measured here, on loopback; a network adds system time to Redis per request, so measure on your own hardware before you buy it.',
    '',
    '| quantity | figure | from |',
    '| --- | ---: | --- |',
    `| memory per session, 50 turns | ${int(perSession(full))} B | measured (table above) |`,
    `| memory per session, 10 turns | ${int(perSession(ten))} B | measured |`,
    `| sessions per GB (50 turns / 10 turns) | ${int(1e9 / perSession(full))} / ${int(1e9 / perSession(ten))} | 1e9 ÷ bytes per session |`,
    `| memory for ${int(PLAN.liveSessions)} sessions | ${gb(totalMemory)} GB (${gb(2 * totalMemory)} GB with one replica each) | sessions × bytes per session |`,
    `| shards for memory | ${memoryShards} | memory ÷ ${PLAN.shardMaxmemoryGb} GB |`,
    `| Redis CPU at ${int(stepsPerSecond)} steps/s | ${cpuCores.toFixed(1)} cores | steps/s × ${int(median(step.cpuUs))} µs per step |`,
    `| shards for CPU | ${cpuShards} | cores ÷ ${PLAN.shardCpuBudget} |`,
    `| **Redis Cluster shards (masters)** | **${shards}** | the larger of the two; each with one replica |`,
    `| observer jobs per second | at most ${int(stepsPerSecond)} | one per step; coalescing makes it fewer when messages come faster than analyses |`,
    `| observer processes, model-bound | ${int(Math.ceil(stepsPerSecond / Math.min(modelBound, observerCeiling)))} | jobs/s ÷ min(${PLAN.observerConcurrency} ÷ ${PLAN.observerModelSeconds} s = ${modelBound.toFixed(1)}, the measured ${int(observerCeiling)}) |`,
    `| observer processes, library-bound (instant model) | ${int(Math.ceil(stepsPerSecond / observerCeiling))} | jobs/s ÷ ${int(observerCeiling)} |`,
  );
  if (typeof archive !== 'string') {
    push(
      `| archiver processes | ${int(Math.ceil(turnsPerSecond / archived))} | ${int(turnsPerSecond)} turns/s ÷ ${int(archived)} (the one-session rate: an upper bound on processes) |`,
      `| PostgreSQL per million turns | ${gb(archive.bytes / archive.turns * 1e6)} GB | ${int(archive.bytes / archive.turns)} B per turn × 1e6 |`,
      `| PostgreSQL per day at ${int(turnsPerSecond)} turns/s | ${int(((archive.bytes / archive.turns) * turnsPerSecond * 86_400) / 1e9)} GB | per turn × turns/s × 86,400 (before retention and erasure) |`,
    );
  }
  push(
    '',
    `Reading it: at these assumptions ${cpuShards > memoryShards ? 'Redis CPU, not memory, sets the shard count; CPU per request is the figure most inflated by a loaded machine (see its spread), so re-measure it on the hardware you will use before sizing by it' : 'memory, not Redis CPU, sets the shard count; halve the message interval and CPU may take over'}. The observer is bound by the model, not by the library: size it by the model\'s latency and your provider\'s rate limits. How a session is spread over shards (one hash slot per session), eviction and persistence: [deployment.md](deployment.md).`,
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------- run

const started = Date.now();
const redis = await startBenchRedis();
const connection = await connectRedis({ url: redis.url, logger: () => {} });
try {
  const memory = await measureMemory(redis, connection);
  const kinds = await measureKinds(redis, connection);
  const observer = await measureObserver(redis, connection);
  await redis.flush();
  const archive = values.archive === 'none' ? 'skipped with --archive none' : await measureArchive(redis);
  const load = (await import('node:os')).loadavg().map((value) => value.toFixed(2)).join(' / ');
  const meta = `on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, Redis ${redis.version}, ${(await import('node:os')).cpus().length} cores, load average ${load} at the end; ${quick ? 'quick mode, ' : ''}the run took ${Math.round((Date.now() - started) / 1000)} s`;
  const text = report(meta, memory, kinds, observer, archive);
  if (write) {
    writeFileSync(values.out, text);
    progress(`wrote ${values.out}`);
  } else console.log(`\n${text}`);
} finally {
  await connection.close();
  await redis.close();
}
