import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentStore } from 'agent-session';
import { rawClient, uniquePrefix, type TestClient } from '../harness/store.js';

// Two separate connections stand in for two workers behind a load balancer.
let workerA: TestClient;
let workerB: TestClient;
beforeAll(async () => {
  [workerA, workerB] = await Promise.all([rawClient(), rawClient()]);
});
afterAll(async () => {
  await Promise.all([workerA.close(), workerB.close()]);
});

function storesOnTwoClients(maxTurns: number) {
  const keyPrefix = uniquePrefix();
  return [workerA, workerB].map((client) => createAgentStore({ redis: { client, failFastMs: 5_000 }, keyPrefix, maxTurns }));
}

describe('concurrent writers', () => {
  it('2 clients appending 200 turns at once: exactly 200 seqs issued, window holds the newest', async () => {
    const [storeA, storeB] = storesOnTwoClients(50);
    const created = await storeA!.create();
    const sessions = [storeA!.session(created.id, { user: null }), storeB!.session(created.id, { user: null })];
    const appended = await Promise.all(
      Array.from({ length: 200 }, (_, i) => sessions[i % 2]!.appendTurn({ role: 'user', content: `turn ${i}` })),
    );
    const seqs = appended.map((turn) => turn.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const meta = await sessions[0]!.meta();
    expect(meta.turnCount).toBe(200);
    const window = await sessions[1]!.turns();
    expect(window.map((turn) => turn.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i));
    // Each kept turn is the one whose append got that seq.
    const bySeq = new Map(appended.map((turn) => [turn.seq, turn.content]));
    for (const turn of window) expect(turn.content).toBe(bySeq.get(turn.seq));
  });

  it('concurrent updates of different metadata fields and tool calls lose nothing', async () => {
    const [storeA, storeB] = storesOnTwoClients(50);
    const created = await storeA!.create();
    const sessions = [storeA!.session(created.id, { user: null }), storeB!.session(created.id, { user: null })];
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => sessions[i % 2]!.update({ fields: { [`field${i}`]: String(i) } })),
    );
    await Promise.all(Array.from({ length: 100 }, (_, i) => sessions[i % 2]!.startToolCall({ id: `call_${i}`, name: 'tool' })));
    await Promise.all(Array.from({ length: 100 }, (_, i) => sessions[(i + 1) % 2]!.completeToolCall(`call_${i}`, { i })));
    const meta = await sessions[0]!.meta();
    expect(Object.keys(meta.fields)).toHaveLength(100);
    const calls = await sessions[1]!.toolCalls();
    expect(calls).toHaveLength(100);
    expect(calls.every((call) => call.status === 'completed' && (call.result as { i: number }).i === Number(call.id.slice(5)))).toBe(true);
  });

  it('a tool call finished concurrently by two workers finishes exactly once', async () => {
    const [storeA, storeB] = storesOnTwoClients(50);
    const created = await storeA!.create();
    await created.startToolCall({ id: 'call_race', name: 'pay' });
    const results = await Promise.allSettled([
      storeA!.session(created.id, { user: null }).completeToolCall('call_race', 'A'),
      storeB!.session(created.id, { user: null }).completeToolCall('call_race', 'B'),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const call = await created.toolCall('call_race');
    const winner = results[0]!.status === 'fulfilled' ? 'A' : 'B';
    expect(call.result).toBe(winner);
  });
});
