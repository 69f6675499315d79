import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidInputError, InvalidSessionIdError } from 'agent-session';
import { lexicalEmbedder } from 'agent-session/tool-cache';
import { clientForThisFile, keysUnder, keySlot } from '../harness/store.js';
import { countingTool, testCache } from './support.js';

/**
 * Exact and similarity hits and misses, scopes, and the bounds of what the
 * cache keeps, against a real redis-server.
 */
const client = clientForThisFile();

describe('exact equivalence', () => {
  it('a repeated call is served from the cache: the tool runs once, the caller gets the same result', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'lookup_order', scope: 'global', ttlMs: 60_000, audit: false });
    const tool = countingTool();
    const first = await cache.call('lookup_order', { orderId: 'A17' }, tool.run);
    const second = await cache.call('lookup_order', { orderId: 'A17' }, tool.run);
    expect(first).toMatchObject({ source: 'run', cached: false, result: { args: { orderId: 'A17' }, run: 1 } });
    expect(second).toMatchObject({ source: 'cache', cached: true, result: { args: { orderId: 'A17' }, run: 1 } });
    expect(second.ageMs).toBeGreaterThanOrEqual(0);
    expect(tool.runs).toBe(1);
    // Other arguments are another call.
    await expect(cache.call('lookup_order', { orderId: 'B2' }, tool.run)).resolves.toMatchObject({ source: 'run' });
    expect(tool.runs).toBe(2);
  });

  it('key order never matters; whitespace and case only by the tool\'s rules', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'strict', scope: 'global', ttlMs: 60_000, audit: false });
    cache.register({ name: 'loose', scope: 'global', ttlMs: 60_000, audit: false, normalize: { whitespace: 'collapse', lowercase: ['query'] } });
    const strict = countingTool();
    await cache.call('strict', { query: 'Paris', filters: { a: 1, b: [1, 2] } }, strict.run);
    await expect(cache.call('strict', { filters: { b: [1, 2], a: 1 }, query: 'Paris' }, strict.run)).resolves.toMatchObject({ source: 'cache' });
    await expect(cache.call('strict', { query: 'paris ', filters: { a: 1, b: [1, 2] } }, strict.run)).resolves.toMatchObject({ source: 'run' });
    await expect(cache.call('strict', { query: 'Paris', filters: { a: 1, b: [2, 1] } }, strict.run)).resolves.toMatchObject({ source: 'run' });

    const loose = countingTool();
    await cache.call('loose', { query: 'Weather  in Paris', unit: 'C' }, loose.run);
    await expect(cache.call('loose', { unit: 'C', query: ' weather in paris' }, loose.run)).resolves.toMatchObject({ source: 'cache' });
    // Only `query` is case-insensitive.
    await expect(cache.call('loose', { query: 'weather in paris', unit: 'c' }, loose.run)).resolves.toMatchObject({ source: 'run' });
    expect(loose.runs).toBe(2);
  });

  it('a normalize function decides what is compared', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'search', scope: 'global', ttlMs: 60_000, audit: false, normalize: (args) => ({ q: (args as { q: string }).q.toUpperCase() }) });
    const tool = countingTool();
    await cache.call('search', { q: 'abc', requestId: 1 }, tool.run);
    await expect(cache.call('search', { q: 'ABC', requestId: 2 }, tool.run)).resolves.toMatchObject({ source: 'cache' });
  });

  it('an entry older than the TTL is never served', async () => {
    const { cache, keyPrefix } = testCache(client);
    cache.register({ name: 'quick', scope: 'global', ttlMs: 60_000, audit: false });
    const tool = countingTool();
    await cache.call('quick', { x: 1 }, tool.run);
    await expect(cache.call('quick', { x: 1 }, tool.run)).resolves.toMatchObject({ source: 'cache' });
    // The entry is backdated by the TTL; its keys (which expire a TTL after the last put) are still there.
    const entries = `${keyPrefix}tool-cache:{quick}:entries`;
    const [field, value] = Object.entries(await client.hGetAll(entries))[0]!;
    const storedAt = value.slice(0, value.indexOf(':'));
    await client.hSet(entries, field, `${Number(storedAt) - 60_000}${value.slice(storedAt.length)}`);
    await expect(cache.call('quick', { x: 1 }, tool.run)).resolves.toMatchObject({ source: 'run', result: { run: 2 } });
    expect(tool.runs).toBe(2);
  });

  it('tool errors are thrown as they are and never cached', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'flaky', scope: 'global', ttlMs: 60_000, audit: false });
    let runs = 0;
    const failing = async () => {
      runs += 1;
      throw new Error('upstream 502');
    };
    await expect(cache.call('flaky', { q: 1 }, failing)).rejects.toThrow('upstream 502');
    await expect(cache.call('flaky', { q: 1 }, failing)).rejects.toThrow('upstream 502');
    expect(runs).toBe(2);
    await expect(cache.call('flaky', { q: 1 }, async () => 'fine')).resolves.toMatchObject({ source: 'run', result: 'fine' });
    await expect(cache.call('flaky', { q: 1 }, failing)).resolves.toMatchObject({ source: 'cache', result: 'fine' });
  });
});

