import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, reconnectDelay } from '../../src/redis/backoff.js';

const lowest = () => 0;
const highest = () => 0.999_999;

describe('reconnect backoff', () => {
  it('retries a dropped connection at once', () => {
    expect(reconnectDelay(0, DEFAULT_BACKOFF, highest)).toBe(0);
  });

  it('grows exponentially from initialDelayMs', () => {
    const ceilings = [1, 2, 3, 4, 5].map((failures) => reconnectDelay(failures, DEFAULT_BACKOFF, highest));
    expect(ceilings).toEqual([50, 100, 200, 400, 800]);
  });

  it('is capped at maxDelayMs, however long the outage (it never gives up)', () => {
    for (const failures of [6, 10, 100, 1_000, 10_000, Number.MAX_SAFE_INTEGER]) {
      const delay = reconnectDelay(failures, DEFAULT_BACKOFF, highest);
      expect(delay).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxDelayMs);
      expect(delay).toBeGreaterThanOrEqual(DEFAULT_BACKOFF.maxDelayMs / 2);
    }
    expect(reconnectDelay(50, { initialDelayMs: 10, maxDelayMs: 300 }, highest)).toBe(300);
  });

  it('jitters between half the ceiling and the ceiling', () => {
    expect(reconnectDelay(5, DEFAULT_BACKOFF, lowest)).toBe(400);
    expect(reconnectDelay(5, DEFAULT_BACKOFF, () => 0.5)).toBe(600);
    const seen = new Set(Array.from({ length: 50 }, () => reconnectDelay(5, DEFAULT_BACKOFF)));
    expect(seen.size).toBeGreaterThan(1);
    for (const delay of seen) {
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });

  it('never decreases its ceiling as failures accumulate', () => {
    let previous = 0;
    for (let failures = 0; failures < 40; failures++) {
      const ceiling = reconnectDelay(failures, { initialDelayMs: 7, maxDelayMs: 5_000 }, highest);
      expect(ceiling).toBeGreaterThanOrEqual(previous);
      expect(Number.isFinite(ceiling)).toBe(true);
      previous = ceiling;
    }
  });
});
