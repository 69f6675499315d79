import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SERVERS, type ServerId } from './catalog.js';

/** The one place bench options are read, defaulted and checked. */
export interface BenchConfig {
  mode: 'default' | 'quick';
  /** Concurrent connections autocannon keeps open (all on one session unless a stage says otherwise). */
  connections: number;
  /** Seconds of load per server, scenario and round in the main comparison. */
  duration: number;
  /** Seconds per measurement in the growth stages. */
  growthDuration: number;
  /** Rounds; figures are medians over them. Rounds are interleaved across servers. */
  rounds: number;
  /** Seconds of unrecorded load before the first round (JIT, script cache, connection pools). */
  warmup: number;
  /** Requests sent one by one under MONITOR to list each request's Redis commands. */
  profileRequests: number;
  servers: ServerId[];
  /** History lengths for the growth stage (the window is raised to match). Empty: skip. */
  histories: number[];
  /** Live session counts for the growth stage. Empty: skip. */
  sessions: number[];
  /** Which parts of the cold-tier stage run (bench/phases/archive.ts). Empty: skip the stage. */
  archive: ArchivePart[];
  /** Appends per load of the cold-tier throughput part (each drained by the archiver). */
  archiveAppends: number;
  /** Timed resumes of the 1,000-turn conversation, and as many of the hand-written restore. */
  restores: number;
  /** The PostgreSQL server the cold-tier stage creates its database on (BENCH_PG_URL). */
  pgUrl: string;
  /** Where the results go: <outDir>/<outName>.json and .md. */
  outDir: string;
  /** "results", or "results-quick" in quick mode (a quick look never overwrites the committed figures). */
  outName: string;
}

export const ARCHIVE_PARTS = ['throughput', 'path', 'restore'] as const;
export type ArchivePart = (typeof ARCHIVE_PARTS)[number];

/** The machine's PostgreSQL, trust auth for postgres on loopback (as the tests use it). */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const HELP = `npm run bench [-- options]      (npm run bench:quick for a short look)

  --quick               1 round of 1 s, smaller growth and cold-tier stages (about 3 minutes);
                        writes results-quick.{json,md}, leaving results.{json,md} alone
  --connections N       concurrent connections (default 16)
  --duration S          seconds per measurement in the main comparison (default 2.5)
  --growth-duration S   seconds per measurement in the growth stages (default 2)
  --rounds N            rounds; the report quotes medians (default 3)
  --warmup S            seconds of unrecorded load per server and scenario (default 1)
  --servers LIST        e.g. 2,3 (default: all: 1,1b,2,3,4,4b,5,6)
  --histories LIST      history lengths for the growth stage (default 10,100,1000; "none" skips)
  --sessions LIST       live session counts for the growth stage (default 1,100,10000; "none" skips)
  --archive LIST        cold-tier parts: throughput,path,restore (default all; "none" skips);
                        they run on a database of their own created on BENCH_PG_URL
                        (default ${DEFAULT_PG_URL}) and dropped at the end
  --archive-appends N   appends per load in the throughput part (default 10000; quick 3000)
  --restores N          timed restores of the 1,000-turn conversation, each way (default 50; quick 10)
  --out DIR             where results.json and results.md are written (default bench/)
`;

function list(value: string | undefined, fallback: number[], name: string): number[] {
  if (value === undefined) return fallback;
  if (value === 'none' || value === '') return [];
  return value.split(',').map((part) => positive(part, name));
}

function positive(value: string, name: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`--${name} must be a positive number; got "${value}".\n\n${HELP}`);
  return number;
}

function archiveParts(value: string | undefined): ArchivePart[] {
  if (value === undefined || value === 'all') return [...ARCHIVE_PARTS];
  if (value === 'none' || value === '') return [];
  const parts = value.split(',').map((part) => part.trim());
  for (const part of parts) {
    if (!(ARCHIVE_PARTS as readonly string[]).includes(part)) throw new Error(`--archive: unknown part "${part}" (known: ${ARCHIVE_PARTS.join(', ')}, or none).\n\n${HELP}`);
  }
  return parts as ArchivePart[];
}

export function readConfig(argv: string[]): BenchConfig | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      'growth-duration': { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      servers: { type: 'string' },
      histories: { type: 'string' },
      sessions: { type: 'string' },
      archive: { type: 'string' },
      'archive-appends': { type: 'string' },
      restores: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return undefined;
  }
  const quick = values.quick ?? false;
  const known = new Set<string>(SERVERS.map((server) => server.id));
  const servers = (values.servers?.split(',') ?? [...known]).map((id) => id.trim());
  for (const id of servers) if (!known.has(id)) throw new Error(`--servers: unknown server "${id}" (known: ${[...known].join(', ')}).`);

  const number = (name: keyof typeof values, fallback: number) => {
    const value = values[name];
    return typeof value === 'string' ? positive(value, name) : fallback;
  };
  return {
    mode: quick ? 'quick' : 'default',
    connections: Math.round(number('connections', 16)),
    duration: number('duration', quick ? 1 : 2.5),
    growthDuration: number('growth-duration', quick ? 1 : 2),
    rounds: Math.round(number('rounds', quick ? 1 : 3)),
    warmup: number('warmup', quick ? 0.5 : 1),
    profileRequests: quick ? 10 : 20,
    servers: servers as ServerId[],
    histories: list(values.histories, quick ? [10, 1000] : [10, 100, 1000], 'histories').map(Math.round),
    sessions: list(values.sessions, quick ? [1, 1000] : [1, 100, 10_000], 'sessions').map(Math.round),
    archive: archiveParts(values.archive),
    archiveAppends: Math.round(number('archive-appends', quick ? 3_000 : 10_000)),
    restores: Math.round(number('restores', quick ? 10 : 50)),
    pgUrl: process.env.BENCH_PG_URL ?? DEFAULT_PG_URL,
    outDir: values.out ?? fileURLToPath(new URL('./', import.meta.url)),
    outName: quick ? 'results-quick' : 'results',
  };
}
