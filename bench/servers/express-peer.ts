/** Server 2: Express + express-session + connect-redis with the agent state inside the session object. The peer. */
import { plainRedis, serve, settings } from './boot.js';
import { expressApp, expressCookieSession, expressSessionAccess } from './express-app.js';
import { peerHandlers } from './handlers.js';

const { redisUrl, secret, window } = settings();
const client = await plainRedis(redisUrl);
await serve(expressApp([expressCookieSession(client, secret)], peerHandlers(expressSessionAccess, window)), () => client.close());
