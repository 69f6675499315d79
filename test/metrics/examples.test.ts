import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { freePort, startRedisServer } from '../harness/redis-server.js';
import { eventually } from '../harness/wait.js';
import { Browser } from '../middleware/browser.js';
import { listening, printed, runExample, stop, type Example } from '../examples/processes.js';
import { parseMetrics, value, type Scrape } from './scrape.js';

/**
 * The examples' metrics over HTTP, each example a real process as users run
 * it: the servers' GET /metrics, the observer worker's and the archiver's
 * endpoint on METRICS_PORT. A chat raises the served count and the operation
 * histogram, the chat's observation shows in the queue length until the
 * worker runs it, stopping Redis raises the 503 count.
 */

/** The port a worker printed for its metrics endpoint. */
async function metricsUrl(worker: Example, name: string): Promise<string> {
  await printed(worker, `${name}: metrics on `);
  const match = new RegExp(`${name}: metrics on (http://\\S+/metrics)`).exec(worker.output());
  return match![1]!;
}

async function scrapeUrl(url: string): Promise<Scrape> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}

describe.each([
  ['Express', 'examples/express-server.ts'],
  ['Koa', 'examples/koa-server.ts'],
])('%s example server, observer worker and archiver', (name, file) => {
  it('serve metrics that follow a chat, the observer queue and its run, the archive, and a stopped Redis', async () => {
    const redis = await startRedisServer();
    const port = await freePort();
    const cold: Record<string, string> = name === 'Express' ? { DATABASE_URL: inject('pgUrl') } : {};
    const env = { REDIS_URL: redis.url, METRICS_SAMPLE_MS: '0', ...cold };
    const processes: Example[] = [];
    try {
      const server = runExample(file, { ...env, PORT: String(port) });
      processes.push(server);
      await listening(server, `http://localhost:${port}`);
      const url = `http://127.0.0.1:${port}`;
      const metrics = () => scrapeUrl(`${url}/metrics`);
      const before = await metrics();
      expect(before.get('agent_session_redis_connection_state{state="ready"}')).toBe(1);
      expect(before.get('agent_session_redis_used_memory_bytes')).toBeGreaterThan(0);
      expect(before.get('agent_session_observer_queue_length{kind="default"}')).toBe(0);

      const browser = new Browser(url, {});
      expect((await browser.post('/login', { userId: `ada-${randomBytes(4).toString('hex')}` })).status).toBe(200);
      expect((await browser.post('/chat', { message: 'Where is my order?' })).status).toBe(200);
      const chatted = await metrics();
      expect(value(chatted, 'agent_session_requests_total{outcome="served"}') - value(before, 'agent_session_requests_total{outcome="served"}')).toBe(2);
      expect(value(chatted, 'agent_session_operation_duration_seconds_count{operation="append-turn"}')).toBe(2);
      expect(value(chatted, 'agent_session_operation_duration_seconds_count{operation="start-tool-call"}')).toBe(1);
      // The scripted agent's tool went through the tool cache: one miss, nothing cached yet.
      expect(chatted.get('agent_session_tool_cache_misses_total{tool="count_words"}')).toBe(1);
      expect(chatted.get('agent_session_tool_cache_hits_total{tool="count_words"}')).toBe(0);
      // The chat asked for an observation; no worker runs yet.
      expect(chatted.get('agent_session_observer_queue_length{kind="default"}')).toBe(1);

      const worker = runExample('examples/observer-worker.ts', { REDIS_URL: redis.url, METRICS_SAMPLE_MS: '0' });
      processes.push(worker);
      const workerMetrics = await metricsUrl(worker, 'observer');
      await eventually('the worker to run the job', async () => (await metrics()).get('agent_session_observer_queue_length{kind="default"}') === 0, 20_000);
      const observed = await scrapeUrl(workerMetrics);
      expect(observed.get('agent_session_observer_runs_total{kind="default",outcome="written"}')).toBe(1);
      expect(observed.get('agent_session_observer_run_duration_seconds_count{kind="default"}')).toBe(1);
      expect(value(observed, 'agent_session_operation_duration_seconds_count{operation="write-notes"}')).toBe(1);
      expect((await fetch(workerMetrics.replace('/metrics', '/other'))).status).toBe(404);

      if (name === 'Express') {
        const archiver = runExample('examples/archiver-worker.ts', env);
        processes.push(archiver);
        const archiverMetrics = await metricsUrl(archiver, 'archiver');
        await eventually('the archiver to copy the turns', async () => value(await scrapeUrl(archiverMetrics), 'agent_session_archive_records_total{kind="turn"}') >= 2, 20_000);
        await eventually('the archive backlog to empty', async () => (await scrapeUrl(archiverMetrics)).get('agent_session_archive_backlog_entries') === 0, 20_000);
        const archived = await scrapeUrl(archiverMetrics);
        expect(archived.get('agent_session_archive_errors_total')).toBe(0);
        // The archiver's Redis user need not read the observer queues: it reports none.
        expect([...archived.keys()].some((series) => series.startsWith('agent_session_observer_queue'))).toBe(false);
      }

      await redis.stop();
      expect((await browser.post('/chat', { message: 'anyone?' })).status).toBe(503);
      const down = await metrics();
      expect(value(down, 'agent_session_requests_total{outcome="store_unavailable"}')).toBe(1);
      expect(value(down, 'agent_session_requests_total{outcome="served"}')).toBe(value(chatted, 'agent_session_requests_total{outcome="served"}'));
      expect(down.get('agent_session_redis_connection_state{state="ready"}')).toBe(0);
    } finally {
      await Promise.all(processes.map(stop));
      await redis.dispose();
    }
  }, 90_000);
});
