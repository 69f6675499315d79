import { describe, expect, it } from 'vitest';
import { ConfigError, createAgentStore, InvalidInputError, AgentPayloadTooLargeError } from 'agent-session';
import { clientForThisFile, testStore } from '../harness/store.js';

const client = clientForThisFile();

const limits = { turnContentBytes: 100, metaValueBytes: 20, toolPayloadBytes: 50, notesBytes: 60 };

/** Everything stored for a session, to prove a refused write changed nothing. */
async function dump(keys: string[]) {
  return Promise.all(keys.map(async (key) => [key, await client.dump(key)]));
}

describe('limits', () => {
  it('refuses oversized turn content, metadata, tool payloads and notes with nothing written', async () => {
    const store = testStore(client, { limits });
    const session = await store.create({ model: 'small' });
    await session.appendTurn({ role: 'user', content: 'ok' });
    await session.startToolCall({ id: 'c1', name: 't' });
    const keys = [session.keys.meta, session.keys.turns, session.keys.tools, session.keys.observer];
    const before = await dump(keys);

    // Multi-byte characters count by their UTF-8 size.
    await expect(session.appendTurn({ role: 'user', content: '\u00e9'.repeat(51) })).rejects.toThrow(AgentPayloadTooLargeError);
    await expect(session.update({ model: 'x'.repeat(21) })).rejects.toThrow(AgentPayloadTooLargeError);
    // A patch with one bad field writes none of its fields.
    await expect(session.update({ currentTask: 'fine', fields: { big: 'y'.repeat(21) } })).rejects.toThrow(AgentPayloadTooLargeError);
    await expect(session.startToolCall({ id: 'c2', name: 't', args: { blob: 'z'.repeat(60) } })).rejects.toThrow(AgentPayloadTooLargeError);
    await expect(session.completeToolCall('c1', 'r'.repeat(60))).rejects.toThrow(AgentPayloadTooLargeError);
    await expect(session.failToolCall('c1', 'e'.repeat(60))).rejects.toThrow(AgentPayloadTooLargeError);
    await expect(session.writeNotes({ text: 'n'.repeat(60) }, { coversThroughSeq: 1 })).rejects.toThrow(AgentPayloadTooLargeError);

    expect(await dump(keys)).toEqual(before);
  });

  it('says which limit to raise', async () => {
    const session = await testStore(client, { limits }).create();
    const error = await session.appendTurn({ role: 'user', content: 'x'.repeat(101) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentPayloadTooLargeError);
    expect((error as Error).message).toMatch(/101 bytes.*100 bytes.*limits\.turnContentBytes/);
  });

  it('accepts values exactly at the limit', async () => {
    const session = await testStore(client, { limits }).create();
    await expect(session.appendTurn({ role: 'user', content: 'x'.repeat(100) })).resolves.toMatchObject({ seq: 1 });
  });

  it('rejects bad input shapes with InvalidInputError', async () => {
    const session = await testStore(client).create();
    await expect(session.update({ fields: { 'bad name': 'v' } })).rejects.toThrow(InvalidInputError);
    await expect(session.update({ model: 42 as never })).rejects.toThrow(InvalidInputError);
    await expect(session.startToolCall({ id: 'c1', name: '' })).rejects.toThrow(InvalidInputError);
    await expect(session.turns({ last: -1 })).rejects.toThrow(InvalidInputError);
    await expect(session.writeNotes({}, { coversThroughSeq: -1 })).rejects.toThrow(InvalidInputError);
  });

  it('validates store options with messages that name the option', () => {
    const redis = { client, failFastMs: 1000 };
    expect(() => createAgentStore({ redis, maxTurns: 0 })).toThrow(/`maxTurns` must be a whole number/);
    expect(() => createAgentStore({ redis, idleTimeoutMs: 1.5 })).toThrow(ConfigError);
    expect(() => createAgentStore({ redis, keyPrefix: 'a{b}' })).toThrow(/hash tags/);
    expect(() => createAgentStore({ redis, limits: { notesBytes: -1 } })).toThrow(/limits\.notesBytes/);
    expect(() => createAgentStore({ redis: {} as never })).toThrow(/connectRedis/);
    // A misspelt option would otherwise be ignored and its default used.
    expect(() => createAgentStore({ redis, maxturns: 10 } as never)).toThrow(/Unknown createAgentStore\(\) option `maxturns`. Did you mean `maxTurns`\?/);
    expect(() => createAgentStore({ redis, limits: { noteBytes: 10 } as never })).toThrow(/Unknown option `limits.noteBytes`/);
  });
});
