import type { AgentStore } from './api.js';
import { SessionHandle } from './agent-session.js';
import type { Caller } from './caller.js';
import { resolveStoreConfig, type AgentStoreOptions, type StoreConfig } from './config.js';
import { generateId } from './ids.js';
import type { AgentSessionInit } from './types.js';

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
}

/** The core's entry point: `createAgentStore({ redis: await connectRedis({ url }) })`. */
export function createAgentStore(options: AgentStoreOptions): AgentStore {
  return new SessionStore(options);
}
