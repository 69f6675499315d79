import { describe, expect, it } from 'vitest';
import { lexicalEmbedder, overlapScore } from 'agent-session/tool-cache';
import { clientForThisFile } from '../harness/store.js';
import { eventually } from '../harness/wait.js';
import { testCache } from './support.js';

/**
 * Audit sampling: a fraction of hits re-runs the tool in the background,
 * after the caller has its answer, and records how alike the fresh and the
 * cached results are; a drifted entry is replaced.
 */
const client = clientForThisFile();

describe('audit sampling', () => {
  it('audits 5% of 2,000 hits, within statistical bounds, each sampled hit once', async () => {
    const { cache } = testCache(client, { auditConcurrency: 100 });
    cache.register({ name: 'stable', scope: 'global', ttlMs: 600_000 });
    let runs = 0;
    const tool = async () => {
      runs += 1;
      return { answer: 42 };
    };
    await cache.call('stable', {}, tool);
    for (let i = 0; i < 2_000; i++) await cache.call('stable', {}, tool);
    await cache.idle();
    const stats = (await cache.stats()).tools.stable!;
    const sampled = stats.audits + stats.auditsSkipped + stats.auditErrors;
    // Binomial(2000, 0.05): mean 100, sd 9.7; 50..150 is more than 5 sd either way.
    expect(sampled).toBeGreaterThanOrEqual(50);
    expect(sampled).toBeLessThanOrEqual(150);
    // One tool run per audit (never two for one hit), plus the first miss.
    expect(runs).toBe(1 + stats.audits + stats.auditErrors);
    expect(stats.hits).toBe(2_000);
    // Same result every time: every audit scored 1, nothing replaced.
    expect(stats.auditOverlap.sum).toBeCloseTo(stats.audits, 5);
    expect(stats.auditOverlap.buckets.find((bucket) => bucket.le === 0.99)?.count).toBe(0);
    expect(stats.auditOverlap.buckets.at(-1)).toEqual({ le: 1, count: stats.audits });
    expect(stats.replacedAfterAudit).toBe(0);
  });

  it('an audit that finds drift replaces the entry; the next hit serves the fresh result', async () => {
    const { cache, events } = testCache(client);
    cache.register({ name: 'news', scope: 'global', ttlMs: 600_000, audit: { rate: 1 } });
    let version = 0;
    const tool = async () => {
      version += 1;
      return { headline: version === 1 ? 'markets calm before the vote' : 'storm closes every airport up north' };
    };
    await cache.call('news', { topic: 'today' }, tool);
    await expect(cache.call('news', { topic: 'today' }, tool)).resolves.toMatchObject({ source: 'cache', result: { headline: 'markets calm before the vote' } });
    await cache.idle();
    expect(events).toContainEqual({ type: 'audit', tool: 'news', score: 0, replaced: true });
    const after = await cache.call('news', { topic: 'today' }, tool);
    expect(after).toMatchObject({ source: 'cache', result: { headline: 'storm closes every airport up north' } });
    await cache.idle();
    const stats = (await cache.stats()).tools.news!;
    expect(stats).toMatchObject({ audits: 2, replacedAfterAudit: 1 });
    // The first audit scored 0 (the drift); the second found the fresh result again (1).
    expect(stats.auditOverlap.buckets[0]).toEqual({ le: 0.25, count: 1 });
    expect(stats.auditOverlap.sum).toBe(1);
  });

  it('an audit that finds the same result keeps the entry', async () => {
    const { cache, events } = testCache(client);
    cache.register({ name: 'same', scope: 'global', ttlMs: 600_000, audit: { rate: 1, replaceBelow: 0.5 } });
    let runs = 0;
    // 9 of 10 words stay: overlap 0.9, above replaceBelow.
    const tool = async () => ({ text: `one two three four five six seven eight nine ${++runs === 1 ? 'ten' : 'eleven'}` });
    await cache.call('same', {}, tool);
    await cache.call('same', {}, tool);
    await cache.idle();
    expect(events).toContainEqual({ type: 'audit', tool: 'same', score: 0.9, replaced: false });
    await expect(cache.call('same', {}, tool)).resolves.toMatchObject({ result: { text: expect.stringMatching(/ten$/) } });
  });

  it('a caller that changes the result it was served does not change what its audit compares', async () => {
    const { cache, events } = testCache(client);
    cache.register({ name: 'profile', scope: 'global', ttlMs: 600_000, audit: { rate: 1 } });
    const tool = async () => ({ name: 'Ada Lovelace', languages: ['english', 'french'] });
    await cache.call('profile', {}, tool);
    const hit = await cache.call('profile', {}, tool);
    expect(hit.source).toBe('cache');
    // The app decorates its copy, before the audit runs.
    hit.result.name = 'someone else entirely';
    hit.result.languages.splice(0);
    await cache.idle();
    expect(events).toContainEqual({ type: 'audit', tool: 'profile', score: 1, replaced: false });
    expect((await cache.stats()).tools.profile).toMatchObject({ audits: 1, replacedAfterAudit: 0 });
  });

  it("the tool's own comparison is used", async () => {
    const { cache, events } = testCache(client);
    cache.register({ name: 'priced', scope: 'global', ttlMs: 600_000, audit: { rate: 1, compare: (a, b) => ((a as { price: number }).price === (b as { price: number }).price ? 1 : 0.5) } });
    let price = 10;
    await cache.call('priced', {}, async () => ({ price, at: Date.now() }));
    price = 11;
    await cache.call('priced', {}, async () => ({ price, at: Date.now() }));
    await cache.idle();
    expect(events).toContainEqual({ type: 'audit', tool: 'priced', score: 0.5, replaced: true });
  });

  it('never delays the caller: the answer is handed over before the audit runs the tool, and while it is still running', async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'gated', scope: 'global', ttlMs: 600_000, audit: { rate: 1 } });
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const tool = async () => {
      runs += 1;
      if (runs === 1) return 'first';
      order.push('audit started');
      await gate;
      order.push('audit finished');
      return 'first';
    };
    await cache.call('gated', {}, tool);
    const hit = await cache.call('gated', {}, tool);
    order.push('caller answered');
    expect(hit.result).toBe('first');
    await eventually('the audit runs', () => order.includes('audit started'));
    release();
    await cache.idle();
    expect(order).toEqual(['caller answered', 'audit started', 'audit finished']);
  });

  it('at most auditConcurrency audits run at once; hits sampled beyond that are counted as skipped', async () => {
    const { cache } = testCache(client, { auditConcurrency: 2 });
    cache.register({ name: 'busy', scope: 'global', ttlMs: 600_000, audit: { rate: 1 } });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let most = 0;
    let runs = 0;
    const tool = async () => {
      runs += 1;
      if (runs === 1) return 'x';
      running += 1;
      most = Math.max(most, running);
      await gate;
      running -= 1;
      return 'x';
    };
    await cache.call('busy', {}, tool);
    for (let i = 0; i < 10; i++) await cache.call('busy', {}, tool);
    await eventually('two audits run', () => running === 2);
    await eventually('eight counted as skipped', async () => (await cache.stats()).tools.busy!.auditsSkipped === 8);
    release();
    await cache.idle();
    expect(most).toBe(2);
    expect((await cache.stats()).tools.busy).toMatchObject({ audits: 2, auditsSkipped: 8, hits: 10 });
  });

  it('an audit whose tool run never ends gives its place back after lockMs (counted as an audit error); later hits are audited again', async () => {
    const { cache, events } = testCache(client, { auditConcurrency: 1 });
    cache.register({ name: 'stuck', scope: 'global', ttlMs: 600_000, lockMs: 100, audit: { rate: 1 } });
    let runs = 0;
    const tool = async () => {
      runs += 1;
      if (runs === 2) return new Promise<string>(() => {}); // the first audit's run hangs for good
      return 'x';
    };
    await cache.call('stuck', {}, tool);
    await cache.call('stuck', {}, tool);
    await eventually('the hung audit is given up', async () => (await cache.stats()).tools.stuck!.auditErrors === 1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'audit-error', tool: 'stuck' }));
    await cache.call('stuck', {}, tool);
    await cache.idle();
    expect((await cache.stats()).tools.stuck).toMatchObject({ audits: 1, auditErrors: 1, auditsSkipped: 0 });
  });

  it("a similarity hit's audit stores a drifted fresh result under the caller's own arguments", async () => {
    const { cache } = testCache(client);
    cache.register({ name: 'web', scope: 'global', ttlMs: 600_000, audit: { rate: 1 }, similarity: { argument: 'q', embed: lexicalEmbedder(), threshold: 0.8 } });
    const tool = async (args: unknown) => `answer about ${(args as { q: string }).q.includes('Lyon') ? 'lyon' : 'paris and its museums'}`;
    await cache.call('web', { q: 'museums in Paris' }, tool);
    await expect(cache.call('web', { q: 'museums in Paris?' }, tool)).resolves.toMatchObject({ source: 'similar' });
    await cache.idle();
    expect((await cache.stats()).tools.web).toMatchObject({ audits: 1, replacedAfterAudit: 0, similarityHits: 1 });
    // Scores 1: nothing stored. Now a near text whose fresh answer differs.
    await expect(cache.call('web', { q: 'museums in Lyon Paris' }, tool)).resolves.toMatchObject({ source: 'similar', result: 'answer about paris and its museums' });
    await cache.idle();
    expect((await cache.stats()).tools.web).toMatchObject({ audits: 2, replacedAfterAudit: 1 });
    await expect(cache.call('web', { q: 'museums in Lyon Paris' }, tool)).resolves.toMatchObject({ source: 'cache', result: 'answer about lyon' });
    await cache.idle();
    await expect(cache.call('web', { q: 'museums in Paris' }, tool)).resolves.toMatchObject({ result: 'answer about paris and its museums' });
  });
});

describe('overlapScore (the default comparison)', () => {
  it('1 for the same content in any order, 0 for nothing shared, in between by shared words', () => {
    expect(overlapScore({ results: [{ title: 'A b' }, { title: 'c' }] }, { results: [{ title: 'c' }, { title: 'a B' }] })).toBe(1);
    expect(overlapScore('alpha beta', 'gamma delta')).toBe(0);
    expect(overlapScore('one two three four', 'one two three five')).toBe(0.75);
    expect(overlapScore({ price: 10 }, { price: 11 })).toBe(0);
    expect(overlapScore({ a: 'x' }, { b: 'x' })).toBe(0);
    expect(overlapScore(null, null)).toBe(1);
    expect(overlapScore({}, [])).toBe(1);
  });
});
