/**
 * The observer worker in its own process, as an app runs it, with an
 * `analyze` that answers at once (small notes, no model call): what one
 * process can do when the model is not the bottleneck. It starts idle; the
 * capacity run (bench/capacity.ts) starts it over loopback once the jobs are
 * queued, so the time measured is the draining, not the start-up.
 *
 *   POST /start   start taking jobs       -> { written, finished }
 *   POST /stop    stop (runs finish)      -> { written, finished }
 *   GET  /stats                           -> { written, finished }
 *
 * BENCH_OBSERVER_CONCURRENCY sets `concurrency` (default: the library's).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connectRedis } from 'agent-session';
import { createObserverWorker } from 'agent-session/observer';
import { serve, settings } from './boot.js';

const { redisUrl } = settings();
const redis = await connectRedis({ url: redisUrl, logger: () => {} });
const stats = { written: 0, finished: 0 };
const concurrency = Number(process.env.BENCH_OBSERVER_CONCURRENCY);
const worker = createObserverWorker({
  redis,
  ...(Number.isSafeInteger(concurrency) && concurrency > 0 ? { concurrency } : {}),
  analyze: async ({ turns, meta }) => ({ summary: `${turns.length} turns`, through: meta.turnCount }),
  logger: (event) => {
    if (event.type !== 'run-finished') return;
    stats.finished += 1;
    if (event.outcome === 'written') stats.written += 1;
  },
});

async function control(method: string | undefined, path: string | undefined): Promise<typeof stats | undefined> {
  if (method === 'POST' && path === '/start') await worker.start();
  else if (method === 'POST' && path === '/stop') await worker.stop();
  else if (method !== 'GET' || path !== '/stats') return undefined;
  return stats;
}

function listener(req: IncomingMessage, res: ServerResponse): void {
  control(req.method, req.url).then(
    (body) => {
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: 'not_found' }));
    },
    (error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    },
  );
}

await serve(listener, async () => {
  await worker.stop();
  await redis.close();
});
