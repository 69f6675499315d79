import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, connectRedis, type RedisConnection } from 'agent-session';
import { agentEvents as expressAgentEvents } from 'agent-session/express';
import { agentEvents as koaAgentEvents, type AgentEventsOptions } from 'agent-session/koa';
import { startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { openSse, type SseStream } from '../harness/sse.js';
import { rawClient, type TestClient } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { FRAMEWORKS, type Framework } from './apps.js';
import type { Browser } from './browser.js';
import { counterOf, logIn, ofType, openEvents, startEventsApp as startSharedEventsApp, type EventsApp } from './events-app.js';
import { channelsUnder, pubsubConnections, subscriberCount } from '../harness/pubsub.js';

/**
 * agentEvents(): the request's own agent session as server-sent events, over
 * real sockets (supertest buffers whole responses), on a private
 * redis-server so that PUBSUB CHANNELS sees only this file's subscriptions.
 */

let server: RedisServer;
let redis: RedisConnection;
let inspector: TestClient;
const open: Array<{ close(): Promise<void> }> = [];
const streams: SseStream[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, failFastMs: 1_000, logger: () => {} });
  inspector = await rawClient(server.url);
});
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(open.splice(0).map((app) => app.close()));
});
afterAll(async () => {
  await inspector?.close();
  await redis?.close();
  await server?.dispose();
});




async function startEventsApp(framework: Framework, events: AgentEventsOptions = {}, publish = true): Promise<EventsApp> {
  const app = await startSharedEventsApp(redis, framework, { events, publish });
  open.push(app);
  return app;
}

async function stream(app: EventsApp, browser: Browser, headers: Record<string, string> = {}): Promise<SseStream> {
  const opened = await openEvents(app, browser, headers);
  streams.push(opened);
  return opened;
}

