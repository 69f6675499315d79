import type { RedisConnectionEvent } from 'agent-session';

/**
 * Polls `check` until it returns true (or a promise of true), failing with
 * `what` after `timeoutMs`. For waiting on state that has no event to await.
 */
export async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A connection logger that keeps every event, for assertions. */
export function recordEvents(): { events: RedisConnectionEvent[]; logger: (event: RedisConnectionEvent) => void; text(): string } {
  const events: RedisConnectionEvent[] = [];
  return {
    events,
    logger: (event) => events.push(event),
    text: () => JSON.stringify(events),
  };
}

/** Settles with the rejection reason (or fails if the promise resolves), plus how long it took. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error, elapsedMs: performance.now() - started };
  }
  throw new Error('expected the promise to reject, but it resolved');
}
