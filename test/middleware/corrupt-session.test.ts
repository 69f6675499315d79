import { describe, expect, it } from 'vitest';
import type { AgentSessionEvent } from 'agent-session/express';
import { FRAMEWORKS, type Framework } from './apps.js';
import { Browser } from './browser.js';
import { cookieSessionKeys, useFixture } from './fixture.js';

const fixture = useFixture();

/** What must never reach a log or a response: it stands for a token the app kept in its session. */
const SECRET = 'sk-live-hunter2-do-not-log';

/** Stored values neither framework can use; Express also needs the `cookie` object it wrote. */
function corruptValues(framework: Framework): Record<string, string> {
  return {
    'truncated JSON': `{"apiToken":"${SECRET}","cookie":{"originalMaxAge":36`,
    'not JSON at all': `apiToken=${SECRET}`,
    'JSON, not an object': JSON.stringify([SECRET]),
    ...(framework === 'express' ? { 'an object without its cookie': JSON.stringify({ apiToken: SECRET }) } : {}),
  };
}

describe.each(FRAMEWORKS)('%s: a cookie session Redis holds that cannot be read', (framework) => {
  for (const [what, value] of Object.entries(corruptValues(framework))) {
    it(`${what}: starts a fresh session and logs the key, never the value`, async () => {
      const events: AgentSessionEvent[] = [];
      const app = await fixture.app(framework, { logger: (event) => events.push(event) });
      const browser = new Browser(app);
      expect((await browser.post('/visit')).body).toEqual({ visits: 1 });
      const [key] = await cookieSessionKeys(fixture.inspector, app.prefix);
      await fixture.inspector.set(key!, value, { expiration: 'KEEPTTL' });

      const response = await browser.post('/visit');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ visits: 1 }); // a fresh session
      expect(JSON.stringify(response.body)).not.toContain(SECRET);
      expect(events).toEqual([{ type: 'warning', code: 'session_corrupt', key: key!, message: expect.stringContaining(key!) }]);
      expect(JSON.stringify(events)).not.toContain(SECRET);

      // The fresh session works as any other.
      expect((await browser.post('/visit')).body).toEqual({ visits: 2 });
      expect((await browser.post('/turn', { content: 'hello' })).status).toBe(200);
    });
  }
});
