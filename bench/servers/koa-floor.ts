/** Server 4b: Koa + koa-session with a small session and no agent state. The floor. */
import { plainRedis, serve, settings } from './boot.js';
import { floorHandlers } from './handlers.js';
import { koaApp, koaCookieSession, koaSessionAccess } from './koa-app.js';

const { redisUrl, secret } = settings();
const client = await plainRedis(redisUrl);
const app = koaApp(secret, (koa) => [koaCookieSession(koa, client)], floorHandlers(koaSessionAccess));
await serve(app.callback(), () => client.close());
