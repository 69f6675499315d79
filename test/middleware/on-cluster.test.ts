import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { watchCommands, type CommandCounter } from '../harness/command-counter.js';
import { startCluster, type ClusterSetup } from '../harness/topologies.js';
import { keySlot, keysUnder, rawClient, uniquePrefix, type TestClient } from '../harness/store.js';
import { FRAMEWORKS, startApp, type TestApp } from './apps.js';
import { Browser, VIA_HTTPS_PROXY } from './browser.js';

/**
 * The middleware, Express and Koa, through HTTP on a real 3-master Redis
 * Cluster: a cookie session's key carries its agent session's id as hash
 * tag, so both live on one node, and a request's commands all go there.
 * Round trips per request are counted with MONITOR on every node: the
 * commands a request sends, one after the other (each waits for the one
 * before), so the count is the number of sequential waits.
 */
let cluster: ClusterSetup;
let redis: RedisConnection;
let counters: CommandCounter[];
let masters: TestClient[];
const open: TestApp[] = [];

beforeAll(async () => {
  cluster = await startCluster({ size: 3 });
  redis = await connectRedis({ cluster: { rootNodes: [{ url: cluster.nodes[0]!.url }] }, logger: () => {} });
  counters = await Promise.all(cluster.nodes.map((node) => watchCommands(node.url)));
  masters = await Promise.all(cluster.nodes.map((node) => rawClient(node.url)));
});
afterAll(async () => {
  await Promise.all(open.map((app) => app.close()));
  await Promise.all((counters ?? []).map((counter) => counter.close()));
  await Promise.all((masters ?? []).map((master) => master.close()));
  await redis?.close();
  await cluster?.dispose();
});

/** The commands (names) each node received while `operation` ran. */
async function perNode(operation: () => Promise<unknown>): Promise<string[][]> {
  const seen: string[][] = [];
  const run = counters.reduceRight<() => Promise<unknown>>(
    (inner, counter, i) => async () => {
      seen[i] = (await counter.during(inner)).map((command) => command.split(' ')[0]!.toUpperCase());
    },
    operation,
  );
  await run();
  return seen;
}

/** Every command on one node: that node's command names. */
function onOneNode(seen: string[][]): string[] {
  const busy = seen.filter((commands) => commands.length > 0);
  expect(busy).toHaveLength(1);
  return busy[0]!;
}

async function keysEverywhere(prefix: string): Promise<string[]> {
  return (await Promise.all(masters.map((master) => keysUnder(master, prefix)))).flat().sort();
}

describe.each(FRAMEWORKS)('%s on Redis Cluster', (framework) => {
  it('login, append, read, touch and logout through HTTP: one node per request, touch 1 round trip, read and append 2', async () => {
    const prefix = uniquePrefix();
    const app = await startApp(framework, { redis, keyPrefix: prefix, trustProxy: true });
    open.push(app);
    const browser = new Browser(app);

    expect((await browser.post('/login', { userId: 'alice' })).status).toBe(200);
    const first = await browser.post('/turn', { content: 'hello from the cluster' });
    expect(first.status).toBe(200);
    const id = first.body.agentSessionId as string;
    // Every script known on the node of this session (each is loaded with EVAL on a node's first use).
    await browser.get('/state');
    await browser.get('/noop');

    // The cookie session and the agent keys share one slot.
    const keys = await keysEverywhere(prefix);
    const cookieKey = keys.find((key) => key.startsWith(`${prefix}sess:`))!;
    expect(cookieKey).toMatch(new RegExp(`^${prefix}sess:\\{${id}\\}`));
    expect(new Set(keys.map(keySlot))).toEqual(new Set([keySlot(`${prefix}{${id}}:meta`)]));

    expect(onOneNode(await perNode(() => browser.get('/noop')))).toEqual(['EVALSHA']);
    let read!: Awaited<ReturnType<Browser['get']>>;
    expect(onOneNode(await perNode(async () => (read = await browser.get('/state'))))).toEqual(['EVALSHA', 'EVALSHA']);
    expect(read.body).toMatchObject({ agentSessionId: id, userId: 'alice', turnCount: 1, turns: [{ content: 'hello from the cluster' }] });
    let append!: Awaited<ReturnType<Browser['post']>>;
    expect(onOneNode(await perNode(async () => (append = await browser.post('/turn', { content: 'and again' }))))).toEqual(['EVALSHA', 'EVALSHA']);
    expect(append.body).toMatchObject({ seq: 2, agentSessionId: id });

    // The requests kept the cookie session and every agent key alive.
    const inspector = redis.client as unknown as TestClient;
    for (const key of [cookieKey, `${prefix}{${id}}:meta`, `${prefix}{${id}}:turns`]) {
      await inspector.pExpire(key, 50_000);
    }
    expect(onOneNode(await perNode(() => browser.get('/noop')))).toEqual(['EVALSHA']);
    for (const key of [cookieKey, `${prefix}{${id}}:meta`, `${prefix}{${id}}:turns`]) {
      expect(await inspector.pTTL(key), key).toBeGreaterThan(50_000);
    }

    // Logout regenerates the cookie session: the new id carries the same tag (the link moves across), so it stays on that node.
    expect((await browser.post('/logout')).status).toBe(204);
    const after = (await keysEverywhere(prefix)).filter((key) => key.startsWith(`${prefix}sess:`));
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(cookieKey);
    expect(keySlot(after[0]!)).toBe(keySlot(cookieKey));
    // Anonymous now: the load touches alice's session as its link records, and the end of the request undoes it.
    const meta = `${prefix}{${id}}:meta`;
    await inspector.pExpire(meta, 50_000);
    const lastActive = await inspector.hGet(meta, 'lastActive');
    const loggedOut = onOneNode(await perNode(() => browser.get('/noop')));
    expect(loggedOut).toEqual(['EVALSHA', 'EVALSHA']);
    expect(await inspector.hGet(meta, 'lastActive')).toBe(lastActive);
    expect(await inspector.pTTL(meta)).toBeLessThanOrEqual(50_000);
    expect((await browser.get('/state')).status).toBe(403);
    // Another user with the same cookie is refused as on a single node.
    expect((await browser.clone({ ...VIA_HTTPS_PROXY, 'x-user': 'bob' }).get('/state')).status).toBe(403);
  });
});
