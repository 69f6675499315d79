import type { ArchivePart, BenchConfig } from '../config.js';
import type { CommandLog } from '../harness/command-log.js';
import { createBenchDatabase, type BenchDatabase } from '../harness/postgres.js';
import type { BenchRedis } from '../harness/redis.js';
import { missing, ARCHIVE_SERVER } from '../catalog.js';
import { runPath, type PathPart } from './archive-path.js';
import { runRestore, type RestorePart } from './archive-restore.js';
import { runThroughput, type ThroughputPart } from './archive-throughput.js';

/**
 * The cold-tier stage (issue 9's numbers), after the other phases, on the
 * bench's own Redis and a PostgreSQL database of its own:
 * - throughput: the archiver draining what server 3a appended, against 3a's
 *   append rate (archive-throughput.ts);
 * - path: servers 3 and 3a side by side, the request path with and without
 *   the cold tier (archive-path.ts);
 * - restore: a 1,000-turn conversation resumed from PostgreSQL, beside the
 *   hand-written one-JSON-row pattern (archive-restore.ts).
 * Without PostgreSQL the stage is skipped and the report says why. A part
 * that fails is reported and the others still run: the earlier phases'
 * minutes of figures are not thrown away for it.
 */
export interface ArchivePhase {
  /** Why the stage did not run, when it did not. */
  skipped?: string;
  /** The database it created (and dropped). */
  database?: string;
  throughput?: ThroughputPart;
  path?: PathPart;
  restore?: RestorePart;
  failures: Array<{ part: ArchivePart; error: string }>;
}

type Progress = (line: string) => void;

export async function runArchiveStage(config: BenchConfig, redis: BenchRedis, log: CommandLog, progress: Progress): Promise<ArchivePhase> {
  if (config.archive.length === 0) return { skipped: 'not run (--archive none)', failures: [] };
  const absent = missing(ARCHIVE_SERVER);
  if (absent) return { skipped: absent, failures: [] };
  const outcome = await createBenchDatabase(config.pgUrl);
  if ('unavailable' in outcome) {
    progress(`cold tier skipped: ${outcome.unavailable}`);
    return { skipped: outcome.unavailable, failures: [] };
  }
  const db = outcome.database;
  progress(`cold tier: database ${db.name} created`);
  const interrupted = dropOnSignal(db, progress);
  const phase: ArchivePhase = { database: db.name, failures: [] };
  try {
    for (const part of config.archive) {
      try {
        await runPart(part, phase, config, db, redis, log, progress);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        phase.failures.push({ part, error: message.split('\n').slice(0, 12).join('\n') });
        progress(`cold tier: the ${part} part failed: ${message}`);
        await redis.flush();
      }
    }
    return phase;
  } finally {
    interrupted.dispose();
    await db.drop().then(
      () => progress(`cold tier: database ${db.name} dropped`),
      (error: unknown) => progress(`cold tier: could not drop database ${db.name}: ${error instanceof Error ? error.message : String(error)}`),
    );
  }
}

async function runPart(part: ArchivePart, phase: ArchivePhase, config: BenchConfig, db: BenchDatabase, redis: BenchRedis, log: CommandLog, progress: Progress): Promise<void> {
  if (part === 'throughput') {
    phase.throughput = await runThroughput(db, redis, {
      appends: config.archiveAppends,
      rounds: config.rounds,
      connections: config.connections,
      warmup: config.warmup,
      progress,
    });
  } else if (part === 'path') {
    phase.path = await runPath(db, redis, log, {
      rounds: config.rounds,
      duration: config.duration,
      warmup: config.warmup,
      connections: config.connections,
      profileRequests: config.profileRequests,
      progress,
    });
  } else {
    phase.restore = await runRestore(db, redis, config.restores, progress);
  }
}

/**
 * Ctrl-C or a kill during the stage would skip the `finally` that drops the
 * database: drop it on the way out instead (WITH (FORCE) ends the servers'
 * connections), then exit as the signal would have.
 */
function dropOnSignal(db: BenchDatabase, progress: Progress): { dispose(): void } {
  const handler = (signal: NodeJS.Signals) => {
    progress(`cold tier: ${signal}, dropping database ${db.name}`);
    void db.drop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
