/**
 * The freeze/thaw outage, measured by hand (not a test: it reports times):
 *
 *   npm run -s outage:freeze [-- --freeze-ms 10000 --every-ms 20]
 *
 * Starts a private redis-server (never the machine's own), connects with the
 * defaults (failFastMs 2000, probe every 500 ms with a 500 ms deadline),
 * and appends a turn to one session every `--every-ms` without waiting for
 * the previous call, as a busy app does. Then it freezes Redis (SIGSTOP)
 * for `--freeze-ms`, thaws it (SIGCONT) and prints:
 * - freeze -> first StoreUnavailableError (of any call), and -> first fast
 *   one (a call issued after the freeze that failed within 50 ms, i.e.
 *   refused at once once the hang was detected);
 * - the slowest failure, and how many calls waited the full fail-fast bound;
 * - thaw -> first successful call;
 * - the session's turnCount vs the acknowledged calls (equal: no failed
 *   call's turn landed, none acknowledged is missing), and failed calls
 *   whose turn is in the stored window (0).
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { connectRedis, createAgentStore, StoreUnavailableError } from '../src/index.js';
import { startRedisServer } from '../test/harness/redis-server.js';

const { values } = parseArgs({ options: { 'freeze-ms': { type: 'string', default: '10000' }, 'every-ms': { type: 'string', default: '20' } } });
const freezeMs = Number(values['freeze-ms']);
const everyMs = Number(values['every-ms']);
const FAST_MS = 50;

interface Call {
  content: string;
  issuedAt: number;
  settledAt?: number;
  ok?: boolean;
  unavailable?: boolean;
}

const server = await startRedisServer();
const redis = await connectRedis({ url: server.url, logger: () => {} });
const store = createAgentStore({ redis });
const session = await store.create({ userId: 'bench' });
const calls: Call[] = [];
let n = 0;
const pending: Array<Promise<void>> = [];
const timer = setInterval(() => {
  const call: Call = { content: `turn ${(n += 1)}`, issuedAt: performance.now() };
  calls.push(call);
  pending.push(
    session.appendTurn({ role: 'user', content: call.content }).then(
      () => {
        call.settledAt = performance.now();
        call.ok = true;
      },
      (error: unknown) => {
        call.settledAt = performance.now();
        call.ok = false;
        call.unavailable = error instanceof StoreUnavailableError;
      },
    ),
  );
}, everyMs);

await new Promise((resolve) => setTimeout(resolve, 1_000));
const frozenAt = performance.now();
server.freeze();
await new Promise((resolve) => setTimeout(resolve, freezeMs));
const thawedAt = performance.now();
server.thaw();
await new Promise((resolve) => setTimeout(resolve, 3_000));
clearInterval(timer);
await Promise.all(pending);

const failures = calls.filter((call) => call.ok === false);
const firstFailure = Math.min(...failures.map((call) => call.settledAt ?? Infinity));
const fast = failures.filter((call) => call.issuedAt >= frozenAt && (call.settledAt ?? Infinity) - call.issuedAt <= FAST_MS);
const firstFast = Math.min(...fast.map((call) => call.settledAt ?? Infinity));
const waits = failures.map((call) => (call.settledAt ?? 0) - call.issuedAt);
const recovered = calls.find((call) => call.issuedAt >= thawedAt && call.ok);
const snapshot = await session.snapshot({ lastTurns: 10_000 });
const stored = new Set(snapshot.turns.map((turn) => turn.content));
const acknowledged = calls.filter((call) => call.ok).map((call) => call.content);
const landedAfterError = failures.filter((call) => stored.has(call.content)).length;

const ms = (value: number) => `${Math.round(value)} ms`;
console.log(`freeze ${freezeMs} ms, one append every ${everyMs} ms; ${calls.length} calls, ${failures.length} failed (all StoreUnavailableError: ${failures.every((call) => call.unavailable)})`);
console.log(`freeze -> first StoreUnavailableError: ${ms(firstFailure - frozenAt)}`);
console.log(`freeze -> first fast 503 (a call refused within ${FAST_MS} ms): ${ms(firstFast - frozenAt)}`);
console.log(`slowest failure: ${ms(Math.max(...waits))}; failures that waited >= 1900 ms: ${waits.filter((wait) => wait >= 1_900).length}`);
console.log(`thaw -> first success: ${recovered ? ms((recovered.settledAt ?? 0) - thawedAt) : 'none'}`);
console.log(
  `turnCount ${snapshot.meta.turnCount} / acknowledged calls ${acknowledged.length}; ` +
    `failed calls whose turn is in the last ${snapshot.turns.length} turns: ${landedAfterError}`,
);

await redis.close();
await server.dispose();
