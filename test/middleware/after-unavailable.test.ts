import { describe, expect, it } from 'vitest';
import type { NodeRedisClient } from '../../src/redis/types.js';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS } from './apps.js';
import { Browser } from './browser.js';
import { usePrivateRedis, useFixture } from './fixture.js';

// A private server: this file freezes it.
const privateRedis = usePrivateRedis();
const fixture = useFixture(() => privateRedis.server.url);

const COMMANDS = new Set(['get', 'set', 'pExpire', 'del', 'evalSha', 'eval']);

/**
 * The fixture's real client, with every command the middleware sends
 * recorded by name; `freezeAtNextScript(skip)` freezes Redis just before the
 * next script but `skip` goes out, so a route's agent call is the one that meets the outage
 * while the cookie session was loaded fine.
 */
function recordingClient(client: NodeRedisClient, freeze: () => void): { client: NodeRedisClient; sent: string[]; freezeAtNextScript(skip?: number): void } {
  const sent: string[] = [];
  let armed = false;
  let skipping = 0;
  const recording = new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || typeof property !== 'string' || !COMMANDS.has(property)) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        sent.push(property);
        if (armed && (property === 'evalSha' || property === 'eval') && skipping-- === 0) {
          armed = false;
          freeze();
        }
        return (value as (...args: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    client: recording,
    sent,
    freezeAtNextScript: (skip = 0) => {
      armed = true;
      skipping = skip;
    },
  };
}

describe.each(FRAMEWORKS)('%s: a request that met StoreUnavailableError', (framework) => {
  it('sends nothing more to Redis: no end-of-request refresh, no cookie-session save', { timeout: 30_000 }, async () => {
    const server = privateRedis.server;
    let frozen = false;
    const recording = recordingClient(fixture.redis.client, () => {
      server.freeze();
      frozen = true;
    });
    try {
      const app = await fixture.app(framework, { redis: { client: recording.client, failFastMs: fixture.redis.failFastMs } });
      const browser = new Browser(app);
      expect((await browser.post('/turn', { content: 'before' })).status).toBe(200);
      expect((await browser.get('/noop')).status).toBe(204); // the load script is known to Redis from now on

      recording.sent.length = 0;
      // The first script is the load (loadAlong-5); the second, the route's agent call.
      recording.freezeAtNextScript(1);
      // Without the rule, the end of the request would still extend the cookie session and refresh the agent TTL (rolling).
      const response = await browser.post('/turn', { content: 'meets the freeze' });
      expect(response.status).toBe(503);
      // Loading the cookie session, then the agent call that failed; nothing after it.
      expect(recording.sent).toEqual(['evalSha', 'evalSha']);
    } finally {
      if (frozen) server.thaw();
      await eventually('the connection to be back', async () => (await fixture.redis.health()).state === 'ready', 20_000);
    }
  });
});
