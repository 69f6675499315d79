import { describe, expect, it } from 'vitest';
import type { RedisConnectionEvent } from 'agent-session';
import { createConsoleLogger, createEventLog } from '../../src/redis/event-log.js';
import { redactUrl, scrubSecrets } from '../../src/redis/redact.js';

function limiter(intervalMs = 10_000) {
  let now = 0;
  const passed: RedisConnectionEvent[] = [];
  const report = createEventLog({ sink: (event) => passed.push(event), intervalMs, now: () => now });
  return {
    passed,
    report,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const error = (message = 'connect ECONNREFUSED 127.0.0.1:6379'): RedisConnectionEvent => ({ type: 'error', message });

describe('rate-limited connection event log', () => {
  it('logs the first error at once, then at most one per interval with the count left out', () => {
    const log = limiter(10_000);
    for (let second = 0; second < 60; second++) {
      log.report(error());
      log.report({ type: 'reconnecting', attempt: second + 1, delayMs: 1_000 });
      log.advance(1_000);
    }
    const errors = log.passed.filter((event) => event.type === 'error');
    expect(errors).toHaveLength(6);
    expect(errors[0]).toEqual(error());
    expect(errors.slice(1).every((event) => event.type === 'error' && event.suppressed === 9)).toBe(true);
    expect(log.passed.filter((event) => event.type === 'reconnecting')).toHaveLength(6);
  });

  it('always reports the recovery of a reported outage, and warnings', () => {
    const log = limiter(10_000);
    log.report({ type: 'ready' });
    log.advance(1_000);
    log.report(error());
    log.advance(1_000);
    log.report({ type: 'ready' });
    log.report({ type: 'warning', message: 'one' });
    log.report({ type: 'warning', message: 'two' });
    expect(log.passed.map((event) => event.type)).toEqual(['ready', 'error', 'ready', 'warning', 'warning']);
  });

  it('stays bounded when the connection flaps', () => {
    const log = limiter(10_000);
    for (let i = 0; i < 1_000; i++) {
      log.report({ type: 'connect' });
      log.report({ type: 'ready' });
      log.report(error('Socket closed unexpectedly'));
      log.advance(10);
    }
    // 10 s of flapping: a handful of lines, not thousands.
    expect(log.passed.length).toBeLessThanOrEqual(6);
  });

  it('passes everything with interval 0', () => {
    const log = limiter(0);
    for (let i = 0; i < 5; i++) log.report(error());
    expect(log.passed).toHaveLength(5);
  });

  it('ignores a logger that throws', () => {
    const report = createEventLog({
      sink: () => {
        throw new Error('broken logger');
      },
      intervalMs: 0,
    });
    expect(() => report(error())).not.toThrow();
  });

  it('default console logger is quiet while all is well and says when the connection is back', () => {
    const lines: string[] = [];
    const log = createConsoleLogger((line) => lines.push(line));
    log({ type: 'connect' });
    log({ type: 'ready' });
    expect(lines).toEqual([]);
    log({ type: 'error', message: 'connect ECONNREFUSED 127.0.0.1:6379', suppressed: 3 });
    log({ type: 'reconnecting', attempt: 4, delayMs: 400 });
    log({ type: 'ready' });
    expect(lines).toEqual([
      '[agent-session] Redis connection error: connect ECONNREFUSED 127.0.0.1:6379 (3 more since the last one shown)',
      '[agent-session] Redis: reconnecting (attempt 4, in 400 ms)',
      '[agent-session] Redis: connection restored',
    ]);
  });
});

describe('redaction', () => {
  it('hides URL passwords and keeps the rest', () => {
    expect(redactUrl('redis://alice:s3cret@db.internal:6380/2')).toBe('redis://alice:***@db.internal:6380/2');
    expect(redactUrl('rediss://:s3cret@db:6379')).toBe('rediss://:***@db:6379');
    expect(redactUrl('redis://db:6379')).toBe('redis://db:6379');
  });

  it('scrubs known secrets and URL passwords from foreign messages', () => {
    expect(scrubSecrets('failed for redis://bob:pw@h:1 with hunter2', ['hunter2'])).toBe('failed for redis://bob:***@h:1 with ***');
    expect(scrubSecrets('auth "p.a$s(1)" rejected', ['p.a$s(1)'])).toBe('auth "***" rejected');
  });

  it('does not mangle words that merely contain a short password', () => {
    expect(scrubSecrets('Socket closed unexpectedly', ['x'])).toBe('Socket closed unexpectedly');
  });
});
