/** Server 5: Koa + koa-session with a plain Redis external store and the agent state inside the session object. The peer. */
import { plainRedis, serve, settings } from './boot.js';
import { peerHandlers } from './handlers.js';
import { koaApp, koaCookieSession, koaSessionAccess } from './koa-app.js';

const { redisUrl, secret, window } = settings();
const client = await plainRedis(redisUrl);
const app = koaApp(secret, (koa) => [koaCookieSession(koa, client)], peerHandlers(koaSessionAccess, window));
await serve(app.callback(), () => client.close());
