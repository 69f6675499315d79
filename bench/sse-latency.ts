/**
 * `npm run bench:sse`: how long a change takes to reach a server-sent events
 * client, under append load. An Express app with agentSession() and
 * agentEvents() on a private redis-server; SESSIONS browsers each follow
 * their own conversation over GET /events while CONCURRENCY loops append
 * turns to those conversations over HTTP for SECONDS. The latency of one
 * event is its arrival at the client (Date.now()) minus its `at`, the Redis
 * server time of the change, taken inside the script that made it: both are
 * this machine's clock, at millisecond resolution.
 *
 *   npm run bench:sse -- --seconds 10 --sessions 16 --concurrency 16
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import express from 'express';
import { connectRedis } from 'agent-session';
import { agentEvents, agentSession } from 'agent-session/express';
import { startRedisServer } from '../test/harness/redis-server.js';
import { openSse, type SseStream } from '../test/harness/sse.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    sessions: { type: 'string', default: '16' },
    concurrency: { type: 'string', default: '16' },
  },
});
const seconds = Number(values.seconds);
const sessions = Number(values.sessions);
const concurrency = Number(values.concurrency);

const server = await startRedisServer();
const redis = await connectRedis({ url: server.url, logger: () => {} });
const app = express();
app.use(express.json());
app.use(agentSession({ redis, secret: randomBytes(32).toString('base64url'), cookie: { secure: 'auto' }, getUserId: () => 'bench' }));
app.post('/start', async (req, res) => {
  await req.agent.update({ agentId: 'bench' });
  res.json({ id: req.agent.id });
});
app.post('/turn', async (req, res) => {
  const turn = await req.agent.appendTurn({ role: 'user', content: 'a message of a usual length, some sixty characters or so.' });
  res.json({ seq: turn.seq });
});
app.get('/events', agentEvents());
const http = createServer(app);
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

try {
  const cookies: string[] = [];
  const streams: SseStream[] = [];
  for (let i = 0; i < sessions; i += 1) {
    const started = await fetch(`${base}/start`, { method: 'POST' });
    const cookie = (started.headers.get('set-cookie') ?? '').split(';')[0]!;
    cookies.push(cookie);
    const stream = await openSse(`${base}/events`, { cookie });
    await stream.next((event) => event.event === 'ready', 'ready');
    streams.push(stream);
  }

  let appends = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      for (let n = loop; Date.now() < deadline; n += concurrency) {
        const response = await fetch(`${base}/turn`, { method: 'POST', headers: { cookie: cookies[n % sessions]! } });
        await response.arrayBuffer();
        if (response.ok) appends += 1;
      }
    }),
  );
  // Every append's event, or give up after 5 s (a lost event would show as a count below the appends).
  const received = () => streams.reduce((sum, stream) => sum + stream.events.filter((event) => event.event === 'turn_appended').length, 0);
  for (const until = Date.now() + 5_000; received() < appends && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));

  const latencies = streams
    .flatMap((stream) => stream.events.filter((event) => event.event === 'turn_appended'))
    .map((event) => event.receivedAt - (JSON.parse(event.data) as { at: number }).at)
    .sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  const result = {
    seconds,
    sessions,
    concurrency,
    appendsPerSecond: Math.round(appends / seconds),
    appends,
    eventsReceived: latencies.length,
    latencyMs: { p50: percentile(50), p90: percentile(90), p99: percentile(99), max: latencies.at(-1) ?? Number.NaN },
  };
  console.log(
    `SSE event latency under append load (${sessions} streams, ${concurrency} writers, ${seconds} s): ` +
      `${result.appendsPerSecond} appends/s, ${result.eventsReceived}/${appends} events received; ` +
      `p50 ${result.latencyMs.p50} ms, p90 ${result.latencyMs.p90} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms (1 ms resolution)`,
  );
  console.log(JSON.stringify(result));
  for (const stream of streams) stream.close();
} finally {
  http.closeAllConnections();
  http.close();
  await redis.close();
  await server.dispose();
}
