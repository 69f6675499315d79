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

  it('a pending call with a stored result that is not JSON: failing it is refused, nothing written (the archive entry would copy it)', async () => {
    const session = await sessionWithState();
    await client.hSet(session.keys.tools, 'c1:result', '{not json');
    const before = await client.hGetAll(session.keys.tools);
    await expectCorrupt(session.failToolCall('c1', 'timeout'), session.keys.tools);
    expect(await client.hGetAll(session.keys.tools)).toEqual(before);
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

describe('a corrupt stored value never travels in an error', () => {
  const MARKER = 'sk-stored-secret-4411';

  /** Message, stack and every cause below, with own properties, as a logger serialising the error would see them. */
  function everything(error: unknown): string {
    const seen: string[] = [];
    for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
      seen.push(JSON.stringify(e, Object.getOwnPropertyNames(e as object)), String((e as Error).stack ?? ''));
      e = (e as Error).cause;
    }
    return seen.join('\n');
  }

  it.each([
    ['a turn', 'turns', (s: AgentSession) => s.turns()],
    ['tool-call arguments', 'tools', (s: AgentSession) => s.toolCalls()],
    ['observer notes', 'observer', (s: AgentSession) => s.notes()],
  ] as const)('%s that is not JSON: no message, cause or property quotes it', async (_what, key, read) => {
    const session = await sessionWithState();
    const broken = `{"token":"${MARKER}", oops`;
    if (key === 'turns') await client.lSet(session.keys.turns, 0, broken);
    else if (key === 'tools') await client.hSet(session.keys.tools, 'c1:args', broken);
    else await client.hSet(session.keys.observer, 'notes', broken);
    const error = await read(session).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect((error as Error).cause).toBeUndefined();
    expect(everything(error)).not.toContain(MARKER);
    expect(everything(error)).not.toContain('oops');
  });

  it('a field name agent-session did not write is not quoted either', async () => {
    const session = await sessionWithState();
    await client.hSet(session.keys.tools, MARKER, 'x');
    const error = await session.toolCalls().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptStateError);
    expect(everything(error)).not.toContain(MARKER);
  });
});
