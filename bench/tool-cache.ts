/**
 * `npm run bench:tool-cache`: what the tool cache (agent-session/tool-cache)
 * costs and saves, on a private redis-server.
 *
 * 1. Hit and miss beside the tool called directly. The tool sleeps a fixed
 *    `--tool-ms` (default 200). Each round measures, interleaved: one direct
 *    call, one miss (new arguments: lookup, lock, the tool, put), `--hits`
 *    exact hits, and as many hits of a tool whose every hit is sampled for
 *    an audit (the audit runs in the background). Medians per round, then the
 *    median over rounds and the spread (max-min over median) of the rounds.
 * 2. The similarity lookup as a tool's entries grow from 100 to 10,000:
 *    the tool is filled with N entries of distinct texts (one similarity
 *    partition), then timed: a similarity hit (a near-duplicate of a recent
 *    entry), a similarity miss (an unrelated text; the tool answers at once,
 *    so this is lookup + embed + compare + lock + put), and an exact hit.
 *    With the default 100 candidates, and with 1,000 at 10,000 entries.
 *
 *   npm run bench:tool-cache -- --rounds 10 --hits 50 --tool-ms 200
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { connectRedis } from 'agent-session';
import { createToolCache, lexicalEmbedder } from 'agent-session/tool-cache';
import { startRedisServer } from '../test/harness/redis-server.js';
import { median, spread } from './harness/stats.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    hits: { type: 'string', default: '50' },
    'tool-ms': { type: 'string', default: '200' },
    samples: { type: 'string', default: '200' },
    sizes: { type: 'string', default: '100,1000,10000' },
  },
});
const rounds = Number(values.rounds);
const hitsPerRound = Number(values.hits);
const toolMs = Number(values['tool-ms']);
const samples = Number(values.samples);
const sizes = String(values.sizes).split(',').map(Number);

const server = await startRedisServer();
const redis = await connectRedis({ url: server.url, logger: () => {} });
const keyPrefix = `bench${randomBytes(3).toString('hex')}:`;
const cache = createToolCache({ redis, keyPrefix, logger: () => {} });
const slowTool = async (args: unknown) => {
  await sleep(toolMs);
  return { results: [{ title: `result for ${JSON.stringify(args)}`, snippet: 'x'.repeat(400) }] };
};
cache.register({ name: 'search', scope: 'global', ttlMs: 3_600_000, audit: false });
cache.register({ name: 'audited', scope: 'global', ttlMs: 3_600_000, audit: { rate: 1 } });

const time = async (call: () => Promise<unknown>): Promise<number> => {
  const started = performance.now();
  await call();
  return performance.now() - started;
};
const fmt = (ms: number) => (ms < 10 ? ms.toFixed(3) : ms.toFixed(1));
const pct = (value: number) => `${Math.round(value * 100)}%`;

// --- 1. hit and miss beside the direct call -----------------------------------------

console.log(`Node ${process.version}, tool latency ${toolMs} ms, ${rounds} rounds x (1 direct, 1 miss, ${hitsPerRound} hits, ${hitsPerRound} audited hits)`);
await cache.call('search', { q: 'warm-up' }, slowTool);
await cache.call('audited', { q: 'warm-up' }, slowTool);
const perRound = { direct: [] as number[], miss: [] as number[], missOverhead: [] as number[], hit: [] as number[], auditedHit: [] as number[] };
for (let round = 0; round < rounds; round++) {
  const direct = await time(() => slowTool({ q: `direct ${round}` }));
  const miss = await time(() => cache.call('search', { q: `miss ${round}` }, slowTool));
  const hits: number[] = [];
  const audited: number[] = [];
  for (let i = 0; i < hitsPerRound; i++) {
    hits.push(await time(() => cache.call('search', { q: 'warm-up' }, slowTool)));
    audited.push(await time(() => cache.call('audited', { q: 'warm-up' }, slowTool)));
  }
  perRound.direct.push(direct);
  perRound.miss.push(miss);
  perRound.missOverhead.push(miss - direct);
  perRound.hit.push(median(hits));
  perRound.auditedHit.push(median(audited));
}
await cache.idle();
const row = (name: string, list: number[], vsDirect = true) =>
  `| ${name} | ${fmt(median(list))} | ${fmt(Math.min(...list))} – ${fmt(Math.max(...list))} (${pct(spread(list))}) | ${vsDirect ? (median(list) / median(perRound.direct)).toFixed(4) : ''} |`;
console.log('\n| call | median of rounds, ms | rounds min – max (spread) | ÷ direct |\n| --- | ---: | ---: | ---: |');
console.log(row(`tool called directly (${toolMs} ms)`, perRound.direct));
console.log(row('miss (lookup, lock, tool, put)', perRound.miss));
console.log(row('miss minus direct (the cache\'s cost on a miss)', perRound.missOverhead, false));
console.log(row('exact hit', perRound.hit));
console.log(row('exact hit, every hit sampled for an audit', perRound.auditedHit));
const auditedStats = (await cache.stats()).tools.audited!;
console.log(`audited tool: ${auditedStats.audits} audits ran, ${auditedStats.auditsSkipped} sampled hits skipped (auditConcurrency 2), time saved ${auditedStats.timeSavedMs} ms`);

// --- 2. similarity lookup cost as entries grow ------------------------------------------

const WORDS = (
  'apple river mountain engine garden silver planet candle harbor forest winter copper lantern meadow violin orbit ' +
  'canyon feather marble thunder island velvet compass glacier ember falcon quartz meadow saddle tundra willow ' +
  'anchor basket cactus dragon eclipse fossil goblet hammock igloo jungle kettle lagoon magnet nectar oyster ' +
  'pepper quiver radish saffron tornado umbrella vortex walnut yogurt zephyr bamboo cobalt dolphin emerald ' +
  'fjord granite hazel indigo jasmine kiwi lemon mango nickel olive pumpkin quill raven sequoia tulip urchin'
).split(' ');
let seed = 42;
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32;
};
const phrase = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
const instant = async (args: unknown) => ({ answer: (args as { q: string }).q.length });

console.log('\nSimilarity lookup (lexical embedder, 256 dimensions, threshold 0.9), per call, median over samples:');
console.log('| entries in the tool | candidates compared | similarity hit ms | similarity miss ms (incl. put) | exact hit ms |\n| ---: | ---: | ---: | ---: | ---: |');
// The first case warms the JIT and the connection up; it is not printed.
const cases: Array<{ size: number; candidates: number; warmUp?: true }> = [{ size: 100, candidates: 100, warmUp: true }, ...sizes.map((size) => ({ size, candidates: 100 }))];
if (sizes.includes(10_000)) cases.push({ size: 10_000, candidates: 1_000 });
for (const [index, { size, candidates, warmUp }] of cases.entries()) {
  const name = `near_${index}_${size}_${candidates}`;
  cache.register({ name, scope: 'global', ttlMs: 3_600_000, maxEntries: size, audit: false, similarity: { argument: 'q', embed: lexicalEmbedder(), threshold: 0.9, candidates } });
  const texts: string[] = [];
  for (let filled = 0; filled < size; ) {
    const batch = Array.from({ length: Math.min(16, size - filled) }, () => `${phrase(6)} ${filled}`);
    await Promise.all(batch.map((q) => cache.call(name, { q }, instant)));
    texts.push(...batch);
    filled += batch.length;
  }
  const hit: number[] = [];
  const missed: number[] = [];
  const exact: number[] = [];
  let similarHits = 0;
  for (let i = 0; i < samples; i++) {
    // A recent entry (within the candidates) in capitals with a question mark: not an exact match, lexically the same.
    const recent = texts[texts.length - 1 - Math.floor(rand() * Math.min(candidates, texts.length) * 0.5)]!;
    const started = performance.now();
    const outcome = await cache.call(name, { q: `${recent.toUpperCase()}?` }, instant);
    hit.push(performance.now() - started);
    if (outcome.source === 'similar') similarHits += 1;
    const unrelated = `${phrase(8)} unrelated ${i}`;
    missed.push(await time(() => cache.call(name, { q: unrelated }, instant)));
    texts.push(unrelated);
    exact.push(await time(() => cache.call(name, { q: recent }, instant)));
  }
  if (warmUp) continue;
  console.log(`| ${size.toLocaleString('en')} | ${candidates} | ${fmt(median(hit))} (${similarHits}/${samples} similar) | ${fmt(median(missed))} | ${fmt(median(exact))} |`);
}

await redis.close();
await server.dispose();
