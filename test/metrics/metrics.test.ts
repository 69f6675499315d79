import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, connectRedis, createAgentStore, HTTP_STATUS_BY_CODE, type RedisConnection } from 'agent-session';
import { agentMetrics, type AgentMetrics } from 'agent-session/metrics';
import { createObserverWorker } from 'agent-session/observer';
import { SessionStore } from '../../src/core/agent-store.js';
import { ACL_LINES, aclSetUserArguments } from '../acl/lines.js';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { uniquePrefix } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS, startApp, type TestApp } from '../middleware/apps.js';
import { Browser } from '../middleware/browser.js';
import { labelValues, scrape, value, type Scrape } from './scrape.js';

/**
 * agent-session/metrics in one process: the figures move as the library
 * works (requests by outcome, operations, the connection, the observer
 * queue and runs, the notes lag, the Redis server's figures), the number of
 * series does not grow with sessions or users, and INFO is read at a bounded
 * rate. One redis-server of this file's own (stopped and frozen by some
 * tests); every scrape is of a registry of the test's own. The library
 * reports per process, so each test compares figures before and after.
 */

let server: RedisServer;
let redis: RedisConnection;
const opened: Array<{ close(): unknown }> = [];

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, logger: () => {} });
});
afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await thing.close();
});
afterAll(async () => {
  await redis?.close();
  await server?.dispose();
});

function metricsOn(options: Omit<Parameters<typeof agentMetrics>[0], 'register'> = { redis }): { registry: Registry; metrics: AgentMetrics } {
  const registry = new Registry();
  const metrics = agentMetrics({ sampleEveryMs: 0, ...options, register: registry });
  opened.push(metrics);
  return { registry, metrics };
}

async function app(framework: (typeof FRAMEWORKS)[number], keyPrefix = uniquePrefix()): Promise<TestApp> {
  const started = await startApp(framework, { redis, keyPrefix, trustProxy: true });
  opened.push(started);
  return started;
}

const served = (samples: Scrape) => value(samples, 'agent_session_requests_total{outcome="served"}');
const opCount = (samples: Scrape, operation: string) => value(samples, `agent_session_operation_duration_seconds_count{operation="${operation}"}`);

describe.each(FRAMEWORKS)('%s: requests and operations', (framework) => {
  it('a chat raises the served count and the operation histogram', async () => {
    const { registry } = metricsOn();
    const browser = new Browser(await app(framework));
    const before = await scrape(registry);
    expect((await browser.post('/login', { userId: 'ada' })).status).toBe(200);
    for (const content of ['hello', 'where is my order?']) expect((await browser.post('/turn', { content })).status).toBe(200);
    const after = await scrape(registry);

    expect(served(after) - served(before)).toBe(3);
    expect(opCount(after, 'append-turn') - opCount(before, 'append-turn')).toBe(2);
    const bucket = (samples: Scrape) => value(samples, 'agent_session_operation_duration_seconds_bucket{le="+Inf",operation="append-turn"}');
    expect(bucket(after) - bucket(before)).toBe(2);
    expect(value(after, 'agent_session_operation_duration_seconds_sum{operation="append-turn"}')).toBeGreaterThan(
      value(before, 'agent_session_operation_duration_seconds_sum{operation="append-turn"}'),
    );
    for (const outcome of ['store_unavailable', 'user_mismatch', 'input_refused']) expect(value(after, `agent_session_requests_total{outcome="${outcome}"}`)).toBe(0);
  });

  it('a request the middleware refuses counts under its outcome and not as served: 403 user mismatch, 413 input refused', async () => {
    const { registry } = metricsOn();
    const ada = new Browser(await app(framework));
    await ada.post('/login', { userId: 'ada' });
    expect((await ada.post('/turn', { content: 'mine' })).status).toBe(200);
    const before = await scrape(registry);
    // The same cookie with another user's token: the agent session is bound to ada.
    expect((await ada.post('/turn', { content: 'not yours' }, { 'x-user': 'eve' })).status).toBe(403);
    expect((await ada.post('/turn', { content: 'x'.repeat(40 * 1024) })).status).toBe(413);
    const after = await scrape(registry);
    expect(value(after, 'agent_session_requests_total{outcome="user_mismatch"}') - value(before, 'agent_session_requests_total{outcome="user_mismatch"}')).toBe(1);
    expect(value(after, 'agent_session_requests_total{outcome="input_refused"}') - value(before, 'agent_session_requests_total{outcome="input_refused"}')).toBe(1);
    expect(served(after) - served(before)).toBe(0);
  });
});

