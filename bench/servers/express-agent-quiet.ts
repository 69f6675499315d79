/**
 * Server 3q: server 3 with session events off (`events: false`: the scripts
 * publish nothing). Only `npm run bench:events` runs it, beside server 3.
 */
import { serveExpressAgent } from './express-agent-app.js';

await serveExpressAgent({ events: false });
