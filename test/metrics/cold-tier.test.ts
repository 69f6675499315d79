import { Registry } from 'prom-client';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createArchiver, createPgArchive, type Archiver } from 'agent-session/archive';
import { agentMetrics, type AgentMetrics } from 'agent-session/metrics';
import { SessionStore } from '../../src/core/agent-store.js';
import { sessionKeys } from '../../src/core/keys.js';
import { archiveForThisFile } from '../archive/support.js';
import { clientForThisFile, uniquePrefix } from '../harness/store.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { eventually } from '../harness/wait.js';
import { scrape, value } from './scrape.js';

/**
 * The cold tier's metrics: the archive backlog (sessions and changes) until
 * the archiver copies it, the records it copied by kind, its errors while
 * PostgreSQL does not answer, and restores by resume(). Real Redis, real
 * PostgreSQL (a schema of this file's own).
 */
const client = clientForThisFile();
const { archive, schema } = archiveForThisFile();
const redis = { client, failFastMs: 2_000 };
const opened: Array<{ close(): unknown } | Archiver> = [];

afterEach(async () => {
  for (const thing of opened.splice(0).reverse()) await ('stop' in thing ? thing.stop() : thing.close());
});

function metricsOn(archiver?: Archiver): { registry: Registry; metrics: AgentMetrics } {
  const registry = new Registry();
  const metrics = agentMetrics({ redis, register: registry, sampleEveryMs: 0, ...(archiver ? { archiver } : {}) });
  opened.push(metrics);
  return { registry, metrics };
}

describe('cold tier metrics', () => {
  it('the backlog shows the changes until the archiver copies them; the copied records are counted by kind', async () => {
    const keyPrefix = uniquePrefix();
    const store = new SessionStore({ redis, keyPrefix, archive: { tier: archive } });
    const archiver = createArchiver({ redis, archive, keyPrefix, pollIntervalMs: 20, logger: () => {} });
    opened.push(archiver);
    const { registry } = metricsOn(archiver);
    const session = await store.create({ userId: 'ada' });
    for (const content of ['one', 'two', 'three']) await session.appendTurn({ role: 'user', content });
    await session.startToolCall({ id: 'c1', name: 'lookup' });

    const waiting = await scrape(registry);
    expect(waiting.get('agent_session_archive_backlog_sessions')).toBe(1);
    expect(waiting.get('agent_session_archive_backlog_entries')).toBeGreaterThanOrEqual(4);
    expect(waiting.get('agent_session_archive_records_total{kind="turn"}')).toBe(0);

    archiver.start();
    await eventually('the backlog to empty', async () => (await scrape(registry)).get('agent_session_archive_backlog_entries') === 0);
    const copied = await scrape(registry);
    expect(copied.get('agent_session_archive_records_total{kind="turn"}')).toBe(3);
    expect(copied.get('agent_session_archive_records_total{kind="tool"}')).toBe(1);
    expect(copied.get('agent_session_archive_errors_total')).toBe(0);
  });

  it('archive errors are counted while PostgreSQL does not answer', async () => {
    const url = new URL(inject('pgUrl'));
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(proxy.port);
    const unreachable = createPgArchive({ connectionString: url.toString(), schema, queryTimeoutMs: 500 });
    opened.push(proxy, unreachable);
    await proxy.cut();
    const keyPrefix = uniquePrefix();
    const store = new SessionStore({ redis, keyPrefix, archive: { tier: archive } });
    const session = await store.create({ userId: 'ada' });
    await session.appendTurn({ role: 'user', content: 'hello' });
    const archiver = createArchiver({ redis, archive: unreachable, keyPrefix, pollIntervalMs: 20, logger: () => {} });
    opened.push(archiver);
    const { registry } = metricsOn(archiver);
    archiver.start();
    await eventually('an archive error to be counted', async () => value(await scrape(registry), 'agent_session_archive_errors_total') >= 1);
    expect((await scrape(registry)).get('agent_session_archive_backlog_sessions')).toBe(1);
  });

  it('a resume that restores a conversation from the archive is counted with its latency', async () => {
    const keyPrefix = uniquePrefix();
    const store = new SessionStore({ redis, keyPrefix, archive: { tier: archive } });
    const session = await store.create({ userId: 'ada' });
    await session.appendTurn({ role: 'user', content: 'remember me' });
    const archiver = createArchiver({ redis, archive, keyPrefix, logger: () => {} });
    await archiver.drainAll();
    const { registry } = metricsOn();
    const before = await scrape(registry);
    // Still in Redis: no restore.
    expect((await store.resume(session.id, { user: 'ada' })).restored).toBe(false);
    const keys = sessionKeys(keyPrefix, session.id);
    await client.del([keys.meta, keys.turns, keys.tools, keys.observer, keys.archive, keys.toolOrder, keys.idem]);
    expect((await store.resume(session.id, { user: 'ada' })).restored).toBe(true);
    const after = await scrape(registry);
    const count = 'agent_session_archive_restore_duration_seconds_count';
    expect(value(after, count) - value(before, count)).toBe(1);
    expect(value(after, 'agent_session_archive_restore_duration_seconds_sum')).toBeGreaterThan(value(before, 'agent_session_archive_restore_duration_seconds_sum'));
    expect(value(after, 'agent_session_operation_duration_seconds_count{operation="restore"}') - value(before, 'agent_session_operation_duration_seconds_count{operation="restore"}')).toBe(1);
  });
});
