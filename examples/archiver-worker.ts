/**
 * The archiver beside the example servers: it copies every change the
 * servers queue in Redis (turns, tool calls, notes, metadata) into
 * PostgreSQL, where GET /conversations, GET /history and the restore of an
 * expired conversation find them.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run demo       # the server, in one terminal
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run archiver   # this worker, in another
 *
 * REDIS_URL (default redis://127.0.0.1:6379) and KEY_PREFIX (default
 * "agent:") must match the server's; METRICS_PORT (default 9465, "off")
 * serves its Prometheus metrics. Start as many of these as you like, on
 * any machine: they share the work, and no session is archived twice or out
 * of order. While none runs, the servers go on, and each conversation's
 * backlog waits in Redis (bounded: past `archive.maxBacklog` changes, that
 * conversation's writes are refused with a 503 until an archiver catches up).
 */
import { connectRedis } from 'agent-session';
import { createArchiver } from 'agent-session/archive';
import { openArchive } from './shared/archive.js';
import { serveMetrics, startMetrics } from './shared/metrics.js';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('Cannot start the archiver: set DATABASE_URL to the PostgreSQL database the example servers archive into.');
  process.exit(1);
}

const redis = await connectRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }).catch((error: Error) => {
  console.error(`Cannot start the archiver: ${error.message}`);
  process.exit(1);
});
// Migrating here too: whichever of the server and the archiver starts first brings the schema up to date.
const archive = await openArchive(databaseUrl).catch(async (error: Error) => {
  console.error(`Cannot start the archiver: ${error.message}`);
  await redis.close();
  process.exit(1);
});

const archiver = createArchiver({ redis, archive, keyPrefix: process.env.KEY_PREFIX ?? 'agent:' });
await archiver.start();
console.log('archiver: copying conversations from Redis into PostgreSQL; Ctrl-C to stop');
// Prometheus metrics (README "Metrics"): what it archived, its errors, the backlog, Redis; GET /metrics on
// METRICS_PORT (default 9465, "off": none). No observer queues: the archiver's Redis user does not read them.
startMetrics({ redis, archiver, observerKinds: [] });
serveMetrics('archiver', 9465);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log('archiver: stopping (what is not archived yet stays in Redis for the next archiver)');
    void Promise.resolve(archiver.stop())
      .then(() => archive.close())
      .then(() => redis.close())
      .finally(() => process.exit(0));
  });
}
