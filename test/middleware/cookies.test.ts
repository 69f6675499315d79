import { describe, expect, it } from 'vitest';
import { ConfigError } from 'agent-session';
import type { AgentSessionEvent } from 'agent-session/express';
import { FRAMEWORKS, SECRET_A, SECRET_B, buildMiddleware, type Framework, type TestApp } from './apps.js';
import { Browser, parseSetCookie, setCookies } from './browser.js';
import { cookieSessionKeys, usePrivateRedis, useFixture } from './fixture.js';

// A private server, so that MONITOR sees only this file's commands.
const privateRedis = usePrivateRedis({ monitor: true });
const fixture = useFixture(() => privateRedis.server.url);

/** The session cookie's Set-Cookie line (Koa also sets a `.sig` companion). */
function sessionCookie(lines: string[]) {
  const line = lines.find((candidate) => candidate.startsWith('agent.sid='));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(lines)}`);
  return parseSetCookie(line);
}

/** Each framework's signature: express-session's "s:<id>.<hmac>", Keygrip's separate "<name>.sig" cookie. */
function signatureOf(framework: Framework, lines: string[]): string {
  if (framework === 'express') return decodeURIComponent(sessionCookie(lines).value).split('.').pop()!;
  const sig = lines.find((line) => line.startsWith('agent.sid.sig='));
  if (!sig) throw new Error('no signature cookie');
  return parseSetCookie(sig).value;
}

function recordEvents() {
  const events: AgentSessionEvent[] = [];
  return { events, logger: (event: AgentSessionEvent) => events.push(event) };
}

describe.each(FRAMEWORKS)('%s: session cookie', (framework) => {
  it('is HttpOnly, Secure, SameSite=Strict and signed, and expires after the idle timeout (1 h)', async () => {
    const app = await fixture.app(framework);
    const response = await new Browser(app).post('/turn', { content: 'hi' });
    const lines = setCookies(response);
    const { attributes } = sessionCookie(lines);
    expect(attributes.has('httponly')).toBe(true);
    expect(attributes.has('secure')).toBe(true);
    expect(attributes.get('samesite')?.toLowerCase()).toBe('strict');
    expect(attributes.get('path')).toBe('/');
    const lifetimeS = (Date.parse(attributes.get('expires')!) - Date.parse(response.headers.date as string)) / 1000;
    expect(lifetimeS).toBeGreaterThanOrEqual(3_600 - 2);
    expect(lifetimeS).toBeLessThanOrEqual(3_600 + 1);
    expect(signatureOf(framework, lines)).toMatch(/^[A-Za-z0-9+/=_-]{20,}$/);
  });

  it('refuses to start without a secret, or with one shorter than 32 characters, saying how to make one', () => {
    const build = (secrets: unknown) => () => buildMiddleware(framework, { redis: fixture.redis, secrets });
    for (const missing of [null, [], '']) {
      expect(build(missing)).toThrow(ConfigError);
      expect(build(missing)).toThrow(/randomBytes\(32\)/);
    }
    const short = 'too-short-secret';
    expect(build([short])).toThrow(/16 characters long; at least 32/);
    expect(build([SECRET_A, short])).toThrow(/\[1\] is 16 characters/);
    expect(build([short])).toThrow(expect.objectContaining({ message: expect.not.stringContaining(short) }));
  });

  it('rotates secrets: a cookie signed with the old secret still verifies, new cookies are signed with the first', async () => {
    const before = await fixture.app(framework, { secrets: [SECRET_A] });
    const oldBrowser = new Browser(before);
    const id = (await oldBrowser.post('/turn', { content: 'signed with A' })).body.agentSessionId as string;

    const rotated = await fixture.app(framework, { secrets: [SECRET_B, SECRET_A], keyPrefix: before.prefix });
    const state = await withCookies(rotated, oldBrowser).get('/state');
    expect(state.body).toMatchObject({ agentSessionId: id, turnCount: 1 });

    // A new session on the rotated app is signed with B: an app that knows only B accepts it, one that knows only A does not.
    const fresh = new Browser(rotated);
    const freshId = (await fresh.post('/turn', { content: 'signed with B' })).body.agentSessionId as string;
    const onlyB = await fixture.app(framework, { secrets: [SECRET_B], keyPrefix: before.prefix });
    const onlyA = await fixture.app(framework, { secrets: [SECRET_A], keyPrefix: before.prefix });
    expect((await withCookies(onlyB, fresh).get('/state')).body.agentSessionId).toBe(freshId);
    expect((await withCookies(onlyA, fresh).get('/state')).body.agentSessionId).toBeNull();
  });

  it('starts a fresh session for a tampered or unsigned cookie, and never sends the forged id to Redis', async () => {
    const app = await fixture.app(framework);
    const victim = new Browser(app);
    await victim.post('/turn', { content: 'private' });
    const [victimKey] = await cookieSessionKeys(fixture.inspector, app.prefix);
    const victimId = victimKey!.slice(`${app.prefix}sess:`.length);

    // The control: MONITOR does see the real id when the real cookie is sent.
    const genuine = await privateRedis.counter.during(() => victim.get('/state'), { allArguments: true });
    expect(genuine.filter((command) => command.includes(victimKey!))).not.toEqual([]);

    const forgedId = 'forged0session0id0that0never0exists';
    const signed = victim.cookies.get('agent.sid')!;
    const forgeries: Array<Map<string, string>> =
      framework === 'express'
        ? [
            new Map([['agent.sid', signed.replace(encodeURIComponent(victimId), forgedId)]]), // id swapped, old signature kept
            new Map([['agent.sid', forgedId]]), // unsigned
          ]
        : [
            new Map([['agent.sid', forgedId], ['agent.sid.sig', victim.cookies.get('agent.sid.sig')!]]),
            new Map([['agent.sid', forgedId]]),
          ];

    for (const cookies of forgeries) {
      const attacker = new Browser(app);
      for (const [name, value] of cookies) attacker.cookies.set(name, value);
      let response!: Awaited<ReturnType<Browser['get']>>;
      const commands = await privateRedis.counter.during(async () => {
        response = await attacker.get('/state');
      }, { allArguments: true });
      expect(response.body).toMatchObject({ agentSessionId: null, turnCount: 0 });
      expect(commands.filter((command) => command.includes(forgedId))).toEqual([]);
    }
  });
});

describe.each(FRAMEWORKS)('%s: development over plain http', (framework) => {
  it("with secure: 'auto', serves sessions over http with a non-Secure cookie, and warns once", async () => {
    const log = recordEvents();
    const app = await fixture.app(framework, { cookie: { secure: 'auto' }, logger: log.logger, trustProxy: false });
    const browser = new Browser(app, {});
    const first = await browser.post('/turn', { content: 'over http' });
    expect(sessionCookie(setCookies(first)).attributes.has('secure')).toBe(false);
    const second = await browser.post('/turn', { content: 'still the same session' });
    expect(second.body).toMatchObject({ seq: 2, agentSessionId: first.body.agentSessionId });
    expect(log.events).toEqual([expect.objectContaining({ type: 'warning', code: 'plain_cookie_over_http' })]);

    // Behind a trusted https proxy, 'auto' makes the cookie Secure.
    const proxied = await fixture.app(framework, { cookie: { secure: 'auto' }, logger: () => {} });
    const secure = await new Browser(proxied).post('/turn', { content: 'via https' });
    expect(sessionCookie(setCookies(secure)).attributes.has('secure')).toBe(true);
  });

  it('with the default secure: true, sends no cookie over plain http and warns once with the fix', async () => {
    const log = recordEvents();
    const app = await fixture.app(framework, { logger: log.logger, trustProxy: false });
    const browser = new Browser(app, {});
    for (let i = 0; i < 2; i++) {
      const response = await browser.post('/visit');
      expect(response.status).toBe(200);
      expect(setCookies(response).filter((line) => line.startsWith('agent.sid'))).toEqual([]);
    }
    expect(log.events).toHaveLength(1);
    expect(log.events[0]).toMatchObject({ type: 'warning', code: 'secure_cookie_over_http' });
    expect(log.events[0]!.message).toMatch(/secure: 'auto'/);
    expect(log.events[0]!.message).toMatch(/trust proxy/);
  });
});

/** A browser on another app holding a copy of `from`'s cookies. */
function withCookies(app: TestApp, from: Browser): Browser {
  const browser = new Browser(app);
  for (const [name, value] of from.cookies) browser.cookies.set(name, value);
  return browser;
}
