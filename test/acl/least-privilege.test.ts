import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listening, printed, runExample, stop, type Example } from '../examples/processes.js';
import { freePort, startRedisServer, type RedisServer } from '../harness/redis-server.js';
import { eventually } from '../harness/wait.js';
import { Browser } from '../middleware/browser.js';
import { commandsInText, commandsUsedBy, ROOT } from './commands-in-source.js';
import { ACL_LINES, ACL_USERS, aclLine, aclSetUserArguments, ROLE_SOURCES, TOLERATED_COMMANDS, type AclRole } from './lines.js';

/**
 * The README's least-privilege ACL lines (one per process: the app, the
 * observer worker, the archiver) are exactly what the code needs:
 * - statically, each role's line holds every command its code sends, and
 *   only those, so a command added without updating the line fails here and
 *   says which one and where it is sent;
 * - the README and docs/deployment.md show exactly these lines;
 * - at run time, the example servers (Express and Koa, cold tier on), the
 *   observer worker and the archiver each run as a user made from their line
 *   on a private Redis, over their main paths, and Redis's ACL LOG records no
 *   refusal except of the commands the code does without (CONFIG GET).
 */
const ROLES = Object.keys(ACL_LINES) as AclRole[];

describe('the scanner that finds the commands in the code', () => {
  it('finds Lua calls, subcommands, node-redis methods and raw commands, and refuses what it cannot read', () => {
    const lua = `local a = redis.call('XTRIM', KEYS[1], 'MAXLEN', 10)\nredis.pcall("xgroup", 'CREATECONSUMER', KEYS[1])\nlocal r = group_call('XRANGE', KEYS[1])`;
    expect(commandsInText(lua, 'src/x/lua/a-1.lua')).toEqual(['xgroup|createconsumer', 'xrange', 'xtrim']);
    const ts = `await client.xLen(key); await (await cluster.nodeClient(m)).configGet('x'); await client.sendCommand(['OBJECT', 'ENCODING', key]); map.get(k); client.on('error', f);`;
    expect(commandsInText(ts, 'src/x/a.ts')).toEqual(['config|get', 'object|encoding', 'xlen']);
    expect(() => commandsInText('redis.call(name, KEYS[1])', 'src/x/lua/b-1.lua')).toThrow(/not a string literal/);
    expect(() => commandsInText('client.sendCommand(args)', 'src/x/b.ts')).toThrow(/not a literal array/);
    expect(() => commandsInText("redis.call('XGROUP', sub, KEYS[1])", 'src/x/lua/c-1.lua')).toThrow(/without a literal subcommand/);
  });
});

describe('the ACL lines match the commands the code sends', () => {
  it.each(ROLES)('%s: every command its code sends is in its line', (role) => {
    const uses = commandsUsedBy(ROLE_SOURCES[role]);
    const allowed = new Set([...ACL_LINES[role], ...TOLERATED_COMMANDS]);
    const missing = [...uses].filter(([command]) => !allowed.has(command));
    const report = missing.map(([command, where]) => `+${command} (sent at ${where.slice(0, 3).join(', ')})`);
    expect(
      report,
      `The ${role} ACL line (test/acl/lines.ts, the README's "ACL" section and docs/deployment.md) lacks: ${report.join('; ')}. Add each to ACL_LINES.${role} and to the lines of the README and docs/deployment.md.`,
    ).toEqual([]);
  });

  it.each(ROLES)('%s: every command in its line is sent by its code', (role) => {
    const uses = commandsUsedBy(ROLE_SOURCES[role]);
    const unused = ACL_LINES[role].filter((command) => !uses.has(command));
    expect(unused, `The ${role} ACL line allows commands its code never sends: ${unused.join(', ')}. Remove them from ACL_LINES.${role}, the README and docs/deployment.md.`).toEqual([]);
  });

  it.each(['README.md', 'docs/deployment.md'])('%s shows exactly these lines', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const shown = text.split('\n').filter((line) => line.startsWith('ACL SETUSER '));
    expect(shown).toEqual(ROLES.map(aclLine));
  });
});

