/**
 * How long to wait before the next reconnect attempt. A pure function of the
 * attempt number, the configured bounds and a source of randomness, so it can
 * be tested exhaustively without real time passing.
 */
export interface BackoffOptions {
  /** Upper bound of the first delayed retry. */
  initialDelayMs: number;
  /** No delay is ever longer than this. */
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { initialDelayMs: 50, maxDelayMs: 2_000 };

/**
 * `failures` counts the failed attempts of the current outage, as node-redis
 * passes it to `reconnectStrategy` (0 for the first).
 *
 * - The first retry is immediate: a dropped connection is usually a blip
 *   (a restart, a failover), and node-redis itself does not wait before the
 *   first retry of a connection that was ready.
 * - After that the ceiling doubles per failure from `initialDelayMs` up to
 *   `maxDelayMs`, and the delay is drawn between half the ceiling and the
 *   ceiling ("equal jitter"), so that many app instances do not reconnect in
 *   lockstep, yet the delay still grows.
 * - The answer is always a number: the caller keeps retrying forever.
 */
export function reconnectDelay(failures: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (!(failures > 0)) return 0;
  // 2 ** 1024 is Infinity, which Math.min turns back into maxDelayMs.
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (failures - 1));
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}
