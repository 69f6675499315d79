import express, { type ErrorRequestHandler } from 'express';
import session from 'express-session';
import Koa from 'koa';
import koaSession from 'koa-session';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ConfigError } from 'agent-session';
import { agentSession as expressAgentSession } from 'agent-session/express';
import { agentSession as koaAgentSession } from 'agent-session/koa';
import { SECRET_A } from './apps.js';
import { useFixture } from './fixture.js';
import { uniquePrefix } from '../harness/store.js';

/**
 * Mounting agent-session into an app that already has a session middleware
 * is refused with a ConfigError that says what to do (it would otherwise
 * silently use the other middleware's session), and `req.agent` /
 * `ctx.agent` read where the middleware did not run says to mount it first.
 */
const fixture = useFixture();

const options = () => ({ redis: fixture.redis, keyPrefix: uniquePrefix(), cookie: { secure: 'auto' as const }, logger: () => {} });

/** Answers an error with its status and { name, code, message }, so tests can read what the app's error handler got. */
const reveal: ErrorRequestHandler = (error, _req, res, _next) => {
  res.status(error.status ?? 500).json({ name: error.name, code: error.code, message: error.message });
};

describe('express: mounting', () => {
  it('refuses a request that express-session (mounted before) already gave a session, saying how to go on', async () => {
    const app = express();
    app.use(session({ secret: SECRET_A, resave: false, saveUninitialized: false }));
    app.use(expressAgentSession({ ...options(), secret: SECRET_A }));
    app.post('/turn', async (req, res) => {
      res.json(await req.agent.appendTurn({ role: 'user', content: 'hello' }));
    });
    app.use(reveal);
    const response = await request(app).post('/turn');
    expect(response.status).toBe(500);
    expect(response.body).toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID' });
    expect(response.body.message).toMatch(/req\.session already set by another session middleware/);
    expect(response.body.message).toMatch(/remove your own session middleware.*cookie\.name.*sessionKeyPrefix/);
    expect(response.body.message).toMatch(/different routers/);
  });

  it('one agentSession() mounted on the app and again on a router loads the session once and works', async () => {
    const app = express();
    const agent = expressAgentSession({ ...options(), secret: SECRET_A });
    const router = express.Router();
    router.use(agent);
    router.post('/turn', async (req, res) => {
      res.json(await req.agent.appendTurn({ role: 'user', content: 'hello' }));
    });
    app.use(agent);
    app.use('/api', router);
    app.use(reveal);
    const response = await request(app).post('/api/turn');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ seq: 1 });
  });

  it('refuses two different agentSession() middlewares on one request', async () => {
    const app = express();
    app.use(expressAgentSession({ ...options(), secret: SECRET_A }));
    app.use(expressAgentSession({ ...options(), secret: SECRET_A }));
    app.get('/', (_req, res) => {
      res.end();
    });
    app.use(reveal);
    const response = await request(app).get('/');
    expect(response.status).toBe(500);
    expect(response.body.message).toMatch(/Two agentSession\(\) middlewares ran on the same request/);
  });

  it('req.agent in a route mounted before agentSession(): a ConfigError that says to mount it first', async () => {
    const app = express();
    app.post('/early', async (req, res) => {
      res.json(await req.agent.appendTurn({ role: 'user', content: 'hello' }));
    });
    app.use(expressAgentSession({ ...options(), secret: SECRET_A }));
    app.post('/late', async (req, res) => {
      res.json(await req.agent.appendTurn({ role: 'user', content: 'hello' }));
    });
    app.use(reveal);
    const early = await request(app).post('/early');
    expect(early.status).toBe(500);
    expect(early.body).toMatchObject({ name: 'ConfigError' });
    expect(early.body.message).toMatch(/req\.agent was read where agentSession\(\) did not run.*Mount agentSession\(\) first/);
    expect((await request(app).post('/late')).status).toBe(200);
  });
});

describe('koa: mounting', () => {
  function koaApp(): Koa {
    const app = new Koa();
    app.keys = [SECRET_A];
    app.silent = true;
    return app;
  }

  it('refuses at start-up when koa-session was set up first, saying how to go on', () => {
    const app = koaApp();
    app.use(koaSession(app));
    let thrown: unknown;
    try {
      koaAgentSession(app, options());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(String((thrown as Error).message)).toMatch(/ctx\.session already defined on this Koa app, by koa-session/);
    expect(String((thrown as Error).message)).toMatch(/remove your own session middleware.*cookie\.name.*sessionKeyPrefix/);
  });

  it('refuses a second agentSession(app) for the same app', () => {
    const app = koaApp();
    app.use(koaAgentSession(app, options()));
    expect(() => koaAgentSession(app, options())).toThrow(/called twice for the same Koa app/);
  });

  it('ctx.agent in middleware mounted before agentSession(): a ConfigError that says to mount it first', async () => {
    const app = koaApp();
    const errors: unknown[] = [];
    app.on('error', (error) => errors.push(error));
    app.use(async (ctx, next) => {
      if (ctx.path !== '/early') return next();
      ctx.body = await ctx.agent.appendTurn({ role: 'user', content: 'hello' });
    });
    app.use(koaAgentSession(app, options()));
    app.use(async (ctx) => {
      ctx.body = await ctx.agent.appendTurn({ role: 'user', content: 'hello' });
    });
    const server = app.callback();
    expect((await request(server).post('/early')).status).toBe(500);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect(String((errors[0] as Error).message)).toMatch(/ctx\.agent was read where agentSession\(\) did not run.*Mount agentSession\(\) first/);
    expect((await request(server).post('/late')).status).toBe(200);
  });
});
