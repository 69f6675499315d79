import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import session from 'express-session';
import { RedisStore } from 'connect-redis';
import type { RedisClientType } from 'redis';
import { appendContent, BAD_APPEND, LOGIN_REQUIRED, parseLogin, ROUTES } from '../contract.js';
import type { BenchSession, Handlers, SessionAccess } from './handlers.js';

/**
 * The Express side of every bench server: JSON body parsing, the state
 * layer's middleware, the contract's routes, then the state layer's error
 * handlers (if any).
 */
export function expressApp(middleware: RequestHandler[], handlers: Handlers<Request>, errorHandlers: ErrorRequestHandler[] = []): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '64kb' }));
  for (const layer of middleware) app.use(layer);

  app.post(ROUTES.login.path, async (req, res) => {
    res.json(await handlers.login(req, parseLogin(req.body)));
  });
  app.get(ROUTES.read.path, async (req, res) => {
    const view = await handlers.read(req);
    if (view) res.json(view);
    else res.status(401).json(LOGIN_REQUIRED);
  });
  app.post(ROUTES.append.path, async (req, res) => {
    const content = appendContent(req.body);
    if (content === undefined) {
      res.status(400).json(BAD_APPEND);
      return;
    }
    const turnCount = await handlers.append(req, content);
    if (turnCount === undefined) res.status(401).json(LOGIN_REQUIRED);
    else res.json({ turnCount });
  });
  app.get(ROUTES.touch.path, async (req, res) => {
    const userId = await handlers.touch(req);
    if (userId === undefined) res.status(401).json(LOGIN_REQUIRED);
    else res.json({ userId });
  });
  for (const handler of errorHandlers) app.use(handler);
  return app;
}

/**
 * express-session + connect-redis as the docs suggest, with the settings
 * agent-session uses for its own cookie session (so the comparison is like
 * for like): rolling idle expiry of 1 h, no resave, no empty sessions,
 * httpOnly SameSite=Strict cookie (Secure off: the bench is plain http).
 */
export function expressCookieSession(client: RedisClientType, secret: string): RequestHandler {
  return session({
    store: new RedisStore({ client, prefix: 'sess:' }),
    secret,
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, secure: false, sameSite: 'strict', maxAge: 60 * 60 * 1000 },
  });
}

export const expressSessionAccess: SessionAccess<Request> = {
  get: (req) => req.session as unknown as BenchSession,
  regenerate: (req) =>
    new Promise((resolve, reject) =>
      req.session.regenerate((error: unknown) => (error ? reject(error) : resolve(req.session as unknown as BenchSession))),
    ),
};
