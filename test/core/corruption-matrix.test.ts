import { RESP_TYPES } from 'redis';
import { describe, expect, it } from 'vitest';
import { CorruptStateError } from 'agent-session';
import type { SessionHandle } from '../../src/core/agent-session.js';
import type { SessionKeys } from '../../src/core/keys.js';
import { observerQueueKey } from '../../src/core/keys.js';
import { clientForThisFile, testStore, type TestClient } from '../harness/store.js';

/**
 * The corruption matrix: every operation on a session, with one key of it
 * corrupted in one way that matters. A call either succeeds, or fails with
 * `CorruptStateError` naming the corrupted key and leaves every key exactly
 * as it was (DUMP before and after: scripts are not rolled back, so a
 * script that wrote before it failed shows here). No error, cause chain
 * included, carries the stored value (the SECRET marker).
 */

const client = clientForThisFile();
const SECRET = 'sk-corrupt-marker-7f3a';

interface Fixture {
  user: SessionHandle;
  observer: SessionHandle;
  keys: SessionKeys;
  queue: string;
}

/** A session with something in every key: bound to alice, turns, a finished and a pending call, notes, a job, a lease, idempotency records. */
async function populated(): Promise<Fixture> {
  const store = testStore(client);
  const created = await store.create({ userId: 'alice' });
  const user = store.session(created.id, { user: 'alice' });
  const observer = store.session(created.id, { trusted: 'observer' });
  await user.appendTurn({ role: 'user', content: 'hello' }, { idempotencyKey: 'm1' });
  await user.appendTurn({ role: 'assistant', content: 'hi' });
  await user.startToolCall({ id: 'c1', name: 'lookup', args: { q: 1 } }, { idempotencyKey: 't1' });
  await user.completeToolCall('c1', { ok: true });
  await user.startToolCall({ id: 'c2', name: 'lookup', args: { q: 2 } });
  await observer.writeNotes({ summary: 'x' }, { coversThroughSeq: 1 });
  await user.requestObservation();
  await client.set(user.keys.lease, 'some-token', { PX: 60_000 });
  return { user, observer, keys: user.keys, queue: observerQueueKey(store.keyPrefix, 'default') };
}

type KeyName = keyof SessionKeys | 'queue';

interface Corruption {
  key: KeyName;
  how: string;
  apply: (client: TestClient, key: string) => Promise<unknown>;
}

const wrongType = (value: 'string' | 'list' | 'hash'): Corruption['apply'] => async (c, key) => {
  await c.del(key);
  if (value === 'string') await c.set(key, SECRET);
  else if (value === 'list') await c.rPush(key, SECRET);
  else await c.hSet(key, 'x', SECRET);
};
const field = (name: string, value: string): Corruption['apply'] => (c, key) => c.hSet(key, name, value);

const CORRUPTIONS: Corruption[] = [
  { key: 'meta', how: 'wrong type', apply: wrongType('string') },
  { key: 'meta', how: 'non-numeric turnCount', apply: field('turnCount', SECRET) },
  { key: 'meta', how: 'non-numeric lastTurnAt', apply: field('lastTurnAt', SECRET) },
  { key: 'meta', how: 'non-numeric createdAt', apply: field('createdAt', SECRET) },
  { key: 'meta', how: 'non-numeric lastActive', apply: field('lastActive', SECRET) },
  { key: 'meta', how: 'non-numeric idleTimeoutMs', apply: field('idleTimeoutMs', SECRET) },
  { key: 'turns', how: 'wrong type', apply: wrongType('hash') },
  { key: 'turns', how: 'a turn that is not JSON', apply: (c, key) => c.lSet(key, -1, `{"seq":2,"ts":1,"content":"${SECRET}`) },
  { key: 'turns', how: 'a turn without seq and ts', apply: (c, key) => c.lSet(key, 0, `${SECRET}`) },
  { key: 'tools', how: 'wrong type', apply: wrongType('list') },
  { key: 'tools', how: 'arguments that are not JSON', apply: field('c2:args', `{"q":"${SECRET}`) },
  { key: 'tools', how: 'a result that is not JSON', apply: field('c1:result', `{"r":"${SECRET}`) },
  { key: 'tools', how: 'an unknown status', apply: field('c2:status', SECRET) },
  { key: 'tools', how: 'non-numeric startedAt', apply: field('c2:startedAt', SECRET) },
  { key: 'observer', how: 'wrong type', apply: wrongType('string') },
  { key: 'observer', how: 'notes that are not JSON', apply: field('notes', `{"n":"${SECRET}`) },
  { key: 'observer', how: 'non-numeric coversThroughSeq', apply: field('coversThroughSeq', SECRET) },
  { key: 'observer', how: 'non-numeric writtenAt', apply: field('writtenAt', SECRET) },
  { key: 'lease', how: 'wrong type', apply: wrongType('hash') },
  { key: 'jobs', how: 'wrong type', apply: wrongType('string') },
  { key: 'idem', how: 'wrong type', apply: wrongType('string') },
  { key: 'idem', how: 'non-numeric cursor', apply: field('n', SECRET) },
  { key: 'idem', how: 'a record agent-session did not write', apply: field('k:m1', SECRET) },
  { key: 'toolOrder', how: 'wrong type', apply: wrongType('string') },
  { key: 'queue', how: 'wrong type', apply: wrongType('hash') },
];