describe('similarity with the lexical embedder', () => {
  function searchCache() {
    const made = testCache(client);
    made.cache.register({
      name: 'web_search',
      scope: 'global',
      ttlMs: 60_000,
      audit: false,
      similarity: { argument: 'query', embed: lexicalEmbedder(), threshold: 0.8 },
    });
    return made;
  }

  it('a near-duplicate text is a similarity hit; an unrelated one, or other arguments, a miss', async () => {
    const { cache } = searchCache();
    const tool = countingTool<{ query: string }>((args) => `results for ${args.query}`);
    await cache.call('web_search', { query: 'weather in Paris today', lang: 'en' }, tool.run);
    const near = await cache.call('web_search', { query: 'Paris weather today?', lang: 'en' }, tool.run);
    expect(near).toMatchObject({ source: 'similar', cached: true, result: 'results for weather in Paris today' });
    expect(near.similarity).toBeGreaterThanOrEqual(0.8);
    const typo = await cache.call('web_search', { query: 'weather in Pariss today', lang: 'en' }, tool.run);
    expect(typo.source).toBe('similar');
    expect(tool.runs).toBe(1);

    await expect(cache.call('web_search', { query: 'train tickets to Berlin', lang: 'en' }, tool.run)).resolves.toMatchObject({ source: 'run' });
    // The other arguments must still be equal.
    await expect(cache.call('web_search', { query: 'weather in Paris today', lang: 'fr' }, tool.run)).resolves.toMatchObject({ source: 'run' });
    expect(tool.runs).toBe(3);
    const stats = (await cache.stats()).tools.web_search!;
    expect(stats).toMatchObject({ hits: 2, similarityHits: 2, misses: 3 });
  });

  it('a synonym is not matched (what a lexical embedder cannot do)', async () => {
    const { cache } = searchCache();
    const tool = countingTool();
    await cache.call('web_search', { query: 'cheap flights to Rome' }, tool.run);
    await expect(cache.call('web_search', { query: 'inexpensive airfare to Rome' }, tool.run)).resolves.toMatchObject({ source: 'run' });
  });

  it('compares at most `candidates` of the newest entries', async () => {
    const { cache, keyPrefix } = testCache(client);
    cache.register({ name: 'near', scope: 'global', ttlMs: 60_000, audit: false, similarity: { argument: 'q', embed: lexicalEmbedder(), threshold: 0.8, candidates: 5 } });
    const tool = countingTool();
    await cache.call('near', { q: 'the first query about harbours' }, tool.run);
    for (const q of ['zebra crossings in Oslo', 'quantum knitting patterns', 'volcanic soil for vineyards', 'jazz drummers of 1959', 'mortgage rates explained']) {
      await expect(cache.call('near', { q }, tool.run)).resolves.toMatchObject({ source: 'run' });
    }
    // The first entry is still cached (an exact repeat hits) but no longer among the 5 newest candidates.
    await expect(cache.call('near', { q: 'the first query about harbours' }, tool.run)).resolves.toMatchObject({ source: 'cache' });
    await expect(cache.call('near', { q: 'the first query about harbour' }, tool.run)).resolves.toMatchObject({ source: 'run' });
    // The partition's candidate list is kept at 5 in Redis too.
    const [near] = (await keysUnder(client, keyPrefix)).filter((key) => key.includes(':near:'));
    expect(await client.zCard(near!)).toBe(5);
  });
});

