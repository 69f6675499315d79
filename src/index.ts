export { createAgentStore, AgentStore } from './core/agent-store.js';
export {
  AgentSession,
  type Caller,
  type ObservationRequestOptions,
  type ObservationRequestResult,
  type SessionHandleOptions,
} from './core/agent-session.js';
export { STORE_DEFAULTS, type AgentStoreOptions, type AgentStoreLimits, type StoreRedis } from './core/config.js';
export { generateId, MAX_ID_LENGTH } from './core/ids.js';
export { DEFAULT_OBSERVER_KIND, OBSERVER_QUEUED_TTL_MS, observerQueueKey, sessionKeys, type SessionKeys } from './core/keys.js';
export { evaluateNotes } from './core/notes.js';
export * from './errors.js';
export type * from './core/types.js';
export { connectRedis } from './redis/connect.js';
export { RedisStartupError } from './redis/startup-error.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_LOG_INTERVAL_MS } from './redis/options.js';
export { DEFAULT_FAIL_FAST_MS } from './redis/fail-fast.js';
export type {
  NodeRedisClient,
  RedisConnection,
  RedisConnectionEvent,
  RedisConnectionOptions,
  RedisHealth,
  RedisNodeAddress,
  RedisTlsOptions,
} from './redis/types.js';
export type { RedisCommandClient } from './redis/client.js';