const OPERATIONS: Record<string, (f: Fixture) => Promise<unknown>> = {
  appendTurn: (f) => f.user.appendTurn({ role: 'user', content: 'again' }, { idempotencyKey: 'm2' }),
  'appendTurn (repeated key)': (f) => f.user.appendTurn({ role: 'user', content: 'hello' }, { idempotencyKey: 'm1' }),
  startToolCall: (f) => f.user.startToolCall({ id: 'c3', name: 'lookup', args: {} }, { idempotencyKey: 't2' }),
  completeToolCall: (f) => f.user.completeToolCall('c2', { done: 1 }),
  failToolCall: (f) => f.user.failToolCall('c2', 'it broke'),
  update: (f) => f.user.update({ model: 'm', fields: { a: 'b' } }),
  touch: (f) => f.user.touch(),
  requestObservation: (f) => f.user.requestObservation(),
  writeNotes: (f) => f.observer.writeNotes({ summary: 'y' }, { coversThroughSeq: 2, fencingToken: 'some-token' }),
  writeObserverError: (f) => f.observer.writeObserverError('failed', { fencingToken: 'some-token' }),
  meta: (f) => f.user.meta(),
  turns: (f) => f.user.turns(),
  'turns by seq': (f) => f.user.turns({ fromSeq: 1, toSeq: 2 }),
  'turns by time': (f) => f.user.turns({ fromTime: 0 }),
  toolCalls: (f) => f.user.toolCalls(),
  toolCall: (f) => f.user.toolCall('c2'),
  notes: (f) => f.user.notes(),
  snapshot: (f) => f.user.snapshot(),
};

async function dumpAll(f: Fixture): Promise<Record<string, string | null>> {
  const binary = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const out: Record<string, string | null> = {};
  for (const key of [...Object.values(f.keys), f.queue]) {
    const dump = (await binary.dump(key)) as Buffer | null;
    out[key] = dump === null ? null : dump.toString('hex');
  }
  return out;
}

/** The error and every cause under it, as text, for the marker check. */
function chainText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 10; depth++) {
    if (e instanceof Error) {
      parts.push(e.message, String(e.stack ?? ''));
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join('\n');
}

const cases = CORRUPTIONS.flatMap((corruption) => Object.keys(OPERATIONS).map((operation) => ({ ...corruption, operation })));

describe('corruption matrix: a failing call writes nothing and names the key', () => {
  it.each(cases)('$key ($how) × $operation', async ({ key, apply, operation }) => {
    const f = await populated();
    const target = key === 'queue' ? f.queue : f.keys[key];
    // With no job queued, requestObservation goes on to the queue (else it coalesces into the queued one).
    if (key === 'queue') await client.del(f.keys.jobs);
    await apply(client, target);
    const before = await dumpAll(f);
    const outcome = await OPERATIONS[operation]!(f).then(
      () => undefined,
      (error: unknown) => error,
    );
    if (outcome === undefined) return; // it succeeded: a corruption it does not depend on
    expect(outcome).toBeInstanceOf(CorruptStateError);
    expect((outcome as CorruptStateError).key).toBe(target);
    expect(chainText(outcome)).not.toContain(SECRET);
    expect(await dumpAll(f)).toEqual(before);
  });
});

describe('corruption matrix: the corrupt session can always be deleted', () => {
  it.each(CORRUPTIONS.filter((c) => c.key !== 'queue'))('$key ($how)', async ({ key, apply }) => {
    const f = await populated();
    await apply(client, f.keys[key as keyof SessionKeys]);
    await f.user.delete();
    for (const k of Object.values(f.keys)) expect(await client.exists(k)).toBe(0);
  });
});

describe('the user binding is written only by a call that succeeds', () => {
  it('a first call of a user on an unbound session that fails on a corrupt key leaves it unbound', async () => {
    const store = testStore(client);
    const created = await store.create();
    const user = store.session(created.id, { user: 'bob' });
    await client.del(created.keys.turns);
    await client.set(created.keys.turns, SECRET);
    await expect(user.appendTurn({ role: 'user', content: 'x' })).rejects.toThrow(CorruptStateError);
    expect(await client.hGet(created.keys.meta, 'userId')).toBeNull();
  });
});
