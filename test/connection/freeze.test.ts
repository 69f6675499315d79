import type { RedisClientType } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, createAgentStore, StoreUnavailableError, type AgentSession } from 'agent-session';
import { startRedisServer } from '../harness/redis-server.js';
import { rawClient } from '../harness/store.js';
import { eventually, recordEvents } from '../harness/wait.js';

/**
 * A frozen Redis (SIGSTOP): the process is alive, the kernel still accepts
 * connections and buffers what is written to them, nothing is answered.
 * While the app keeps writing, the socket is never idle, so an idle timer
 * cannot notice. The connection must notice by itself (a probe with its own
 * deadline), drop the connection so calls fail instead of waiting, and
 * reconnect after the thaw; and what it sent before the drop and answered
 * with an error must not run when Redis resumes.
 */

/** Long on purpose: a call that fails only when this runs out was not failed by the detector. */
const FAIL_FAST_MS = 3_000;
const TIMER_MESSAGE = /no reply within/;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface Outcome {
  content: string;
  ok: boolean;
  error?: unknown;
}

/** Appends a turn every `everyMs` without waiting for the previous one, as a busy app does; `stop()` resolves once every call has settled. */
function keepAppending(session: AgentSession, everyMs: number): { outcomes: Outcome[]; stop(): Promise<void> } {
  const outcomes: Outcome[] = [];
  const pending: Array<Promise<void>> = [];
  let n = 0;
  const send = () => {
    const content = `during the freeze ${(n += 1)}`;
    pending.push(
      session.appendTurn({ role: 'user', content }).then(
        () => void outcomes.push({ content, ok: true }),
        (error: unknown) => void outcomes.push({ content, ok: false, error }),
      ),
    );
  };
  send();
  const timer = setInterval(send, everyMs);
  return {
    outcomes,
    stop: async () => {
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

describe('a frozen Redis (SIGSTOP)', () => {
  it('is detected: calls fail without waiting for the fail-fast bound, the connection is re-established after the thaw, and no failed write lands', { timeout: 60_000 }, async () => {
    const server = await startRedisServer();
    cleanups.push(() => server.dispose());
    const log = recordEvents();
    const redis = await connectRedis({ url: server.url, failFastMs: FAIL_FAST_MS, logger: log.logger, logIntervalMs: 0 });
    cleanups.push(() => redis.close());
    const client = redis.client as RedisClientType;
    const store = createAgentStore({ redis });
    const session = await store.create({ userId: 'u1' });
    await session.appendTurn({ role: 'user', content: 'before the freeze' });
    // Connected before the freeze: a command it sends during the freeze is answered only after everything buffered at the thaw ran.
    const witness = await rawClient(server.url);
    cleanups.push(() => witness.close());

    server.freeze();
    let thawed = false;
    cleanups.push(async () => {
      if (!thawed) server.thaw();
    });
    const load = keepAppending(session, 100);

    // Detection: a call fails with StoreUnavailableError that the fail-fast timer did not raise.
    await eventually(
      'a call to fail because the frozen connection was dropped, not because the fail-fast bound ran out',
      () => load.outcomes.some(({ ok, error }) => !ok && error instanceof StoreUnavailableError && !TIMER_MESSAGE.test(error.message)),
      20_000,
    );
    expect(client.isReady, 'the dropped connection is not ready while Redis is frozen').toBe(false);
    // After detection, a new call is refused at once (not queued on a socket nobody reads).
    const late = await session.appendTurn({ role: 'user', content: 'after detection' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(late).toBeInstanceOf(StoreUnavailableError);
    expect((late as Error).message).not.toMatch(TIMER_MESSAGE);

    await load.stop();
    expect(load.outcomes.length).toBeGreaterThan(2);
    for (const outcome of load.outcomes) {
      expect(outcome.ok, outcome.content).toBe(false);
      expect(outcome.error, outcome.content).toBeInstanceOf(StoreUnavailableError);
    }

    const sync = witness.ping();
    server.thaw();
    thawed = true;
    await sync;
    await eventually('the same connection to be ready again', async () => (await redis.health()).state === 'ready', 20_000);
    await eventually(
      'the same store to write again',
      () => session.appendTurn({ role: 'user', content: 'after the thaw' }).then(() => true, () => false),
      20_000,
    );
    // The turns answered with an error were never written, not even when Redis resumed and read what was buffered.
    const snapshot = await session.snapshot({ lastTurns: 100 });
    const contents = snapshot.turns.map((turn) => turn.content);
    expect(contents[0]).toBe('before the freeze');
    expect(contents.filter((content) => content !== 'after the thaw')).toEqual(['before the freeze']);
    expect(snapshot.meta.turnCount).toBe(contents.length);
    // The drop is reported, and so is the reconnection.
    expect(log.text()).toMatch(/did not answer/);
    const lastDrop = log.events.map((event) => event.type).lastIndexOf('error');
    expect(log.events.slice(lastDrop).some((event) => event.type === 'ready')).toBe(true);
  });
});