describe('scopes', () => {
  it("'user': another user never sees a user's entry, the same user does", async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'my_orders', scope: 'user', ttlMs: 60_000, audit: false, similarity: { argument: 'q', embed: lexicalEmbedder(), threshold: 0.5 } });
    const tool = countingTool<{ q: string }>((_args, run) => `private ${run}`);
    await expect(cache.call('my_orders', { q: 'my orders' }, tool.run, { userId: 'alice' })).resolves.toMatchObject({ result: 'private 1', source: 'run' });
    await expect(cache.call('my_orders', { q: 'my orders' }, tool.run, { userId: 'bob' })).resolves.toMatchObject({ result: 'private 2', source: 'run' });
    await expect(cache.call('my_orders', { q: 'my order' }, tool.run, { userId: 'mallory' })).resolves.toMatchObject({ result: 'private 3', source: 'run' });
    await expect(cache.call('my_orders', { q: 'my orders' }, tool.run, { userId: 'alice' })).resolves.toMatchObject({ result: 'private 1', source: 'cache' });
    await expect(cache.call('my_orders', { q: 'my orders!' }, tool.run, { userId: 'bob' })).resolves.toMatchObject({ result: 'private 2', source: 'similar' });
  });

  it("'user' without a userId, 'session' without a session id: refused before anything runs", async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'mine', scope: 'user', ttlMs: 60_000 });
    cache.register({ name: 'ours', scope: 'session', ttlMs: 60_000 });
    const tool = countingTool();
    await expect(cache.call('mine', {}, tool.run)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(cache.call('mine', {}, tool.run, { userId: '' })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(cache.call('ours', {}, tool.run, { userId: 'alice' })).rejects.toBeInstanceOf(InvalidSessionIdError);
    expect(tool.runs).toBe(0);
  });

  it("'session': entries are the session's own", async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'scratch', scope: 'session', ttlMs: 60_000, audit: false });
    const tool = countingTool();
    await cache.call('scratch', { k: 1 }, tool.run, { sessionId: 's1', userId: 'alice' });
    await expect(cache.call('scratch', { k: 1 }, tool.run, { sessionId: 's2', userId: 'alice' })).resolves.toMatchObject({ source: 'run' });
    await expect(cache.call('scratch', { k: 1 }, tool.run, { sessionId: 's1' })).resolves.toMatchObject({ source: 'cache' });
  });

  it("'session': a sessionId that is not the recorded session's is refused (one session's entry never lands in another's transcript)", async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'scratch', scope: 'session', ttlMs: 60_000, audit: false });
    const tool = countingTool();
    const calls: string[] = [];
    const session = {
      id: 's2',
      startToolCall: async (input: { id: string }) => {
        calls.push(`start ${input.id}`);
        return { id: input.id, name: 'scratch', status: 'pending' as const, args: null, startedAt: 0 };
      },
      completeToolCall: async (id: string) => void calls.push(`complete ${id}`),
      failToolCall: async (id: string) => void calls.push(`fail ${id}`),
    };
    await cache.call('scratch', { k: 1 }, tool.run, { sessionId: 's1' });
    await expect(cache.call('scratch', { k: 1 }, tool.run, { sessionId: 's1', record: { session, callId: 'c1' } })).rejects.toBeInstanceOf(InvalidInputError);
    expect(calls).toEqual([]);
    expect(tool.runs).toBe(1);
  });

  it("'user': a userId that is not the recorded session's user is refused (one user's entry never lands in another's transcript)", async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'my_orders', scope: 'user', ttlMs: 60_000, audit: false });
    const tool = countingTool();
    const calls: string[] = [];
    // What req.agent / ctx.agent offers: the session's id and the user it is bound to.
    const session = {
      id: 's1',
      userId: 'bob',
      startToolCall: async (input: { id: string }) => {
        calls.push(`start ${input.id}`);
        return { id: input.id, name: 'my_orders', status: 'pending' as const, args: null, startedAt: 0 };
      },
      completeToolCall: async (id: string) => void calls.push(`complete ${id}`),
      failToolCall: async (id: string) => void calls.push(`fail ${id}`),
    };
    await cache.call('my_orders', { q: 1 }, tool.run, { userId: 'alice' });
    await expect(cache.call('my_orders', { q: 1 }, tool.run, { userId: 'alice', record: { session, callId: 'c1' } })).rejects.toBeInstanceOf(InvalidInputError);
    expect(calls).toEqual([]);
    // The session's own user is served as usual.
    await expect(cache.call('my_orders', { q: 1 }, tool.run, { userId: 'bob', record: { session, callId: 'c2' } })).resolves.toMatchObject({ source: 'run' });
    expect(calls).toEqual(['start c2', 'complete c2']);
  });

  it('the scope is required at registration; bad rules are ConfigErrors', () => {
    const { cache } = testCache(client);
    expect(() => cache.register({ name: 'x', ttlMs: 1000 } as never)).toThrow(/`scope` is required/);
    expect(() => cache.register({ name: 'x', scope: 'everyone', ttlMs: 1000 } as never)).toThrow(ConfigError);
    expect(() => cache.register({ name: 'a{b}', scope: 'global', ttlMs: 1000 })).toThrow(ConfigError);
    expect(() => cache.register({ name: 'x', scope: 'global', ttlMs: 1000, ttl: 5 } as never)).toThrow(/Unknown register\(\) option `ttl`/);
    expect(() => cache.register({ name: 'x', scope: 'global', ttlMs: 1000, audit: { rate: 2 } })).toThrow(/audit.rate/);
    expect(() => cache.register({ name: 'x', scope: 'global', ttlMs: 1000, similarity: { argument: 'q', embed: lexicalEmbedder(), threshold: 0 } })).toThrow(/similarity.threshold/);
    cache.register({ name: 'x', scope: 'global', ttlMs: 1000 });
    expect(() => cache.register({ name: 'x', scope: 'global', ttlMs: 1000 })).toThrow(/registered already/);
    return expect(cache.call('unknown', {}, async () => 1)).rejects.toBeInstanceOf(ConfigError);
  });
});

