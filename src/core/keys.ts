/**
 * The one place that knows how agent state is laid out in Redis.
 *
 *   <prefix>{<id>}:meta      hash   userId, agentId, model, currentTask, createdAt,
 *                                   lastActive, turnCount (= last turn seq), lastTurnAt,
 *                                   and app fields as "f:<name>"
 *   <prefix>{<id>}:turns     list   newest turns as JSON, trimmed to the window
 *   <prefix>{<id>}:tools     hash   "<callId>:<attribute>" -> value, one field per attribute
 *   <prefix>{<id>}:observer  hash   notes, writtenAt, coversThroughSeq, lastError, lastErrorAt
 *   <prefix>{<id>}:lease     string observer run lease (fencing token), own short TTL
 *
 * The `{<id>}` hash tag puts every key of one session in the same Cluster
 * slot, so scripts and MULTI over them work on Cluster. Keys outside a session
 * (the observer queue) live under `<prefix>observer:`.
 */
export interface SessionKeys {
  meta: string;
  turns: string;
  tools: string;
  observer: string;
  lease: string;
}

export function sessionKeys(prefix: string, id: string): SessionKeys {
  const base = `${prefix}{${id}}:`;
  return {
    meta: `${base}meta`,
    turns: `${base}turns`,
    tools: `${base}tools`,
    observer: `${base}observer`,
    lease: `${base}lease`,
  };
}

/**
 * The keys whose TTL moves with session activity, in the order every script
 * receives them (KEYS[1..4]). The lease is excluded: it has its own lifetime.
 */
export function stateKeys(keys: SessionKeys): string[] {
  return [keys.meta, keys.turns, keys.tools, keys.observer];
}

/** Field name under which an app-defined metadata field is stored. */
export const APP_FIELD_PREFIX = 'f:';
