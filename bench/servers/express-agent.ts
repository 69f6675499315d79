/** Server 3: Express + agent-session. */
import { serveExpressAgent } from './express-agent-app.js';

await serveExpressAgent();
