import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { clientForThisFile, uniquePrefix } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { testCache } from './support.js';

/**
 * Concurrent identical calls run the tool once, across processes: one
 * caller takes the call's lock and runs it, the others wait for its result.
 */
const client = clientForThisFile();
const FIXTURE = fileURLToPath(new URL('./fixtures/caller-process.ts', import.meta.url));

interface Caller {
  pid: number;
  output: () => string;
  exited: Promise<void>;
  kill(): void;
}
const started: Caller[] = [];
afterEach(() => {
  for (const caller of started.splice(0)) caller.kill();
});

async function spawnCaller(env: Record<string, string>): Promise<Caller> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    env: { ...process.env, REDIS_URL: inject('redisUrl'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const caller = { pid: child.pid!, output: () => output, exited, kill: () => child.kill('SIGKILL') };
  started.push(caller);
  await eventually('the caller process is ready', () => output.includes('ready\n') || child.exitCode !== null, 20_000);
  if (!output.includes('ready\n')) throw new Error(`caller process exited:\n${output}`);
  return caller;
}

function resultsOf(caller: Caller): Array<{ source: string; result: { by: number } }> {
  const line = caller.output().split('\n').find((text) => text.startsWith('['));
  if (!line) throw new Error(`no results from ${caller.pid}:\n${caller.output()}`);
  return JSON.parse(line) as Array<{ source: string; result: { by: number } }>;
}

describe('single flight', () => {
  it('2 processes x 10 concurrent identical calls: the tool runs once, all 20 get its result', async () => {
    const prefix = uniquePrefix();
    const callers = await Promise.all([1, 2].map(() => spawnCaller({ KEY_PREFIX: prefix, CALLS: '10', TOOL_MS: '300' })));
    await client.rPush(`${prefix}test:go`, ['go', 'go']);
    await Promise.all(callers.map((caller) => caller.exited));
    const runs = await client.lRange(`${prefix}test:runs`, 0, -1);
    expect(runs).toHaveLength(1);
    const results = callers.flatMap(resultsOf);
    expect(results).toHaveLength(20);
    expect(new Set(results.map(({ result }) => result.by))).toEqual(new Set([Number(runs[0])]));
    expect(results.filter(({ source }) => source === 'run')).toHaveLength(1);
    expect(results.filter(({ source }) => source === 'cache')).toHaveLength(19);
    // The counts agree: 1 miss, 19 hits.
    expect(await client.hmGet(`${prefix}tool-cache:{slow_search}:stats`, ['misses', 'hits'])).toEqual(['1', '19']);
  });

  it('a runner that dies: its lock expires after lockMs and a waiter runs the tool itself', async () => {
    const prefix = uniquePrefix();
    const doomed = await spawnCaller({ KEY_PREFIX: prefix, MODE: 'hang', LOCK_MS: '800' });
    await client.rPush(`${prefix}test:go`, 'go');
    await eventually('the doomed runner started the tool', () => doomed.output().includes('running\n'));
    doomed.kill();
    await doomed.exited;
    const { cache } = testCache(client, { keyPrefix: prefix } as never);
    cache.register({ name: 'slow_search', scope: 'global', ttlMs: 60_000, audit: false, lockMs: 800 });
    const outcome = await cache.call('slow_search', { query: 'the same question' }, async () => ({ by: 'test' }));
    expect(outcome).toMatchObject({ source: 'run', result: { by: 'test' } });
  });

  it('a waiter that waited waitMs runs the tool itself, and the runner still finishes and stores', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'slow', scope: 'global', ttlMs: 60_000, audit: false, lockMs: 60_000, waitMs: 100 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running = false;
    const runner = cache.call('slow', {}, async () => {
      running = true;
      await gate;
      return 'runner';
    });
    await eventually('the runner holds the lock and runs the tool', () => running);
    await expect(cache.call('slow', {}, async () => 'waiter')).resolves.toMatchObject({ source: 'run', result: 'waiter' });
    release();
    await expect(runner).resolves.toMatchObject({ source: 'run', result: 'runner' });
    await expect(cache.call('slow', {}, async () => 'third')).resolves.toMatchObject({ source: 'cache', result: 'runner' });
  });

  it('a runner whose lock expired does not overwrite the entry stored by the caller that took the lock after it', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'slow', scope: 'global', ttlMs: 60_000, audit: false, lockMs: 100, waitMs: 60_000 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running = false;
    const late = cache.call('slow', {}, async () => {
      running = true;
      await gate;
      return 'stale';
    });
    await eventually('the first runner holds the lock and runs the tool', () => running);
    // Its lock expires (lockMs 100) while it runs: the next caller takes the lock, runs the tool and stores its result.
    await expect(cache.call('slow', {}, async () => 'fresh')).resolves.toMatchObject({ source: 'run', result: 'fresh' });
    release();
    // The late runner's caller gets its own result, but the newer entry stays.
    await expect(late).resolves.toMatchObject({ source: 'uncached', cached: false, result: 'stale' });
    await expect(cache.call('slow', {}, async () => 'third')).resolves.toMatchObject({ source: 'cache', result: 'fresh' });
  });

  it('a result too large to store does not pass the lock from waiter to waiter: the waiters run the tool at once', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'huge', scope: 'global', ttlMs: 60_000, audit: false, maxResultBytes: 16, waitMs: 60_000 });
    let releaseFirst!: () => void;
    const first = new Promise<void>((resolve) => (releaseFirst = resolve));
    let releaseWaiters!: () => void;
    const waitersGate = new Promise<void>((resolve) => (releaseWaiters = resolve));
    let runs = 0;
    let running = 0;
    const tool = async () => {
      runs += 1;
      running += 1;
      await (runs === 1 ? first : waitersGate);
      running -= 1;
      return 'x'.repeat(100);
    };
    const runner = cache.call('huge', {}, tool);
    await eventually('the first call runs the tool', () => runs === 1);
    const waiters = Array.from({ length: 3 }, () => cache.call('huge', {}, tool));
    // The cache shares this connection, whose replies come in order: after the PING's, the waiters' lookups are
    // answered too, and after setImmediate their promise chains have run (a waiter given the lock has started the tool).
    await client.ping();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(1);
    releaseFirst();
    await expect(runner).resolves.toMatchObject({ source: 'uncached' });
    await eventually('the 3 waiters run the tool at the same time', () => running === 3);
    releaseWaiters();
    expect((await Promise.all(waiters)).map(({ source }) => source)).toEqual(['uncached', 'uncached', 'uncached']);
  });

  it('a failed run is not shared: its waiters each run the tool themselves, at once', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'flaky', scope: 'global', ttlMs: 60_000, audit: false });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const tool = async () => {
      runs += 1;
      if (runs === 1) {
        await gate;
        throw new Error('upstream 502');
      }
      return 'ok';
    };
    const first = cache.call('flaky', { q: 1 }, tool);
    await eventually('the first call runs the tool', () => runs === 1);
    const waiters = Array.from({ length: 4 }, () => cache.call('flaky', { q: 1 }, tool));
    // The waiters wait on the lock: the tool does not run again while the first run is under way
    // (their lookups are answered before the PING on the same connection).
    await client.ping();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(1);
    release();
    await expect(first).rejects.toThrow('upstream 502');
    const outcomes = await Promise.all(waiters);
    expect(outcomes.map(({ result }) => result)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(runs).toBeLessThanOrEqual(5);
  });
});
