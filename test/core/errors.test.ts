import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import {
  AgentSessionError,
  CorruptStateError,
  LeaseLostError,
  RedisPermissionError,
  SessionExistsError,
  SessionNotFoundError,
  SessionUserMismatchError,
  ToolCallNotFoundError,
  ToolCallStateError,
} from 'agent-session';
import { generateId } from '../../src/core/ids.js';
import { clientForThisFile, rawClient, testStore } from '../harness/store.js';

/**
 * Every refusal the store's scripts can answer reaches the caller as its own
 * typed error, with a stable `code` and the id it is about; anything else
 * Redis says reaches the caller unchanged.
 */
const client = clientForThisFile();

async function expectRefusal(promise: Promise<unknown>, type: new (...args: never[]) => AgentSessionError, fields: Record<string, unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect(error).toMatchObject(fields);
}

describe('typed errors for every refusal', () => {
  it('a session that does not exist: SessionNotFoundError', async () => {
    const id = generateId();
    await expectRefusal(testStore(client).session(id, { user: null }).appendTurn({ role: 'user', content: 'x' }), SessionNotFoundError, {
      code: 'SESSION_NOT_FOUND',
      sessionId: id,
    });
  });

  it("another user's session: SessionUserMismatchError", async () => {
    const store = testStore(client);
    const { id } = await store.create({ userId: 'alice' });
    await expectRefusal(store.session(id, { user: 'mallory' }).turns(), SessionUserMismatchError, { code: 'SESSION_USER_MISMATCH', sessionId: id });
  });

  it('creating over an existing id: SessionExistsError', async () => {
    const store = testStore(client);
    const { id } = await store.create();
    await expectRefusal(store.create({ id }), SessionExistsError, { code: 'SESSION_EXISTS', sessionId: id });
  });

  it("an observer write after its run's lease was lost: LeaseLostError", async () => {
    const session = await testStore(client).create();
    await client.set(session.keys.lease, 'token-2');
    await expectRefusal(session.writeNotes({}, { coversThroughSeq: 0, fencingToken: 'token-1' }), LeaseLostError, {
      code: 'LEASE_LOST',
      sessionId: session.id,
    });
  });

  it('finishing a tool call that was never started: ToolCallNotFoundError', async () => {
    const session = await testStore(client).create();
    await expectRefusal(session.completeToolCall('call_x', 1), ToolCallNotFoundError, { code: 'TOOL_CALL_NOT_FOUND', callId: 'call_x' });
    await expectRefusal(session.failToolCall('call_y', 'boom'), ToolCallNotFoundError, { code: 'TOOL_CALL_NOT_FOUND', callId: 'call_y' });
  });

  it('starting a tool call twice, or finishing it twice: ToolCallStateError', async () => {
    const session = await testStore(client).create();
    await session.startToolCall({ id: 'call_1', name: 'lookup' });
    await expectRefusal(session.startToolCall({ id: 'call_1', name: 'lookup' }), ToolCallStateError, { code: 'TOOL_CALL_STATE', callId: 'call_1' });
    await session.failToolCall('call_1', 'boom');
    await expectRefusal(session.completeToolCall('call_1', 'late'), ToolCallStateError, { code: 'TOOL_CALL_STATE', callId: 'call_1' });
    expect(await session.toolCall('call_1')).toMatchObject({ status: 'failed', error: 'boom' });
  });

  it('a key of the wrong Redis type: CorruptStateError', async () => {
    const session = await testStore(client).create();
    await client.set(session.keys.turns, 'a string, not a list');
    await expectRefusal(session.appendTurn({ role: 'user', content: 'x' }), CorruptStateError, { code: 'STATE_CORRUPT' });
  });

  it('a turn the time-range search inside Redis cannot read: CorruptStateError', async () => {
    const session = await testStore(client).create();
    await session.appendTurn({ role: 'user', content: 'fine' });
    await client.rPush(session.keys.turns, 'not a turn');
    await expectRefusal(session.turns({ fromTime: 0 }), CorruptStateError, { code: 'STATE_CORRUPT' });
  });

  it('an ACL refusal (NOPERM) is a RedisPermissionError, not the raw Redis reply', async () => {
    // A Redis user that may not touch the store's keys: Redis itself refuses the script (NOPERM).
    const user = `agent-session-test-${randomBytes(4).toString('hex')}`;
    await client.sendCommand(['ACL', 'SETUSER', user, 'on', '>not-a-secret', '~elsewhere:*', '+@all']);
    const url = new URL(inject('redisUrl'));
    url.username = user;
    url.password = 'not-a-secret';
    const limited = await rawClient(url.toString());
    try {
      const error = await testStore(limited)
        .session(generateId(), { user: null })
        .meta()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(RedisPermissionError);
      expect(error).toMatchObject({ code: 'REDIS_PERMISSION_DENIED' });
      expect((error as Error).message).toMatch(/key pattern must cover the key prefix/);
    } finally {
      await limited.close();
      await client.sendCommand(['ACL', 'DELUSER', user]);
    }
  });
});