describe("what the cache keeps in Redis", () => {
  it('every key is under the prefix, in the tool\'s slot, with a TTL; entries are capped per tool', async () => {
    const { cache, keyPrefix } = testCache(client);
    cache.register({ name: 'capped', scope: 'user', ttlMs: 60_000, audit: false, maxEntries: 20, similarity: { argument: 'q', embed: lexicalEmbedder(), threshold: 0.9 } });
    const tool = countingTool();
    for (let i = 0; i < 50; i++) await cache.call('capped', { q: `question ${i}` }, tool.run, { userId: `user-${i % 3}` });
    const keys = await keysUnder(client, keyPrefix);
    expect(keys.length).toBeGreaterThan(0);
    const slots = new Set(keys.map(keySlot));
    expect(slots).toEqual(new Set([keySlot(`${keyPrefix}tool-cache:{capped}:entries`)]));
    for (const key of keys) {
      if (key.endsWith(':stats')) continue; // a few counters per tool, kept
      expect(await client.pTTL(key), key).toBeGreaterThan(0);
    }
    expect(await client.hLen(`${keyPrefix}tool-cache:{capped}:entries`)).toBe(20);
    expect(await client.zCard(`${keyPrefix}tool-cache:{capped}:index`)).toBe(20);
    expect(await client.hLen(`${keyPrefix}tool-cache:{capped}:vectors`)).toBe(20);
    // The newest 20 stayed: question 30..49.
    await expect(cache.call('capped', { q: 'question 49' }, tool.run, { userId: 'user-1' })).resolves.toMatchObject({ source: 'cache' });
    await expect(cache.call('capped', { q: 'question 2' }, tool.run, { userId: 'user-2' })).resolves.toMatchObject({ source: 'run' });
    // No lock is left behind.
    expect(keys.filter((key) => key.includes(':lock:'))).toEqual([]);
  });

  it('a result larger than maxResultBytes is returned, not stored', async () => {
    const { cache, events } = testCache(client);
    cache.register({ name: 'big', scope: 'global', ttlMs: 60_000, audit: false, maxResultBytes: 1_000 });
    const tool = countingTool(() => 'x'.repeat(2_000));
    await expect(cache.call('big', {}, tool.run)).resolves.toMatchObject({ source: 'uncached' });
    await expect(cache.call('big', {}, tool.run)).resolves.toMatchObject({ source: 'uncached' });
    expect(tool.runs).toBe(2);
    expect(events).toContainEqual({ type: 'too-large', tool: 'big', bytes: 2_002 });
  });

  it('a result JSON cannot hold is returned, not stored, and its lock is given back at once', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'odd', scope: 'global', ttlMs: 60_000, audit: false, lockMs: 60_000, waitMs: 60_000 });
    await expect(cache.call('odd', {}, async () => 10n)).resolves.toMatchObject({ source: 'uncached', result: 10n });
    // Were the lock still held, this call would wait for it (a minute).
    await expect(cache.call('odd', {}, async () => 'json')).resolves.toMatchObject({ source: 'run', result: 'json' });
  });

  it('an entry that is not JSON (written by someone else) is reported and the tool runs', async () => {
    const { cache, keyPrefix, events } = testCache(client);
    cache.register({ name: 'tampered', scope: 'global', ttlMs: 60_000, audit: false });
    await cache.call('tampered', { a: 1 }, async () => 'fine');
    const entries = `${keyPrefix}tool-cache:{tampered}:entries`;
    const [field] = Object.keys(await client.hGetAll(entries));
    await client.hSet(entries, field!, `${Date.now()}:5:{not json`);
    await expect(cache.call('tampered', { a: 1 }, async () => 'ran')).resolves.toMatchObject({ source: 'uncached', result: 'ran' });
    expect(events).toContainEqual(expect.objectContaining({ type: 'unavailable', tool: 'tampered', step: 'lookup', error: expect.stringContaining('CorruptStateError') }));
    // A key of another type: the same.
    await client.del(entries);
    await client.set(entries, 'x');
    await expect(cache.call('tampered', { a: 1 }, async () => 'ran again')).resolves.toMatchObject({ source: 'uncached', result: 'ran again' });
  });

  it('stats() counts hits, misses and the time saved (the measured run time of each served entry)', async () => {
    const { cache, keyPrefix } = testCache(client);
    cache.register({ name: 'slow', scope: 'global', ttlMs: 60_000, audit: false });
    const tool = async () => 'done';
    await cache.call('slow', { a: 1 }, tool);
    // The entry is rewritten as if the tool had run for 250 ms: each hit saves that.
    const entries = `${keyPrefix}tool-cache:{slow}:entries`;
    const [field, value] = Object.entries(await client.hGetAll(entries))[0]!;
    const [storedAt, runMs] = value.split(':', 2) as [string, string];
    await client.hSet(entries, field, `${storedAt}:250${value.slice(storedAt.length + 1 + runMs.length)}`);
    for (let i = 0; i < 4; i++) await expect(cache.call('slow', { a: 1 }, tool)).resolves.toMatchObject({ source: 'cache' });
    const stats = (await cache.stats()).tools.slow!;
    expect(stats).toMatchObject({ hits: 4, misses: 1, similarityHits: 0, audits: 0, replacedAfterAudit: 0, timeSavedMs: 4 * 250 });
    // meanRunMs is what the runs measured (one run here), not what the entries say.
    expect(stats.meanRunMs).toBe(Number(await client.hGet(`${keyPrefix}tool-cache:{slow}:stats`, 'runMsTotal')));
  });
});
