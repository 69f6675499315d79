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
 *   <prefix>{<id>}:jobs      hash   observation job state per observer kind:
 *                                   "<kind>" -> "queued|running|rerun:<deadline ms>",
 *                                   own short TTL (see the coalescing notes in lua/includes/job-state.lua)
 *
 *   <prefix>{<id>}:tool-order zset  the ids of the calls in the tools hash, scored by start order
 *                                   (1, 2, ...), so the oldest finished calls leave the window first;
 *                                   rebuilt from the hash when missing (see startToolCall-7.lua)
 *   <prefix>{<id>}:idem      hash   idempotency records of appendTurn / startToolCall, a ring of at
 *                                   most maxIdempotencyKeys, own TTL (see includes/idempotency.lua)
 *
 *   <prefix>{<id>}:archive   list   the cold tier's backlog: changes not yet in PostgreSQL,
 *                                   one entry each, oldest first (only when archiving);
 *                                   own TTL, longer than the session's (see archive.lua)
 *   <prefix>{<id>}:archive-lease  string  the archiver draining this backlog (fencing token)
 *   <prefix>{<id>}:events    channel  not a key: the pub/sub channel of the session's events
 *                                   (session-events.ts, lua/includes/events.lua); the Lua side
 *                                   derives it from the meta key, so the two names must stay siblings
 *
 *   <prefix>archive:pending  zset   sessions whose backlog may hold entries, scored by the
 *                                   Redis time (µs) they were last registered
 *   <prefix>observer:<kind>:jobs  stream  the observation queue of one observer kind;
 *                                   entries { session: <id> }, consumer group "<kind>"
 *                                   bounded by length and age (observerQueue, lua/includes/queue-bounds.lua)
 *
 * The `{<id>}` hash tag puts every key of one session in the same Cluster
 * slot, so scripts and MULTI over them work on Cluster. Keys outside a session
 * (the observer queues) live under `<prefix>observer:`; no script ever touches
 * a queue and a session's keys together, so they may sit on different nodes.
 */
export interface SessionKeys {
  meta: string;
  turns: string;
  tools: string;
  observer: string;
  lease: string;
  jobs: string;
  archive: string;
  archiveLease: string;
  toolOrder: string;
  idem: string;
}

export function sessionKeys(prefix: string, id: string): SessionKeys {
  const base = `${prefix}{${id}}:`;
  return {
    meta: `${base}meta`,
    turns: `${base}turns`,
    tools: `${base}tools`,
    observer: `${base}observer`,
    lease: `${base}lease`,
    jobs: `${base}jobs`,
    archive: `${base}archive`,
    archiveLease: `${base}archive-lease`,
    toolOrder: `${base}tool-order`,
    idem: `${base}idem`,
  };
}

/**
 * The keys whose TTL moves with session activity, in the order every script
 * receives them (KEYS[1..4]). The lease and the job state are excluded: they
 * have lifetimes of their own.
 */
export function stateKeys(keys: SessionKeys): string[] {
  return [keys.meta, keys.turns, keys.tools, keys.observer];
}

/** Field name under which an app-defined metadata field is stored. */
export const APP_FIELD_PREFIX = 'f:';

/** The observer kind used when none is named. */
export const DEFAULT_OBSERVER_KIND = 'default';

/** How long a session's "queued" job state lasts unless its run starts (see lua/includes/job-state.lua). */
export const OBSERVER_QUEUED_TTL_MS = 60_000;

/** The observation queue (a stream) of one observer kind; its consumer group is named after the kind. */
export function observerQueueKey(prefix: string, kind: string): string {
  return `${prefix}observer:${kind}:jobs`;
}

/** The index of sessions whose archive backlog may hold entries; the archiver walks it oldest first. */
export function archiveIndexKey(prefix: string): string {
  return `${prefix}archive:pending`;
}
