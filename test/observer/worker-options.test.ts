import { describe, expect, it } from 'vitest';
import { ConfigError } from 'agent-session';
import { createObserverWorker, exponentialBackoff, type ObserverWorkerOptions } from 'agent-session/observer';

const redis = { client: { evalSha: async () => null, eval: async () => null }, failFastMs: 1_000 };
const analyze = () => ({});

describe('observer worker options', () => {
  it.each<[string, Partial<ObserverWorkerOptions>, RegExp]>([
    ['no redis', { redis: undefined }, /`redis` must be a connection from connectRedis/],
    ['no analyze', { analyze: undefined }, /`analyze` must be a function/],
    ['a kind that is not key-safe', { kind: 'a:b' }, /`kind`/],
    ['a key prefix with braces', { keyPrefix: 'app{1}' }, /`keyPrefix`/],
    ['a zero concurrency', { concurrency: 0 }, /`concurrency` must be a whole number/],
    ['a fractional lease', { leaseMs: 1.5 }, /`leaseMs` must be a whole number of milliseconds/],
    ['a poll interval longer than a timer can wait', { pollIntervalMs: 2 ** 31 }, /`pollIntervalMs` must be a whole number of milliseconds, from 1 to 2147483647/],
    ['a retry backoff that is not a function', { retryBackoff: 100 as never }, /`retryBackoff` must be a function/],
    ['a misspelt option', { leaseMS: 5_000 } as never, /Unknown createObserverWorker\(\) option `leaseMS`. Did you mean `leaseMs`\?/],
  ])('rejects %s with a ConfigError that names the fix', (_what, override, message) => {
    const create = () => createObserverWorker({ redis, analyze, ...override } as ObserverWorkerOptions);
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(message);
  });

  it('defaults to the "default" kind and a unique consumer name', () => {
    const a = createObserverWorker({ redis, analyze });
    const b = createObserverWorker({ redis, analyze });
    expect(a.kind).toBe('default');
    expect(a.consumerName).not.toBe(b.consumerName);
  });

  it('backs off exponentially with bounded jitter, up to a cap', () => {
    const backoff = exponentialBackoff({ initialMs: 100, maxMs: 1_000 });
    for (const [attempt, base] of [[1, 100], [2, 200], [3, 400], [4, 800], [5, 1_000], [9, 1_000]] as const) {
      const delay = backoff(attempt);
      expect(delay).toBeGreaterThanOrEqual(base * 0.8);
      expect(delay).toBeLessThanOrEqual(base);
    }
  });
});
