/**
 * Server 3a: server 3 with the cold tier on. Its appends also go to the
 * archive backlog for the archiver (bench/servers/archiver.ts, its own
 * process); the request path never talks to PostgreSQL for them.
 */
import { createPgArchive } from 'agent-session/archive';
import { archiveSettings } from './boot.js';
import { serveExpressAgent } from './express-agent-app.js';

const { pgUrl, schema, maxBacklog } = archiveSettings();
const tier = createPgArchive({ connectionString: pgUrl, schema });
await serveExpressAgent({ archive: { tier, ...(maxBacklog !== undefined ? { maxBacklog } : {}) } }, () => tier.close());
