/**
 * The slice of a node-redis client that agent-session uses. A standalone
 * client (`createClient`), a cluster (`createCluster`) and a sentinel-managed
 * master (`createSentinel`) all satisfy it, and so does a client the app
 * created itself; everything above this file is topology-agnostic.
 */
export interface RedisEvalOptions {
  keys: string[];
  arguments: string[];
}

export interface RedisCommandClient {
  evalSha(sha1: string, options: RedisEvalOptions): Promise<unknown>;
  eval(script: string, options: RedisEvalOptions): Promise<unknown>;
}