describe.each(FRAMEWORKS)('%s: agentEvents()', (framework) => {
  it("streams the request's own session's events: ready first, then one event per change, content-free, with increasing ids", async () => {
    const app = await startEventsApp(framework);
    const { browser, agentSessionId } = await logIn(app, 'ada');
    const events = await stream(app, browser);
    expect(events.status).toBe(200);
    expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(events.headers['cache-control']).toBe('no-cache, no-transform');

    const ready = await events.next(() => true, 'the first event');
    expect(ready.event).toBe('ready');
    expect(JSON.parse(ready.data)).toEqual({ sessionId: agentSessionId });
    expect(events.retry).toBe(2000);

    expect((await browser.post('/turn')).status).toBe(200);
    const turn = await events.next(ofType('turn_appended'), 'turn_appended');
    expect(JSON.parse(turn.data)).toEqual({ sessionId: agentSessionId, type: 'turn_appended', seq: 1, at: expect.any(Number) });

    expect((await browser.post('/tool')).status).toBe(204);
    const completed = await events.next(ofType('tool_call_completed'), 'tool_call_completed');
    expect(JSON.parse(completed.data)).toEqual({ sessionId: agentSessionId, type: 'tool_call_completed', callId: 'call_1', at: expect.any(Number) });
    expect(events.events.map((event) => event.event)).toEqual(['ready', 'turn_appended', 'tool_call_started', 'tool_call_completed']);

    // Nothing of what was written travels on the stream.
    expect(JSON.stringify(events.events)).not.toMatch(/secret/);
    const counters = events.events.map(counterOf);
    expect(counters).toEqual([...counters].sort((a, b) => a - b));
    expect(new Set(events.events.map((event) => event.id)).size).toBe(events.events.length);
    expect(await subscriberCount(inspector, `${app.prefix}{${agentSessionId}}:events`)).toBe(1);
  });

  it("refuses another user's session with 403 JSON and subscribes nothing", async () => {
    const app = await startEventsApp(framework);
    const { browser } = await logIn(app, 'ada');
    const refused = await stream(app, browser, { 'x-user': 'mallory' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(await refused.body())).toEqual({ error: 'session_user_mismatch' });
    expect(await channelsUnder(inspector, '')).toEqual([]);
    expect((await pubsubConnections(inspector)).length).toBe(0);
  });

  it('answers 404 no_agent_session while the request has no agent session, and subscribes nothing', async () => {
    const app = await startEventsApp(framework);
    const missing = await openSse(`${app.url}/events`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(await missing.body())).toEqual({ error: 'no_agent_session' });

    // After the conversation was deleted, the same.
    const { browser } = await logIn(app, 'ada');
    expect((await browser.post('/delete')).status).toBe(204);
    const deleted = await stream(app, browser);
    expect(deleted.status).toBe(404);
    expect(await channelsUnder(inspector, '')).toEqual([]);
  });

  it('tells a client that reconnects with Last-Event-ID that it missed events (gap, not ready), so it reads the state again', async () => {
    const app = await startEventsApp(framework);
    const { browser, agentSessionId } = await logIn(app, 'ada');
    const first = await stream(app, browser);
    const ready = await first.next(ofType('ready'), 'ready');
    first.close();
    await browser.post('/turn'); // while the client was away: pub/sub keeps nothing to replay

    const again = await stream(app, browser, { 'last-event-id': ready.id! });
    const gap = await again.next(() => true, 'the first event after reconnecting');
    expect(gap.event).toBe('gap');
    expect(JSON.parse(gap.data)).toEqual({ sessionId: agentSessionId });
    expect(again.events.some(ofType('turn_appended'))).toBe(false);
  });

  it('ends the stream once its session is deleted: deleted, then end, then the server closes the response (so EventSource stops) and unsubscribes', async () => {
    const app = await startEventsApp(framework);
    const { browser, agentSessionId } = await logIn(app, 'ada');
    // Two tabs on the conversation, and another user's conversation that must go on streaming.
    const tabs = [await stream(app, browser), await stream(app, browser)];
    const other = await logIn(app, 'grace');
    const bystander = await stream(app, other.browser);
    await Promise.all([...tabs, bystander].map((each) => each.next(ofType('ready'), 'ready')));

    expect((await browser.post('/delete')).status).toBe(204);
    for (const tab of tabs) {
      let closed = false;
      void tab.ended.then(() => (closed = true));
      const end = await tab.next(ofType('end'), 'end');
      expect(JSON.parse(end.data)).toEqual({ sessionId: agentSessionId, reason: 'deleted' });
      await eventually('the server to close the stream', () => closed);
      expect(tab.events.map((event) => event.event)).toEqual(['ready', 'deleted', 'end']);
      const counters = tab.events.map(counterOf);
      expect(counters).toEqual([...counters].sort((a, b) => a - b));
    }
    await eventually("the deleted session's channel to be unsubscribed", async () => (await subscriberCount(inspector, `${app.prefix}{${agentSessionId}}:events`)) === 0);

    // The other conversation's stream is untouched.
    expect((await other.browser.post('/turn')).status).toBe(200);
    await bystander.next(ofType('turn_appended'), "the other session's turn_appended");
    expect(bystander.events.map((event) => event.event)).toEqual(['ready', 'turn_appended']);
    // Opening the stream again is answered 404 (what a client that ignores `end` gets when it reconnects).
    const again = await stream(app, browser);
    expect(again.status).toBe(404);
    await again.body();
    expect(app.errors).toEqual([]);
  });

  it('sends heartbeat comments while nothing happens', async () => {
    const app = await startEventsApp(framework, { heartbeatMs: 20, retryMs: 500 });
    const { browser } = await logIn(app, 'ada');
    const events = await stream(app, browser);
    await events.next(ofType('ready'), 'ready');
    expect(events.retry).toBe(500);
    await events.comment(3);
    expect(events.comments.slice(0, 3)).toEqual(['keep-alive', 'keep-alive', 'keep-alive']);
  });

  it('cleans up when clients go away: after many connects and disconnects no channel, subscriber connection or listener is left', async () => {
    const app = await startEventsApp(framework, { heartbeatMs: 5 });
    const { browser, agentSessionId } = await logIn(app, 'ada');
    const other = await logIn(app, 'grace');
    const channel = `${app.prefix}{${agentSessionId}}:events`;

    for (let round = 0; round < 10; round += 1) {
      // Some streams get going, some are dropped at once (before their subscription is made), of two sessions.
      const batch = await Promise.all(
        Array.from({ length: 6 }, (_, i) => openSse(`${app.url}/events`, { cookie: (i % 3 === 2 ? other.browser : browser).cookieHeader() })),
      );
      await Promise.all(batch.filter((_, i) => i % 2 === 0).map((each) => each.next(ofType('ready'), 'ready')));
      if (round === 0) expect(await subscriberCount(inspector, channel)).toBe(1); // one SUBSCRIBE for all the tabs of a session
      for (const each of batch) each.close();
      const dropped = await openSse(`${app.url}/events`, { cookie: browser.cookieHeader() });
      dropped.close();
    }
    await eventually('every subscription to be gone', async () => (await channelsUnder(inspector, '')).length === 0);
    // A client that leaves is the normal end of a stream, not an error for the app's log.
    expect(app.errors).toEqual([]);
    await eventually('the shared subscriber connection to be closed', async () => (await pubsubConnections(inspector)).length === 0);

    // The next client is served as the first was: a fresh subscription, events delivered once.
    const events = await stream(app, browser);
    await events.next(ofType('ready'), 'ready');
    await browser.post('/turn');
    await events.next(ofType('turn_appended'), 'turn_appended');
    expect(events.events.filter(ofType('turn_appended'))).toHaveLength(1);
    expect(await subscriberCount(inspector, channel)).toBe(1);
    events.close();
    await eventually('the last subscription to be gone', async () => (await channelsUnder(inspector, '')).length === 0);
  });

  it('refuses to stream from a middleware that publishes no events (events: false) instead of staying silent', async () => {
    const app = await startEventsApp(framework, {}, false);
    const { browser } = await logIn(app, 'ada');
    const refused = await stream(app, browser);
    expect(refused.status).toBe(500);
    await refused.body();
    expect(app.errors).toHaveLength(1);
    expect(app.errors[0]).toBeInstanceOf(ConfigError);
    expect((app.errors[0] as Error).message).toMatch(/events: false/);
    expect(await channelsUnder(inspector, '')).toEqual([]);
  });

  it('sends gap when the subscriber connection to Redis was lost and is back, and streams again after it', async () => {
    const app = await startEventsApp(framework);
    const { browser, agentSessionId } = await logIn(app, 'ada');
    const events = await stream(app, browser);
    await events.next(ofType('ready'), 'ready');

    await server.stop();
    await server.restart();
    const gap = await events.next(ofType('gap'), 'gap after the reconnect', 20_000);
    expect(JSON.parse(gap.data)).toEqual({ sessionId: agentSessionId });
    // Subscribed again: an event published on the session's channel now still reaches the stream. (Published by
    // hand: the restarted server has no data, so the app's next write would go to a new cookie session and conversation.)
    const channel = `${app.prefix}{${agentSessionId}}:events`;
    await eventually('the channel to be subscribed again', async () => (await subscriberCount(inspector, channel).catch(() => 0)) === 1, 20_000);
    await inspector.publish(channel, JSON.stringify({ sessionId: agentSessionId, type: 'meta_updated', at: Date.now() }));
    await events.next(ofType('meta_updated'), 'an event after the reconnect');
    // The app's connection is back too before the next test starts.
    await eventually('the app connection to be ready', async () => (await redis.health()).state === 'ready', 20_000);
  });

  it('refuses options it does not know, and out-of-range values, at start-up', () => {
    const agentEvents = framework === 'express' ? expressAgentEvents : koaAgentEvents;
    expect(() => agentEvents({ heartbeatMs: 0 })).toThrow(ConfigError);
    expect(() => agentEvents({ heartbeatMs: 0 })).toThrow(/`heartbeatMs` must be a whole number of milliseconds/);
    expect(() => agentEvents({ heartbeat: 1000 } as AgentEventsOptions)).toThrow(/Unknown agentEvents\(\) option `heartbeat`/);
    expect(() => agentEvents({ maxBufferedBytes: 10 })).toThrow(ConfigError);
  });
});