describe('the connection', () => {
  it('stopping Redis raises the 503 count and the reconnects, the state reads reconnecting, then ready once Redis is back', async () => {
    const { registry } = metricsOn();
    const browser = new Browser(await app('express'));
    await browser.post('/login', { userId: 'ada' });
    const before = await scrape(registry);
    expect(value(before, 'agent_session_redis_connection_state{state="ready"}')).toBe(1);

    await server.stop();
    try {
      await eventually('the connection to notice', async () => value(await scrape(registry), 'agent_session_redis_connection_state{state="reconnecting"}') === 1);
      expect((await browser.post('/turn', { content: 'hello' })).status).toBe(503);
      const down = await scrape(registry);
      expect(value(down, 'agent_session_requests_total{outcome="store_unavailable"}') - value(before, 'agent_session_requests_total{outcome="store_unavailable"}')).toBe(1);
      expect(served(down)).toBe(served(before));
      expect(value(down, 'agent_session_redis_connection_state{state="ready"}')).toBe(0);
      expect(value(down, 'agent_session_redis_reconnects_total')).toBeGreaterThan(value(before, 'agent_session_redis_reconnects_total'));
      // The server's figures cannot be read: absent, not zero; the scrape itself still answers.
      expect(down.has('agent_session_redis_used_memory_bytes')).toBe(false);
    } finally {
      await server.restart();
    }
    await eventually('the connection to be ready again', async () => value(await scrape(registry), 'agent_session_redis_connection_state{state="ready"}') === 1);
    expect((await browser.post('/turn', { content: 'back' })).status).toBe(200);
  });

  it('a call that hits the fail-fast bound counts as a timeout', async () => {
    const frozen = await connectRedis({ url: server.url, failFastMs: 300, probe: false, logger: () => {} });
    opened.push(frozen);
    const { registry } = metricsOn();
    const store = createAgentStore({ redis: frozen, keyPrefix: uniquePrefix() });
    const session = await store.create({ userId: 'ada' });
    const before = value(await scrape(registry), 'agent_session_redis_timeouts_total');
    server.freeze();
    try {
      await expect(session.touch()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    } finally {
      server.thaw();
    }
    const after = await scrape(registry);
    expect(value(after, 'agent_session_redis_timeouts_total') - before).toBe(1);
    expect(value(after, 'agent_session_operation_errors_total{operation="touch",code="STORE_UNAVAILABLE"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('the observer', () => {
  it('a queued observation shows in the queue length until a worker runs it; the run is counted with its duration', async () => {
    const keyPrefix = uniquePrefix();
    const store = new SessionStore({ redis, keyPrefix });
    const session = await store.create({ userId: 'ada' });
    await session.appendTurn({ role: 'user', content: 'hello' });
    const { registry } = metricsOn({ redis, keyPrefix });
    const length = async () => (await scrape(registry)).get('agent_session_observer_queue_length{kind="default"}');
    expect(await length()).toBe(0);

    await session.requestObservation();
    const queued = await scrape(registry);
    expect(queued.get('agent_session_observer_queue_length{kind="default"}')).toBe(1);
    expect(queued.get('agent_session_observer_queue_pending{kind="default"}')).toBe(0);
    // In seconds, not ms: the job was queued moments ago (a wide bound; this checks the unit, not a timing).
    const oldestAge = queued.get('agent_session_observer_queue_oldest_age_seconds{kind="default"}');
    expect(oldestAge).toBeGreaterThanOrEqual(0);
    expect(oldestAge).toBeLessThan(60);

    let release!: () => void;
    const running = new Promise<void>((resolve) => (release = resolve));
    const worker = createObserverWorker({
      redis,
      keyPrefix,
      pollIntervalMs: 20,
      logger: () => {},
      analyze: async () => {
        await running;
        return { summary: 'seen' };
      },
    });
    opened.push({ close: () => worker.stop() });
    const workerMetrics = metricsOn({ redis, keyPrefix, observer: worker, observerKinds: [] });
    await worker.start();
    await eventually('the job to be pending with the worker', async () => (await scrape(registry)).get('agent_session_observer_queue_pending{kind="default"}') === 1);
    expect(await length()).toBe(1);
    release();
    await eventually('the queue to empty', async () => (await length()) === 0);
    const done = await scrape(workerMetrics.registry);
    expect(done.get('agent_session_observer_runs_total{kind="default",outcome="written"}')).toBe(1);
    expect(done.get('agent_session_observer_run_duration_seconds_count{kind="default"}')).toBe(1);
    expect(done.get('agent_session_observer_queue_length{kind="default"}')).toBe(0);
    expect(done.has('agent_session_observer_queue_oldest_age_seconds{kind="default"}')).toBe(false);
  });

  it('reading notes records the turns they miss', async () => {
    const store = new SessionStore({ redis, keyPrefix: uniquePrefix() });
    const session = await store.create({ userId: 'ada' });
    await session.appendTurn({ role: 'user', content: 'one' });
    await session.writeNotes({ summary: 'x' }, { coversThroughSeq: 1 });
    for (const content of ['two', 'three', 'four']) await session.appendTurn({ role: 'user', content });
    const { registry } = metricsOn();
    const before = await scrape(registry);
    expect(await session.notes()).toMatchObject({ ready: true, lagTurns: 3 });
    const after = await scrape(registry);
    expect(value(after, 'agent_session_observer_notes_lag_turns_count') - value(before, 'agent_session_observer_notes_lag_turns_count')).toBe(1);
    expect(value(after, 'agent_session_observer_notes_lag_turns_sum') - value(before, 'agent_session_observer_notes_lag_turns_sum')).toBe(3);
    expect(value(after, 'agent_session_observer_notes_lag_turns_bucket{le="2"}') - value(before, 'agent_session_observer_notes_lag_turns_bucket{le="2"}')).toBe(0);
    expect(value(after, 'agent_session_observer_notes_lag_turns_bucket{le="3"}') - value(before, 'agent_session_observer_notes_lag_turns_bucket{le="3"}')).toBe(1);
  });
});

describe('cardinality', () => {
  it('the number of series is the same after 40 and after 240 sessions of distinct users, and no label value is a session or user id', async () => {
    const { registry } = metricsOn();
    const target = await app('koa');
    const ids: string[] = [];
    const users: string[] = [];
    const converse = async (count: number) => {
      await Promise.all(
        Array.from({ length: count }, async () => {
          const user = `user-${randomBytes(6).toString('hex')}`;
          users.push(user);
          const browser = new Browser(target);
          await browser.post('/login', { userId: user });
          await browser.post('/turn', { content: 'hello' });
          await browser.post('/tool');
          await browser.get('/state');
          // A refused one too: another user's token on this cookie.
          expect((await browser.post('/turn', { content: 'x' }, { 'x-user': `${user}-other` })).status).toBe(403);
          const id = (await browser.post('/turn', { content: 'bye' })).body.agentSessionId as string;
          ids.push(id);
        }),
      );
    };
    // The scrape's own queue read shows as an operation from the second scrape on.
    await scrape(registry);
    await converse(40);
    const first = await scrape(registry);
    await converse(200);
    const second = await scrape(registry);

    // Errors may add a code the first round did not meet (a fail-fast timeout on a loaded machine): those are
    // checked against the fixed list of codes; every other series is the same set.
    const errors = /^agent_session_operation_errors_total\{operation="([a-z-]+)",code="([A-Z_]+)"\}$/;
    const series = (samples: Scrape) => [...samples.keys()].filter((name) => !name.startsWith('agent_session_redis_') && !errors.test(name)).sort();
    expect(series(second)).toEqual(series(first));
    for (const name of second.keys()) {
      const code = errors.exec(name)?.[2];
      if (code !== undefined) expect(Object.keys(HTTP_STATUS_BY_CODE).concat('OTHER')).toContain(code);
    }
    expect(served(second)).toBeGreaterThan(served(first));
    const labels = new Set(labelValues(second));
    expect(ids.filter((id) => labels.has(id))).toEqual([]);
    expect(users.filter((user) => labels.has(user))).toEqual([]);
    expect(ids).toHaveLength(240);
  }, 60_000);
});

describe('the Redis server figures', () => {
  /** INFO calls the server has answered so far (this read is counted after it answers). */
  async function infoCalls(client: { info(section: string): Promise<unknown> }): Promise<number> {
    const stats = String(await client.info('commandstats'));
    return Number(/cmdstat_info:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  it('are read with one INFO per sampleEveryMs whatever the number of scrapes and registries', async () => {
    const admin = createClient({ url: server.url });
    await admin.connect();
    opened.push({ close: () => admin.close() });
    const sampler = await connectRedis({ url: server.url, logger: () => {} });
    opened.push(sampler);
    const one = new Registry();
    const two = new Registry();
    opened.push(agentMetrics({ redis: sampler, register: one, sampleEveryMs: 60_000 }), agentMetrics({ redis: sampler, register: two, sampleEveryMs: 60_000 }));
    const before = await infoCalls(admin);
    const scrapes = await Promise.all([scrape(one), scrape(two), scrape(one), scrape(two), scrape(one)]);
    await scrape(two);
    // The read of `before` itself is counted once it has answered.
    expect((await infoCalls(admin)) - before - 1).toBe(1);
    for (const samples of scrapes) {
      expect(samples.get('agent_session_redis_used_memory_bytes')).toBeGreaterThan(0);
      expect(samples.get('agent_session_redis_connected_clients')).toBeGreaterThanOrEqual(2);
      expect(samples.has('agent_session_redis_maxmemory_bytes')).toBe(true);
      expect(samples.has('agent_session_redis_keyspace_hits_total')).toBe(true);
      expect(samples.has('agent_session_redis_evicted_keys_total')).toBe(true);
      // No replicas on this server: no lag to report.
      expect(samples.has('agent_session_redis_replica_lag_bytes')).toBe(false);
    }
  });

  it('with a replica attached, the replication offset lag is reported (0 once it has caught up)', async () => {
    const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(server.port)] });
    opened.push({ close: () => replica.dispose() });
    const { registry } = metricsOn();
    await eventually('the replica to be listed', async () => (await scrape(registry)).has('agent_session_redis_replica_lag_bytes'), 20_000);
    await createAgentStore({ redis, keyPrefix: uniquePrefix() }).create();
    await eventually('the replica to catch up', async () => (await scrape(registry)).get('agent_session_redis_replica_lag_bytes') === 0, 20_000);
  });

  it('a Redis user without +info: one warning naming the fix, the figures absent, everything else reported', async () => {
    const admin = createClient({ url: server.url });
    await admin.connect();
    opened.push({ close: () => admin.close() });
    const password = randomBytes(8).toString('hex');
    await admin.sendCommand(['ACL', 'SETUSER', ...aclSetUserArguments(ACL_LINES.app, { user: 'metrics-app', password })]);
    const limited = await connectRedis({ url: `redis://metrics-app:${password}@127.0.0.1:${server.port}`, logger: () => {} });
    opened.push(limited);
    const warnings: string[] = [];
    const { registry } = metricsOn({ redis: limited, logger: (line) => warnings.push(line) });
    const first = await scrape(registry);
    const second = await scrape(registry);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('+info');
    for (const samples of [first, second]) {
      expect([...samples.keys()].filter((series) => /^agent_session_redis_(used_memory|maxmemory|connected_clients|evicted|expired|keyspace)/.test(series))).toEqual([]);
      expect(samples.get('agent_session_redis_connection_state{state="ready"}')).toBe(1);
      expect(samples.has('agent_session_requests_total{outcome="served"}')).toBe(true);
      expect(samples.has('agent_session_observer_queue_length{kind="default"}')).toBe(true);
    }
  });
});

describe('agentMetrics()', () => {
  it('close() removes the metrics and stops counting; a second call on the same registry is refused', async () => {
    const { registry, metrics } = metricsOn();
    expect(() => agentMetrics({ redis, register: registry })).toThrow(ConfigError);
    expect(metrics.names).toContain('agent_session_requests_total');
    metrics.close();
    expect(await registry.metrics()).toBe('\n');
    const again = metricsOn({ redis });
    const store = createAgentStore({ redis, keyPrefix: uniquePrefix() });
    await store.create();
    expect(value(await scrape(again.registry), 'agent_session_operation_duration_seconds_count{operation="create"}')).toBe(1);
  });

  it('refuses unknown options and a wrong redis, naming the fix', () => {
    expect(() => agentMetrics({ redis, registry: new Registry() } as never)).toThrow(/registry.*register|register.*registry/);
    expect(() => agentMetrics({ redis: {} } as never)).toThrow(/connectRedis/);
    expect(() => agentMetrics({ redis, sampleEveryMs: -1 })).toThrow(ConfigError);
  });
});
