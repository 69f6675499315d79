import { performance } from 'node:perf_hooks';

/**
 * Where Redis's clock stands relative to ours, per client, so that a call's
 * deadline can be written in Redis time and checked by its script against
 * `TIME` (see lua-loader.ts, `deadlines`).
 *
 * Our clock is monotonic (`performance`), Redis's is its wall clock (TIME).
 * A TIME reply was produced at some moment between sending the command
 * (`sentAt`) and receiving the reply (`receivedAt`), so the offset lies in
 * `[redisMs - receivedAt, redisMs - sentAt]`. We keep the lower end: a
 * deadline translated with it is never later, in Redis time, than the moment
 * our own timer fires. It is off (early) by at most the round trip of the
 * TIME command that measured it; the probe re-measures it every interval, so
 * a clock step on the Redis host is followed within one interval.
 *
 * The assumption: between two measurements Redis's clock advances at the
 * rate of ours (no step, no large drift). For a cluster, one node's clock
 * stands for all: their clocks must agree (NTP) to within a few ms.
 */

const offsets = new WeakMap<object, number>();

/** Our clock, in ms. */
export function clientNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Records a TIME reply (`[seconds, microseconds]`) of `client`, sent and received at the given `clientNow()` times. */
export function recordRedisTime(client: object, reply: readonly unknown[], sentAt: number, receivedAt: number): void {
  const redisMs = Number(reply[0]) * 1_000 + Math.floor(Number(reply[1]) / 1_000);
  if (!Number.isFinite(redisMs) || receivedAt < sentAt) return;
  offsets.set(client, redisMs - receivedAt);
}

/** Sends TIME on `client` and records the offset; any failure leaves the last estimate as it was. */
export async function measureRedisClock(client: { time(): Promise<unknown> }): Promise<void> {
  const sentAt = clientNow();
  const reply = await client.time();
  if (Array.isArray(reply)) recordRedisTime(client, reply, sentAt, clientNow());
}

/** `atClientMs` (our clock) in Redis time, whole ms; undefined when the offset of this client was never measured. */
export function toRedisTime(client: object, atClientMs: number): number | undefined {
  const offset = offsets.get(client);
  return offset === undefined ? undefined : Math.floor(atClientMs + offset);
}
