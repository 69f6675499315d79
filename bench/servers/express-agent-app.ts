import { agentSession, agentSessionErrorHandler, type ExpressAgentSessionOptions } from 'agent-session/express';
import { connectRedis } from 'agent-session';
import { serve, settings } from './boot.js';
import { expressApp, expressSessionAccess } from './express-app.js';
import { agentHandlers } from './handlers.js';
import { metricsIfAsked } from './metrics.js';

/**
 * Servers 3 and 3a: Express + agent-session, without and with the cold
 * tier. One function builds both, so that the only difference between them
 * is the `archive` option (the request-path comparison of the cold-tier
 * stage relies on it).
 */
export async function serveExpressAgent(archive?: ExpressAgentSessionOptions['archive'], closeArchive: () => Promise<void> = async () => {}): Promise<void> {
  const { redisUrl, secret, window } = settings();
  const redis = await connectRedis({ url: redisUrl });
  await metricsIfAsked(redis);
  const middleware = agentSession({
    redis,
    secret,
    maxTurns: window,
    // The bench talks plain http on loopback: the documented development setting.
    cookie: { secure: 'auto' },
    getUserId: (req) => expressSessionAccess.get(req).userId,
    logger: () => {},
    ...(archive ? { archive } : {}),
  });
  const app = expressApp([middleware], agentHandlers(expressSessionAccess, (req) => req.agent), [agentSessionErrorHandler()]);
  await serve(app, async () => {
    await redis.close();
    await closeArchive();
  });
}
