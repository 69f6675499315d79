import { describe, expect, it } from 'vitest';
import type { AgentSessionEvent } from 'agent-session/express';
import { SessionStore } from '../../src/core/agent-store.js';
import { AgentCookieStore } from '../../src/express/store.js';
import { cookieSessionRedis } from '../../src/request/cookie-session-redis.js';
import { AgentRefresh } from '../../src/request/refresh.js';
import { uniquePrefix } from '../harness/store.js';
import { useFixture } from './fixture.js';

const fixture = useFixture();

function store(events: AgentSessionEvent[], failingGet = false): { store: AgentCookieStore; prefix: string } {
  const prefix = uniquePrefix();
  const plain = cookieSessionRedis(fixture.redis);
  // The store loads through the refresh (sessions with untagged ids, as here, with a plain GET).
  const redis = failingGet ? { ...plain, get: () => Promise.reject(new Error('ERR a command that failed')) } : plain;
  return {
    prefix,
    store: new AgentCookieStore({
      redis,
      client: fixture.redis.client,
      prefix: `${prefix}sess:`,
      refresh: new AgentRefresh(new SessionStore({ redis: fixture.redis, keyPrefix: prefix }), redis, () => {}, 60_000),
      idleTimeoutMs: 60_000,
      maxSessionBytes: 64 * 1024,
      log: (event) => events.push(event),
    }),
  };
}

/**
 * express-session calls the store with a callback and ignores the promise
 * connect-redis's API also returns: whatever the callback throws (it runs
 * express-session and, through next(), the app) must not become a rejection
 * nobody handles.
 */
describe('express: the cookie-session store and a callback that throws', () => {
  const thrown = () => {
    throw new Error('thrown by the callback (on purpose)');
  };
  const reported = { type: 'error', code: 'session_callback_failed', message: expect.stringContaining('thrown by the callback') };

  it('after a successful command: the promise resolves with the result, the throw is reported', async () => {
    const events: AgentSessionEvent[] = [];
    const { store: cookieStore } = store(events);
    await expect(cookieStore.get('no-such-session', thrown)).resolves.toBeNull();
    expect(events).toEqual([reported]);
  });

  it('after a failed command: the promise resolves, the throw is reported', async () => {
    const events: AgentSessionEvent[] = [];
    const { store: cookieStore } = store(events, true);
    let given: unknown;
    await expect(
      cookieStore.get('any', (error) => {
        given = error;
        thrown();
      }),
    ).resolves.toBeUndefined();
    expect(String(given)).toMatch(/a command that failed/);
    expect(events).toEqual([reported]);
  });

  it('a key of another type is no session (not a failed command): null, reported as session_corrupt', async () => {
    const events: AgentSessionEvent[] = [];
    const { store: cookieStore, prefix } = store(events);
    await fixture.inspector.hSet(`${prefix}sess:wrong-type`, 'a', '1'); // GET answers WRONGTYPE
    let given: unknown = 'not called';
    let result: unknown;
    await cookieStore.get('wrong-type', (error, value) => {
      given = error;
      result = value;
    });
    expect(given).toBeNull();
    expect(result).toBeNull();
    expect(events).toEqual([{ type: 'warning', code: 'session_corrupt', key: `${prefix}sess:wrong-type`, message: expect.any(String) }]);
  });
});

/**
 * A cookie whose expiry is not a date (a stored `expires` that no longer
 * parses) has no remaining lifetime: it is an expired session, as
 * connect-redis treats it, not a TTL of NaN sent to Redis (which refuses it).
 */
describe('express: the cookie-session store and an expiry that is not a date', () => {
  const invalid = () => ({ cookie: { expires: new Date(Number.NaN), originalMaxAge: 60_000 } }) as never;

  it('set: removes the session instead of failing', async () => {
    const events: AgentSessionEvent[] = [];
    const { store: cookieStore, prefix } = store(events);
    await fixture.inspector.set(`${prefix}sess:bad-expiry`, JSON.stringify({ cookie: {} }));
    await expect(cookieStore.set('bad-expiry', invalid())).resolves.toBeUndefined();
    expect(await fixture.inspector.exists(`${prefix}sess:bad-expiry`)).toBe(0);
    expect(events).toEqual([]);
  });

  it('touch: removes the session instead of failing', async () => {
    const events: AgentSessionEvent[] = [];
    const { store: cookieStore, prefix } = store(events);
    await fixture.inspector.set(`${prefix}sess:bad-expiry`, JSON.stringify({ cookie: {} }));
    await expect(cookieStore.touch('bad-expiry', invalid())).resolves.toBeUndefined();
    expect(await fixture.inspector.exists(`${prefix}sess:bad-expiry`)).toBe(0);
  });
});
