import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisConnection } from 'agent-session';
import { watchCommands, type CommandCounter } from '../harness/command-counter.js';
import { startSentinelSetup, type SentinelSetup } from '../harness/topologies.js';
import { uniquePrefix } from '../harness/store.js';
import { FRAMEWORKS, startApp, type TestApp } from './apps.js';
import { Browser } from './browser.js';

/**
 * The middleware through HTTP on a Sentinel-managed master: the same round
 * trips per request as on a single server (MONITOR on the master).
 */
let setup: SentinelSetup;
let redis: RedisConnection;
let counter: CommandCounter;
const open: TestApp[] = [];

beforeAll(async () => {
  setup = await startSentinelSetup();
  redis = await connectRedis({ sentinel: { masterName: setup.masterName, nodes: [setup.sentinelNode] }, logger: () => {} });
  counter = await watchCommands(setup.master.url);
});
afterAll(async () => {
  await Promise.all(open.map((app) => app.close()));
  await counter?.close();
  await redis?.close();
  await setup?.dispose();
});

const names = (commands: string[]) => commands.map((command) => command.split(' ')[0]!.toUpperCase());

describe.each(FRAMEWORKS)('%s through Sentinel: Redis round trips per request', (framework) => {
  it('touch 1, read 2, append 2', async () => {
    const app = await startApp(framework, { redis, keyPrefix: uniquePrefix(), trustProxy: true });
    open.push(app);
    const browser = new Browser(app);
    await browser.post('/login', { userId: 'alice' });
    await browser.post('/turn', { content: 'warm up the scripts' });
    await browser.get('/state');
    await browser.get('/noop');

    expect(names(await counter.during(() => browser.get('/noop')))).toEqual(['EVALSHA']);
    expect(names(await counter.during(() => browser.get('/state')))).toEqual(['EVALSHA', 'EVALSHA']);
    expect(names(await counter.during(() => browser.post('/turn', { content: 'hello' })))).toEqual(['EVALSHA', 'EVALSHA']);
  });
});
