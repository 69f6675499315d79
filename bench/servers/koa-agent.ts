/** Server 6: Koa + agent-session. */
import { agentSession } from 'agent-session/koa';
import { connectRedis } from 'agent-session';
import { serve, settings } from './boot.js';
import { agentHandlers } from './handlers.js';
import { koaApp, koaSessionAccess } from './koa-app.js';
import { metricsIfAsked } from './metrics.js';

const { redisUrl, secret, window } = settings();
const redis = await connectRedis({ url: redisUrl });
await metricsIfAsked(redis);
const middleware = (app: Parameters<typeof agentSession>[0]) => [
  agentSession(app, {
    redis,
    maxTurns: window,
    // The bench talks plain http on loopback: the documented development setting.
    cookie: { secure: 'auto' },
    getUserId: (ctx) => koaSessionAccess.get(ctx).userId,
    logger: () => {},
  }),
];
await serve(koaApp(secret, middleware, agentHandlers(koaSessionAccess, (ctx) => ctx.agent)).callback(), () => redis.close());
