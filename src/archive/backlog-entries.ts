import type { ArchivedMeta, ArchiveRecord } from '../core/cold-tier.js';
import { decodeMeta, pairsToMap } from '../core/decode.js';

/**
 * Backlog entries (see core/lua/includes/archive.lua) as archive records.
 * An entry that cannot be read is counted and skipped, so one bad entry
 * never blocks a session's archive; `skipped` says how many.
 */
export function parseEntries(entries: unknown[]): { records: ArchiveRecord[]; skipped: number } {
  const records: ArchiveRecord[] = [];
  let skipped = 0;
  for (const raw of entries) {
    const entry = String(raw);
    const kind = entry[0];
    if (kind === 'm') continue; // the metadata travels with every batch
    try {
      const value = JSON.parse(entry.slice(1)) as Record<string, unknown>;
      if (kind === 't') records.push({ kind: 'turn', ...(value as Omit<Extract<ArchiveRecord, { kind: 'turn' }>, 'kind'>) });
      else if (kind === 'c') {
        const { id, ...call } = value as { id: string } & Omit<Extract<ArchiveRecord, { kind: 'tool' }>, 'kind' | 'callId'>;
        records.push({ kind: 'tool', callId: id, ...call });
      } else if (kind === 'n') records.push({ kind: 'notes', ...(value as Omit<Extract<ArchiveRecord, { kind: 'notes' }>, 'kind'>) });
      else skipped += 1;
    } catch {
      skipped += 1;
    }
  }
  return { records, skipped };
}

/** The session's meta hash as archived; null when the session's keys are gone (expired or deleted). */
export function archivedMeta(sessionId: string, rawMeta: unknown, key: string): ArchivedMeta | null {
  if (!Array.isArray(rawMeta) || rawMeta.length === 0) return null;
  const meta = decodeMeta(sessionId, rawMeta, key);
  const idleTimeoutMs = Number(pairsToMap(rawMeta, key).get('idleTimeoutMs') ?? 0);
  const archived: ArchivedMeta = {
    fields: meta.fields,
    createdAt: meta.createdAt,
    lastActive: meta.lastActive,
    turnCount: meta.turnCount,
    idleTimeoutMs: Number.isSafeInteger(idleTimeoutMs) ? idleTimeoutMs : 0,
  };
  if (meta.userId !== undefined) archived.userId = meta.userId;
  if (meta.agentId !== undefined) archived.agentId = meta.agentId;
  if (meta.model !== undefined) archived.model = meta.model;
  if (meta.currentTask !== undefined) archived.currentTask = meta.currentTask;
  return archived;
}
