import type { AgentStore } from './api.js';
import { SessionHandle } from './agent-session.js';
import type { Caller } from './caller.js';
import { resolveStoreConfig, type AgentStoreOptions, type StoreConfig } from './config.js';
import { assertValidId, generateId } from './ids.js';
import { DEFAULT_OBSERVER_KIND } from './keys.js';
import { readObserverBacklog, type ObserverBacklog } from './observer-backlog.js';
import { instrumentation } from '../instrumentation.js';
import { ConfigError, InvalidInputError, SessionNotFoundError, SessionUserMismatchError } from '../errors.js';
import { toTurn, type ColdTier, type ConversationList, type ConversationPage, type HistoryQuery } from './cold-tier.js';
import type { AgentSessionInit, Turn } from './types.js';
import { sessionEvents, subscribeToSession, type SessionEvent, type SessionEventGap, type SubscribeOptions } from './session-events.js';

/**
 * The store behind the public `AgentStore` type: validates options once,
 * then hands out session handles. Its handles are `SessionHandle`s, so the
 * library's own workers (observer, middleware) reach the internal methods
 * through it; an app sees only `AgentStore`.
 */
export class SessionStore implements AgentStore {
  readonly #config: StoreConfig;

  constructor(options: AgentStoreOptions) {
    this.#config = resolveStoreConfig(options);
  }

  /** Where this store's keys live; the middleware puts its cookie sessions under it. */
  get keyPrefix(): string {
    return this.#config.keyPrefix;
  }

  async create(init: AgentSessionInit = {}): Promise<SessionHandle> {
    const { id = generateId(), ...rest } = init;
    const session = new SessionHandle(this.#config, id, { user: init.userId ?? null });
    await session.create(rest);
    return session;
  }

  session(id: string, caller: Caller): SessionHandle {
    return new SessionHandle(this.#config, id, caller);
  }

  /** Whether sessions are archived (a cold tier is configured). */
  get archives(): boolean {
    return this.#config.archive !== undefined;
  }

  async resume(id: string, caller: Caller): Promise<{ session: SessionHandle; restored: boolean }> {
    const session = this.session(id, caller);
    // Still in Redis: TOUCH checks the binding and keeps it alive in one round trip.
    if (await session.touch()) return { session, restored: false };
    const tier = this.#tier('resume()');
    const startedAt = performance.now();
    const archived = await tier.owner(id);
    if (archived === null) throw new SessionNotFoundError(id);
    if (!session.mayActFor(archived.userId)) throw new SessionUserMismatchError(id);
    const data = await tier.loadForRestore(id, this.#config.maxTurns);
    if (data === null) throw new SessionNotFoundError(id);
    const restored = (await session.restore(data)) === 'restored';
    if (restored) instrumentation?.restored((performance.now() - startedAt) / 1000);
    return { session, restored };
  }

  async history(id: string, caller: Caller, query: HistoryQuery = {}): Promise<Turn[]> {
    const session = this.session(id, caller);
    const tier = this.#tier('history()');
    const archived = await tier.owner(id);
    if (archived === null) throw new SessionNotFoundError(id);
    if (!session.mayActFor(archived.userId)) throw new SessionUserMismatchError(id);
    return (await tier.history(id, query)).map(toTurn);
  }

  async conversations(userId: string, page: ConversationPage = {}): Promise<ConversationList> {
    if (typeof userId !== 'string' || userId.length === 0) throw new InvalidInputError('conversations(userId) needs the user id whose conversations to list.');
    return this.#tier('conversations()').listConversations(userId, page);
  }

  async observerBacklog(options: { kind?: string } = {}): Promise<ObserverBacklog> {
    const kind = options.kind ?? DEFAULT_OBSERVER_KIND;
    assertValidId(kind, 'observer kind');
    const { client, keyPrefix, failFastMs } = this.#config;
    return readObserverBacklog(client, keyPrefix, kind, failFastMs);
  }

  /** Whether this store's scripts publish session events (false with `events: false`): a subscriber would hear nothing. */
  get publishesEvents(): boolean {
    return this.#config.events !== '';
  }

  subscribe(sessionId: string, listener: (event: SessionEvent) => void, options?: SubscribeOptions): Promise<() => Promise<void>> {
    return subscribeToSession(this.#config, this.#config.keyPrefix, sessionId, listener, options);
  }

  events(sessionId: string, options?: { signal?: AbortSignal | undefined }): AsyncIterable<SessionEvent | SessionEventGap> {
    return sessionEvents(this.#config, this.#config.keyPrefix, sessionId, options);
  }

  #tier(method: string): ColdTier {
    const tier = this.#config.archive?.tier;
    if (!tier) {
      throw new ConfigError(
        `${method} reads the cold tier, and this store has none: createAgentStore({ redis, archive: { tier: createPgArchive({ connectionString }) } }) (agent-session/archive).`,
      );
    }
    return tier;
  }
}

/** The core's entry point: `createAgentStore({ redis: await connectRedis({ url }) })`. */
export function createAgentStore(options: AgentStoreOptions): AgentStore {
  return new SessionStore(options);
}
