import { agentSession, agentSessionErrorHandler, type ExpressAgentSessionOptions } from 'agent-session/express';
import { connectRedis } from 'agent-session';
import { serve, settings } from './boot.js';
import { expressApp, expressSessionAccess } from './express-app.js';
import { agentHandlers } from './handlers.js';
import { metricsIfAsked } from './metrics.js';

/**
 * Servers 3, 3a and 3q: Express + agent-session, as it is, with the cold
 * tier, and with session events off. One function builds them all, so that
 * the only difference between them is the option given here (the
 * request-path comparisons of the cold-tier stage and of
 * `npm run bench:events` rely on it).
 */
export type ServerVariant = Pick<ExpressAgentSessionOptions, 'archive' | 'events'>;

export async function serveExpressAgent(variant: ServerVariant = {}, closeArchive: () => Promise<void> = async () => {}): Promise<void> {
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
    ...variant,
  });
  const app = expressApp([middleware], agentHandlers(expressSessionAccess, (req) => req.agent), [agentSessionErrorHandler()]);
  await serve(app, async () => {
    await redis.close();
    await closeArchive();
  });
}
