import { AgentSession, type SessionHandleOptions } from './agent-session.js';
import { resolveStoreConfig, type AgentStoreOptions, type StoreConfig } from './config.js';
import { generateId } from './ids.js';
import type { AgentSessionInit } from './types.js';

/**
 * Entry point to agent state: validates options once, then hands out
 * session handles. Holds no per-session state of its own, so one store can
 * serve every request of a process.
 */
export class AgentStore {
  readonly config: Readonly<StoreConfig>;

  constructor(options: AgentStoreOptions) {
    this.config = resolveStoreConfig(options);
  }

  /** Creates a session (with a generated id unless `init.id` is given) and returns its handle. */
  async create(init: AgentSessionInit = {}, options: SessionHandleOptions = {}): Promise<AgentSession> {
    const { id = generateId(), ...rest } = init;
    const session = new AgentSession(this.config, id, { caller: init.userId, ...options });
    await session.create(rest);
    return session;
  }

  /** A handle on an existing session. No I/O; throws `InvalidSessionIdError` for an unsafe id. */
  session(id: string, options: SessionHandleOptions = {}): AgentSession {
    return new AgentSession(this.config, id, options);
  }
}

export function createAgentStore(options: AgentStoreOptions): AgentStore {
  return new AgentStore(options);
}
