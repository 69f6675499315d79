import { afterEach, describe, expect, it, vi } from 'vitest';
import { createToolCache, type ToolCacheEvent } from 'agent-session/tool-cache';
import { clientForThisFile, uniquePrefix } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { testCache } from './support.js';

/**
 * The logger: what it is told never holds a tool's arguments or results,
 * and a logger that throws changes nothing for the caller.
 */
const client = clientForThisFile();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
afterEach(() => {
  unhandled.splice(0);
});

describe('the logger', () => {
  it('a logger that throws changes nothing: the caller gets its result, the audit finishes, nothing is left unhandled', async () => {
    const events: ToolCacheEvent[] = [];
    const { cache, keyPrefix } = testCache(client, {
      logger: (event) => {
        events.push(event);
        throw new Error('the logger broke');
      },
    });
    cache.register({ name: 'broken', scope: 'global', ttlMs: 60_000, audit: false });
    // A stats key of another type: every lookup fails (CORRUPT) and is reported.
    await client.set(`${keyPrefix}tool-cache:{broken}:stats`, 'not a hash');
    await expect(cache.call('broken', { q: 1 }, async () => 'answer')).resolves.toMatchObject({ source: 'uncached', result: 'answer' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'unavailable', tool: 'broken', step: 'lookup' }));

    cache.register({ name: 'audited', scope: 'global', ttlMs: 60_000, audit: { rate: 1 } });
    await cache.call('audited', {}, async () => 1);
    await expect(cache.call('audited', {}, async () => 1)).resolves.toMatchObject({ source: 'cache', result: 1 });
    await eventually('the audit was reported', () => events.some((event) => event.type === 'audit'));
    // Rejections nobody handles are reported once the microtasks have run: one turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });

  it("the default logger never prints the message of a tool's or an embedder's error (it may hold the arguments)", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const cache = createToolCache({ redis: { client, failFastMs: 2_000 }, keyPrefix: uniquePrefix() });
      cache.register({ name: 'private_lookup', scope: 'global', ttlMs: 60_000, audit: { rate: 1 } });
      let runs = 0;
      const tool = async (args: unknown) => {
        runs += 1;
        if (runs > 1) throw new Error(`upstream refused ${JSON.stringify(args)}`);
        return 'ok';
      };
      await cache.call('private_lookup', { apiKey: 'SECRET-TOKEN-1' }, tool);
      await cache.call('private_lookup', { apiKey: 'SECRET-TOKEN-1' }, tool);
      await cache.idle();

      cache.register({ name: 'near', scope: 'global', ttlMs: 60_000, audit: false, similarity: { argument: 'query', threshold: 0.9, embed: (text) => {
        throw new Error(`the embedding API refused "${text}"`);
      } } });
      await expect(cache.call('near', { query: 'SECRET-TEXT-2' }, async () => 'answer')).resolves.toMatchObject({ result: 'answer' });

      const lines = warn.mock.calls.map((args) => args.map(String).join(' '));
      expect(lines.filter((line) => line.includes('tool-cache:private_lookup'))).toHaveLength(1);
      expect(lines.filter((line) => line.includes('tool-cache:near'))).toHaveLength(1);
      expect(lines.join('\n')).not.toMatch(/SECRET/);
    } finally {
      warn.mockRestore();
    }
  });

  it('an embed that throws: the call goes on with exact matching (run, stored, then a hit); a logger of its own gets the error as `cause`', async () => {
    const { cache, events } = testCache(client);
    const failing = new Error('model down');
    cache.register({ name: 'near3', scope: 'global', ttlMs: 60_000, audit: false, similarity: { argument: 'query', threshold: 0.9, embed: () => {
      throw failing;
    } } });
    await expect(cache.call('near3', { query: 'q' }, async () => 'a')).resolves.toMatchObject({ source: 'run' });
    await expect(cache.call('near3', { query: 'q' }, async () => 'b')).resolves.toMatchObject({ source: 'cache', result: 'a' });
    const event = events.find((item) => item.type === 'embed-error');
    expect(event).toMatchObject({ tool: 'near3', cause: failing });
    expect(JSON.stringify(event)).not.toContain('model down');
  });
});
