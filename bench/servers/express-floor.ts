/** Server 1b: Express + express-session + connect-redis with a small session and no agent state. The floor. */
import { plainRedis, serve, settings } from './boot.js';
import { expressApp, expressCookieSession, expressSessionAccess } from './express-app.js';
import { floorHandlers } from './handlers.js';

const { redisUrl, secret } = settings();
const client = await plainRedis(redisUrl);
await serve(expressApp([expressCookieSession(client, secret)], floorHandlers(expressSessionAccess)), () => client.close());
