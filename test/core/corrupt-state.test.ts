import { describe, expect, it } from 'vitest';
import { CorruptStateError } from 'agent-session';
import { clientForThisFile, testStore } from '../harness/store.js';

const client = clientForThisFile();

async function sessionWithState() {
  const session = await testStore(client).create();
  await session.appendTurn({ role: 'user', content: 'hello' });
  await session.startToolCall({ id: 'c1', name: 'lookup', args: { q: 1 } });
  await session.writeNotes({ summary: 'x' }, { coversThroughSeq: 1 });
  return session;
}

async function expectCorrupt(promise: Promise<unknown>, key: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CorruptStateError);
  expect((error as CorruptStateError).key).toBe(key);
  expect((error as Error).message).toContain(key);
}

describe('corrupt stored values', () => {
  it('a turn that is not JSON raises CorruptStateError naming the turns key', async () => {
    const session = await sessionWithState();
    await client.rPush(session.keys.turns, '{not json');
    await expectCorrupt(session.turns(), session.keys.turns);
  });

  it('a turn with the wrong shape raises CorruptStateError', async () => {
    const session = await sessionWithState();
    await client.lSet(session.keys.turns, 0, JSON.stringify({ seq: 1, ts: 1, role: 'wizard', content: 'x' }));
    await expectCorrupt(session.turns({ last: 5 }), session.keys.turns);
  });

  it('a non-numeric turn count raises CorruptStateError naming the meta key', async () => {
    const session = await sessionWithState();
    await client.hSet(session.keys.meta, 'turnCount', 'many');
    await expectCorrupt(session.meta(), session.keys.meta);
  });

  it('tool-call arguments that are not JSON raise CorruptStateError naming the tools key', async () => {
    const session = await sessionWithState();
    await client.hSet(session.keys.tools, 'c1:args', '{{');
    await expectCorrupt(session.toolCalls(), session.keys.tools);
  });

  it('observer notes that are not JSON raise CorruptStateError naming the observer key', async () => {
    const session = await sessionWithState();
    await client.hSet(session.keys.observer, 'notes', 'nope');
    await expectCorrupt(session.notes(), session.keys.observer);
  });

  it('a key of the wrong Redis type raises CorruptStateError and is left as it was', async () => {
    const session = await sessionWithState();
    await client.del(session.keys.turns);
    await client.set(session.keys.turns, 'a string, not a list');
    await expect(session.appendTurn({ role: 'user', content: 'x' })).rejects.toThrow(CorruptStateError);
    await expect(session.turns()).rejects.toThrow(CorruptStateError);
    expect(await client.get(session.keys.turns)).toBe('a string, not a list');
  });
});
