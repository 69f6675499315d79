import { instrumentation } from '../instrumentation.js';
import type { NotesQuery, NotesResult, ObserverError } from './types.js';

/** The observer hash as stored, already decoded. */
export interface StoredObserverState {
  notes?: unknown;
  writtenAt?: number;
  coversThroughSeq?: number;
  lastError?: ObserverError;
}

/**
 * The staleness contract, as a pure function: notes are stale when they are
 * older than `maxAgeMs` or miss more than `maxLagTurns` turns. Ages use the
 * Redis server clock on both sides, so app and observer clock skew does not
 * count.
 */
export function evaluateNotes<T>(
  stored: StoredObserverState,
  turnCount: number,
  serverNowMs: number,
  query: NotesQuery = {},
): NotesResult<T> {
  const lastError = stored.lastError ? { lastError: stored.lastError } : {};
  if (stored.writtenAt === undefined || stored.coversThroughSeq === undefined) {
    return { ready: false, ...lastError };
  }
  const ageMs = Math.max(0, serverNowMs - stored.writtenAt);
  const lagTurns = Math.max(0, turnCount - stored.coversThroughSeq);
  instrumentation?.notesRead(lagTurns);
  const stale =
    (query.maxAgeMs !== undefined && ageMs > query.maxAgeMs) ||
    (query.maxLagTurns !== undefined && lagTurns > query.maxLagTurns);
  return {
    ready: true,
    stale,
    ageMs,
    lagTurns,
    coversThroughSeq: stored.coversThroughSeq,
    notes: stored.notes as T,
    ...lastError,
  };
}
