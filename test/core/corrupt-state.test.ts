import { describe, expect, it } from 'vitest';
import { CorruptStateError, type AgentSession } from 'agent-session';
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

  it.each([
    ['a non-numeric turn count', 'meta', 'turnCount', 'many', (s: AgentSession) => s.meta()],
    ['tool-call arguments that are not JSON', 'tools', 'c1:args', '{{', (s: AgentSession) => s.toolCalls()],
    ['observer notes that are not JSON', 'observer', 'notes', 'nope', (s: AgentSession) => s.notes()],
  ] as const)('%s raise CorruptStateError naming the %s key', async (_what, key, field, value, read) => {
    const session = await sessionWithState();
    await client.hSet(session.keys[key], field, value);
    await expectCorrupt(read(session), session.keys[key]);
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
