/** Server 3: Express + agent-session. */
import { agentSession, agentSessionErrorHandler } from 'agent-session/express';
import { connectRedis } from 'agent-session';
import { serve, settings } from './boot.js';
import { expressApp, expressSessionAccess } from './express-app.js';
import { agentHandlers } from './handlers.js';

const { redisUrl, secret, window } = settings();
const redis = await connectRedis({ url: redisUrl });
const middleware = agentSession({
  redis,
  secret,
  maxTurns: window,
  // The bench talks plain http on loopback: the documented development setting.
  cookie: { secure: 'auto' },
  getUserId: (req) => expressSessionAccess.get(req).userId,
  logger: () => {},
});
const app = expressApp([middleware], agentHandlers(expressSessionAccess, (req) => req.agent), [agentSessionErrorHandler()]);
await serve(app, () => redis.close());