describe('the main paths as least-privilege ACL users', () => {
  let redis: RedisServer;
  let admin: ReturnType<typeof createClient>;
  const password = randomBytes(12).toString('hex');
  const urlOf = (role: AclRole) => `redis://${ACL_USERS[role]}:${password}@127.0.0.1:${redis.port}`;

  beforeAll(async () => {
    redis = await startRedisServer({ args: ['--acllog-max-len', '1000'] });
    admin = createClient({ url: redis.url });
    await admin.connect();
    for (const role of ROLES) {
      await admin.sendCommand(['ACL', 'SETUSER', ...aclSetUserArguments(ACL_LINES[role], { user: ACL_USERS[role], password })]);
    }
  });
  afterAll(async () => {
    await admin?.close();
    await redis?.dispose();
  });

  /** Redis's record of every ACL refusal since the last reset, as `user: command` (or key / channel). */
  async function refusals(): Promise<string[]> {
    const log = (await admin.sendCommand(['ACL', 'LOG'])) as unknown[];
    return log.map((entry) => {
      const fields = Array.isArray(entry) ? Object.fromEntries(chunks(entry as unknown[])) : (entry as Record<string, unknown>);
      return `${String(fields.username)}: ${String(fields.reason)} ${String(fields.object)}`;
    });
  }

  it.each([
    ['Express', 'examples/express-server.ts'],
    ['Koa', 'examples/koa-server.ts'],
  ])('%s server, observer worker and archiver: login, chat with tool calls, notes, state, history, resume, logout', async (_name, file) => {
    await admin.sendCommand(['ACL', 'LOG', 'RESET']);
    const port = await freePort();
    const pg = { DATABASE_URL: inject('pgUrl') };
    const processes: Example[] = [];
    try {
      const server = runExample(file, { ...pg, PORT: String(port), REDIS_URL: urlOf('app') });
      const worker = runExample('examples/observer-worker.ts', { REDIS_URL: urlOf('observer') });
      const archiver = runExample('examples/archiver-worker.ts', { ...pg, REDIS_URL: urlOf('archiver') });
      processes.push(server, worker, archiver);
      await Promise.all([listening(server, `http://localhost:${port}`), printed(archiver, 'archiver: metrics on'), printed(worker, 'observer: metrics on')]);

      const browser = new Browser(`http://127.0.0.1:${port}`, {});
      const user = `ada-${randomBytes(4).toString('hex')}`;
      const login = await browser.post('/login', { userId: user });
      expect(login.status).toBe(200);
      const first = login.body.agentSessionId as string;
      for (const message of ['Where is my order?', 'It has not arrived.']) {
        expect((await browser.post('/chat', { message }, { 'Idempotency-Key': randomBytes(8).toString('hex') })).status).toBe(200);
      }
      await eventually('the observer notes to cover the chat', async () => {
        const { observer } = (await browser.get('/state')).body as { observer: { ready: boolean; coversThroughSeq?: number } };
        return observer.ready && observer.coversThroughSeq === 4;
      }, 20_000);
      const state = await browser.get('/state');
      expect(state.body).toMatchObject({ userId: user, agentSessionId: first, turnCount: 4 });
      expect(state.body.toolCalls).toHaveLength(2);

      await eventually('the archiver to copy the conversation', async () => {
        const { conversations } = (await browser.get('/conversations')).body as { conversations: Array<{ id: string; turnCount: number }> };
        return conversations.some((conversation) => conversation.id === first && conversation.turnCount === 4);
      }, 20_000);
      expect((await browser.get('/history?limit=2')).status).toBe(200);

      // Each part's metrics, read as its user (INFO is refused, and tolerated: the server figures are left out).
      const metricsOf = (example: Example, name: string) => new RegExp(`${name}: metrics on (http://\\S+/metrics)`).exec(example.output())?.[1];
      for (const url of [`http://127.0.0.1:${port}/metrics`, metricsOf(worker, 'observer'), metricsOf(archiver, 'archiver')]) {
        const scraped = await fetch(url ?? 'http://127.0.0.1:1/missing');
        expect(scraped.status, url).toBe(200);
        expect(await scraped.text()).toContain('agent_session_redis_connection_state{state="ready"} 1');
      }
      const archiverMetrics = await (await fetch(metricsOf(archiver, 'archiver')!)).text();
      expect(archiverMetrics).toMatch(/^agent_session_archive_backlog_sessions \d+$/m);

      // A second conversation, then back to the first.
      expect((await browser.post('/logout')).status).toBe(204);
      expect((await browser.post('/login', { userId: user })).status).toBe(200);
      const resumed = await browser.post(`/conversations/${first}/resume`);
      expect(resumed.status).toBe(200);
      expect((await browser.post('/chat', { message: 'thanks' })).status).toBe(200);
      expect((await browser.post('/logout')).status).toBe(204);

      for (const example of processes) {
        expect(example.output(), 'no process logged a permission error').not.toMatch(/NOPERM|RedisPermissionError|no permissions/);
      }
    } finally {
      await Promise.all(processes.map(stop));
    }
    // Only the start-up eviction check (CONFIG GET), which the code does without, may have been refused.
    const tolerated = new Set(TOLERATED_COMMANDS);
    expect((await refusals()).filter((line) => !tolerated.has(line.split(' ').at(-1) ?? ''))).toEqual([]);
  }, 90_000);
});

function chunks(flat: unknown[]): Array<[string, unknown]> {
  const pairs: Array<[string, unknown]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([String(flat[i]), flat[i + 1]]);
  return pairs;
}
