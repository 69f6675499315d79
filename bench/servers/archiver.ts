/**
 * The archiver in its own process, as an app runs it (beside its servers,
 * like the observer worker), with the library's default options. It starts
 * idle: the cold-tier stage starts and stops it over HTTP on loopback (the
 * same ready-and-port handshake as the servers), so that a drain is timed
 * from the moment archiving begins, not from process start-up.
 *
 *   POST /start   start archiving in the background    -> ArchiverStats
 *   POST /stop    stop, after the drains in progress   -> ArchiverStats
 *   GET  /stats                                        -> ArchiverStats
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connectRedis } from 'agent-session';
import { createArchiver, createPgArchive, type ArchiverStats } from 'agent-session/archive';
import { archiveSettings, serve, settings } from './boot.js';

const { redisUrl } = settings();
const { pgUrl, schema } = archiveSettings();
const redis = await connectRedis({ url: redisUrl });
const tier = createPgArchive({ connectionString: pgUrl, schema });
// Opens the pool's first connection now, so the first timed batch does not pay for it.
await tier.owner('bench-warm-up');
const archiver = createArchiver({ redis, archive: tier });

async function control(method: string | undefined, path: string | undefined): Promise<ArchiverStats | undefined> {
  if (method === 'POST' && path === '/start') archiver.start();
  else if (method === 'POST' && path === '/stop') await archiver.stop();
  else if (method !== 'GET' || path !== '/stats') return undefined;
  return archiver.stats;
}

function listener(req: IncomingMessage, res: ServerResponse): void {
  control(req.method, req.url).then(
    (stats) => {
      res.writeHead(stats ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats ?? { error: 'not_found' }));
    },
    (error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    },
  );
}

await serve(listener, async () => {
  await archiver.stop();
  await tier.close();
  await redis.close();
});
