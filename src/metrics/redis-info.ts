import { RedisPermissionError } from '../errors.js';
import { failFast } from '../redis/fail-fast.js';
import type { NodeRedisClient } from '../redis/types.js';

/** The Redis server figures the metrics report, from INFO (summed over a Cluster's masters). */
export interface RedisFigures {
  usedMemoryBytes: number;
  /** 0 when no limit is set. */
  maxmemoryBytes: number;
  evictedKeys: number;
  expiredKeys: number;
  keyspaceHits: number;
  keyspaceMisses: number;
  connectedClients: number;
  /** The largest replication offset lag (bytes) of the replicas the server lists; undefined without replicas. */
  replicaLagBytes: number | undefined;
}

/**
 * Reads INFO at most once per `everyMs` per client, however often and by
 * however many metrics registries it is asked: a scrape in between gets the
 * last sample. When the Redis user may not run INFO, `onDenied` is called
 * once and INFO is not sent again (the figures stay absent); when Redis is
 * unreachable, the figures are absent for that sample.
 */
export class RedisInfoSampler {
  readonly #client: NodeRedisClient;
  readonly #failFastMs: number;
  readonly #everyMs: number;
  readonly #onDenied: (error: RedisPermissionError) => void;
  #sample: Promise<RedisFigures | undefined> | undefined;
  #takenAt = -Infinity;
  #denied = false;

  constructor(client: NodeRedisClient, failFastMs: number, everyMs: number, onDenied: (error: RedisPermissionError) => void) {
    this.#client = client;
    this.#failFastMs = failFastMs;
    this.#everyMs = everyMs;
    this.#onDenied = onDenied;
  }

  figures(): Promise<RedisFigures | undefined> {
    if (this.#denied) return Promise.resolve(undefined);
    const now = performance.now();
    if (this.#sample && now - this.#takenAt < this.#everyMs) return this.#sample;
    this.#takenAt = now;
    this.#sample = failFast(() => readInfo(this.#client), this.#failFastMs).then(
      (texts) => sumFigures(texts.map(parseInfo)),
      (error: unknown) => {
        if (error instanceof RedisPermissionError && !this.#denied) {
          this.#denied = true;
          this.#onDenied(error);
        }
        return undefined;
      },
    );
    return this.#sample;
  }
}

/** INFO of the server (each master of a Cluster). */
async function readInfo(client: NodeRedisClient): Promise<string[]> {
  if ('nodeClient' in client) {
    return Promise.all(client.masters.map(async (master) => String(await (await client.nodeClient(master)).info())));
  }
  return [String(await client.info())];
}

/** `field:value` lines of INFO's text, sections ignored. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

function sumFigures(servers: Array<Map<string, string>>): RedisFigures {
  const sum = (field: string) => servers.reduce((total, info) => total + (Number(info.get(field)) || 0), 0);
  const lags = servers.flatMap(replicaLags);
  return {
    usedMemoryBytes: sum('used_memory'),
    maxmemoryBytes: sum('maxmemory'),
    evictedKeys: sum('evicted_keys'),
    expiredKeys: sum('expired_keys'),
    keyspaceHits: sum('keyspace_hits'),
    keyspaceMisses: sum('keyspace_misses'),
    connectedClients: sum('connected_clients'),
    replicaLagBytes: lags.length > 0 ? Math.max(...lags) : undefined,
  };
}

/** `slaveN:ip=...,port=...,state=online,offset=123,lag=0` lines of a master, as the bytes each replica is behind. */
function replicaLags(info: Map<string, string>): number[] {
  const masterOffset = Number(info.get('master_repl_offset'));
  if (!Number.isFinite(masterOffset)) return [];
  const lags: number[] = [];
  for (const [field, value] of info) {
    if (!/^slave\d+$/.test(field)) continue;
    const offset = Number(/(?:^|,)offset=(\d+)/.exec(value)?.[1]);
    if (Number.isFinite(offset)) lags.push(Math.max(0, masterOffset - offset));
  }
  return lags;
}
