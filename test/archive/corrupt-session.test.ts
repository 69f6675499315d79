import { afterAll, describe, expect, it } from 'vitest';
import { CorruptStateError } from 'agent-session';
import { createArchiver, type Archiver, type ArchiverEvent } from 'agent-session/archive';
import { SessionStore } from '../../src/core/agent-store.js';
import { clientForThisFile, uniquePrefix } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { archiveForThisFile } from './support.js';

/** The archiver and an archiving store meet a session whose keys hold another type. */
const client = clientForThisFile();
const { archive } = archiveForThisFile();
const redis = { client, failFastMs: 2_000 };
const archivers: Archiver[] = [];
const SECRET = 'sk-archive-corrupt-marker';

afterAll(async () => {
  await Promise.all(archivers.map((archiver) => archiver.stop()));
});

/** Runs an archiver until it has archived `healthyId`'s one turn and reported `badId`; returns what it reported. */
async function archiveUntilReported(keyPrefix: string, healthyId: string, badId: string): Promise<{ events: ArchiverEvent[]; reported: ArchiverEvent }> {
  const events: ArchiverEvent[] = [];
  const archiver = createArchiver({ redis, archive, keyPrefix, pollIntervalMs: 20, logger: (event) => events.push(event) });
  archivers.push(archiver);
  archiver.start();
  const isReport = (event: ArchiverEvent) => event.type === 'error' && event.sessionId === badId;
  await eventually('the healthy session archived', async () => (await archive.history(healthyId, {})).length === 1);
  await eventually('the bad session reported', () => events.some(isReport));
  return { events, reported: events.find(isReport)! };
}

describe('a corrupt session and the cold tier', () => {
  it('a backlog of another type: writes are refused naming it, nothing written; the archiver reports it and archives the others', async () => {
    const keyPrefix = uniquePrefix();
    const store = new SessionStore({ redis, keyPrefix, archive: { tier: archive } });
    const corrupt = await store.create({ userId: 'ada' });
    const healthy = await store.create({ userId: 'bob' });
    await corrupt.appendTurn({ role: 'user', content: 'one' });
    await client.del(corrupt.keys.archive);
    await client.set(corrupt.keys.archive, SECRET);

    const before = await client.hGetAll(corrupt.keys.meta);
    const error = await corrupt.appendTurn({ role: 'user', content: 'two' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect((error as CorruptStateError).key).toBe(corrupt.keys.archive);
    expect(await client.hGetAll(corrupt.keys.meta)).toEqual(before);
    expect(await client.lLen(corrupt.keys.turns)).toBe(1);

    await healthy.appendTurn({ role: 'user', content: 'fine' });
    const { events, reported } = await archiveUntilReported(keyPrefix, healthy.id, corrupt.id);
    expect(JSON.stringify(reported)).toContain(corrupt.keys.archive);
    expect(JSON.stringify(events)).not.toContain(SECRET);
    // The drain took no lease on the corrupt session.
    expect(await client.exists(corrupt.keys.archiveLease)).toBe(0);
    // Deleting the session clears it.
    await corrupt.delete();
    expect(await client.exists(corrupt.keys.archive)).toBe(0);
  });

  it('a backlog entry of the wrong shape (valid JSON): the archiver reports that session and archives the others', async () => {
    const keyPrefix = uniquePrefix();
    const store = new SessionStore({ redis, keyPrefix, archive: { tier: archive } });
    const odd = await store.create({ userId: 'ada' });
    const healthy = await store.create({ userId: 'bob' });
    await odd.appendTurn({ role: 'user', content: 'one' });
    // A turn entry without role, content or ts: JSON, but not a turn.
    await client.rPush(odd.keys.archive, 't{"seq":2}');
    await healthy.appendTurn({ role: 'user', content: 'fine' });
    const oddBacklog = await client.lRange(odd.keys.archive, 0, -1);
    await archiveUntilReported(keyPrefix, healthy.id, odd.id);
    // Its backlog is left as it was (nothing trimmed, nothing half-archived), for an operator to look at.
    expect(await client.lRange(odd.keys.archive, 0, -1)).toEqual(oddBacklog);
  });
});
