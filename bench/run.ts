/**
 * `npm run bench`: agent-session against the session layers users would use
 * instead, in one run, on one private Redis; then its cold tier, on a
 * PostgreSQL database of the run's own. See bench/README.md.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { summariseColdTier } from './archive-results.js';
import { readConfig } from './config.js';
import { openCommandLog } from './harness/command-log.js';
import { startBenchRedis } from './harness/redis.js';
import { runComparison } from './phases/compare.js';
import { runArchiveStage } from './phases/archive.js';
import { runGrowth } from './phases/growth.js';
import { markdownReport } from './report/markdown.js';
import { textReport } from './report/stdout.js';
import { assemble } from './results.js';
import { evaluateTargets } from './targets.js';

const config = readConfig(process.argv.slice(2));
if (config) {
  const startedAt = new Date();
  const load = loadavg();
  const progress = (line: string) => process.stderr.write(`[${((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

  const redis = await startBenchRedis();
  progress(`redis-server ${redis.version} on ${redis.url}`);
  const log = await openCommandLog(redis);
  try {
    const compare = await runComparison(config, redis, log, progress);
    const growth = await runGrowth(config, redis, log, progress);
    const archive = summariseColdTier(await runArchiveStage(config, redis, log, progress));
    const results = assemble(config, { redis: redis.version, startedAt, load }, compare, growth, archive, evaluateTargets);

    const out = join(config.outDir, config.outName);
    writeFileSync(`${out}.json`, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(`${out}.md`, markdownReport(results));
    console.log(textReport(results));
    progress(`wrote ${out}.md and ${out}.json`);
  } finally {
    await log.close();
    await redis.close();
  }
}
