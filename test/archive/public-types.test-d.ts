/**
 * The public types of agent-session/archive as an app compiles against
 * them. `npm test` type-checks this file (tsc, strict): every
 * `@ts-expect-error` line must fail to compile, every other line must
 * compile. Nothing here runs.
 */
import type pg from 'pg';
import { expectTypeOf } from 'vitest';
import { ArchiveUnavailableError as FromMainEntry, type AgentSessionErrorCode } from 'agent-session';
import {
  ArchiveQueryError,
  ArchiveUnavailableError,
  createPgArchive,
  type ArchiveBatch,
  type ArchiveRecord,
  type ConversationSummary,
  type PgArchive,
  type RestoreData,
  type TurnRecord,
} from 'agent-session/archive';
import type { ColdTier } from '../../src/core/cold-tier.js';

declare const pool: pg.Pool;

// --- connecting: a connection string or an app's pool, one of them ----------

const archive = createPgArchive({ connectionString: 'postgres://localhost/app', ssl: true, max: 5 });
expectTypeOf(archive).toEqualTypeOf<PgArchive>();
createPgArchive({ pool, schema: 'archive', queryTimeoutMs: 1_000 });
// @ts-expect-error neither a connection string nor a pool
createPgArchive({ schema: 'archive' });
// @ts-expect-error not both
createPgArchive({ pool, connectionString: 'postgres://localhost/app' });
// @ts-expect-error pool settings belong on the app's pool
createPgArchive({ pool, max: 5 });

// --- the calls ---------------------------------------------------------------

expectTypeOf(archive.migrate()).resolves.toEqualTypeOf<void>();
expectTypeOf(archive.loadForRestore('id', 50)).resolves.toEqualTypeOf<RestoreData | null>();
expectTypeOf(archive.owner('id')).resolves.toEqualTypeOf<{ userId: string | null } | null>();
expectTypeOf(archive.history('id', { beforeSeq: 10, order: 'newest-first' })).resolves.toEqualTypeOf<TurnRecord[]>();
// @ts-expect-error orders are named
archive.history('id', { order: 'desc' });
const page = await archive.listConversations('user-1', { limit: 20 });
expectTypeOf(page.conversations).toEqualTypeOf<ConversationSummary[]>();
if (page.next) await archive.listConversations('user-1', { before: page.next });
expectTypeOf(archive.setTitle('id', null)).resolves.toEqualTypeOf<boolean>();
expectTypeOf(archive.removeIdle(86_400_000, { now: Date.now() })).resolves.toEqualTypeOf<number>();

// --- records: a discriminated union on `kind` --------------------------------

const batch: ArchiveBatch = {
  sessionId: 'id',
  meta: null,
  records: [
    { kind: 'turn', seq: 1, ts: 0, role: 'user', content: 'hi' },
    { kind: 'tool', callId: 'c', name: 'lookup', status: 'pending', args: {}, startedAt: 0 },
    { kind: 'notes', coversThroughSeq: 1, writtenAt: 0, notes: {} },
  ],
};
await archive.writeBatches([batch]);
declare const record: ArchiveRecord;
if (record.kind === 'tool') expectTypeOf(record.status).toEqualTypeOf<'pending' | 'completed' | 'failed'>();
// @ts-expect-error a turn needs a role the library knows
const badTurn: ArchiveRecord = { kind: 'turn', seq: 1, ts: 0, role: 'robot', content: '' };
void badTurn;

// --- errors ------------------------------------------------------------------

expectTypeOf(new ArchiveUnavailableError(2_000, 'no answer').code).toEqualTypeOf<AgentSessionErrorCode>();
expectTypeOf<FromMainEntry>().toEqualTypeOf<ArchiveUnavailableError>();
expectTypeOf(new ArchiveQueryError('x', '42P01').sqlState).toEqualTypeOf<string | undefined>();

// --- the archive is what the store, the archiver and the observer take as cold tier ---

expectTypeOf(archive).toExtend<ColdTier>();
