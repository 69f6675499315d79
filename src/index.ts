/**
 * agent-session: the core (agent state in Redis, no web framework) and the
 * Redis connection. The middleware lives at `agent-session/express` and
 * `agent-session/koa`, the background worker at `agent-session/observer`.
 * Everything exported here is documented in the README; nothing else is public.
 */
export { createAgentStore } from './core/agent-store.js';
export type { AgentSession, AgentStore, ObservationRequestOptions, ObservationRequestResult } from './core/api.js';
export type { Caller } from './core/caller.js';
export type { AgentStoreOptions, AgentStoreLimits, ObserverQueueOptions, StoreArchiveOptions } from './core/config.js';
export type { ObserverBacklog } from './core/observer-backlog.js';
export type { SessionEvent, SessionEventGap, SessionEventType, SubscribeOptions } from './core/session-events.js';
export type { ColdTier, ConversationList, ConversationPage, ConversationSummary, HistoryQuery } from './core/cold-tier.js';
export type * from './core/types.js';
export * from './errors.js';
export { connectRedis } from './redis/connect.js';
export { RedisStartupError } from './redis/startup-error.js';
export type {
  NodeRedisClient,
  RedisConnection,
  RedisConnectionEvent,
  RedisConnectionOptions,
  RedisHealth,
  RedisNodeAddress,
  RedisTlsOptions,
} from './redis/types.js';
